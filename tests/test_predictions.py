"""Tests for `fnet_imdb.predictions`: per-review predictions saved and read back."""

import numpy as np

from fnet_imdb import predictions
from fnet_imdb.paired import correct


def test_predictions_and_labels_round_trip_as_plain_numpy(tmp_path):
    rng = np.random.default_rng(1)
    probabilities = rng.random(25_000).astype(np.float32)
    labels = rng.integers(0, 2, 25_000)
    name = predictions.save(tmp_path, "fnet", 42, probabilities[:, None])
    assert name == "predictions/fnet_seed42.npy"
    assert predictions.save_labels(tmp_path, labels) == "predictions/labels.npy"
    saved = np.load(tmp_path / name)  # Plain numpy reads them.
    assert saved.dtype == np.float16 and saved.shape == (25_000,)
    np.testing.assert_allclose(saved, probabilities, atol=2**-11)  # A float16 step.
    np.testing.assert_array_equal(
        correct(saved, labels), correct(probabilities, labels)
    )
    read = predictions.load(tmp_path, "predictions/labels.npy")
    assert read.dtype == np.int8 and np.array_equal(read, labels)
    assert (tmp_path / name).stat().st_size < 51_000  # 2 bytes a review.
    assert sorted(p.name for p in (tmp_path / "predictions").iterdir()) == [
        "fnet_seed42.npy",
        "labels.npy",
    ]  # No partial file left.


def test_float16_keeps_each_review_on_its_side_of_one_half():
    """0.50012 rounds to 0.5 in float16, which Keras's `> 0.5` counts as
    negative: it is stored just above 0.5 instead."""
    probabilities = np.array([0.50012, 0.5, 0.49995, 0.7], dtype=np.float32)
    stored = predictions.as_float16(probabilities)
    assert np.float16(0.50012) == 0.5  # What plain rounding would store.
    assert stored[0] > 0.5 and stored[1] == 0.5 and stored[2] <= 0.5
    labels = np.array([1, 1, 0, 1])
    np.testing.assert_array_equal(correct(stored, labels), [True, False, True, True])
