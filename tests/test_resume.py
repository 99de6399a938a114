"""Tests for `fnet_imdb.resume`: a fit killed in an epoch resumes from its
last complete backup, with the whole history, its time and its best weights."""

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from fnet_imdb import resume
from fnet_imdb.batches import Batches
from fnet_imdb.atomic import WriteError
from fnet_imdb.resume import Backup

ROOT = Path(__file__).resolve().parents[1]

EPOCHS = 4
TOKENS = np.random.default_rng(0).integers(1, 50, size=(400, 16)).astype("int32")
LABELS = (TOKENS.mean(axis=1) > 25).astype("int32")


def build():
    """A tiny classifier with Dropout (so random state matters) and Adam
    (so optimizer state matters), seeded as the recipe seeds each model."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(50, 8)(inputs)
    x = keras.layers.Dropout(0.3)(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"]
    )
    return model


class Killed(Exception):
    pass


class KillDuringEpoch(keras.callbacks.Callback):
    """Raise before batch 3 of epoch index 2 (the third epoch)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch == 2 and batch == 3:
            raise Killed


class Weights(keras.callbacks.Callback):
    """The weights at the end of each epoch (1-based), and scripted
    `val_loss` values, seen by the callbacks after this one."""

    def __init__(self, val_losses=None):
        super().__init__()
        self.at_epoch, self.val_losses = {}, val_losses

    def on_epoch_end(self, epoch, logs=None):
        self.at_epoch[epoch + 1] = self.model.get_weights()
        if self.val_losses:
            logs["val_loss"] = self.val_losses[epoch]


def fit(model, callbacks, first_epoch=0):
    train = Batches(
        TOKENS[:320], LABELS[:320], 32, shuffle=True, seed=1, first_epoch=first_epoch
    )
    return model.fit(
        train,
        epochs=EPOCHS,
        validation_data=Batches(TOKENS[320:384], LABELS[320:384], 32),
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )


def killed_then_resumed(backup_dir, keep_best=False, val_losses=None):
    """Fit killed in epoch index 2, then fit again with a new model and a new
    `Backup`, as a rerun command does; the second model and `Backup`, and
    the weights seen at each epoch's end over both."""
    first = Weights(val_losses)
    with pytest.raises(Killed):
        fit(build(), [first, Backup(backup_dir, keep_best), KillDuringEpoch()])
    model, backup = build(), Backup(backup_dir, keep_best)
    assert (backup.epochs_done, backup.resumed_from) == (2, 2)
    assert [len(values) for values in backup.history.values()] == [2] * 4
    second = Weights(val_losses)
    history = fit(model, [second, backup], first_epoch=backup.epochs_done)
    assert len(history.history["loss"]) == 2  # Keras's own: resumed epochs only.
    return model, backup, {**first.at_epoch, **second.at_epoch}


@pytest.mark.backend
def test_keras_still_reads_the_paths_a_backup_points_it_at(tmp_path):
    """Backup points BackupAndRestore's private paths at each epoch's folder:
    a Keras release that renames them fails here, by name."""
    keras_backup = keras.callbacks.BackupAndRestore(str(tmp_path))
    for name in ("_weights_path", "_training_metadata_path"):
        assert isinstance(
            getattr(keras_backup, name, None), str
        ), f"Keras's BackupAndRestore has no {name} any more"


def test_resumed_fit_equals_uninterrupted_fit(tmp_path):
    """Killed during the third epoch and resumed, the run's merged history
    and final weights equal an uninterrupted run's exactly (measured on CPU
    with TensorFlow and JAX: the backup keeps the optimizer's and dropout's
    state, and `Batches` the shuffle order)."""
    uninterrupted = build()
    full = Backup(tmp_path / "full")
    history = fit(uninterrupted, [full]).history
    assert full.resumed_from is None and len(full.segment_seconds()) == 1
    assert full.history == {k: [float(v) for v in vs] for k, vs in history.items()}

    model, backup, _ = killed_then_resumed(tmp_path / "backup")
    assert backup.history == full.history
    assert {len(values) for values in backup.history.values()} == {EPOCHS}
    for a, b in zip(model.get_weights(), uninterrupted.get_weights()):
        np.testing.assert_array_equal(a, b)
    segments = backup.segment_seconds()
    assert len(segments) == 2 and all(s > 0 for s in segments)
    assert backup.train_seconds() == sum(segments)


def test_backup_keeps_one_complete_folder(tmp_path):
    """After each epoch: the pointer, one epoch folder with Keras's files and
    the state; `delete()` removes it all."""
    backup = Backup(tmp_path / "backup")
    fit(build(), [backup])
    folder = tmp_path / "backup"
    assert sorted(p.name for p in folder.iterdir()) == ["current", f"epoch-{EPOCHS}"]
    assert (folder / "current").read_text() == f"epoch-{EPOCHS}\n"
    kept = folder / f"epoch-{EPOCHS}"
    names = ["latest.keras", "state.json", "training_metadata.json"]
    assert sorted(p.name for p in kept.iterdir()) == names
    assert json.loads((kept / "training_metadata.json").read_text())["epoch"] == 4
    state = json.loads((kept / "state.json").read_text())
    assert state["epochs_done"] == EPOCHS and len(state["segments"]) == 1
    # Killed after the last backup, before the run was recorded: no epoch left.
    model, again = build(), Backup(folder)
    assert len(fit(model, [again], first_epoch=EPOCHS).history) == 0
    assert again.history == backup.history and len(again.segment_seconds()) == 2
    again.delete()
    assert not folder.exists()


