"""The prepare command: the tutorial's data steps without the tutorial."""

import shutil
import subprocess
import sys

import keras
import numpy as np

from conftest import ROOT, TINY_DATA_FLAGS, TUTORIAL, load_imdb, parse
from fnet_imdb import prepared


def test_prepare_gives_the_tutorials_vocabulary_and_token_ids(tiny_prepared):
    vocabulary, token_ids, labels, _ = prepared.read(tiny_prepared)
    splits, _ = load_imdb(parse(TINY_DATA_FLAGS))
    # The tutorial's Vocabulary and Tokenizer steps, keras-hub's learner.
    expected = TUTORIAL.learn_vocabulary(splits["train"][0], 300, "keras")
    assert vocabulary == expected
    tokenizer = TUTORIAL.make_tokenizer(expected, 64)
    for split, (texts, split_labels) in splits.items():
        ids = keras.ops.convert_to_numpy(tokenizer(texts))
        np.testing.assert_array_equal(token_ids[split], ids)
        np.testing.assert_array_equal(labels[split], split_labels)


def test_prepare_runs_without_the_tutorial(tmp_path):
    """The package never reads fnet_classification.py: a copy of the project
    without it still prepares."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "fnet_imdb", copy / "fnet_imdb")
    shutil.copytree(ROOT / "data" / "tiny_imdb", copy / "tiny_imdb")
    flags = ["--data-dir", "tiny_imdb", "--max-seq-len", "64", "--vocab-size", "300"]
    result = subprocess.run(
        [sys.executable, "-m", "fnet_imdb.prepare", *flags, "--output-dir", "out"],
        cwd=copy,
        capture_output=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert not (copy / "fnet_classification.py").exists()
    assert prepared.manifest(copy / "out")["vocabulary_size"] > 100
