"""Tests for `fnet_imdb.results` and `fnet_imdb.plots`: the plots and the smoke check."""

import copy
import math
import shutil

import matplotlib.image
import pytest

from fnet_imdb import results
from fnet_imdb.plots import save_plots
from test_comparison import ONE_SEED, THREE_SEEDS, fake_results


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


def test_seeds_to_train_skip_a_model_not_asked_for_and_finished_seeds(tmp_path, capsys):
    config = {"models": ("fnet",), "seeds": (1, 2), "seed": 42}
    record = results.Record(config, tmp_path)
    assert list(record.seeds_to_train("transformer")) == []
    record.results["models"]["fnet"] = {"runs": [{"seed": 1}]}  # Finished before.
    assert list(record.seeds_to_train("fnet")) == [2]
    assert capsys.readouterr().out.splitlines() == [
        "Skipped: --models fnet.",
        "fnet, seed 1: finished before the interruption, kept.",
        "== train fnet, seed 2",
    ]
    assert set(record.results["timings"]) == {"train fnet seed 2"}
