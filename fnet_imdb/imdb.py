"""Reading IMDb reviews: the splits, cleaning, and balanced subsets."""

import unicodedata
from pathlib import Path

import numpy as np

CLASS_NAMES = ("neg", "pos")


def check_dataset_dir(root, need_test=True):
    """Fail early, with one clear message, on a folder that is not aclImdb-like."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"data folder {root} does not exist")
    for split in ("train", "test") if need_test else ("train",):
        if not (root / split).is_dir():
            hint = " (or pass --holdout-test 0.1 to carve one from train/)"
            raise ValueError(
                f"{root} has no {split}/ folder; expected the aclImdb layout "
                f"train/pos, train/neg, test/pos, test/neg{hint if split == 'test' else ''}"
            )
        for label in CLASS_NAMES:
            folder = root / split / label
            if not folder.is_dir():
                raise ValueError(
                    f"{folder} is missing: every split needs pos/ and neg/"
                )
            if next(folder.glob("*.txt"), None) is None:
                raise ValueError(
                    f"{folder} has no .txt reviews: both labels are needed"
                )


def to_arrays(dataset):
    """A dataset of (text, label) pairs as two numpy arrays: bytes and int32."""
    texts, labels = [], []
    for text_batch, label_batch in dataset.batch(4096).as_numpy_iterator():
        texts.extend(text_batch)
        labels.extend(label_batch)
    return np.array(texts, dtype=object), np.array(labels, dtype="int32")


def read_reviews(folder):
    """The reviews of a split folder (pos/ and neg/; unsup/ is left out), in
    file order, as a dataset of (text, label): the tutorial's Data step reads
    them alike (tested)."""
    import keras  # After the backend is chosen.

    return keras.utils.text_dataset_from_directory(
        folder,
        class_names=list(CLASS_NAMES),
        batch_size=None,
        shuffle=False,
        verbose=False,
    )


def shuffled(dataset, seed):
    """A dataset of (text, label) as numpy arrays (bytes, int32), in an order
    shuffled by `seed`."""
    texts, labels = to_arrays(dataset)
    # Keras's own shuffle draws on TensorFlow's global seed, which training
    # reseeds: a generator of `seed` gives the same order whatever ran before.
    order = np.random.default_rng(seed).permutation(len(labels))
    return texts[order], labels[order]


def split_tail(split, fraction, flag="--validation-split"):
    """Hold out the last `fraction` of a split, as Keras's validation_split does."""
    texts, labels = split
    count = int(fraction * len(texts))
    if not 0 < count < len(texts):
        raise ValueError(
            f"{flag} {fraction} of {len(texts)} reviews leaves a split empty"
        )
    keep = len(texts) - count
    return (texts[:keep], labels[:keep]), (texts[keep:], labels[keep:])


def clean_reviews(texts, labels):
    """Replace invalid UTF-8 and drop empty reviews.

    Returns the kept texts and labels, and how many were empty and invalid.
    """
    kept, kept_labels, invalid, empty = [], [], 0, 0
    for text, label in zip(texts, labels):
        decoded, valid = decode_utf8(text)
        if not valid:
            text = decoded.encode("utf-8")
            invalid += 1
        if not has_content(decoded):
            empty += 1
            continue
        kept.append(text)
        kept_labels.append(label)
    counts = {"empty_skipped": empty, "invalid_utf8_replaced": invalid}
    return np.array(kept, dtype=object), np.array(kept_labels, dtype="int32"), counts


def decode_utf8(raw):
    """`raw` as text, invalid UTF-8 replaced by U+FFFD, and whether it was valid."""
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), False


def has_content(text):
    """Whether `text` has a character the tokenizer keeps: not only spaces and
    control or format characters (which would leave a review with no tokens)."""
    return any(unicodedata.category(char)[0] not in "CZ" for char in text)


def balanced_subset(texts, labels, limit):
    """The first `limit` reviews (already shuffled by seed), half per label."""
    limit = max(limit, 2)
    keep = np.zeros(len(labels), dtype=bool)
    for index, label in enumerate(np.unique(labels)):
        positions = np.flatnonzero(labels == label)
        keep[positions[: limit // 2 + (index < limit % 2)]] = True
    return texts[keep], labels[keep]


def load_splits(folder, read, seed, validation_split, max_samples, holdout_test):
    """Train, validation and test (texts, labels) of an aclImdb `folder`, each
    split folder read by `read` (as `read_reviews`), and per split the reviews
    kept (after `max_samples`) and those skipped or repaired. With
    `holdout_test`, a stand-in test split is carved from `train/` first."""
    folder = Path(folder)
    check_dataset_dir(folder, need_test=not holdout_test)
    rest = shuffled(read(folder / "train"), seed)
    if holdout_test:
        rest, test = split_tail(rest, holdout_test, "--holdout-test")
    else:
        test = shuffled(read(folder / "test"), seed)
    train, validation = split_tail(rest, validation_split)
    splits = {"train": train, "validation": validation, "test": test}
    counts = {}
    for name, (texts, labels) in splits.items():
        texts, labels, repaired = clean_reviews(texts, labels)
        if max_samples:
            share = {"train": 1 - validation_split, "test": 1}
            limit = round(max_samples * share.get(name, validation_split))
            texts, labels = balanced_subset(texts, labels, limit)
        if len(set(labels.tolist())) < 2:
            raise ValueError(
                f"the {name} split needs reviews of both labels, found {len(labels)}"
            )
        splits[name] = (texts, labels)
        counts[name] = {"reviews": len(labels), **repaired}
    return splits, counts
