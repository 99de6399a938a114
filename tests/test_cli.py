"""The command line end to end: flags, outputs, predict, and failures."""

import dataclasses
import json
import os
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest

import fnet_classification as fc
import fnet_support as support
from conftest import ROOT, TINY_FLAGS


def run_script(*args, stdin=None, env=None):
    """The script in a fresh process, as a user runs it."""
    return subprocess.run(
        [sys.executable, str(ROOT / "fnet_classification.py"), *map(str, args)],
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=240,
    )


def test_help_lists_every_config_field(capsys):
    with pytest.raises(SystemExit) as exit_info:
        fc.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for field in fc.Config.__dataclass_fields__:
        assert "--" + field.replace("_", "-") in text
    assert "(default: 512)" in text and "predict" in text


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--epochs", "0"], "--epochs: must be a positive integer"),
        (["--batch-size", "-4"], "--batch-size: must be a positive integer"),
        (["--max-seq-len", "0"], "--max-seq-len: must be a positive integer"),
        (["--models", "fnet,bert"], "unknown model 'bert'"),
        (["--max-samples", "1"], "--max-samples: must be at least 2"),
        (["--data-dir", "a", "--archive", "b"], "either --data-dir or --archive"),
        (["--embed-dim", "15"], "multiple of --num-heads"),
        (["--sha256", "abc"], "64 hexadecimal digits"),
        (["--seed", "-1"], "--seed: must be in [0, 2**32)"),
        (["--fourier", "numpy"], "--fourier: choose from fast, keras"),
        (["--deb"], "unrecognized arguments: --deb"),
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
    expected = set(support.OUTPUT_FILES)
    assert {path.name for path in run_dir.iterdir()} == expected
    saved = json.loads((run_dir / "results.json").read_text())
    assert saved["complete"] is True
    assert saved["config"]["epochs"] == 20 and saved["config"]["max_seq_len"] == 64
    assert saved["environment"]["keras_backend"] == os.environ["KERAS_BACKEND"]
    assert saved["environment"]["jit_compile"] == support.jit_compile()
    assert set(saved["timings"]) >= {"data", "vocab", "tokenize"}
    assert saved["data"]["test"]["reviews"] == 100
    vocabulary = (run_dir / "vocab.txt").read_text().splitlines()
    assert vocabulary[:2] == ["[PAD]", "[UNK]"]
    for kind in ("fnet", "transformer"):
        metrics = saved["models"][kind]
        assert metrics["params"] == results["models"][kind]["params"] > 0
        assert metrics["train_seconds"] > 0
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert len(metrics["history"][key]) == 20
        assert 0 <= metrics["test_accuracy"] <= 1 and metrics["test_loss"] > 0


def test_fnet_beats_chance_on_the_fixture(tiny_run):
    _, results = tiny_run
    # 100 balanced test reviews: 65% correct is beyond chance (p < 0.002).
    assert results["models"]["fnet"]["test_accuracy"] >= 0.65


def test_results_table_and_pictures(tiny_run):
    run_dir, _ = tiny_run
    markdown = (run_dir / "results.md").read_text()
    assert "| **Test accuracy (100 reviews)** |" in markdown
    assert "**FNet Classifier**" in markdown
    assert "![Learning curves](learning_curves.png)" in markdown
    for name in ("learning_curves.png", "comparison.png"):
        with open(run_dir / name, "rb") as file:
            assert file.read(8) == b"\x89PNG\r\n\x1a\n"
        height, width, _ = matplotlib.image.imread(run_dir / name).shape
        assert (width, height) == (1000, 400)


def test_opt_in_speed_ups_train_and_predict(tmp_path):
    """--mixed-precision with --bucket-by-length: a run that learns and predicts."""
    run_dir = tmp_path / "run"
    flags = ["--mixed-precision", "--bucket-by-length", "--max-seq-len", "160"]
    argv = TINY_FLAGS + flags + ["--output-dir", str(run_dir)]
    results = fc.main(argv + ["--cache-dir", str(tmp_path / "cache")])
    assert results["complete"] and results["config"]["mixed_precision"]
    for kind in ("fnet", "transformer"):
        history = results["models"][kind]["history"]
        assert history["loss"][-1] < history["loss"][0] * 0.5
    rows = fc_rows(run_dir, ["a wonderful film", "x " * 200])
    assert 0 < rows[0]["tokens"] < 64 and rows[1]["tokens"] == 160  # Two buckets.
    for row in rows:
        assert set(row["probabilities"]) == {"fnet", "transformer"}
        assert all(0 < p < 1 for p in row["probabilities"].values())


