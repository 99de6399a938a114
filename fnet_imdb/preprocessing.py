"""Text to token ids: the one preprocessing that training, `prepare` and `predict` share."""

import numpy as np

from fnet_imdb import backend


def lower_case(texts):
    """Reviews (bytes or str) lower-cased as UTF-8 bytes, as the recipe does."""
    tf = backend.import_tensorflow()
    return tf.strings.lower(list(texts), encoding="utf-8").numpy()


def make_tokenizer(vocabulary, sequence_length):
    """keras-hub's WordPiece tokenizer of `vocabulary`, padding or cutting each
    text to `sequence_length` ids, as the tutorial's Tokenizer step makes it."""
    import keras_hub  # After the backend is chosen.

    return keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary, lowercase=False, sequence_length=sequence_length
    )


def tokenize(tokenizer, texts):
    """Token ids of lower-cased `texts`, as an int32 array (JAX has no int64).

    Called eagerly, keras-hub's tokenizer runs its own Python WordPiece: no
    TensorFlow needed, the ids of `tokenize_in_batches` (tested).
    """
    return np.asarray(tokenizer(texts), dtype="int32")


def tokenize_in_batches(tokenizer, texts):
    """`tokenize`'s ids, sooner: inside `tf.data`, keras-hub runs
    tensorflow-text's compiled WordPiece, batches in parallel; as the
    tutorial's Tokenizer step does (tested)."""
    tf = backend.import_tensorflow()
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(1024)
    dataset = dataset.map(tokenizer, num_parallel_calls=tf.data.AUTOTUNE)
    return np.concatenate(list(dataset.as_numpy_iterator()), dtype="int32")