def test_half_written_backup_is_not_trusted(tmp_path):
    """An epoch folder the pointer does not name (a kill while writing it)
    is removed; a pointer to a folder with a truncated weights file, or to
    none, starts afresh."""
    folder = tmp_path / "backup"
    with pytest.raises(Killed):
        fit(build(), [Backup(folder), KillDuringEpoch()])
    (folder / "epoch-3").mkdir()
    (folder / "epoch-3" / "latest.keras").write_bytes(b"PK\x03\x04")
    (folder / ".current.partial").write_text("epoch-3")
    backup = Backup(folder)
    assert backup.epochs_done == 2
    assert sorted(p.name for p in folder.iterdir()) == ["current", "epoch-2"]

    weights = folder / "epoch-2" / "latest.keras"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    backup = Backup(folder)
    assert (backup.epochs_done, backup.resumed_from, backup.history) == (0, None, {})
    assert not list(folder.iterdir())
    fit(build(), [backup])
    assert len(backup.history["loss"]) == EPOCHS

    (folder / "current").write_text("epoch-9\n")
    assert Backup(folder).epochs_done == 0


@pytest.mark.parametrize(
    "val_losses, best_epoch",
    [([0.3, 0.4, 0.3, 0.5], 1), ([0.5, 0.4, 0.4, 0.2], 4)],
)
@pytest.mark.backend
def test_keep_best_restores_lowest_val_loss_across_a_resume(
    tmp_path, val_losses, best_epoch
):
    """`fit` ends with the weights of the epoch of lowest `val_loss` (the
    first of a tie), before or after the kill, as `EarlyStopping` restores them."""
    model, backup, at_epoch = killed_then_resumed(
        tmp_path / "backup", keep_best=True, val_losses=val_losses
    )
    assert backup.history["val_loss"] == val_losses
    if best_epoch < EPOCHS:
        assert not np.array_equal(at_epoch[EPOCHS][0], at_epoch[best_epoch][0])
    assert backup.best["epoch"] == best_epoch
    for a, b in zip(model.get_weights(), at_epoch[best_epoch]):
        np.testing.assert_array_equal(a, b)


def test_restore_best_needs_keep_best(tmp_path):
    with pytest.raises(ValueError, match="no best weights kept"):
        Backup(tmp_path).restore_best(build())


def fail_in_epoch(monkeypatch, epoch, where):
    """Make the backup of `epoch` (1-based) fail with a full disk: halfway
    through its weights archive, or on writing the pointer to it."""
    save_state, write_text = resume.save_state, resume.write_text

    def half_then_full(model, path):
        save_state(model, path)
        if path.parent.name == f"epoch-{epoch}":
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def pointer_full(path, text):
        if text == f"epoch-{epoch}\n":
            raise WriteError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        write_text(path, text)

    if where == "weights":
        monkeypatch.setattr(resume, "save_state", half_then_full)
    else:
        monkeypatch.setattr(resume, "write_text", pointer_full)


@pytest.mark.parametrize("where", ["weights", "pointer"])
def test_a_failed_backup_keeps_the_previous_one(tmp_path, monkeypatch, where):
    """A full disk while epoch 3's backup is written: one line naming the
    epoch, its folder removed, and epoch 2's backup resumed by the rerun."""
    folder = tmp_path / "backup"
    fail_in_epoch(monkeypatch, 3, where)
    with pytest.raises(ValueError) as failed:
        fit(build(), [Backup(folder)])
    assert str(failed.value) == (
        f"cannot write the backup of epoch 3 to {folder / 'epoch-3'}: "
        "No space left on device"
    )
    assert sorted(p.name for p in folder.iterdir()) == ["current", "epoch-2"]
    monkeypatch.undo()
    model, backup = build(), Backup(folder)
    assert (backup.epochs_done, backup.resumed_from) == (2, 2)
    before = {name: values[:] for name, values in backup.history.items()}
    fit(model, [backup], first_epoch=backup.epochs_done)
    assert {len(values) for values in backup.history.values()} == {EPOCHS}
    assert {name: values[:2] for name, values in backup.history.items()} == before


FULL_DISK_AFTER_EPOCH_1 = """
import resource, signal, sys
from fnet_imdb import backend, cli
backend.choose_backend()  # Imports TensorFlow quietly, as the program does.
import keras
from fnet_imdb.resume import Backup
from test_resume import build, fit

class FileSizeLimit(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:  # Writes past 8 kB fail with EFBIG from now on.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (8000, resource.RLIM_INFINITY))

callbacks = [Backup(sys.argv[1]), FileSizeLimit()]
sys.exit(cli.run_command(lambda argv: fit(build(), callbacks), []))
"""


def test_a_full_disk_ends_the_process_in_one_line(tmp_path):
    """A write of epoch 2's backup that really fails (a file size limit, as a
    full disk; Keras's `save_weights` made h5py flood stderr and crash here):
    exit 1 with one line, epoch 1's backup kept for the rerun."""
    folder = tmp_path / "backup"
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK_AFTER_EPOCH_1, str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"},
        timeout=240,
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stderr == (
        f"error: cannot write the backup of epoch 2 to {folder / 'epoch-2'}: "
        "File too large\n"
    )
    assert sorted(p.name for p in folder.iterdir()) == ["current", "epoch-1"]
    backup = Backup(folder)
    assert (backup.epochs_done, backup.resumed_from) == (1, 1)
    assert {len(values) for values in backup.history.values()} == {1}
