"""The WordPiece vocabulary: train split only, reserved tokens, and our learner
against keras-hub's, token for token."""

import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import TUTORIAL, load_imdb, parse, replace
from fnet_imdb import vocabulary as word_pieces
from fnet_imdb.cache import Cache


def load(config):
    return load_imdb(config)


def learn(texts, config):
    """The tutorial's learner: keras-hub's, or ours with `--vocab-trainer fast`."""
    return TUTORIAL.learn_vocabulary(texts, config.vocab_size, config.vocab_trainer)


def test_the_package_reserves_the_tutorials_tokens():
    assert word_pieces.RESERVED_TOKENS == TUTORIAL.RESERVED_TOKENS


def test_vocabulary_reserved_tokens_first_and_train_only(tiny_imdb_copy, tiny_config):
    for split, word in (("train", "qwertyish"), ("test", "zyzzyva")):
        for path in (tiny_imdb_copy / split).glob("*/*.txt"):
            text = path.read_text(encoding="utf-8")
            path.write_text(f"{text} {word}", encoding="utf-8")
    config = replace(tiny_config, data_dir=str(tiny_imdb_copy), vocab_size=1000)
    splits, _ = load(config)
    vocabulary = learn(splits["train"][0], config)
    assert vocabulary[:2] == ["[PAD]", "[UNK]"]
    assert "[PAD]" not in vocabulary[2:] and "[UNK]" not in vocabulary[2:]
    # The fixture has fewer distinct pieces than asked: never assume the size.
    assert 100 < len(vocabulary) < config.vocab_size
    assert len(set(vocabulary)) == len(vocabulary)
    assert "qwertyish" in vocabulary
    assert "zyzzyva" not in vocabulary


def test_cache_key_names_the_learner(tiny_config, tmp_path, monkeypatch):
    """Defect: a fixed learner was served the old vocabulary."""
    splits, _ = load(tiny_config)
    texts, cache = splits["train"][0], Cache(tmp_path)
    first, status = word_pieces.cached(cache, texts, tiny_config.vocab_size)
    assert status == "computed" and first == learn(texts, tiny_config)
    assert word_pieces.cached(cache, texts, tiny_config.vocab_size) == (first, "reused")
    monkeypatch.setattr(word_pieces, "LEARNER_VERSION", word_pieces.LEARNER_VERSION + 1)
    assert word_pieces.cached(cache, texts, tiny_config.vocab_size)[1] == "computed"


@pytest.mark.parametrize("vocab_size", [60, 300, 15000])
def test_fast_vocabulary_is_identical_to_keras_hub(tiny_config, vocab_size):
    splits, _ = load(tiny_config)
    texts = list(splits["train"][0]) + [
        "Ça, c'est très naïve — 素晴らしい映画！ ###tags, 1,234.5".encode(),
        b"aaaa aaab aabb abbb bbbb ##ab ab## a#b",
    ]
    texts = np.array(texts, dtype=object)
    fast, reference = (
        learn(texts, replace(tiny_config, **settings))
        for settings in (
            {"vocab_size": vocab_size, "vocab_trainer": "fast"},
            {"vocab_size": vocab_size, "vocab_trainer": "keras"},
        )
    )
    assert fast == reference
    assert len(fast) > 50


@pytest.mark.slow
def test_fast_vocabulary_is_identical_on_real_reviews(tmp_path):
    """20,000 real training reviews, the recipe's settings (about 2 minutes)."""
    archive = Path(__file__).parents[2] / "shared/imdb/aclImdb_train.tar.gz"
    if not archive.exists():
        pytest.skip("needs ../shared/imdb/aclImdb_train.tar.gz")
    config = parse(["--archive", str(archive), "--holdout-test", "0.2"])
    config = replace(config, download_dir=str(tmp_path))
    splits, _ = load(config)
    texts = splits["train"][0]
    fast = learn(texts, config)
    reference = learn(texts, replace(config, vocab_trainer="keras"))
    assert fast == reference and len(fast) > 10000


def test_the_fast_learner_names_the_internals_it_needs(monkeypatch):
    """The fast learner is built from keras-hub's `pretokenize` and
    tensorflow_text's learner library, which neither exports: if a release
    moves them, this fails, and the learner says so in one line."""
    pretokenize, learner = word_pieces.internals()
    parameters = inspect.signature(pretokenize).parameters
    assert {"lowercase", "strip_accents", "split", "split_on_cjk"} <= set(parameters)
    for name in ("count_words", "Params", "learn_with_thresh", "get_search_threshs"):
        assert callable(getattr(learner, name)), f"tensorflow_text moved {name}"
    monkeypatch.setitem(
        sys.modules, "keras_hub.src.tokenizers.word_piece_tokenizer", None
    )
    with pytest.raises(
        ValueError, match="keras-hub's pretokenize .* --vocab-trainer keras"
    ):
        word_pieces.internals()
