"""Tests of the benchmarks' plumbing: the GPU script's summary, the stages read
from a run's timed lines, the keras-io example's data and script, and the GPU
script itself on the fixture (slow)."""

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata

import pytest

import gpu_summary
import keras_io_example
import predict_speed
import stages
from conftest import ROOT, TINY_IMDB
from fnet_imdb import imdb


def test_gpu_summary_tables_a_run_and_a_scaling_measurement(tiny_run, tmp_path):
    run_dir, results = tiny_run
    shutil.copytree(run_dir, tmp_path / "train")
    (tmp_path / "scaling_batch64").mkdir()
    shutil.copy(
        ROOT / "docs" / "seq_len_scaling_cpu.json",
        tmp_path / "scaling_batch64" / "seq_len_scaling.json",
    )
    assert gpu_summary.main([str(tmp_path)]) == 0
    text = (tmp_path / "summary.md").read_text()
    accuracy = results["models"]["fnet"]["runs"][0]["test_accuracy"]
    assert "| fnet | 42: " in text and f"| {accuracy:.2%} | " in text
    assert "(1 runs)" in text and "Step time" not in text
    assert "| 42 | " in text and "| McNemar p |" in text  # Its predictions, paired.
    assert "| 64 x 512 | 708.9 ms | 1642.1 ms | 2.32x | 1,703 / 2,492 MiB |" in text


def test_gpu_summary_says_what_is_missing(tmp_path, capsys):
    assert gpu_summary.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("Training: no results (")
    assert gpu_summary.main([str(tmp_path / "nowhere")]) == 2


# The keras-io example's lines (Keras's progress bars, TensorFlow's logs) as a
# pipe receives them, with the seconds since launch.
EXAMPLE_LINES = [
    [0.4, "I0000 00:00:1796539707.418977 port.cc:153] oneDNN custom operations"],
    [3.7, "['test', 'train', 'README']"],
    [4.0, "Found 20000 files belonging to 2 classes."],
    [120.0, "Tokens:  ['much', 'our', 'character']"],
    [125.0, 'Model: "fnet_classifier"'],
    [126.0, "Epoch 1/2"],
    [300.0, "250/250 ━━━━ 170s 1s/step - accuracy: 0.7 - loss: 0.5 - val_loss: 0.4"],
    [301.0, "Epoch 2/2"],
    [400.0, "1/250 ━━━━ 0s 1s/step - accuracy: 0.8 - loss: 0.4"],
    [470.0, "250/250 ━━━━ 170s 1s/step - accuracy: 0.9 - loss: 0.3 - val_loss: 0.3"],
    [480.0, "1/79 ━━━━ 20s 1s/step - accuracy: 0.8 - loss: 0.4"],
    [530.0, "79/79 ━━━━ 60s 1s/step - accuracy: 0.85 - loss: 0.35"],
]


def test_stages_of_the_keras_io_example_from_its_timed_lines():
    found = stages.stage_seconds(EXAMPLE_LINES, 533.0)
    assert found == {
        "imports (to the first line)": 3.7,
        "vocabulary": 120.0 - 3.7,  # Reading too: its datasets read lazily.
        "data steps (to the first model summary)": 5.0,
        "FNet: build, compile, fit": 470.0 - 125.0,  # To the last epoch's end.
        "FNet: test": 60.0,
        "after the test, to the exit": 3.0,
    }


def test_stand_in_test_split_is_the_programs_holdout(tmp_path):
    counts = keras_io_example.stand_in(TINY_IMDB, tmp_path, 0.2, seed=42)
    assert counts == {"train": 80, "test": 20}
    splits, _ = imdb.load_splits(TINY_IMDB, imdb.read_reviews, 42, 0.2, None, 0.2)
    for split, program in [
        ("test", "test"),
        ("train", "train"),
        ("train", "validation"),
    ]:
        texts = imdb.to_arrays(imdb.read_reviews(tmp_path / "aclImdb" / split))[0]
        assert set(splits[program][0]) <= set(texts)
    assert len(set(splits["test"][0])) == 20


def test_the_keras_io_script_gets_its_epochs_and_can_stop_after_fnet(tmp_path):
    example = tmp_path / "example.py"
    head = "import keras\nEPOCHS = 3\nfnet.fit(epochs=EPOCHS)\n"
    example.write_text(head + keras_io_example.TRANSFORMER_PART + '\n"""\nmore()\n')
    whole = keras_io_example.ready_script(example, 1, fnet_only=False)
    assert "EPOCHS = 1\n" in whole and whole.endswith("more()\n")
    assert keras_io_example.ready_script(example, 2, True) == head.replace("3", "2")
    example.write_text("print('another script')\n")
    with pytest.raises(ValueError, match="is not the keras-io FNet example"):
        keras_io_example.ready_script(example, 1, True)


@pytest.mark.slow
def test_gpu_script_runs_on_the_fixture(tiny_prepared, tmp_path):
    """benchmarks/gpu.sh end to end, with tiny settings, on whatever is here."""
    environment = {
        **os.environ,
        "PYTHON": sys.executable,
        "TRAIN_FLAGS": "--epochs 2 --batch-size 8 --embed-dim 16 "
        "--intermediate-dim 32 --num-layers 1 --quiet",
        "SCALING_FLAGS": "--seq-lens 32,64 --steps 2 --embed-dim 16 "
        "--intermediate-dim 32",
    }
    command = ["bash", "benchmarks/gpu.sh", str(tiny_prepared), str(tmp_path)]
    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    saved = json.loads((tmp_path / "train" / "results.json").read_text())
    assert [run["seed"] for run in saved["models"]["fnet"]["runs"]] == [42, 1, 7]
    summary = (tmp_path / "summary.md").read_text()
    assert "| 8 x 64 |" in summary and "| 64 x 32 |" in summary
    recorded = json.loads((tmp_path / "environment.json").read_text())
    keys = "device platform python jax jaxlib cuda keras keras_hub commit date"
    assert set(recorded) == set(keys.split())
    assert recorded["platform"] in ("gpu", "tpu", "cpu") and recorded["device"]
    assert recorded["python"] == platform.python_version()
    assert recorded["jax"] == metadata.version("jax")
    assert datetime.datetime.fromisoformat(recorded["date"]).utcoffset() is not None


def test_predict_speed_makes_lines_of_the_fixtures_words():
    lines = predict_speed.fixture_lines(3, 230)
    assert [len(line.split()) for line in lines] == [230, 230, 230]
    assert len(set(lines)) == 3 and "\n" not in "".join(lines)


@pytest.mark.slow
def test_predict_speed_records_its_figures(tiny_run, tmp_path):
    """benchmarks/predict_speed.py with this interpreter, one round, 4 lines."""
    run_dir, _ = tiny_run
    output = tmp_path / "predict.json"
    argv = ["--run-dir", str(run_dir), "--repeats", "1", "--lines", "4"]
    predict_speed.main(argv + ["--words", "20", "--output", str(output)])
    record = json.loads(output.read_text())
    (entry,) = record["interpreters"].values()
    assert len(entry["one_text"]) == len(entry["lines"]) == 1
    assert entry["one_text"][0]["peak_rss_mb"] > 50 and entry["lines"][0]["s"] > 0
    assert entry["about"]["python"] == platform.python_version()
    assert record["words_per_line"] == 20 and record["run"]["max_seq_len"] == 64
