"""The prepare command: the tutorial's data steps without the tutorial, and
tokenizing in batches inside tf.data with the eager tokenizer's ids."""

import os
import re
import resource
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import ROOT, TINY_DATA_FLAGS, TINY_IMDB, TUTORIAL, load_imdb, parse
from conftest import replace
from fnet_imdb import imdb, preprocessing, prepared
from fnet_imdb import vocabulary as word_pieces

ARCHIVE = Path(__file__).parents[2] / "shared/imdb/aclImdb_train.tar.gz"


def test_prepare_gives_the_tutorials_vocabulary_and_token_ids(tiny_prepared):
    vocabulary, token_ids, labels, _ = prepared.read(tiny_prepared)
    splits, _ = load_imdb(parse(TINY_DATA_FLAGS))
    # The tutorial's Vocabulary and Tokenizer steps, keras-hub's learner.
    expected = TUTORIAL.learn_vocabulary(splits["train"][0], 300, "keras")
    assert vocabulary == expected
    tokenizer = TUTORIAL.make_tokenizer(expected, 64)
    for split, (texts, split_labels) in splits.items():
        in_batches = TUTORIAL.tokenize(tokenizer, texts)  # Inside tf.data.
        eager = keras.ops.convert_to_numpy(tokenizer(texts))  # keras-hub's Python.
        np.testing.assert_array_equal(token_ids[split], in_batches)
        np.testing.assert_array_equal(token_ids[split], eager)
        np.testing.assert_array_equal(labels[split], split_labels)
        assert token_ids[split].dtype == in_batches.dtype == np.int32


def test_prepare_reads_the_reviews_as_the_tutorial_does():
    tutorial = imdb.to_arrays(TUTORIAL.read_reviews(TINY_IMDB / "train"))
    package = imdb.to_arrays(imdb.read_reviews(TINY_IMDB / "train"))
    for ours, theirs in zip(package, tutorial):
        np.testing.assert_array_equal(ours, theirs)
    assert len(package[0]) == 100


def limit_file_size():
    """In the child: writes past 8 kB fail with EFBIG, as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8000, resource.RLIM_INFINITY))


def test_a_full_disk_under_the_cache_is_one_line_and_nothing_else(tmp_path):
    """A cache entry cannot be written: the command ends with its one error
    line, and TensorFlow's start-up logs are not on stderr."""
    argv = TINY_DATA_FLAGS + ["--cache-dir", str(tmp_path / "cache")]
    argv += ["--output-dir", str(tmp_path / "prepared")]
    result = subprocess.run(
        [sys.executable, "-m", "fnet_imdb.prepare", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=limit_file_size,
        timeout=240,
    )
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    entry = rf"{tmp_path / 'cache'}/(vocab|tokens)-[0-9a-f]+\.npz"
    assert re.fullmatch(rf"error: cannot write {entry}: File too large", line)
    assert not (tmp_path / "prepared").exists()


@pytest.mark.slow
def test_batched_and_eager_tokenizing_agree_on_real_reviews(tmp_path):
    """Every id of the 25,000 real training reviews, the recipe's vocabulary
    (a few minutes: the eager path is keras-hub's Python WordPiece)."""
    if not ARCHIVE.exists():
        pytest.skip("needs ../shared/imdb/aclImdb_train.tar.gz")
    config = parse(["--archive", str(ARCHIVE), "--holdout-test", "0.2"])
    splits, _ = load_imdb(replace(config, download_dir=str(tmp_path)))
    texts = np.concatenate([texts for texts, _ in splits.values()])
    vocabulary = word_pieces.fast_word_piece_vocabulary(
        splits["train"][0], config.vocab_size, word_pieces.RESERVED_TOKENS
    )
    tokenizer = preprocessing.make_tokenizer(vocabulary, config.max_seq_len)
    in_batches = preprocessing.tokenize_in_batches(tokenizer, texts)
    np.testing.assert_array_equal(in_batches, TUTORIAL.tokenize(tokenizer, texts))
    np.testing.assert_array_equal(in_batches, preprocessing.tokenize(tokenizer, texts))
    assert in_batches.shape == (25000, 512)
