"""Text to token ids: padding, truncation, [UNK], and one path for training and predict."""

import numpy as np

import fnet_classification as fc
from conftest import TINY_IMDB
from fnet_imdb import preprocessing, vocabulary as word_pieces
from fnet_imdb.imdb import read_reviews


def tiny_vocabulary(config):
    """The tutorial's splits of the fixture, and their vocabulary."""
    splits, _ = fc.load_imdb(config, say=print)
    texts = splits["train"][0]
    return splits, word_pieces.learn_vocabulary(texts, 300, fc.RESERVED_TOKENS)


def test_tokenizer_round_trip_and_padding(tiny_config):
    splits, vocabulary = tiny_vocabulary(tiny_config)
    tokenizer = preprocessing.make_tokenizer(vocabulary, tiny_config.max_seq_len)
    token_ids = preprocessing.tokenize(tokenizer, splits["train"][0][:5])
    assert token_ids.shape == (5, tiny_config.max_seq_len)
    assert token_ids.dtype == np.int32
    text = b"the plot was wonderful , the actors were awful ."
    ids = preprocessing.tokenize(tokenizer, np.array([text], dtype=object))[0]
    length = np.count_nonzero(ids)
    assert length >= 11 and not ids[length:].any()  # Padded with [PAD] = 0.
    long_review = np.array([b"word " * 500], dtype=object)
    assert preprocessing.tokenize(tokenizer, long_review).shape[1] == 64
    assert preprocessing.detokenize(tokenizer, ids) == text.decode()


def test_unknown_word_maps_to_unk(tiny_config):
    _, vocabulary = tiny_vocabulary(tiny_config)
    ids = preprocessing.token_ids(["☃☃ ☃"], vocabulary, 64)[0]
    assert ids[:2].tolist() == [1, 1] and not ids[2:].any()


def test_predict_and_training_prepare_text_alike(tiny_config):
    """Defect: predict lower-cased and tokenized in its own copy of the code."""
    splits, vocabulary = tiny_vocabulary(tiny_config)
    ((raw, _),) = read_reviews(TINY_IMDB / "train", tiny_config.seed)
    tokenizer = preprocessing.make_tokenizer(vocabulary, 64)
    training = preprocessing.tokenize(tokenizer, preprocessing.lower_case(raw))
    shouted = [text.decode().upper() for text in raw]
    np.testing.assert_array_equal(
        preprocessing.token_ids(shouted, vocabulary, 64), training
    )
