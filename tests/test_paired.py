"""Tests for `fnet_imdb.paired` and the paired parts of `fnet_imdb.comparison`:
McNemar's test, the bootstrap intervals, the verdict, and the committed record
of both models' per-review predictions on the official test split."""

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from fnet_imdb import comparison, paired, predictions, verdicts

RECORD = Path(__file__).resolve().parents[1] / "docs" / "cpu_official_test_paired"


def rights(only_fnet, only_transformer, both, neither):
    """(fnet_right, transformer_right) arrays with these cell counts."""
    fnet = [True] * only_fnet + [False] * only_transformer
    transformer = [False] * only_fnet + [True] * only_transformer
    fnet += [True] * both + [False] * neither
    transformer += [True] * both + [False] * neither
    return np.array(fnet), np.array(transformer)


def test_a_probability_of_exactly_one_half_is_negative_as_in_keras():
    labels = np.array([0, 1, 1, 0])
    right = paired.correct(np.array([0.5, 0.5, 0.51, 0.49]), labels)
    assert right.tolist() == [True, False, True, True]


def test_mcnemar_on_a_hand_computed_table():
    """1 review only FNet gets right, 7 only the Transformer: under the null
    each is a fair coin, p = 2 * P(X <= 1 | n = 8) = 2 * 9 / 256."""
    result = paired.mcnemar(*rights(1, 7, 10, 2))
    assert result["only_fnet_right"] == 1 and result["only_transformer_right"] == 7
    assert result["p_value"] == pytest.approx(18 / 256, rel=1e-12)
    assert paired.mcnemar(*rights(0, 0, 5, 5))["p_value"] == 1.0


def test_a_reviews_only_interval_covers_the_true_difference_about_95_percent():
    """Synthetic paired data with a known difference of -1.5 points: over 200
    test sets the interval covers it about 95% of the time."""
    rng = np.random.default_rng(7)
    cells = np.array([0.06, 0.075, 0.865])  # Only FNet, only Transformer, same.
    covered = 0
    for trial in range(200):
        kind = rng.choice(3, size=2_000, p=cells)
        fnet, transformer = kind == 0, kind == 1
        result = paired.accuracy_difference([(fnet, transformer)], 2_000, trial)
        covered += result["ci_low"] <= -0.015 <= result["ci_high"]
    assert 0.91 <= covered / 200 <= 0.99


def test_the_two_level_interval_counts_the_seeds_variation():
    """Three seeds whose differences are -5, 0 and +5 points: the interval over
    seeds and reviews is far wider than one seed's over reviews alone, and the
    same inputs give the same interval."""
    seeds = [rights(250, 500, 4_000, 250), rights(375, 375, 4_000, 250)]
    seeds.append(rights(500, 250, 4_000, 250))
    both = paired.accuracy_difference(seeds)
    alone = paired.accuracy_difference(seeds[1:2])
    assert both["difference"] == pytest.approx(0.0) and both["seeds"] == 3
    assert both["ci_low"] < -0.04 and both["ci_high"] > 0.04
    assert 0.015 < alone["ci_high"] - alone["ci_low"] < 0.025
    assert both["covers"] == "training seeds and test reviews"
    assert alone["covers"] == "test reviews" and "Efron" in alone["method"]
    assert paired.accuracy_difference(seeds) == both


def test_the_bootstrap_is_fast_at_full_size():
    seeds = [rights(1_500, 1_870, 20_000, 1_630)] * 3  # 3 x 25,000 reviews.
    start = time.perf_counter()
    result = paired.accuracy_difference(seeds, resamples=10_000)
    assert time.perf_counter() - start < 1.0 and result["resamples"] == 10_000


def test_disagreements_are_the_most_apart_with_their_texts_cut():
    labels = np.array([1, 1, 0, 0, 1])
    fnet = np.array([0.9, 0.6, 0.2, 0.45, 0.1])
    transformer = np.array([0.1, 0.4, 0.3, 0.55, 0.95])  # Agree on review 2.
    texts = [b"caf\xc3\xa9 " * 60, "two", b"three", "four", b"\xff five"]
    found = paired.disagreements(fnet, transformer, labels, texts, count=3)
    assert [entry["index"] for entry in found] == [4, 0, 1]
    assert found[0]["text"] == "\ufffd five" and found[2]["text"] == "two"
    assert found[1]["text"] == ("café " * 40)[:200] and found[1]["label"] == 1
    assert "text" not in paired.disagreements(fnet, transformer, labels)[0]


def test_time_ratio_is_a_t_interval_on_log_ratios():
    """Ratios 2 and 8: geometric mean 4, log standard error ln 2, one degree
    of freedom."""
    ratio = paired.time_ratio([10.0, 10.0], [20.0, 80.0])
    t = stats.t.ppf(0.975, 1)
    assert ratio["ratio"] == pytest.approx(4.0)
    assert ratio["ci_low"] == pytest.approx(4 * 2**-t)
    assert ratio["ci_high"] == pytest.approx(4 * 2**t)
    one = paired.time_ratio([848.0], [2090.0])
    assert one["ratio"] == pytest.approx(2090 / 848) and one["ci_low"] is None


