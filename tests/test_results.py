"""Tests for `fnet_imdb.results` and `fnet_imdb.plots`: summaries, tables, plots."""

import copy
import math
import shutil
import statistics

import matplotlib.image
import pytest

from fnet_imdb import comparison, results
from fnet_imdb.plots import save_plots


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
    assert "| **Training time** | 5 seconds | 7 seconds |" in lines
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
        "| **Training time** | 6 seconds ± 1 (3 runs) | 10 seconds ± 1 (3 runs) |"
        in lines
    )
    assert (
        "| **Test accuracy (100 reviews)** | 72.00% ± 2.00% (3 runs) "
        "| 81.00% ± 1.00% (3 runs) |" in lines
    )


def test_seeds_table_lists_every_seed():
    """One row per model and seed, with its own figures."""
    lines = comparison.seeds_table(fake_results(THREE_SEEDS)).splitlines()
    assert len(lines) == 2 + 6
    assert "| FNet | 1 | 6 s | 82.00% | 72.00% |" in lines
    assert "| Transformer | 7 | 11 s | 84.00% | 82.00% |" in lines
    assert [line.split(" | ")[1] for line in lines[2:]] == ["42", "1", "7"] * 2


def test_verdict_gap_larger_than_spread():
    """A 9-point gap over 2- and 1-point spreads is larger."""
    verdict = comparison.verdict(fake_results(THREE_SEEDS))
    assert "FNet minus Transformer is -9.00 points, larger than" in verdict
    assert "not larger" not in verdict
    assert "2.00 points" in verdict


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
    assert "not larger" in comparison.verdict(fake_results(close))


def test_verdict_none_for_one_seed():
    """One seed cannot measure a spread: no verdict."""
    assert comparison.verdict(fake_results(ONE_SEED)) is None


def test_results_markdown():
    """results.md: seeds and verdict only with several seeds, then settings."""
    one = comparison.results_markdown(fake_results(ONE_SEED))
    assert "| model | seed |" not in one
    assert "Backend `jax` on `cpu` (2 CPUs), 3 epochs, batch 64" in one
    several = comparison.results_markdown(fake_results(THREE_SEEDS))
    assert "| model | seed |" in several and "larger than the spread" in several


@pytest.mark.parametrize("runs", [ONE_SEED, THREE_SEEDS], ids=["one", "three"])
def test_save_plots(tmp_path, runs):
    """Both PNGs are written, 1000x400 pixels, with no partial file left."""
    save_plots(fake_results(runs), tmp_path)
    for name in ("learning_curves.png", "comparison.png"):
        image = matplotlib.image.imread(tmp_path / name)
        assert image.shape[:2] == (400, 1000)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "comparison.png",
        "learning_curves.png",
    ]


def test_check_smoke_run_passes_a_good_run_and_names_each_problem(tiny_run, tmp_path):
    run_dir, good = tiny_run
    results.check_smoke_run(good, run_dir)
    damaged = tmp_path / "run"
    shutil.copytree(run_dir, damaged)
    (damaged / "comparison.png").write_bytes(b"")
    (damaged / "transformer.keras").unlink()
    bad = copy.deepcopy(good)
    bad["models"]["fnet"]["runs"][0]["history"]["val_loss"][3] = math.nan
    loss = bad["models"]["transformer"]["runs"][0]["history"]["loss"]
    loss[-1] = loss[0] + 0.1
    bad["config"]["seeds"] = (42, 1)
    with pytest.raises(ValueError) as error:
        results.check_smoke_run(bad, damaged)
    assert str(error.value).split("; ") == [
        "smoke run failed: comparison.png is missing or empty",
        "transformer.keras is missing or empty",
        "fnet did not train once per seed [42, 1]",
        "fnet (seed 42) has a figure that is not finite",
        "transformer did not train once per seed [42, 1]",
        f"transformer (seed 42)'s training loss did not fall ({loss[0]:.4f} to "
        f"{loss[-1]:.4f})",
    ]
