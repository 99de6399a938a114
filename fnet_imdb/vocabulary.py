"""The WordPiece vocabulary: our faster copy of keras-hub's learner, its cache and its file."""

import collections
from pathlib import Path

import numpy as np

from fnet_imdb import backend


def write_vocabulary(path, tokens):
    """`vocab.txt`: one token per line, atomically."""
    from fnet_imdb.atomic import write_text

    write_text(path, "".join(f"{token}\n" for token in tokens))


def read_vocabulary(path):
    """The tokens of a `vocab.txt`."""
    # One token per line; splitlines() would also split on U+2028 inside a token.
    return Path(path).read_text(encoding="utf-8").split("\n")[:-1]


# Part of the cache key of every vocabulary: raise it whenever a change to
# this module could change a learnt vocabulary.
LEARNER_VERSION = 1


RESERVED_TOKENS = ["[PAD]", "[UNK]"]  # The tutorial's (tested).


def cached(cache, texts, vocabulary_size):
    """`fast_word_piece_vocabulary(texts, vocabulary_size, RESERVED_TOKENS)`
    from `cache` while its inputs and this module stay the same; and "reused"
    or "computed"."""

    def compute():
        return {
            "tokens": np.array(
                fast_word_piece_vocabulary(texts, vocabulary_size, RESERVED_TOKENS)
            )
        }

    inputs = [texts, vocabulary_size, RESERVED_TOKENS, LEARNER_VERSION]
    arrays, status = cache.get("vocab", inputs, compute)
    return arrays["tokens"].tolist(), status


# keras_hub's compute_word_piece_vocabulary spends nearly all its time (105 of
# 108 s on 20,000 IMDb reviews) in tensorflow_text's `learn`; nothing in either
# library does the same faster, so the slow part is rewritten here, from the
# pieces keras-hub's learner is made of, which neither library exports:
# keras-hub's `pretokenize` and tensorflow_text's learner library (`internals`).
JOINER = "##"


def internals():
    """keras-hub's `pretokenize` (under keras_hub.src) and tensorflow_text's
    WordPiece learner library (under tools/), which `compute_word_piece_vocabulary`
    itself uses; a `ValueError` saying so if a release moved either (tested)."""
    try:
        from keras_hub.src.tokenizers.word_piece_tokenizer import pretokenize
        from tensorflow_text.tools.wordpiece_vocab import (
            wordpiece_tokenizer_learner_lib as learner,
        )
    except ImportError as error:
        raise ValueError(
            "the fast vocabulary learner needs keras-hub's pretokenize and "
            "tensorflow_text's wordpiece_tokenizer_learner_lib, which these "
            f"releases moved ({error}): use --vocab-trainer keras"
        ) from None
    return pretokenize, learner


def word_counts(texts):
    """Each word of `texts` (bytes) and its count, split as keras-hub's learner
    splits them with its defaults, in batches of 5000 texts."""
    tf = backend.import_tensorflow()
    pretokenize, learner = internals()
    words = (
        pretokenize(
            tf.constant(texts[i : i + 5000]),
            lowercase=False,
            strip_accents=False,
            split=True,
            split_on_cjk=True,
        )
        for i in range(0, len(texts), 5000)
    )
    return learner.count_words(words).items()


def learner_params(vocabulary_size, reserved_tokens):
    """`learn`'s defaults, as `compute_word_piece_vocabulary` uses them."""
    _, learner = internals()
    return learner.Params(
        upper_thresh=int(1e7),
        lower_thresh=10,
        num_iterations=4,
        max_input_tokens=int(5e6),
        max_token_length=50,
        max_unique_chars=1000,
        vocab_size=vocabulary_size,
        slack_ratio=0.05,
        include_joiner_token=True,
        joiner=JOINER,
        reserved_tokens=reserved_tokens,
    )


