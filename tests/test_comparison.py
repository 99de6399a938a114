"""Tests for `fnet_imdb.comparison`: formats, summaries, tables, verdicts, results.md."""

import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from fnet_imdb import comparison


def fake_run(seed, seconds, val_accuracy, test_accuracy, kept_epoch=None):
    """One run as `train_and_evaluate` records it, over three epochs."""
    run = {
        "seed": seed,
        "train_seconds": seconds,
        "history": {
            "loss": [0.7, 0.5, 0.4],
            "accuracy": [0.5, 0.7, 0.8],
            "val_loss": [0.6, 0.5, 0.55],
            "val_accuracy": [0.55, val_accuracy - 0.01, val_accuracy],
        },
        "test_loss": 0.5,
        "test_accuracy": test_accuracy,
    }
    if kept_epoch is not None:
        run["kept_epoch"] = kept_epoch
    return run


def fake_results(runs_per_model, holdout_test=0.0):
    """`results` as `fnet_classification.main` builds them, for both models."""
    models = {}
    for kind, params in (("fnet", 2_000), ("transformer", 3_000)):
        runs = runs_per_model[kind]
        models[kind] = {
            "params": params,
            "saved_seed": runs[0]["seed"],
            "runs": runs,
            "summary": comparison.summarise(runs),
        }
    return {
        "config": {
            "holdout_test": holdout_test,
            "epochs": 3,
            "batch_size": 64,
            "max_seq_len": 512,
            "bucket_by_length": False,
            "keep_best": False,
        },
        "data": {"test": {"reviews": 100}},
        "environment": {"keras_backend": "jax", "device": "cpu", "cpu_count": 2},
        "models": models,
    }


ONE_SEED = {
    "fnet": [fake_run(42, 5.2, 0.80, 0.79)],
    "transformer": [fake_run(42, 7.4, 0.85, 0.84)],
}
THREE_SEEDS = {
    "fnet": [
        fake_run(42, 5.0, 0.80, 0.70),
        fake_run(1, 6.0, 0.82, 0.72),
        fake_run(7, 7.0, 0.78, 0.74),
    ],
    "transformer": [
        fake_run(42, 9.0, 0.85, 0.80),
        fake_run(1, 10.0, 0.86, 0.81),
        fake_run(7, 11.0, 0.84, 0.82),
    ],
}


def test_summarise_one_run():
    """One run: its own figures, standard deviation 0."""
    summary = comparison.summarise([fake_run(42, 5.0, 0.8, 0.75)])
    assert summary["train_seconds"] == {
        "mean": 5.0,
        "std": 0.0,
        "min": 5.0,
        "max": 5.0,
        "n": 1,
    }
    assert summary["val_accuracy"]["mean"] == 0.8
    assert summary["test_accuracy"]["mean"] == 0.75


def test_summarise_three_runs():
    """Three runs: mean, sample standard deviation, minimum and maximum."""
    summary = comparison.summarise(THREE_SEEDS["fnet"])
    for key, values in (
        ("train_seconds", [5.0, 6.0, 7.0]),
        ("val_accuracy", [0.80, 0.82, 0.78]),
        ("test_accuracy", [0.70, 0.72, 0.74]),
    ):
        assert summary[key] == {
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values),
            "min": min(values),
            "max": max(values),
            "n": 3,
        }


def test_run_value_kept_epoch():
    """With --keep-best, the kept epoch's validation accuracy counts."""
    run = fake_run(42, 5.0, 0.8, 0.75, kept_epoch=1)
    assert comparison.run_value(run, "val_accuracy") == 0.55
    run["kept_epoch"] = 2
    assert comparison.run_value(run, "val_accuracy") == pytest.approx(0.79)
    assert comparison.run_value(fake_run(42, 5.0, 0.8, 0.75), "val_accuracy") == 0.8
    assert comparison.run_value(run, "test_accuracy") == 0.75


def test_comparison_table_one_seed():
    """One run per model: plain measured figures, no spread."""
    table = comparison.comparison_table(fake_results(ONE_SEED))
    lines = table.splitlines()
    assert lines[0] == "| | **FNet Classifier** | **Transformer Classifier** |"
    assert "| **Training time** | 5.2 s | 7.4 s |" in lines
    assert "| **Train accuracy** | 80.00% | 80.00% |" in lines
    assert "| **Validation accuracy** | 80.00% | 85.00% |" in lines
    assert "| **Test accuracy (100 reviews)** | 79.00% | 84.00% |" in lines
    assert "| **#Params** | 2,000 | 3,000 |" in lines
    assert "±" not in table


