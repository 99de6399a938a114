"""The prepare command: the tutorial's data steps without the tutorial."""

import keras
import numpy as np

from conftest import TINY_DATA_FLAGS, TUTORIAL, load_imdb, parse
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
