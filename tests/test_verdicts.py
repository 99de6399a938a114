"""The answer in words: the speed sentence, one-seed records side by side."""

import numpy as np
from scipy import stats

from fnet_imdb import paired, verdicts


def test_a_slower_fnet_is_said_so_with_its_interval_turned_over():
    found = {"time_ratio": paired.time_ratio([20.0, 80.0], [10.0, 10.0])}
    t = stats.t.ppf(0.975, 1)
    assert verdicts.speed({**found, "step_ratio": None}) == (
        f"FNet trains 4.00x slower (95% CI {4 * 2**-t:.2f}x to {4 * 2**t:.2f}x, "
        "2 seeds)."
    )


def one_seed(seed, fnet_right, transformer_right, seconds=(100.0, 250.0)):
    """`paired.compare` of one seed whose models are right on the given reviews."""
    labels = np.ones(len(fnet_right), dtype=np.int8)
    probabilities = {
        seed: [np.where(fnet_right, 0.9, 0.1), np.where(transformer_right, 0.9, 0.1)]
    }
    return paired.compare(labels, probabilities, {seed: list(seconds)})


def test_one_seed_records_of_opposite_signs_are_said_so():
    rng = np.random.default_rng(0)
    right = rng.random(2_000) < 0.85
    behind = one_seed(42, right & (rng.random(2_000) < 0.9), right)
    ahead = one_seed(1, right, right & (rng.random(2_000) < 0.9))
    text = verdicts.seed_by_seed([behind, ahead], ["abc1234", "def5678"], [True, False])
    assert text.startswith(
        "Each official paired record has one training seed. At seed 42 (commit abc1234), FNet is "
    )
    assert "points less accurate than the Transformer (95% CI -" in text
    assert (
        "; at seed 1 (commit def5678), it is " in text
        and "points more accurate (95% CI +" in text
    )
    assert "opposite signs" in text
    assert text.endswith(
        "At seed 42, FNet trains 2.50x faster (one seed: no interval)."
    )
    same = verdicts.seed_by_seed([behind, behind], ["a", "b"], [False, False])
    assert "opposite signs" not in same and "faster" not in same
