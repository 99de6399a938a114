"""predict against the training path: the token ids of awkward text and of
real reviews, and the probabilities of a run without TensorFlow."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, TUTORIAL, load_imdb, parse
from fnet_imdb import backend, download, imdb, preprocessing
from fnet_imdb.predict import classify, load_run

# Text that tokenizers and lower-casing treat each in their own way.
NEWER_CAPITALS = "\u2c2f\ua7c0\ua7d0\ua7d6\ua7d8" + "".join(
    chr(c) for c in range(0x10570, 0x10596) if c not in (0x1057B, 0x1058B, 0x10593)
)
AWKWARD = [
    "Très émouvant, e\u0301le\u0300ve naïve CAFÉ",  # Accents, combining marks.
    "素晴らしい映画です。最高！",  # CJK.
    "🎬👍🏽😀 great 👏",  # Emoji.
    "What?!?!... Awful---really;;; (sigh) <<<>>>",  # Runs of punctuation.
    "a" * 100 + " " + "b" * 101,  # 100 and 101 bytes: the second is [UNK].
    "é" * 50 + " " + "é" * 50 + "a",  # The same, multibyte.
    "\x07bell\x1b[0m tab\tvertical\x0bfeed\x0c nul\x00after",  # Controls.
    " \t\u3000\u200b ",  # Whitespace only: no prediction.
    "",
    "Great.<br /><br />Not awful<br />at all",
    "İSTANBUL İ",  # To i and U+0307.
    "ΟΔΟΣ ΣΑΣ Σ",  # Σ word-final or not.
    "STRAẞE",
    "ﬁlm ﬂop ﬀ",  # Ligatures.
    "Ｆｕｌｌ ＷＩＤＴＨ ｗｏｎｄｅｒｆｕｌ",  # Full-width.
    NEWER_CAPITALS + " Σ" + NEWER_CAPITALS[:3],  # Kept as TensorFlow keeps them.
    "wonderful film " * 400,  # Longer than the sequence length.
]


def training_ids(texts, vocabulary, sequence_length):
    """Token ids as the recipe makes them: `tf.strings.lower`, then the tokenizer
    inside tf.data (tensorflow-text). Skips where TensorFlow is not installed."""
    pytest.importorskip("tensorflow_text")
    import tensorflow as tf

    tokenizer = TUTORIAL.make_tokenizer(vocabulary, sequence_length)
    dataset = tf.data.Dataset.from_tensor_slices([t.encode() for t in texts])
    dataset = dataset.batch(64).map(
        lambda x: tokenizer(tf.strings.lower(x, encoding="utf-8"))
    )
    return np.concatenate([batch.numpy() for batch in dataset])


class Recorder:
    """A stand-in model that keeps the token ids it is given."""

    def __init__(self):
        self.seen = []

    def predict(self, token_ids, batch_size=None, verbose=0):
        self.seen.append(token_ids)
        return np.zeros((len(token_ids), 1), dtype="float32")

    def rows(self, count):
        """The first `count` rows it was given, after checking that the rest
        (a last batch's padding) are all [PAD]."""
        seen = np.concatenate(self.seen)
        assert not seen[count:].any()
        return seen[:count]


def test_predict_tokenizes_as_training_does(tiny_config):
    """The fixture's reviews and awkward text, with a vocabulary that splits
    them into word pieces: predict's ids are the training path's, every one."""
    texts, _ = load_imdb(tiny_config)[0]["train"]
    texts = [t.decode() for t in texts] + AWKWARD
    lowered = preprocessing.lower_case([t.encode() for t in texts * 3])
    vocabulary = TUTORIAL.learn_vocabulary(lowered, 700, "fast")
    fnet = Recorder()
    results = {"config": {"max_seq_len": 128}}
    rows = classify(texts, results, vocabulary, {"fnet": fnet})
    filled = [i for i, row in enumerate(rows) if row["probabilities"] is not None]
    assert len(filled) == len(texts) - 2  # Whitespace only and empty.
    expected = training_ids(texts, vocabulary, 128)
    np.testing.assert_array_equal(fnet.rows(len(filled)), expected[filled])
    long_words = len(texts) - len(AWKWARD) + 4
    assert rows[-1]["tokens"] == 128 and 1 in expected[long_words]  # [UNK].


@pytest.mark.slow
def test_predict_tokenizes_real_reviews_as_training_does(tmp_path):
    """All 25,000 training reviews of ../shared/imdb and a vocabulary of 15,000
    learnt from them, at 512 tokens (a few minutes)."""
    archive = Path(__file__).parents[2] / "shared/imdb/aclImdb_train.tar.gz"
    if not archive.exists():
        pytest.skip("needs ../shared/imdb/aclImdb_train.tar.gz")
    config = parse(["--archive", archive])
    folder, _ = download.imdb_folder(
        None, config.archive, tmp_path, config.data_url, config.sha256, print
    )
    raw, _ = imdb.to_arrays(imdb.read_reviews(folder / "train"))
    texts = [text.decode("utf-8", "replace") for text in raw]
    vocabulary = TUTORIAL.learn_vocabulary(preprocessing.lower_case(raw), 15000, "fast")
    fnet = Recorder()
    classify(texts, {"config": {"max_seq_len": 512}}, vocabulary, {"fnet": fnet})
    expected = training_ids(texts, vocabulary, 512)
    np.testing.assert_array_equal(fnet.rows(len(expected)), expected)


WATCH_TENSORFLOW = """
import atexit, sys
atexit.register(lambda: print("tensorflow:", "tensorflow" in sys.modules, file=sys.stderr))
"""


def test_predict_runs_without_tensorflow_as_training_does(tiny_run, tmp_path):
    """As a user runs it, with no backend chosen, in a copy of the package
    alone (no tutorial): where JAX or PyTorch is installed, predict leaves
    TensorFlow out and says nothing on stderr but that invalid UTF-8 was
    replaced; a line ends at a newline only (after a carriage return or not);
    the probabilities are those of the training path's ids (to 1e-4); on
    JAX, the compiled programs are kept in the user's cache folder."""
    if not any(map(backend.importable, backend.PREDICTING_ON_CPU)):
        pytest.skip(f"none of {backend.PREDICTING_ON_CPU} is installed")
    run_dir, _ = tiny_run
    shutil.copytree(ROOT / "fnet_imdb", tmp_path / "fnet_imdb")
    broken = b"\xff\xfe broken bytes\ngood\xc2\x85film\n"
    stdin = "\r\n".join(AWKWARD).encode() + b"\r\n" + broken
    code = (
        WATCH_TENSORFLOW
        + "import runpy\nrunpy.run_module('fnet_imdb.predict', run_name='__main__')"
    )
    environment = {**os.environ, "PYTHONPATH": str(tmp_path), "KERAS_BACKEND": ""}
    environment["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    result = subprocess.run(
        [sys.executable, "-c", code, "--run-dir", str(run_dir), "--json"],
        input=stdin, capture_output=True, cwd=tmp_path, env=environment, timeout=240,
    )  # fmt: skip
    assert not (tmp_path / "fnet_classification.py").exists()
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert result.stderr.decode() == (
        "warning: invalid UTF-8 on stdin was replaced by U+FFFD\ntensorflow: False\n"
    )
    chosen = next(filter(backend.importable, backend.PREDICTING_ON_CPU))
    kept = tmp_path / "cache/fnet-imdb/jax"  # JAX's compiled programs, for next time.
    assert (kept.exists() and any(kept.iterdir())) == (chosen == "jax")
    lines = result.stdout.decode().split("\n")  # Not splitlines: U+0085 stays.
    rows = [json.loads(line) for line in lines[:-1]]
    texts = [row["text"] for row in rows]
    assert texts == AWKWARD + ["\ufffd\ufffd broken bytes", "good\x85film"]
    results, vocabulary, models = load_run(run_dir)
    ids = training_ids(AWKWARD, vocabulary, results["config"]["max_seq_len"])
    for kind, model in models.items():
        expected = model.predict(ids, verbose=0)[:, 0]
        for row, probability in zip(rows, expected):
            if row["text"].strip(" \t\u3000\u200b"):
                assert row["probabilities"][kind] == pytest.approx(
                    probability, abs=1e-4
                )
            else:
                assert row["probabilities"] is None
