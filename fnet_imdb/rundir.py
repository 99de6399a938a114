"""A run's output folder: its own by default, one writer at a time."""

import datetime
import fcntl
import itertools
import json
import os
import re
from pathlib import Path

from fnet_imdb.atomic import write_text
from fnet_imdb.flags import flag_name

SHOWN_CHANGES = 3  # Settings named in the note about an interrupted run.
RUNS_ROOT = Path("runs")  # Where a run without --output-dir gets its folder.
RUN_NAME = re.compile(r"(\d{8}-\d{6})(?:-(\d+))?")  # As new_folder names them.


class Lock:
    """An exclusive lock on a folder, held until `release()`."""

    def __init__(self, file):
        self.file = file

    def release(self):
        if self.file is not None:
            fcntl.lockf(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def lock(folder):
    """Make `folder` if needed and lock it for this process until the
    returned `Lock` is released or dropped; raise `ValueError` if another
    process holds it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        file = open(folder / ".lock", "a+", encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot write to {folder}: {error.strerror}") from None
    # Neither the standard library nor Keras locks files (and `filelock` is not
    # a dependency). A POSIX lock dies with its process, even by SIGKILL, and
    # is per process: a notebook kernel that reruns its cells takes it again.
    # The OS drops it when any file of this process on `.lock` closes.
    try:
        fcntl.lockf(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        file.seek(0)
        pid = file.read().strip() or "unknown"
        file.close()
        raise ValueError(
            f"{folder} is in use by another run (process {pid}); wait for it or "
            "pass another --output-dir"
        ) from None
    file.seek(0)
    file.truncate()
    file.write(f"{os.getpid()}\n")  # For the message of a run that waits.
    file.flush()
    return Lock(file)


def new_folder(runs_root, now=None):
    """Make and return `runs_root/<YYYYmmdd-HHMMSS>` (local time), with a
    suffix `-2`, `-3`... if another run made that one first."""
    runs_root = Path(runs_root)
    runs_root.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    for number in itertools.count(1):
        folder = runs_root / (stamp if number == 1 else f"{stamp}-{number}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue


def point_latest(runs_root, folder):
    """Make `runs_root/latest` lead to `folder`, atomically: a relative
    symlink or, where the system has none, a file naming the folder."""
    runs_root = Path(runs_root)
    target = os.path.relpath(folder, runs_root)
    partial = runs_root / f".latest.{os.getpid()}.partial"
    try:
        partial.unlink(missing_ok=True)
        os.symlink(target, partial, target_is_directory=True)
        os.replace(partial, runs_root / "latest")
    except OSError:
        partial.unlink(missing_ok=True)
        write_text(runs_root / "latest", target + "\n")


def resolve(run_dir):
    """The folder that `run_dir` names, through a `latest` symlink or file."""
    run_dir = Path(run_dir)
    if run_dir.is_symlink():
        return run_dir.parent / os.readlink(run_dir)
    if run_dir.is_file():
        return run_dir.parent / run_dir.read_text(encoding="utf-8").strip()
    return run_dir


def previous_run(folder, settings):
    """The interrupted run in `folder` to resume, if its settings are
    `settings` (a dict of the settings that decide results), else None; and
    a note saying so, or None when there is nothing to say."""
    try:
        previous = json.loads((Path(folder) / "results.json").read_text("utf-8"))
    except (OSError, ValueError):  # None yet, or not ours.
        return None, None
    if previous.get("complete", True):
        return None, None
    wanted = json.loads(json.dumps(settings, default=str))  # Tuples as lists.
    config = previous.get("config", {})
    changed = [
        f"{flag_name(name)} {value}, was {config.get(name)}"
        for name, value in wanted.items()
        if config.get(name) != value
    ]
    if not changed:
        return previous, f"resuming the interrupted run in {folder}"
    listed = "; ".join(changed[:SHOWN_CHANGES])
    listed += "; ..." if len(changed) > SHOWN_CHANGES else ""
    return None, (
        f"{folder} held an interrupted run with other settings ({listed}): "
        "starting afresh"
    )


class OutputFolder:
    """The locked output folder of a run; `previous` holds the results of the
    interrupted run it resumes (None for a fresh one), `note` what to say."""

    def __init__(self, folder, previous, note, held):
        self.folder, self.previous, self.note, self.held = folder, previous, note, held

    def release(self):
        self.held.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def trained_models(folder, kinds=None):
    """The models of `kinds` (default: any) that `folder` holds trained: its
    `results.json` records a finished run of each, saved as `<kind>.keras`."""
    folder = Path(folder)
    try:
        models = json.loads((folder / "results.json").read_text("utf-8"))["models"]
        return [
            kind
            for kind, entry in models.items()
            if (kinds is None or kind in kinds)
            and entry.get("runs")
            and (folder / f"{kind}.keras").is_file()
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


def newest_finished(kinds=None, runs_root=RUNS_ROOT):
    """The newest run under `runs_root` holding a trained model of `kinds`
    (default: any), and those it holds; (None, []) if there is none.

    Newest is the latest start, read from the folder's name
    (`YYYYmmdd-HHMMSS[-N]`): it stays put when a file is touched or copied.
    Folders named otherwise are not runs of ours and are skipped.
    """

    def started(folder):
        match = RUN_NAME.fullmatch(folder.name)
        return (match[1], int(match[2] or 1)) if match else None

    try:
        folders = [f for f in Path(runs_root).iterdir() if started(f) and f.is_dir()]
    except OSError:
        return None, []
    for folder in sorted(folders, key=started, reverse=True):
        trained = trained_models(folder, kinds)
        if trained:
            return folder, trained
    return None, []


def open_run(output_dir, settings, runs_root=RUNS_ROOT):
    """Lock the output folder of a run and say what it resumes.

    With `output_dir`, that folder, resumed if it holds an interrupted run
    with these `settings`; a finished run there is replaced. Without, the run
    `runs_root/latest` leads to if it is interrupted, has these settings and
    is not running; else a new folder, then pointed at by `latest`. Results
    are read after locking, so no other run changes them meanwhile.
    """
    if output_dir is not None:
        held = lock(output_dir)
        return OutputFolder(Path(output_dir), *previous_run(output_dir, settings), held)
    latest = Path(runs_root) / "latest"
    if latest.exists() and previous_run(resolve(latest), settings)[0]:
        folder = resolve(latest)
        try:
            held = lock(folder)
        except ValueError:  # Running: this run gets its own folder.
            held = None
        if held is not None:
            previous, note = previous_run(folder, settings)
            if previous is not None:
                return OutputFolder(folder, previous, note, held)
            held.release()  # It finished between the look and the lock.
    folder = new_folder(runs_root)
    held = lock(folder)
    point_latest(runs_root, folder)
    return OutputFolder(folder, None, None, held)