def fast_word_piece_vocabulary(texts, vocabulary_size, reserved_tokens):
    """Learn a WordPiece vocabulary from `texts`, a sequence of bytes.

    Returns the same list, in the same order, as
    `keras_hub.tokenizers.compute_word_piece_vocabulary(dataset,
    vocabulary_size, reserved_tokens=reserved_tokens)` with its defaults
    (no lowercasing or accent stripping, split on punctuation and CJK,
    suffix indicator "##").

    It is faster because almost all the time of the original goes into the
    binary search of tensorflow_text's `learn`: about 17 calls of
    `learn_with_thresh`, whose 4 iterations each count every substring of
    every word, then subtract the counts of longer tokens from their
    prefixes. The subtractions cancel: a word keeps its own count, and a
    suffix token "##" + rest the count of the words that leave `rest` after a
    piece. `_learn_with_thresh` counts just those, splitting each distinct
    remainder once, and counts the first iteration, the same for every
    threshold, once.
    """
    _, learner = internals()
    counts, p = word_counts(texts), learner_params(vocabulary_size, reserved_tokens)
    # Same preparation and binary search as `learner.learn`.
    upper, lower = learner.get_search_threshs(counts, p.upper_thresh, p.lower_thresh)
    all_counts = learner.get_input_words(counts, reserved_tokens, p.max_token_length)
    allowed_chars = learner.get_allowed_chars(all_counts, p.max_unique_chars)
    counts = learner.filter_input_words(all_counts, allowed_chars, p.max_input_tokens)
    char_tokens = learner.extract_char_tokens(counts)
    first = _first_iteration(counts)
    # Words starting with "##" would mix with suffixes in `_learn_with_thresh`.
    exact = any(word.startswith(JOINER) for word, _ in counts)
    while True:
        thresh = (upper + lower) // 2
        if exact or thresh < 1:
            vocab = learner.learn_with_thresh(counts, thresh, p)
        else:
            vocab = _learn_with_thresh(counts, thresh, p, char_tokens, first)
        size = len(vocab)
        within_slack = 0 <= vocabulary_size - size <= p.slack_ratio * vocabulary_size
        if within_slack or lower >= upper or thresh <= 1:
            return vocab[:vocabulary_size]
        if size > vocabulary_size:
            lower = thresh + 1
        else:
            upper = thresh - 1


def _first_iteration(word_counts):
    """The counts of `learn_with_thresh`'s first iteration, the same for every
    threshold: it splits the words at every character."""
    first = collections.defaultdict(int)
    for word, count in word_counts:
        first[word] += count
        for start in range(1, len(word)):
            first[JOINER + word[start:]] += count
    return first


def _learn_with_thresh(word_counts, thresh, params, char_tokens, first):
    """Same vocabulary as `learner.learn_with_thresh(word_counts, thresh, params)`.

    After its subtractions, a word keeps its own count and "##" + rest keeps
    the count of the words split so that `rest` is left after a piece.
    """
    _, learner = internals()
    # Tokens without "##" are these words and the characters in every
    # iteration, so the remainders after each word's first piece are too.
    words = {word: count for word, count in word_counts if count >= thresh}
    word_tokens = words.keys() | char_tokens
    prefixes = {t[:i] for t in word_tokens for i in range(1, len(t) + 1)}
    rests = collections.defaultdict(int)
    for word, count in word_counts:
        end = _longest_token(word, 1, word_tokens, prefixes)
        if end < len(word):
            rests[JOINER + word[end:]] += count
    counts = first
    for iteration in range(params.num_iterations):
        if iteration:
            counts = _count_rests(rests, tokens) | words
        tokens = {token: n for token, n in counts.items() if n >= thresh}
        tokens = learner.ensure_all_tokens_exist(char_tokens, tokens, True, JOINER)
    return learner.generate_final_vocabulary(
        params.reserved_tokens, char_tokens, tokens
    )


def _count_rests(rests, tokens):
    """Count the remainders ("##" + rest) left while splitting `rests`.

    Splits like `learner.get_split_indices`, but each distinct remainder once,
    with the summed count of its words, longest remainders first.
    """
    prefixes = {t[:i] for t in tokens if t[:2] == JOINER for i in range(3, len(t) + 1)}
    longest = max(map(len, rests), default=0)
    by_length = [collections.defaultdict(int) for _ in range(longest + 1)]
    for rest, count in rests.items():
        by_length[len(rest)][rest] = count
    counts = {}
    for same_length in reversed(by_length):
        for rest, count in same_length.items():
            counts[rest] = count
            end = _longest_token(rest, 3, tokens, prefixes)
            if end < len(rest):
                by_length[len(rest) - end + 2][JOINER + rest[end:]] += count
    return counts


def _longest_token(text, shortest, tokens, prefixes):
    """Length of the longest token that `text` starts with.

    There is always one: every character, and "##" + every character, is a
    token. Grows the token while it is a prefix of a longer token, instead of
    shrinking it from the end of `text` like `get_split_indices`.
    """
    if text in tokens:
        return len(text)
    end = 0
    for i in range(shortest, len(text)):
        if text[:i] not in prefixes:
            break
        if text[:i] in tokens:
            end = i
    return end