def test_the_committed_record_is_reproduced():
    """docs/cpu_official_test_paired: McNemar and the interval from its float16
    predictions against its paired.json, computed independently from the
    float32 probabilities. Two Transformer probabilities just above 0.5
    (Keras: positive, wrong for their negative reviews) were stored as
    exactly 0.5 in float16 (negative, right): the counts differ by them."""
    data = np.load(RECORD / "seed42" / "predictions.npz")
    expected = json.loads((RECORD / "seed42" / "paired.json").read_text())
    labels, fnet, transformer = data["labels"], data["fnet"], data["transformer"]
    at_half = np.flatnonzero((transformer == 0.5) & (labels == 0))
    assert at_half.tolist() == [7797, 11909]
    fnet_right = paired.correct(fnet, labels)
    transformer_right = paired.correct(transformer, labels)
    assert fnet_right.mean() == expected["fnet"]["test_accuracy"]
    assert transformer_right.sum() - len(at_half) == round(
        expected["transformer"]["test_accuracy"] * 25_000
    )
    transformer_right[at_half] = False  # As Keras counted them in float32.
    result = paired.mcnemar(fnet_right, transformer_right)
    mcnemar = expected["mcnemar"]
    assert result["only_fnet_right"] == mcnemar["fnet_only_right"] == 1495
    assert result["only_transformer_right"] == mcnemar["transformer_only_right"]
    assert result["p_value"] == pytest.approx(mcnemar["p_value"], rel=1e-9)
    interval = paired.accuracy_difference([(fnet_right, transformer_right)])
    difference = expected["difference"]
    assert interval["difference"] == pytest.approx(difference["fnet_minus_transformer"])
    low, high = difference["paired_bootstrap_95"]
    assert interval["ci_low"] == pytest.approx(low, abs=3e-4)  # Monte Carlo error.
    assert interval["ci_high"] == pytest.approx(high, abs=3e-4)


def fake_run_folder(folder, seeds, texts=False):
    """A run's results.json with predictions saved for each seed: FNet right
    on 80% of 1,000 reviews, the Transformer on 85%, the two differing."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 1_000)
    models = {"fnet": {"runs": []}, "transformer": {"runs": []}}
    for seed in seeds:
        for kind, accuracy, seconds in (
            ("fnet", 0.8, 100.0),
            ("transformer", 0.85, 250.0),
        ):
            right = rng.random(1_000) < accuracy
            probabilities = np.where(right == (labels == 1), 0.9, 0.1)
            probabilities += rng.uniform(-0.05, 0.05, 1_000)
            run = {"seed": seed, "train_seconds": seconds + seed}
            run["predictions"] = predictions.save(folder, kind, seed, probabilities)
            models[kind]["runs"].append(run)
    results = {"models": models, "data": {"test": {"reviews": 1_000}}}
    results["test_labels"] = predictions.save_labels(folder, labels)
    return results, (
        [f"review {i} | <br />text" for i in range(1_000)] if texts else None
    )


def test_a_run_with_one_seed_gets_a_review_only_verdict(tmp_path):
    results, _ = fake_run_folder(tmp_path, [42])
    found = paired.paired_comparison(results, tmp_path)
    json.dumps(found)  # It goes into results.json as it is.
    (seed,) = found["per_seed"]
    assert seed["seed"] == 42 and seed["only_fnet_right"] > 0
    assert found["time_ratio"]["ci_low"] is None
    verdict = verdicts.verdict(found)
    assert "wide, over the test reviews only). With one training seed" in verdict
    assert (
        "understates the uncertainty" in verdict
        and "(one seed: no interval)." in verdict
    )
    assert "FNet trains 2.06x faster" in verdict  # (250 + 42) / (100 + 42)
    markdown = comparison.paired_markdown(found)
    assert "texts omitted" in markdown and markdown.count("\n| ") >= 5 + 1


def test_a_run_with_three_seeds_names_its_interval_and_disagreements(tmp_path):
    results, texts = fake_run_folder(tmp_path, [42, 1, 7], texts=True)
    found = paired.paired_comparison(results, tmp_path, texts, step_seconds=(1.0, 2.3))
    difference = found["accuracy_difference"]
    assert difference["seeds"] == 3 and difference["ci_high"] < 0
    assert math.isfinite(found["time_ratio"]["ci_low"]) and found["step_ratio"] == 2.3
    verdict = verdicts.verdict(found)
    assert "wide, over 3 training seeds and the test reviews): a difference." in verdict
    assert "With 3 seeds the bootstrap has few seeds" in verdict
    assert "; one training step, 2.30x)." in verdict
    markdown = comparison.results_markdown(
        {**results, **FAKE_SETTINGS, "models": with_summaries(results["models"])},
        paired=found,
    )
    assert "## Paired comparison" in markdown and "McNemar p" in markdown
    assert "two-level (hierarchical) percentile bootstrap" in markdown
    first = found["disagreements"][0]
    assert f"| {first['index']} | {first['label']} |" in markdown
    assert f"review {first['index']} \\| <br />text |" in markdown
    assert "spread between seeds" not in markdown


def test_a_run_without_predictions_has_no_paired_comparison(tmp_path):
    results, _ = fake_run_folder(tmp_path, [42])
    for run in results["models"]["transformer"]["runs"]:
        del run["predictions"]
    assert paired.paired_comparison(results, tmp_path) is None
    del results["test_labels"]
    assert paired.paired_comparison(results, tmp_path) is None


FAKE_SETTINGS = {
    "config": {"holdout_test": 0.0, "epochs": 3, "batch_size": 64, "max_seq_len": 512}
    | {"bucket_by_length": False, "keep_best": False},
    "environment": {"keras_backend": "jax", "device": "cpu", "cpu_count": 2},
}


def with_summaries(models):
    """The fake run's models as a run records them, with history and params."""
    history = {"accuracy": [0.9], "val_accuracy": [0.8]}
    filled = {}
    for kind, model in models.items():
        runs = [{**r, "history": history, "test_accuracy": 0.8} for r in model["runs"]]
        filled[kind] = {
            "runs": runs,
            "params": 1,
            "summary": comparison.summarise(runs),
        }
    return filled