def test_comparison_table_stand_in_test():
    """A held-out stand-in test split is never called the test accuracy."""
    table = comparison.comparison_table(fake_results(ONE_SEED, holdout_test=0.1))
    assert "| **Stand-in test accuracy (100 reviews)** | 79.00% | 84.00% |" in table
    assert "**Test accuracy" not in table


def test_comparison_table_several_seeds():
    """Several runs: mean ± standard deviation and the number of runs."""
    lines = comparison.comparison_table(fake_results(THREE_SEEDS)).splitlines()
    assert (
        "| **Training time** | 6.0 ± 1.0 s (3 runs) | 10.0 ± 1.0 s (3 runs) |" in lines
    )
    assert (
        "| **Test accuracy (100 reviews)** | 72.00 ± 2.00% (3 runs) "
        "| 81.00 ± 1.00% (3 runs) |" in lines
    )


def test_seeds_table_lists_every_seed():
    """One row per model and seed, with its own figures."""
    lines = comparison.seeds_table(fake_results(THREE_SEEDS)).splitlines()
    assert len(lines) == 2 + 6
    assert "| FNet | 1 | 6.0 s | 82.00% | 72.00% |" in lines
    assert "| Transformer | 7 | 11.0 s | 84.00% | 82.00% |" in lines
    assert [line.split(" | ")[1] for line in lines[2:]] == ["42", "1", "7"] * 2


def test_verdict_gap_larger_than_spread():
    """A 9-point gap over 2- and 1-point spreads is larger, and the verdict
    says it has no interval."""
    verdict = comparison.spread_verdict(fake_results(THREE_SEEDS))
    assert "FNet minus Transformer is -9.00 points, larger than" in verdict
    assert "not larger" not in verdict
    assert "2.00 points" in verdict
    assert verdict.startswith("Without per-review predictions there is no paired")


def test_verdict_gap_within_spread():
    """A gap smaller than the spread between seeds is not larger."""
    close = {
        "fnet": THREE_SEEDS["fnet"],
        "transformer": [
            fake_run(42, 9.0, 0.85, 0.71),
            fake_run(1, 10.0, 0.86, 0.73),
            fake_run(7, 11.0, 0.84, 0.75),
        ],
    }
    assert "not larger" in comparison.spread_verdict(fake_results(close))


def test_verdict_none_for_one_seed():
    """One seed cannot measure a spread: no verdict."""
    assert comparison.spread_verdict(fake_results(ONE_SEED)) is None


def test_results_markdown():
    """results.md: seeds and verdict only with several seeds, then settings."""
    one = comparison.results_markdown(fake_results(ONE_SEED))
    assert "| model | seed |" not in one
    assert "Backend `jax` on `cpu` (2 CPUs), 3 epochs, batch 64" in one
    several = comparison.results_markdown(fake_results(THREE_SEEDS))
    assert "| model | seed |" in several and "larger than the spread" in several
    assert "Paired comparison" not in several


@pytest.mark.parametrize(
    "values, unit, listed, shown",
    [
        ([0.8512], "%", False, "85.12%"),
        ([0.85, 0.87], "%", True, "86.00 ± 1.41% (85.00, 87.00)"),
        ([998.4], "s", False, "998 s"),
        ([900.0, 1100.0], "s", False, "1,000 ± 141 s"),
        ([9.5, 10.5], "s", False, "10.0 ± 0.7 s"),
        ([0.0054], "ms", False, "5.4 ms"),
        ([0.005, 0.006], "ms", False, "5.5 ± 0.7 ms"),
    ],
)
def test_mean_sd_formats_one_value_or_mean_and_spread(values, unit, listed, shown):
    assert comparison.mean_sd(values, unit, listed) == shown


def test_the_comparison_imports_neither_keras_nor_tensorflow():
    """scripts/report.py and benchmarks/gpu_summary.py run without them."""
    code = (
        "import sys, fnet_imdb.comparison, fnet_imdb.paired, fnet_imdb.predictions; "
        "print(sorted({'keras', 'tensorflow', 'jax'} & set(sys.modules)))"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"
