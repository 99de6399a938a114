"""Text to token ids: the one preprocessing that training, `prepare` and `predict` share."""

import itertools
import re

import numpy as np

from fnet_imdb import backend

# The recipe lower-cases with `tf.strings.lower(texts, encoding="utf-8")`, which is
# ICU's full lower-casing (İ to i̇, word-final Σ to ς), as Python's `str.lower` is.
# Python's tables (Unicode 14.0 in Python 3.11, 15.0 in 3.12, 15.1 in 3.13) are
# newer than TensorFlow's (13.0): they lower 40 capitals that TensorFlow keeps
# (U+2C2F, U+A7C0, U+A7D0, U+A7D6, U+A7D8 and the Vithkuqi U+10570 to U+10595),
# and they call the other code points below cased or case-ignorable, which decides
# whether a Σ beside them is word-final. To TensorFlow they are unassigned:
# kept, neither cased nor case-ignorable, like the ends of a text. So the pieces
# between them are lowered apart. (Found by comparing every code point, alone and
# beside Σ, with TensorFlow 2.21; code points unassigned in 15.1 fill the gaps.)
NEWER_THAN_TENSORFLOW = re.compile(
    "(["
    "\u0888\u0890-\u089f\u08c9-\u08d2\u0c3c\u0ece\u180f\u1ac1-\u1ace"
    "\u1dfa\u2c2f\u2c5f\ua7c0\ua7c1\ua7d0-\ua7f4\ufbc2\U00010570-\U000105bc"
    "\U00010780-\U000107ba\U00010efd-\U00010eff\U00010f82-\U00010f85"
    "\U00011070\U00011073\U00011074\U000110c2\U00011241\U00011f00\U00011f01"
    "\U00011f36-\U00011f3a\U00011f40\U00011f42\U00013439-\U00013440"
    "\U00013447-\U00013455\U0001aff0-\U0001affe\U0001cf00-\U0001cf46"
    "\U0001df00-\U0001df09\U0001df0b-\U0001df2a\U0001e030-\U0001e08f"
    "\U0001e2ae\U0001e4eb-\U0001e4ef"
    "])"
)
# Lead bytes of UTF-8's 3- and 4-byte sequences (U+0800 and up), and invalid bytes:
# texts without them hold none of the code points above.
BEYOND_U0800 = re.compile(rb"[\xe0-\xff]")


def lower_case(texts):
    """Reviews (bytes or str) lower-cased as UTF-8 bytes, exactly as the recipe's
    `tf.strings.lower(texts, encoding="utf-8")` does (in any locale but a Turkish,
    Azeri or Lithuanian one), without TensorFlow."""
    return np.array([lower_one(text) for text in texts], dtype=object)


def lower_one(text):
    """One text lower-cased as `lower_case` does."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    # TensorFlow's op reads a text up to its first NUL byte and replaces invalid
    # UTF-8 as Python's "replace" does.
    text = text.split(b"\0", 1)[0]
    if not BEYOND_U0800.search(text):  # The common case, sooner.
        return text.decode("utf-8", "replace").lower().encode("utf-8")
    text = text.decode("utf-8", "replace")
    # U+1734 went the other way: case-ignorable in Unicode 13 (a nonspacing mark),
    # not in Python's tables (a spacing mark since 14.0). Lowered without it, as
    # a case-ignorable character changes nothing else, it goes back in after.
    parts = text.split("\u1734")
    lowered = lower_apart("".join(parts))
    ends = itertools.accumulate(len(lower_apart(part)) for part in parts)
    starts = [0, *ends]
    pieces = [lowered[start:end] for start, end in zip(starts, starts[1:])]
    return "\u1734".join(pieces).encode("utf-8")


def lower_apart(text):
    """`text` lowered piece by piece between `NEWER_THAN_TENSORFLOW` code points."""
    pieces = NEWER_THAN_TENSORFLOW.split(text)
    pieces[::2] = [piece.lower() for piece in pieces[::2]]
    return "".join(pieces)


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
