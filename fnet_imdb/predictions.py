"""Each model's test probabilities per seed, and the test labels, as numpy files of a run."""

import numpy as np

from fnet_imdb.cache import atomic_path

FOLDER = "predictions"


def save_labels(output_dir, labels):
    """Write the test labels (int8); return the file's path in `output_dir`."""
    return _save(output_dir, "labels.npy", np.asarray(labels, dtype="int8"))


def save(output_dir, kind, seed, probabilities):
    """Write `kind`'s test probabilities from `seed` (float16); return the
    file's path in `output_dir`."""
    values = np.asarray(probabilities, dtype="float16").reshape(-1)
    return _save(output_dir, f"{kind}_seed{seed}.npy", values)


def _save(output_dir, name, array):
    relative = f"{FOLDER}/{name}"
    with atomic_path(output_dir / relative) as partial:
        with open(partial, "wb") as file:
            np.save(file, array)
    return relative
