"""Tests for `fnet_imdb.rundir`: one writer per folder, a run's own folder,
`latest`, and which interrupted run a command resumes."""

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fnet_imdb import rundir

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {"epochs": 2, "batch_size": 8, "models": ("fnet", "transformer")}
HOLD = (
    "import sys, time\nfrom fnet_imdb import rundir\n"
    "held = rundir.lock(sys.argv[1])\nprint('locked', flush=True)\ntime.sleep(120)"
)


@pytest.fixture
def holder():
    """Start a process that locks a folder and sleeps; kill it at the end."""
    started = []

    def hold(folder):
        process = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(folder)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        started.append(process)
        assert process.stdout.readline() == "locked\n"
        return process

    yield hold
    for process in started:
        process.kill()
        process.wait()


def write_results(folder, complete, **changes):
    folder.mkdir(parents=True, exist_ok=True)
    config = {**SETTINGS, "models": list(SETTINGS["models"]), "seed": 0, **changes}
    results = {"config": config, "complete": complete, "models": {"fnet": {}}}
    (folder / "results.json").write_text(json.dumps(results))


def test_a_second_process_is_refused_until_the_first_dies(tmp_path, holder):
    """While one process holds a folder, another gets a one-line error naming
    it; once the holder is killed with SIGKILL, the folder is free again."""
    folder = tmp_path / "run"
    process = holder(folder)
    with pytest.raises(ValueError) as refused:
        rundir.lock(folder)
    assert str(refused.value) == (
        f"{folder} is in use by another run (process {process.pid}); wait for it "
        "or pass another --output-dir"
    )
    with pytest.raises(ValueError, match="in use by another run"):
        rundir.open_run(folder, SETTINGS)
    process.kill()
    process.wait()
    with rundir.lock(folder):
        assert (folder / ".lock").read_text() == f"{os.getpid()}\n"


