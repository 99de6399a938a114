"""The predict command: clear reviews, awkward text, refusals, and saved models
that load with keras and keras_hub alone."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import TUTORIAL, build, replace
from fnet_imdb import cli, predict as predict_command, preprocessing
from fnet_imdb.batches import bucket_length
from fnet_imdb.predict import classify, load_run
from fnet_imdb.vocabulary import write_vocabulary


def fc_rows(run_dir, texts):
    return classify(texts, *load_run(run_dir))


def predict(capsys, *args):
    code = cli.run_command(predict_command.main, list(map(str, args)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.backend
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
    texts.append("two\nlines\x85and\u2028more")  # Still one output line.
    code, out, err = predict(capsys, "--run-dir", run_dir, "--model", "fnet", *texts)
    lines = out.split("\n")[:-1]
    assert code == 0 and len(lines) == 6 and lines[5].endswith("\ttwo lines and more")
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


@pytest.mark.backend
def small_run(folder, finished):
    """A run folder holding the models of `finished`, trained or not (small
    real models on a small vocabulary), as an interrupted run leaves it."""
    import keras

    folder.mkdir(parents=True)
    write_vocabulary(folder / "vocab.txt", ["[PAD]", "[UNK]", "good", "bad"])
    for kind in finished:
        inputs = keras.Input(shape=(None,), dtype="int32")
        x = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(4, 2)(inputs))
        outputs = keras.layers.Dense(1, activation="sigmoid")(x)
        keras.Model(inputs, outputs).save(folder / f"{kind}.keras")
    models = {kind: {"runs": [{"seed": 42}]} for kind in finished}
    results = {"config": {"max_seq_len": 8}, "models": models, "complete": False}
    (folder / "results.json").write_text(json.dumps(results))


def test_predict_serves_the_newest_finished_run(tmp_path, monkeypatch, capsys):
    """Without --run-dir, the newest run holding the model asked for, said in
    one line; a run still training (`latest`) is passed over, and named when
    asked for explicitly, with the run to use instead."""
    monkeypatch.chdir(tmp_path)
    code, _, err = predict(capsys, "good")
    assert (code, err.count("\n")) == (1, 1)
    assert err.startswith("error: no run under runs/ has a trained model; ")
    small_run(tmp_path / "runs/20261201-090000", ["fnet", "transformer"])
    small_run(tmp_path / "runs/20261202-090000", ["fnet"])
    small_run(tmp_path / "runs/20261203-090000", [])
    os.symlink("20261203-090000", tmp_path / "runs/latest")

    code, out, err = predict(capsys, "good")
    assert err == "using runs/20261202-090000 (the newest run with a trained fnet)\n"
    assert code == 0 and out.startswith("fnet: ") and "transformer" not in out
    code, out, err = predict(capsys, "--model", "transformer", "good")
    assert err == (
        "using runs/20261201-090000 (the newest run with a trained transformer)\n"
    )
    assert code == 0 and out.startswith("transformer: ")
    code, out, err = predict(capsys, "--run-dir", "runs/latest", "good")
    assert (code, out) == (1, "")
    assert err == (
        "error: runs/20261203-090000 has no trained model yet; the newest "
        "finished run is runs/20261202-090000\n"
    )


def test_predict_cuts_padding_only_where_the_model_masks_it(tiny_config):
    """The Transformer gives each text's probability at its bucket's width as
    at the run's; FNet, whose encoder takes no mask, does not, so it gets the
    run's width."""
    config = replace(tiny_config, max_seq_len=256)
    models = {kind: build(kind, config) for kind in ("fnet", "transformer")}
    texts = ["a wonderful film", "an awful plot " * 30, "good actors " * 100]
    vocabulary = TUTORIAL.learn_vocabulary(preprocessing.lower_case(texts), 60, "fast")
    rows = classify(texts, {"config": {"max_seq_len": 256}}, vocabulary, models)
    assert [bucket_length(row["tokens"], 256) for row in rows] == [64, 128, 256]
    tokenizer = preprocessing.make_tokenizer(vocabulary, 256)
    ids = preprocessing.tokenize(tokenizer, preprocessing.lower_case(texts))
    full = {kind: model.predict(ids, verbose=0)[:, 0] for kind, model in models.items()}
    for kind in models:
        ours = [row["probabilities"][kind] for row in rows]
        np.testing.assert_allclose(ours, full[kind], atol=1e-6)
    cut = predict_command.scores(models["fnet"], ids, [64, 128, 256])
    assert abs(cut[0] - full["fnet"][0]) > 1e-4


def test_scores_feeds_whole_batches_and_returns_each_rows_own_output(tiny_config):
    """Five rows of one width at batches of two go in as three whole batches
    (one padding row), so a compiling backend sees one batch shape; each row's
    score is the model's output for that row alone."""
    model = build("transformer", replace(tiny_config, max_seq_len=64))
    ids = np.random.default_rng(0).integers(1, 60, size=(5, 64)).astype("int32")
    fed = []
    predict = model.predict
    model.predict = lambda rows, **kwargs: fed.append((rows.shape, kwargs)) or predict(
        rows, **kwargs
    )
    ours = predict_command.scores(model, ids, [64] * 5, batch_size=2)
    assert fed == [((6, 64), {"batch_size": 2, "verbose": 0})]
    alone = [predict(ids[i : i + 1], verbose=0)[0, 0] for i in range(5)]
    np.testing.assert_allclose(ours, alone, atol=1e-6)


def test_compilation_cache_is_jaxs_own_else_the_users_cache_else_none(tmp_path):
    """JAX_COMPILATION_CACHE_DIR wins; else fnet-imdb/jax in XDG_CACHE_HOME;
    a folder that cannot be made (a file in its way) gives None."""
    own = tmp_path / "own"
    both = {"JAX_COMPILATION_CACHE_DIR": str(own), "XDG_CACHE_HOME": str(tmp_path)}
    assert predict_command.compilation_cache(both) == str(own) and own.is_dir()
    users = predict_command.compilation_cache({"XDG_CACHE_HOME": str(tmp_path)})
    assert users == str(tmp_path / "fnet-imdb" / "jax") and Path(users).is_dir()
    (tmp_path / "file").write_text("")
    blocked = {"XDG_CACHE_HOME": str(tmp_path / "file")}
    assert predict_command.compilation_cache(blocked) is None
