"""Per-review test predictions of a run, as plain numpy files in its output folder."""

from pathlib import Path

import numpy as np

from fnet_imdb.atomic import atomic_path

FOLDER = "predictions"
LABELS = f"{FOLDER}/labels.npy"


def path_of(kind, seed):
    """Where a model's test probabilities from one seed go, relative to the run."""
    return f"{FOLDER}/{kind}_seed{seed}.npy"


def save(output_dir, kind, seed, probabilities):
    """Save one model's test probabilities (float16, the test split's order);
    return their path relative to `output_dir`, for `results.json`."""
    return write(output_dir, path_of(kind, seed), as_float16(probabilities))


def as_float16(probabilities):
    """Probabilities in float16, each on the same side of 0.5 as before: one
    just above 0.5 would round to 0.5, which Keras's accuracy (> 0.5) counts
    as negative, so it is stored as the next float16 above 0.5 instead."""
    values = np.ravel(np.asarray(probabilities, dtype=np.float32))
    stored = values.astype(np.float16)
    above = np.nextafter(np.float16(0.5), np.float16(1))
    stored[(values > 0.5) & (stored <= 0.5)] = above
    return stored


def save_labels(output_dir, labels):
    """Save the test labels (int8, in the order of the probabilities); return
    their path relative to `output_dir`."""
    return write(output_dir, LABELS, np.ravel(labels).astype(np.int8))


def write(output_dir, relative, values):
    """Write an array to `output_dir/relative` atomically."""
    with atomic_path(Path(output_dir) / relative) as partial:
        np.save(partial, values, allow_pickle=False)
    return relative


def load(output_dir, relative):
    """An array saved by `save` or `save_labels`, by its relative path."""
    return np.load(Path(output_dir) / relative, allow_pickle=False)
