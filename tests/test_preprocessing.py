"""Text to token ids: padding, truncation, [UNK], and one path for training and predict."""

import numpy as np

from conftest import TINY_IMDB, TUTORIAL, load_imdb
from fnet_imdb import imdb, preprocessing
from fnet_imdb.predict import classify


def tiny_vocabulary(config):
    """The tutorial's splits of the fixture, and their vocabulary."""
    splits, _ = load_imdb(config)
    return splits, TUTORIAL.learn_vocabulary(splits["train"][0], 300, "fast")


def test_tokenizer_round_trip_and_padding(tiny_config):
    splits, vocabulary = tiny_vocabulary(tiny_config)
    tokenizer = TUTORIAL.make_tokenizer(vocabulary, tiny_config.max_seq_len)
    token_ids = preprocessing.tokenize(tokenizer, splits["train"][0][:5])
    assert token_ids.shape == (5, tiny_config.max_seq_len)
    assert token_ids.dtype == np.int32
    text = b"the plot was wonderful , the actors were awful ."
    ids = preprocessing.tokenize(tokenizer, np.array([text], dtype=object))[0]
    length = np.count_nonzero(ids)
    assert length >= 11 and not ids[length:].any()  # Padded with [PAD] = 0.
    long_review = np.array([b"word " * 500], dtype=object)
    assert preprocessing.tokenize(tokenizer, long_review).shape[1] == 64
    assert tokenizer.detokenize(ids[:length]) == text.decode()


def test_the_package_makes_the_tutorials_tokenizer(tiny_config):
    _, vocabulary = tiny_vocabulary(tiny_config)
    ours = preprocessing.make_tokenizer(vocabulary, 64)
    theirs = TUTORIAL.make_tokenizer(vocabulary, 64)
    unnamed = [{**t.get_config(), "name": None} for t in (ours, theirs)]
    assert unnamed[0] == unnamed[1]
    assert ours.get_vocabulary() == theirs.get_vocabulary() == vocabulary


def test_unknown_word_maps_to_unk(tiny_config):
    _, vocabulary = tiny_vocabulary(tiny_config)
    tokenizer = TUTORIAL.make_tokenizer(vocabulary, 64)
    ids = preprocessing.tokenize(tokenizer, preprocessing.lower_case(["☃☃ ☃"]))[0]
    assert ids[:2].tolist() == [1, 1] and not ids[2:].any()


class Echo:
    """A stand-in model that returns the number of tokens it was given."""

    def __init__(self, seen):
        self.seen = seen

    def predict(self, token_ids, verbose=0):
        self.seen.append(token_ids)
        return np.count_nonzero(token_ids, axis=1, keepdims=True).astype("float32")


def test_predict_and_training_prepare_text_alike(tiny_config):
    """Defect: predict lower-cased and tokenized in its own copy of the code."""
    splits, vocabulary = tiny_vocabulary(tiny_config)
    raw, _ = imdb.to_arrays(imdb.read_reviews(TINY_IMDB / "train"))
    tokenizer = TUTORIAL.make_tokenizer(vocabulary, 64)
    training = preprocessing.tokenize(tokenizer, preprocessing.lower_case(raw))
    shouted = [text.decode().upper() for text in raw]
    seen = []
    results = {"config": {"max_seq_len": 64}}
    classify(shouted, results, vocabulary, {"fnet": Echo(seen)})
    np.testing.assert_array_equal(np.concatenate(seen), training)
