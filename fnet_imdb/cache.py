"""Files written atomically, and arrays cached on disk by the content of their inputs."""

import contextlib
import hashlib
import os
from importlib import metadata
from pathlib import Path

import numpy as np


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


def library_versions():
    """Versions of the libraries whose code decides vocabularies and token ids."""
    return ",".join(metadata.version(n) for n in ("keras-hub", "tensorflow-text"))


def fingerprint(*parts):
    """SHA-256 of the content of strings, numbers and arrays of bytes."""
    digest = hashlib.sha256()
    for part in parts:
        items = part if isinstance(part, (list, tuple, np.ndarray)) else [part]
        for item in items:
            data = item if isinstance(item, bytes) else str(item).encode("utf-8")
            digest.update(len(data).to_bytes(8, "little") + data)
        digest.update(b"|")
    return digest.hexdigest()


class Cache:
    """Arrays on disk, keyed by the content they were computed from."""

    def __init__(self, directory, enabled=True):
        self.directory, self.enabled = Path(directory), enabled

    def get(self, name, inputs, compute):
        """`compute()`'s dict of arrays, reused while `inputs` (and the
        tokenizer libraries' versions) stay the same; and "reused" or "computed"."""
        key = fingerprint(*inputs, library_versions())
        path = self.directory / f"{name}-{key[:24]}.npz"
        if self.enabled and path.exists():
            arrays = self._load(path)
            if arrays is not None:
                return arrays, "reused"
        arrays = compute()
        if self.enabled:
            self.directory.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as partial:
                np.savez(partial, **arrays)
        return arrays, "computed"

    @staticmethod
    def _load(path):
        """The arrays, or None if the entry is damaged (zip checks CRC-32)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                return {key: data[key] for key in data.files}
        except Exception:  # Any unreadable entry is rebuilt, whatever broke it.
            return None
