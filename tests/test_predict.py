"""The predict command: clear reviews, awkward text, refusals, and saved models
that load with keras and keras_hub alone."""

import json
import os
import subprocess
import sys

import numpy as np

from conftest import TUTORIAL, run_script
from fnet_imdb import cli, predict as predict_command, preprocessing
from fnet_imdb.predict import classify, load_run


def fc_rows(run_dir, texts):
    return classify(texts, *load_run(run_dir))


def predict(capsys, *args):
    code = cli.run_command(predict_command.main, list(map(str, args)))
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


def test_predict_refuses_an_incomplete_run(tmp_path, capsys):
    code, out, err = predict(capsys, "--run-dir", tmp_path, "nice")
    assert code == 1 and out == ""
    assert "is not a training run's output folder" in err and err.count("\n") == 1


def test_predict_in_a_fresh_process_gives_the_same_probabilities(tiny_run):
    """As a user runs it, with no library chatter on stderr."""
    run_dir, _ = tiny_run
    texts = ["a wonderful film", "dull plot, awful actors"]
    expected = fc_rows(run_dir, texts)
    stdin = "\n".join(texts).encode() + b"\n\xff\xfe broken bytes\n"
    result = run_script(
        "--run-dir", run_dir, "--json", stdin=stdin, module="fnet_imdb.predict"
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


LOAD_WITH_KERAS_ONLY = """
import sys
sys.modules["tensorflow"] = sys.modules["tensorflow_text"] = None
import keras, keras_hub, numpy
ids = numpy.load(sys.argv[1])
for path in sys.argv[2:]:
    print(keras.saving.load_model(path).predict(ids, verbose=0)[:, 0].tolist())
"""


def test_saved_models_load_with_keras_and_keras_hub_alone(tiny_run, tmp_path):
    """On JAX, without TensorFlow or this project: plain keras-hub layers."""
    run_dir, _ = tiny_run
    results, vocabulary, models = load_run(run_dir)
    tokenizer = TUTORIAL.make_tokenizer(vocabulary, 64)
    texts = preprocessing.lower_case(["a wonderful film", "dull, awful"])
    ids = preprocessing.tokenize(tokenizer, texts)
    np.save(tmp_path / "ids.npy", ids)
    paths = [str(run_dir / f"{kind}.keras") for kind in models]
    result = subprocess.run(
        [sys.executable, "-c", LOAD_WITH_KERAS_ONLY, str(tmp_path / "ids.npy"), *paths],
        capture_output=True,
        cwd=tmp_path,  # Away from the project: nothing of ours is importable.
        env={**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": ""},
        timeout=240,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    lines = result.stdout.decode().splitlines()
    for line, model in zip(lines, models.values()):
        expected = model.predict(ids, verbose=0)[:, 0]
        np.testing.assert_allclose(json.loads(line), expected, atol=1e-5)
