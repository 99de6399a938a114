"""Arrays cached on disk, keyed by the content of their inputs."""

import hashlib
from importlib import metadata
from pathlib import Path

import numpy as np

from fnet_imdb.atomic import atomic_path


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
