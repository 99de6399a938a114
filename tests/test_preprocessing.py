"""Text to token ids: padding, truncation, [UNK], and one path for training and predict."""

import numpy as np
import pytest

from conftest import TINY_IMDB, TUTORIAL, load_imdb
from fnet_imdb import backend, imdb, preprocessing
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

    def predict(self, token_ids, batch_size=None, verbose=0):
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
    np.testing.assert_array_equal(np.concatenate(seen)[: len(training)], training)


def tensorflow_lower(texts):
    """The recipe's lower-casing, `tf.strings.lower` (skips where TensorFlow is
    not installed)."""
    pytest.importorskip("tensorflow")
    tf = backend.import_tensorflow()
    return tf.strings.lower(list(texts), encoding="utf-8").numpy()


# Every code point but the surrogates, which UTF-8 cannot hold.
CODE_POINTS = [chr(c) for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF]
# Texts whose lower-casing Python's tables and TensorFlow's could make differ.
AWKWARD = [
    "İstanbul İI",  # To i̇ (i and U+0307), as Unicode's full mapping says.
    "ΟΔΟΣ Σ ΑΣ. ΑΣ'Β Α\u0301Σ ΣΑ",  # Σ word-final or not.
    "STRAẞE ǅ ǈ ﬁﬂ ﬀ Ｆｕｌｌ ＷＩＤＴＨ Ⅶ Ⓐ 𝐀",  # ẞ, titlecase, ligatures, wide.
    "Ⱟ Ꟁ Ꟑ Ꟗ Ꟙ \U00010570\U00010595 Σ\U00010570 \U00010570Σ",  # Newer letters.
    "ΑΣ\u1734Β Α\u1734Σ",  # U+1734: case-ignorable to TensorFlow only.
    "Très ÉMOUVANT, e\u0301 素晴らしい映画 🎬👍🏽 !!!?!... <br /><br />",
    "\x07BELL\x1b[0m \t\r\u200b\u00ad",
    "ab\x00CD",  # TensorFlow stops at a NUL byte.
    b"A\xff\xc3(B\xed\xa0\x80Z\xf4\x90\x80\x80Q",  # Invalid UTF-8.
    "",
]


def test_lower_case_is_tensorflows_on_awkward_text():
    texts = [t if isinstance(t, bytes) else t.encode() for t in AWKWARD]
    lowered = preprocessing.lower_case(texts)
    assert lowered.dtype == object and lowered.shape == (len(AWKWARD),)
    assert lowered.tolist() == tensorflow_lower(texts).tolist()


def test_lower_case_exact_values():
    """Without TensorFlow: its results, written out."""
    texts = ["İ ΟΔΟΣ Σ ẞ ﬁ Ｗ", "Ⱟ\U00010570Σ", "ΑΣ\u1734Β", "ab\x00CD", b"A\xffB", ""]
    assert preprocessing.lower_case(texts).tolist() == [
        "i\u0307 οδος σ ß ﬁ ｗ".encode(),
        "Ⱟ\U00010570σ".encode(),  # Kept; the Σ is word-final to neither.
        "ασ\u1734β".encode(),  # U+1734 is no word end.
        b"ab",
        "a\ufffdb".encode(),
        b"",
    ]
    assert preprocessing.lower_case([]).shape == (0,)


def test_lower_case_is_tensorflows_on_every_code_point():
    """Each code point alone and beside Σ: whether a Σ is word-final depends on
    whether its neighbours are cased or case-ignorable."""
    # A thousand texts to a string, between spaces, which are neither cased nor
    # case-ignorable: each keeps its words and what it lower-cases to.
    for texts in (CODE_POINTS, [f"ΑΣ{c}Β ΑΣ{c} Α{c}Σ Α{c}Σ{c}Β" for c in CODE_POINTS]):
        joined = [
            " ".join(texts[i : i + 1000]).encode() for i in range(0, len(texts), 1000)
        ]
        assert (preprocessing.lower_case(joined) == tensorflow_lower(joined)).all()
