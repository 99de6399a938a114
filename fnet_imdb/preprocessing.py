"""Text to token ids: the one preprocessing that training and `predict` share."""

import numpy as np

from fnet_imdb import backend


def lower_case(texts):
    """Reviews (bytes or str) lower-cased as UTF-8 bytes, as the recipe does."""
    tf = backend.import_tensorflow()
    return tf.strings.lower(list(texts), encoding="utf-8").numpy()


def tokenize(tokenizer, texts):
    """Token ids of lower-cased `texts`, as an int32 array (JAX has no int64)."""
    tf = backend.import_tensorflow()
    batches = tf.data.Dataset.from_tensor_slices(texts).batch(1024)
    batches = batches.map(tokenizer, num_parallel_calls=tf.data.AUTOTUNE)
    return np.concatenate([np.asarray(ids) for ids in batches], dtype="int32")


def detokenize(tokenizer, token_ids):
    """The text of one review's token ids (padding dropped), as a string."""
    text = np.asarray(tokenizer.detokenize(token_ids[token_ids != 0])).item()
    return text.decode("utf-8") if isinstance(text, bytes) else text


def cached_token_ids(cache, tokenizer, texts):
    """Token ids of each split's lower-cased `texts` (a dict), from `cache`
    while the vocabulary, length and texts stay the same; and "reused" or
    "computed"."""
    inputs = [tokenizer.vocabulary, tokenizer.sequence_length, *texts.values()]
    return cache.get(
        "tokens",
        inputs,
        lambda: {name: tokenize(tokenizer, split) for name, split in texts.items()},
    )
