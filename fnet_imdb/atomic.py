"""Files written atomically: whole, or not at all, and a failed write said in one line."""

import contextlib
import os
from pathlib import Path


class WriteError(OSError):
    """A failed write, said in one line: `cannot write <file>: <reason>`."""

    def __str__(self):
        return f"cannot write {self.filename}: {self.strerror}"


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; move it into place only on success.

    A failed write (a full disk, a quota, a read-only file system) leaves no
    temporary file and raises `WriteError` naming `path`.
    """
    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield partial
        os.replace(partial, path)
    except WriteError:
        raise
    except OSError as error:  # Writes name no file: say which.
        raise WriteError(error.errno, error.strerror or str(error), str(path)) from None
    finally:
        with contextlib.suppress(OSError):  # Gone, or never made.
            partial.unlink()


def write_text(path, text):
    """Write `text` to `path` as UTF-8, atomically."""
    with atomic_path(path) as partial:
        partial.write_text(text, encoding="utf-8")
