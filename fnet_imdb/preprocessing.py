"""Text to token ids: the one preprocessing that training and `predict` share."""

import numpy as np

from fnet_imdb import backend


def lower_case(texts):
    """Reviews (bytes or str) lower-cased as UTF-8 bytes, as the recipe does."""
    tf = backend.import_tensorflow()
    return tf.strings.lower(list(texts), encoding="utf-8").numpy()


def make_tokenizer(vocabulary, sequence_length):
    """keras-hub's WordPiece tokenizer, padding with `[PAD]` (id 0) and
    truncating to `sequence_length`; text arrives lower-cased already."""
    backend.import_tensorflow()
    import keras_hub

    return keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary, lowercase=False, sequence_length=sequence_length
    )


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


def token_ids(texts, vocabulary, sequence_length):
    """Raw reviews to token ids: lower-case, tokenize, pad or truncate."""
    return tokenize(make_tokenizer(vocabulary, sequence_length), lower_case(texts))
