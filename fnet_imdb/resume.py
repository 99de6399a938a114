"""Resuming a killed fit(): Keras's BackupAndRestore made atomic, with the
history, time and best weights it does not keep."""

import json
import os
import shutil
import time
from pathlib import Path

import h5py
import keras
import numpy as np

from fnet_imdb.cache import write_text

POINTER, STATE, BEST = "current", "state.json", "best.weights.h5"
WEIGHTS, METADATA = "latest.weights.h5", "training_metadata.json"  # Keras's.


def random_states(model):
    """The model's seed generators' states (Dropout's), which `save_weights`
    leaves out: without them a resumed run would draw other dropout masks."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


class Backup(keras.callbacks.BackupAndRestore):
    """Keras's `BackupAndRestore`, each epoch in a fresh folder
    `epoch-<K>/` that the file `current` names once it is complete, so a
    kill at any moment leaves the last complete backup in place.

    Besides Keras's weights and epoch, each backup keeps in `state.json` the
    history of all epochs so far, the seconds each earlier process trained
    (up to its last backup), the dropout generators' states and, with
    `keep_best`, the epoch of lowest `val_loss`, whose weights it keeps in
    `best.weights.h5`. Anything the pointer does not name is removed.
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
                h5py.File(folder / name, "r").close()  # Checks the file's length.
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
        self.started, self.ended = time.perf_counter(), None

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.started
        previous, folder = self.current, self.folder / f"epoch-{epoch + 1}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        self._point_keras_at(folder)
        super().on_epoch_end(epoch, logs)  # Keras writes its files in there.
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        self.epochs_done = epoch + 1
        if self.keep_best:
            self._keep_best(epoch, logs, previous, folder)
        state = {
            "epochs_done": self.epochs_done,
            "history": self.history,
            "segments": self.segments + [seconds],
            "best": self.best,
            "random_states": [
                keras.ops.convert_to_numpy(v).tolist()
                for v in random_states(self.model)
            ],
        }
        write_text(folder / STATE, json.dumps(state, indent=1) + "\n")
        write_text(self.folder / POINTER, folder.name + "\n")
        self.current = folder
        self._remove_all_but(folder)

    def _keep_best(self, epoch, logs, previous, folder):
        """Save the weights if `val_loss` is the lowest so far (the first
        epoch of a tie, as `EarlyStopping`), else link the previous best."""
        if "val_loss" not in logs:
            raise ValueError("keep_best needs validation data (a val_loss)")
        val_loss = float(logs["val_loss"])
        if self.best is None or val_loss < self.best["val_loss"]:
            self.model.save_weights(folder / BEST)
            self.best = {"epoch": epoch + 1, "val_loss": val_loss}
            return
        try:
            os.link(previous / BEST, folder / BEST)
        except OSError:  # A file system without hard links.
            shutil.copyfile(previous / BEST, folder / BEST)

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