def test_quiet_prints_only_the_table(tmp_path, capsys):
    argv = TINY_FLAGS + ["--epochs", "1", "--models", "fnet"]
    fc.main(
        argv + ["--output-dir", str(tmp_path / "run"), "--cache-dir", str(tmp_path)]
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| |") and len(lines) == 7


def test_interrupted_run_keeps_only_finished_work(tmp_path, capsys, monkeypatch):
    train = fc.train_and_evaluate

    def interrupt_transformer(kind, *args):
        if kind == "transformer":
            raise KeyboardInterrupt
        return train(kind, *args)

    monkeypatch.setattr(fc, "train_and_evaluate", interrupt_transformer)
    run_dir = tmp_path / "run"
    argv = TINY_FLAGS + ["--epochs", "1", "--output-dir", str(run_dir)]
    assert support.run_cli(fc.main, argv + ["--cache-dir", str(tmp_path)]) == 130
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


def predict(capsys, *args):
    code = support.run_cli(fc.main, ["predict", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_predict_separates_clear_reviews(tiny_run, capsys):
    run_dir, _ = tiny_run
    good = "A wonderful, brilliant and moving film. Superb actors!"
    bad = "An awful, boring and dull film. Terrible, clumsy actors."
    code, out, _ = predict(capsys, "--run-dir", run_dir, "--json", good, bad)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["text"] for row in rows] == [good, bad]
    for kind in ("fnet", "transformer"):
        assert rows[0]["probabilities"][kind] > rows[1]["probabilities"][kind]


def test_predict_handles_awkward_text(tiny_run, capsys):
    run_dir, _ = tiny_run
    texts = ["", " \u200b ", "wonderful " * 2000, "Très émouvant, 素晴らしい映画 🎬"]
    texts.append("bad \udcff bytes")  # How Python passes invalid UTF-8 in argv.
    code, out, err = predict(capsys, "--run-dir", run_dir, "--model", "fnet", *texts)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 5
    assert lines[0].startswith("(empty input") and lines[1].startswith("(empty input")
    assert lines[2].startswith("fnet: positive") and "transformer" not in lines[2]
    assert lines[3].startswith("fnet: ")
    assert lines[4].startswith("fnet: ") and lines[4].endswith("bad \ufffd bytes")
    assert "invalid UTF-8 in TEXT" in err
    rows = fc_rows(run_dir, texts[2:4])
    assert rows[0]["tokens"] == 64  # Truncated to the run's sequence length.
    assert rows[1]["tokens"] > 0


def fc_rows(run_dir, texts):
    return support.classify(texts, *support.load_run(run_dir))


def test_predict_refuses_an_incomplete_run(tmp_path, capsys):
    code, out, err = predict(capsys, "--run-dir", tmp_path, "nice")
    assert code == 1 and out == ""
    assert "is not a training run's output folder" in err and err.count("\n") == 1


@pytest.mark.parametrize("backend", sorted({os.environ["KERAS_BACKEND"], "jax"}))
def test_saved_models_reload_in_a_fresh_process(tiny_run, backend):
    """Same probabilities after reloading, on this backend and on JAX."""
    run_dir, _ = tiny_run
    texts = ["a wonderful film", "dull plot, awful actors"]
    expected = fc_rows(run_dir, texts)
    stdin = "\n".join(texts).encode() + b"\n\xff\xfe broken bytes\n"
    result = run_script(
        "predict",
        "--run-dir",
        run_dir,
        "--json",
        stdin=stdin,
        env={"KERAS_BACKEND": backend},
    )
    assert result.returncode == 0, result.stderr.decode()
    warning = "warning: invalid UTF-8 on stdin was replaced by U+FFFD\n"
    assert result.stderr.decode() == warning  # And no library chatter.
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert rows[2]["text"] == "\ufffd\ufffd broken bytes"
    for row, reference in zip(rows, expected):
        for kind, probability in reference["probabilities"].items():
            np.testing.assert_allclose(
                row["probabilities"][kind], probability, atol=1e-5
            )


def test_data_parallel_over_two_simulated_devices(tmp_path):
    run_dir = tmp_path / "run"
    flags = TINY_FLAGS + ["--epochs", "2", "--models", "fnet", "--data-parallel"]
    result = run_script(
        *flags,
        "--output-dir",
        run_dir,
        "--cache-dir",
        tmp_path,
        env={
            "KERAS_BACKEND": "jax",
            "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        },
    )
    assert result.returncode == 0, result.stderr.decode()
    saved = json.loads((run_dir / "results.json").read_text())
    assert saved["environment"]["data_parallel_devices"] == ["cpu:0", "cpu:1"]
    assert len(saved["models"]["fnet"]["history"]["loss"]) == 2


@pytest.mark.skipif(os.environ["KERAS_BACKEND"] == "jax", reason="tests the refusal")
def test_data_parallel_needs_jax(tmp_path, capsys):
    argv = TINY_FLAGS + ["--data-parallel", "--output-dir", str(tmp_path)]
    assert support.run_cli(fc.main, argv) == 1
    assert "needs the JAX backend" in capsys.readouterr().err


def test_logs_get_a_progress_line_during_long_epochs(tiny_config, capsys):
    report = support.Report(tiny_config)
    report.config = dataclasses.replace(tiny_config, quiet=False)
    (callback,) = report.training_callbacks(every_seconds=0)
    callback.set_params({"steps": 3})
    callback.on_train_batch_begin(0)
    callback.on_epoch_begin(0)
    callback.on_train_batch_end(0, {"loss": 0.5})
    assert "epoch 1: step 1/3" in capsys.readouterr().out
    assert report.results["timings"]["to_first_step"] > 0
