"""The tutorial end to end: flags, outputs, seeds, the defects it once had,
training from a prepared folder without TensorFlow, and failures."""

import json
import os
import sys

import matplotlib.image
import numpy as np
import pytest

import fnet_classification as fc
from conftest import TINY_FLAGS, TINY_TRAINING_FLAGS, run_script
from fnet_imdb import backend, cli
from fnet_imdb.results import OUTPUT_FILES


def test_help_lists_every_config_field(capsys):
    with pytest.raises(SystemExit) as exit_info:
        fc.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for field in fc.Config.__dataclass_fields__:
        assert "--" + field.replace("_", "-") in text
    assert "(default: 512)" in text and "predict" in text and "--debug" in text


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--epochs", "0"], "--epochs: must be a positive integer"),
        (["--epochs", "two"], "--epochs: invalid int value: 'two'"),
        (["--batch-size", "-4"], "--batch-size: must be a positive integer"),
        (["--models", "fnet,bert"], "unknown model 'bert'"),
        (["--max-samples", "1"], "--max-samples: must be at least 2"),
        (["--data-dir", "a", "--archive", "b"], "either --data-dir or --archive"),
        (["--embed-dim", "15"], "multiple of --num-heads"),
        (["--sha256", "abc"], "64 hexadecimal digits"),
        (["--seed", "-1"], "--seed: must be in [0, 2**32)"),
        (["--seeds", "1,x"], "--seeds: invalid int value: 'x'"),
        (["--fourier", "numpy"], "--fourier: choose from auto, fast, keras"),
        (["--dropout", "1"], "--dropout: must be in [0, 1)"),
        (["--no-such-flag"], "unrecognized arguments"),
    ],
)
def test_bad_flags_are_refused_in_one_line(capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        fc.main(flags)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_tiny_run_writes_every_output(tiny_run):
    run_dir, results = tiny_run
    assert {path.name for path in run_dir.iterdir()} == set(OUTPUT_FILES)
    saved = json.loads((run_dir / "results.json").read_text())
    assert saved["complete"] is True and saved["config"]["smoke"] is True
    assert saved["config"]["epochs"] == 20 and saved["config"]["max_seq_len"] == 64
    assert saved["config"]["fourier"] == "fast"  # What ran: "auto" on a CPU.
    assert saved["environment"]["keras_backend"] == os.environ["KERAS_BACKEND"]
    assert set(saved["timings"]) >= {"data", "vocab", "tokenize", "to_first_step"}
    assert saved["data"]["test"]["reviews"] == 100
    vocabulary = (run_dir / "vocab.txt").read_text().splitlines()
    assert vocabulary[:2] == ["[PAD]", "[UNK]"]
    for kind in ("fnet", "transformer"):
        model = saved["models"][kind]
        assert model["params"] == results["models"][kind]["params"] > 0
        (run,) = model["runs"]
        assert run["seed"] == 42 and run["train_seconds"] > 0
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert len(run["history"][key]) == 20
        assert 0 <= run["test_accuracy"] <= 1 and run["test_loss"] > 0
        assert model["summary"]["test_accuracy"]["std"] == 0


def test_smoke_sets_the_tiny_run_and_explicit_flags_win():
    config, chosen = fc.parse_args(["--smoke", "--epochs", "3"])
    assert config.data_dir == str(cli.TINY_IMDB) and config.max_seq_len == 64
    assert config.epochs == 3 and config.output_dir == "runs/smoke"
    assert chosen["vocab_size"] == 300  # A prepared folder is checked against it.
    assert fc.parse_args([])[0].data_dir is None


def test_smoke_takes_other_data_and_says_when_the_fixture_is_missing(
    tmp_path, monkeypatch
):
    config, _ = fc.parse_args(["--smoke", "--archive", "a.tar.gz"])
    assert config.archive == "a.tar.gz" and config.data_dir is None
    assert config.max_seq_len == 64
    monkeypatch.setattr(cli, "TINY_IMDB", tmp_path / "missing")
    with pytest.raises(ValueError, match="--smoke needs the fixture .* checkout"):
        fc.parse_args(["--smoke"])


def test_smoke_run_fails_in_one_line_when_an_output_is_missing(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr("fnet_imdb.results.save_plots", lambda *arguments: [])
    argv = ["--smoke", "--quiet", "--models", "fnet", "--epochs", "2"]
    argv += ["--output-dir", str(tmp_path / "run"), "--cache-dir", str(tmp_path)]
    assert fc.run(argv) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: smoke run failed: learning_curves.png is missing")
    assert error.count("\n") == 1


def test_notebook_flags_come_from_the_environment(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["fnet_classification.py", "--epochs", "2"])
    assert cli.arguments() == ["--epochs", "2"]
    monkeypatch.setattr(cli, "in_notebook", lambda: True)
    monkeypatch.setenv("FNET_IMDB_FLAGS", "--smoke --output-dir 'a b'")
    assert cli.arguments() == ["--smoke", "--output-dir", "a b"]
    monkeypatch.delenv("FNET_IMDB_FLAGS")
    assert cli.arguments() == []


def test_xla_setting_recorded_is_what_ran(tiny_run):
    """Defect: results.json recorded the request ("auto"), not what ran."""
    _, results = tiny_run
    on_cpu = backend.training_device()[0] == "cpu"
    expected = not (on_cpu and os.environ["KERAS_BACKEND"] == "tensorflow")
    for model in results["models"].values():
        assert model["runs"][0]["jit_compile"] is expected


def test_fnet_beats_chance_on_the_fixture(tiny_run):
    _, results = tiny_run
    # 100 balanced test reviews: 65% correct is beyond chance (p < 0.002).
    assert results["models"]["fnet"]["runs"][0]["test_accuracy"] >= 0.65


def test_results_table_and_pictures(tiny_run):
    run_dir, _ = tiny_run
    markdown = (run_dir / "results.md").read_text()
    assert "| **Test accuracy (100 reviews)** |" in markdown
    assert "**FNet Classifier**" in markdown and "±" not in markdown
    assert "![Learning curves](learning_curves.png)" in markdown
    for name in ("learning_curves.png", "comparison.png"):
        height, width, _ = matplotlib.image.imread(run_dir / name).shape
        assert (width, height) == (1000, 400)


def test_a_model_trained_alone_matches_the_same_model_in_a_pair(tiny_run, tmp_path):
    """Defect: the second model of a run saw the first one's shuffle orders."""
    _, pair = tiny_run
    argv = TINY_FLAGS + ["--models", "transformer", "--output-dir", str(tmp_path)]
    alone = fc.main(argv + ["--cache-dir", str(tmp_path / "cache")])
    history = alone["models"]["transformer"]["runs"][0]["history"]
    assert history == pair["models"]["transformer"]["runs"][0]["history"]


def test_several_seeds_give_records_spread_and_a_table(tmp_path):
    argv = TINY_FLAGS + ["--epochs", "2", "--seeds", "1,2", "--models", "fnet"]
    results = fc.main(
        argv + ["--output-dir", str(tmp_path), "--cache-dir", str(tmp_path)]
    )
    for model in results["models"].values():
        runs = model["runs"]
        assert [run["seed"] for run in runs] == [1, 2] and model["saved_seed"] == 1
        assert runs[0]["history"] != runs[1]["history"]
        accuracies = [run["test_accuracy"] for run in runs]
        summary = model["summary"]["test_accuracy"]
        assert summary["n"] == 2 and summary["min"] == min(accuracies)
        assert summary["mean"] == pytest.approx(np.mean(accuracies))
        assert summary["std"] == pytest.approx(np.std(accuracies, ddof=1))
    assert results["data"]["train"]["reviews"] == 80  # One split for all seeds.
    markdown = (tmp_path / "results.md").read_text()
    assert "(2 runs)" in markdown and "±" in markdown and "| FNet | 2 |" in markdown


def test_keep_best_keeps_the_epoch_with_the_lowest_validation_loss(tmp_path):
    argv = TINY_FLAGS + ["--epochs", "4", "--models", "fnet", "--keep-best"]
    results = fc.main(
        argv + ["--output-dir", str(tmp_path), "--cache-dir", str(tmp_path)]
    )
    (run,) = results["models"]["fnet"]["runs"]
    losses = run["history"]["val_loss"]
    assert run["kept_epoch"] == int(np.argmin(losses)) + 1
    assert 0 <= run["last_epoch_test_accuracy"] <= 1
    assert results["config"]["keep_best"] is True


def test_quiet_prints_only_the_table(tmp_path, capsys):
    argv = TINY_FLAGS + ["--epochs", "1", "--models", "fnet"]
    fc.main(
        argv + ["--output-dir", str(tmp_path / "run"), "--cache-dir", str(tmp_path)]
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| |") and len(lines) == 7


def test_log_shows_text_and_an_unused_gpu_gets_one_warning(
    tmp_path, capsys, monkeypatch
):
    """Defects: the "Detokenized" line printed a tf.Tensor repr, and a broken
    GPU install trained on the CPU without a word."""
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: True)
    argv = [f for f in TINY_FLAGS if f != "--quiet"] + ["--epochs", "1"]
    argv += [
        "--models",
        "fnet",
        "--output-dir",
        str(tmp_path),
        "--cache-dir",
        str(tmp_path),
    ]
    fc.main(argv)
    captured = capsys.readouterr()
    (line,) = [l for l in captured.out.splitlines() if "Detokenized" in l]
    assert "Tensor" not in line and line.startswith("Detokenized: ") and " , " in line
    (warning,) = captured.err.splitlines()
    assert warning.startswith("warning: an NVIDIA GPU is present but the")
    assert "install" in warning


def test_interrupted_run_keeps_only_finished_work(tmp_path, capsys, monkeypatch):
    train = fc.train_and_evaluate

    def interrupt_transformer(kind, *args):
        if kind == "transformer":
            raise KeyboardInterrupt
        return train(kind, *args)

    monkeypatch.setattr(fc, "train_and_evaluate", interrupt_transformer)
    run_dir = tmp_path / "run"
    argv = TINY_FLAGS + ["--epochs", "1", "--output-dir", str(run_dir)]
    assert fc.run(argv + ["--cache-dir", str(tmp_path)]) == 130
    error = capsys.readouterr().err
    assert "interrupted" in error and "train fnet" in error
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "fnet.keras",
        "results.json",
        "vocab.txt",
    ]
    saved = json.loads((run_dir / "results.json").read_text())
    assert saved["complete"] is False and list(saved["models"]) == ["fnet"]


def test_missing_data_is_one_line_without_traceback(tmp_path):
    result = run_script("--data-dir", tmp_path / "nowhere", "--output-dir", tmp_path)
    assert result.returncode == 1
    assert (
        result.stderr.decode()
        == f"error: data folder {tmp_path / 'nowhere'} does not exist\n"
    )


def test_debug_shows_the_traceback(tmp_path, capsys):
    argv = ["--data-dir", str(tmp_path / "nowhere"), "--debug"]
    assert fc.run(argv + ["--output-dir", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert "Traceback" in error and error.endswith("does not exist\n")


def test_prepared_folder_trains_on_jax_without_tensorflow(tiny_prepared, tmp_path):
    """The training path imports no TensorFlow: here importing it fails."""
    block = (
        "import sys; sys.modules['tensorflow'] = sys.modules['tensorflow_text'] = None"
    )
    flags = TINY_TRAINING_FLAGS + ["--epochs", "1", "--prepared", tiny_prepared]
    result = run_script(
        *flags, "--output-dir", tmp_path, env={"KERAS_BACKEND": "jax"}, prelude=block
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["complete"] and saved["environment"]["keras_backend"] == "jax"
    assert (
        saved["config"]["max_seq_len"] == 64 and saved["data"]["test"]["reviews"] == 100
    )
    assert {p.name for p in tmp_path.iterdir()} == set(OUTPUT_FILES)


def test_prepared_folder_refuses_contradicting_flags(tiny_prepared, tmp_path, capsys):
    argv = TINY_TRAINING_FLAGS + [
        "--prepared",
        str(tiny_prepared),
        "--max-seq-len",
        "128",
    ]
    assert fc.run(argv + ["--output-dir", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert "--max-seq-len 128 (prepared with 64)" in error and error.count("\n") == 1


def test_data_parallel_splits_uneven_batches(tmp_path):
    """Defect: a last batch of 3 over 2 devices stopped the run."""
    flags = TINY_FLAGS + ["--epochs", "2", "--models", "fnet", "--data-parallel"]
    flags += ["--batch-size", "6", "--max-samples", "45"]
    result = run_script(
        *flags,
        "--output-dir",
        tmp_path / "run",
        "--cache-dir",
        tmp_path,
        env={
            "KERAS_BACKEND": "jax",
            "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        },
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["environment"]["data_parallel_devices"] == ["cpu:0", "cpu:1"]
    assert saved["data"]["validation"]["reviews"] == 9  # 6 + 3: uneven.
    assert len(saved["models"]["fnet"]["runs"][0]["history"]["loss"]) == 2


@pytest.mark.skipif(os.environ["KERAS_BACKEND"] == "jax", reason="tests the refusal")
def test_data_parallel_needs_jax(tmp_path, capsys):
    argv = TINY_FLAGS + ["--data-parallel", "--output-dir", str(tmp_path)]
    assert fc.run(argv) == 1
    assert "needs the JAX backend" in capsys.readouterr().err