def test_lock_is_per_process_and_released(tmp_path):
    """The same process (a notebook kernel rerunning its cells) takes the lock
    again; after `release()`, another process takes it."""
    folder = tmp_path / "new" / "run"
    first = rundir.lock(folder)
    second = rundir.lock(folder)
    second.release()
    first.release()
    taken = subprocess.run(
        [sys.executable, "-c", HOLD.replace("time.sleep(120)", ""), str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert taken.stdout == "locked\n", taken.stderr


def test_lock_refuses_a_file_in_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="^cannot write to .*file: "):
        rundir.lock(tmp_path / "file")


def test_new_folder_is_unique(tmp_path):
    now = datetime.datetime(2024, 5, 6, 7, 8, 9)
    names = [rundir.new_folder(tmp_path / "runs", now).name for _ in range(3)]
    assert names == ["20240506-070809", "20240506-070809-2", "20240506-070809-3"]
    assert all((tmp_path / "runs" / name).is_dir() for name in names)


def test_point_latest_symlink(tmp_path):
    """`latest` is a relative symlink, moved atomically to the newest run."""
    runs = tmp_path / "runs"
    first, second = rundir.new_folder(runs), runs / "second"
    second.mkdir()
    rundir.point_latest(runs, first)
    assert os.readlink(runs / "latest") == first.name
    rundir.point_latest(runs, second)
    assert os.readlink(runs / "latest") == "second"
    assert rundir.resolve(runs / "latest") == second
    assert sorted(p.name for p in runs.iterdir()) == sorted(
        [first.name, "second", "latest"]
    )


def test_point_latest_pointer_file_without_symlinks(tmp_path, monkeypatch):
    """Where symlinks fail, `latest` is a file naming the folder, which
    `resolve` follows; it also replaces an earlier symlink."""
    runs = tmp_path / "runs"
    first, second = runs / "first", runs / "second"
    first.mkdir(parents=True)
    second.mkdir()
    rundir.point_latest(runs, first)

    def no_symlinks(*args, **kwargs):
        raise OSError("symbolic links are not supported")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    rundir.point_latest(runs, second)
    latest = runs / "latest"
    assert not latest.is_symlink() and latest.read_text() == "second\n"
    assert rundir.resolve(latest) == second
    assert rundir.resolve(first) == first
    assert sorted(p.name for p in runs.iterdir()) == ["first", "latest", "second"]


def test_output_dir_rules(tmp_path):
    """--output-dir: an interrupted run with the same settings is resumed,
    one with other settings or a finished one is started afresh."""
    folder = tmp_path / "out"
    with rundir.open_run(folder, SETTINGS) as run:
        assert (run.folder, run.previous, run.note) == (folder, None, None)
    write_results(folder, complete=False)
    with rundir.open_run(folder, SETTINGS) as run:
        assert run.previous["models"] == {"fnet": {}}
        assert run.note == f"resuming the interrupted run in {folder}"
    write_results(folder, complete=False, epochs=3, batch_size=16)
    with rundir.open_run(folder, SETTINGS) as run:
        assert run.previous is None
        assert run.note == (
            f"{folder} held an interrupted run with other settings (--epochs 2, "
            "was 3; --batch-size 8, was 16): starting afresh"
        )
    write_results(folder, complete=True)
    with rundir.open_run(folder, SETTINGS) as run:
        assert (run.previous, run.note) == (None, None)


def test_no_or_unreadable_results_resume_nothing(tmp_path):
    assert rundir.previous_run(tmp_path, SETTINGS) == (None, None)
    (tmp_path / "results.json").write_text('{"config": ')
    assert rundir.previous_run(tmp_path, SETTINGS) == (None, None)


def test_note_lists_three_changes_then_dots(tmp_path):
    write_results(tmp_path, complete=False, a=1, b=1, c=1, d=1)
    _, note = rundir.previous_run(tmp_path, {"a": 2, "b": 2, "c": 2, "d": 2})
    assert note.endswith(
        "(--a 2, was 1; --b 2, was 1; --c 2, was 1; ...): starting afresh"
    )


def test_default_run_resumes_latest_if_interrupted_and_free(tmp_path, holder):
    """Without --output-dir: a new folder, pointed at by `latest`; the run
    `latest` leads to is resumed only if interrupted, with the same settings
    and not running; a finished run is never replaced."""
    runs = tmp_path / "runs"
    with rundir.open_run(None, SETTINGS, runs) as run:
        first = run.folder
        assert run.previous is None and first.parent == runs
        assert rundir.resolve(runs / "latest") == first
    write_results(first, complete=False)
    with rundir.open_run(None, SETTINGS, runs) as run:
        assert run.folder == first and run.previous is not None
        assert run.note == f"resuming the interrupted run in {first}"

    process = holder(first)
    with rundir.open_run(None, SETTINGS, runs) as run:
        second = run.folder
        assert second != first and run.previous is None
        assert rundir.resolve(runs / "latest") == second
    process.kill()
    process.wait()

    write_results(second, complete=False, epochs=3)
    with rundir.open_run(None, SETTINGS, runs) as run:
        third = run.folder
        assert third not in (first, second) and run.previous is None
    write_results(third, complete=True)
    with rundir.open_run(None, SETTINGS, runs) as run:
        assert run.folder not in (first, second, third) and run.previous is None
    assert json.loads((third / "results.json").read_text())["complete"]


def finished_run(folder, kinds=("fnet", "transformer"), saved=None):
    """A run folder whose results record a finished run of each of `kinds`,
    and the `.keras` files of `saved` (default: the same kinds)."""
    folder.mkdir(parents=True)
    models = {kind: {"runs": [{"seed": 42}]} for kind in kinds}
    (folder / "results.json").write_text(json.dumps({"models": models}))
    for kind in kinds if saved is None else saved:
        (folder / f"{kind}.keras").write_bytes(b"")
    return folder


def test_newest_finished_run_by_its_name(tmp_path):
    """The latest start by the folder's name (a `-N` suffix counted as a
    number), holding the models asked for; an interrupted run serves the
    models it finished; folders named otherwise, and `latest`, are skipped."""
    runs = tmp_path / "runs"
    assert rundir.newest_finished(runs_root=runs) == (None, [])
    both = finished_run(runs / "20261203-101500-2")
    finished_run(runs / "20261203-101500")
    fnet_only = finished_run(runs / "20261203-101500-10", ["fnet"])
    unsaved = finished_run(runs / "20261204-000000", saved=[])
    rundir.point_latest(runs, unsaved)
    (runs / "20261205-000000").mkdir()  # Started, nothing finished yet.
    finished_run(runs / "zz-copied-run")
    assert rundir.newest_finished(runs_root=runs) == (fnet_only, ["fnet"])
    assert rundir.newest_finished(["transformer"], runs) == (both, ["transformer"])
    assert rundir.trained_models(both) == ["fnet", "transformer"]
    assert rundir.trained_models(unsaved) == []
    (fnet_only / "results.json").write_text('{"models": ')
    assert rundir.newest_finished(runs_root=runs)[0] == both
