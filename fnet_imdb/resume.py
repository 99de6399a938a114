"""Resuming a killed fit(): Keras's BackupAndRestore made atomic, with the
history, time and best weights it does not keep."""

import json
import os
import shutil
import time
import zipfile
from pathlib import Path

import keras
import numpy as np

from fnet_imdb.atomic import write_text

POINTER, STATE, BEST = "current", "state.json", "best.keras"
WEIGHTS, METADATA = "latest.keras", "training_metadata.json"


def save_state(model, path):
    """Save the model's weights and optimizer state in a `.keras` archive.

    Keras's `save_weights` has HDF5 write straight to the file, and when a
    write fails (a full disk) h5py floods stderr and crashes the process on
    closing it. `model.save` builds the HDF5 in memory and writes a zip with
    Python, which fails with an `OSError`; `load_weights` reads either file.
    """
    model.save(path)


def check_archive(path):
    """Raise `ValueError` unless `path` is a whole zip archive (CRC-32 checked)."""
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path}: {error}") from None
    if damaged is not None:
        raise ValueError(f"{path}: {damaged} is damaged")


def random_states(model):
    """The model's seed generators' states (Dropout's), which Keras's saving
    leaves out: without them a resumed run would draw other dropout masks."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def torch_generator_states():
    """PyTorch's global generators' states (CPU, then each GPU's) as lists of
    bytes, or None on another backend: on PyTorch, Keras's Dropout without a
    seed draws from them, not from its seed generator."""
    if keras.backend.backend() != "torch":
        return None
    import torch

    states = [torch.get_rng_state()]
    states += torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return [state.tolist() for state in states]


def restore_torch_generators(states):
    """Set PyTorch's global generators to `torch_generator_states()`'s."""
    import torch

    cpu, *gpus = [torch.tensor(state, dtype=torch.uint8) for state in states]
    torch.set_rng_state(cpu)
    if gpus:
        torch.cuda.set_rng_state_all(gpus)


class Backup(keras.callbacks.BackupAndRestore):
    """Keras's `BackupAndRestore`, each epoch in a fresh folder
    `epoch-<K>/` that the file `current` names once it is complete, so a
    kill at any moment leaves the last complete backup in place.

    Besides the weights, optimizer and epoch that Keras's restores (saved
    with `save_state`, see there why), each backup keeps in `state.json` the
    history of all epochs so far, the seconds each earlier process trained
    (up to its last backup), the dropout generators' states (PyTorch's global
    generators' too, on that backend) and, with
    `keep_best`, the epoch of lowest `val_loss`, whose weights it keeps in
    `best.keras`. Anything the pointer does not name is removed.
    """

    def __init__(self, backup_dir, keep_best=False):
        super().__init__(str(backup_dir), delete_checkpoint=False)
        self.folder, self.keep_best = Path(backup_dir), keep_best
        self.current, state = self._trusted_backup()
        self.epochs_done = state.get("epochs_done", 0)
        self.history = state.get("history", {})
        self.segments = state.get("segments", [])
        self.best = state.get("best")
        self.random_states = state.get("random_states")
        self.torch_generators = state.get("torch_generators")
        self.resumed_from = self.epochs_done or None
        self._remove_all_but(self.current)
        self.started = self.ended = None

    def _trusted_backup(self):
        """The folder the pointer names and its state, if it is readable;
        else None and an empty state."""
        try:
            folder = self.folder / (self.folder / POINTER).read_text("utf-8").strip()
            state = json.loads((folder / STATE).read_text("utf-8"))
            json.loads((folder / METADATA).read_text("utf-8"))
            for name in [WEIGHTS] + ([BEST] if self.keep_best else []):
                check_archive(folder / name)
        except (OSError, ValueError):
            return None, {}
        return folder, state

    def _remove_all_but(self, kept):
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if kept is not None and path.name in (POINTER, kept.name):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()

    def _point_keras_at(self, folder):
        # Where BackupAndRestore reads and writes: it takes one folder for all
        # epochs and has no public way to name another (tested by name).
        self._weights_path = str(folder / WEIGHTS)
        self._training_metadata_path = str(folder / METADATA)

    def on_train_begin(self, logs=None):
        if self.current is not None:
            self._point_keras_at(self.current)
            super().on_train_begin(logs)  # Weights, and the epoch to start at.
            states = random_states(self.model)
            if len(states) != len(self.random_states or []):
                raise ValueError(f"{self.folder} holds the backup of another model")
            for variable, value in zip(states, self.random_states):
                variable.assign(np.array(value, dtype=variable.dtype))
            if self.torch_generators is not None:
                restore_torch_generators(self.torch_generators)
        self.started, self.ended = time.perf_counter(), None

    def on_epoch_end(self, epoch, logs=None):
        """Write the epoch's backup in `epoch-<K>/`, then point at it; if a
        write fails, remove the folder (the pointer names the previous one)
        and raise `ValueError` in one line."""
        seconds, logs = time.perf_counter() - self.started, logs or {}
        history = {name: list(values) for name, values in self.history.items()}
        for name, value in logs.items():
            history.setdefault(name, []).append(float(value))
        best = self._best(epoch, logs) if self.keep_best else self.best
        state = {
            "epochs_done": epoch + 1,
            "history": history,
            "segments": self.segments + [seconds],
            "best": best,
            "random_states": [
                keras.ops.convert_to_numpy(v).tolist()
                for v in random_states(self.model)
            ],
            "torch_generators": torch_generator_states(),
        }
        folder = self.folder / f"epoch-{epoch + 1}"
        try:
            self._write(folder, state, new_best=best is not self.best)
        except OSError as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise ValueError(
                f"cannot write the backup of epoch {epoch + 1} to {folder}: "
                f"{error.strerror or error}"
            ) from None
        self.current, self.epochs_done, self.history, self.best = (
            folder,
            epoch + 1,
            history,
            best,
        )
        self._remove_all_but(folder)

    def _best(self, epoch, logs):
        """The record of the best epoch: this one if its `val_loss` is the
        lowest so far (the first epoch of a tie, as `EarlyStopping`)."""
        if "val_loss" not in logs:
            raise ValueError("keep_best needs validation data (a val_loss)")
        val_loss = float(logs["val_loss"])
        if self.best is None or val_loss < self.best["val_loss"]:
            return {"epoch": epoch + 1, "val_loss": val_loss}
        return self.best

    def _write(self, folder, state, new_best):
        """The files of a backup in `folder`, then the pointer to it."""
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        save_state(self.model, folder / WEIGHTS)
        metadata = {"epoch": state["epochs_done"], "batch": 0}  # As Keras's.
        (folder / METADATA).write_text(json.dumps(metadata), "utf-8")
        if new_best:
            save_state(self.model, folder / BEST)
        elif self.keep_best:
            try:
                os.link(self.current / BEST, folder / BEST)
            except OSError:  # A file system without hard links.
                shutil.copyfile(self.current / BEST, folder / BEST)
        (folder / STATE).write_text(json.dumps(state, indent=1) + "\n", "utf-8")
        write_text(self.folder / POINTER, folder.name + "\n")

    def on_train_end(self, logs=None):
        self.ended = time.perf_counter()
        if self.keep_best and self.best is not None:  # As EarlyStopping does.
            self.restore_best(self.model)

    def segment_seconds(self):
        """Seconds of training of each process: the earlier ones' up to their
        last backup, this one's up to the end of `fit` (or now)."""
        return self.segments + [(self.ended or time.perf_counter()) - self.started]

    def train_seconds(self):
        """Seconds of training over all processes."""
        return sum(self.segment_seconds())

    def restore_best(self, model):
        """Load the kept best weights into `model`; return their epoch (1-based)."""
        if not self.keep_best or self.best is None:
            raise ValueError("no best weights kept: use keep_best and train first")
        model.load_weights(self.current / BEST)
        return self.best["epoch"]

    def delete(self):
        """Remove the backup (once the finished run is recorded)."""
        shutil.rmtree(self.folder, ignore_errors=True)
