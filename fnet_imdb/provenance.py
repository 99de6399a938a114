"""Where a figure was made: the installed versions of packages, and the project's git commit."""

import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def version(name):
    """The installed version of distribution `name`, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def commit(root=ROOT):
    """The short hash of `root`'s HEAD, with "+dirty" if its files differ from
    it; None outside a git checkout (an installed copy) or without git."""
    git = ["git", "-C", str(root)]
    try:
        head = subprocess.run(
            git + ["rev-parse", "--short", "HEAD"], capture_output=True
        )
        if head.returncode:
            return None
        dirty = subprocess.run(git + ["diff", "--quiet", "HEAD"], capture_output=True)
    except OSError:  # No git.
        return None
    return head.stdout.decode().strip() + ("+dirty" if dirty.returncode else "")
