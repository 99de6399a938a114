"""Batches of token ids from numpy, for any backend: shuffled, bucketed, padded."""

import keras
import numpy as np

BUCKET_LENGTHS = (64, 128, 256, 512)


def bucket_lengths(max_seq_len):
    """The padded lengths of a bucketed run: a few fixed ones, then the maximum."""
    return [n for n in BUCKET_LENGTHS if n < max_seq_len] + [max_seq_len]


def bucket_length(length, max_seq_len):
    """The padded length of a review of `length` tokens in a bucketed run."""
    return next(n for n in bucket_lengths(max_seq_len) if n >= length)


class Batches(keras.utils.PyDataset):
    """(token ids, labels) in batches of `batch_size`, the last one partial.

    With `shuffle`, every epoch draws a new order of all reviews from a
    generator seeded by `seed`, the same on every backend. With `bucket`,
    reviews are grouped by `bucket_length` and padded only that far. With
    `multiple_of` > 1, each batch is padded to a multiple of that many rows
    with copies of its first review of sample weight 0, so it splits evenly
    over devices; the batches then carry sample weights (1 for real rows).
    With `processes` > 1 (`multiple_of` then counts every process's
    devices), each padded batch is cut into that many equal shares, and
    this process feeds share `process`: Keras joins them, in process order.
    With `first_epoch` = k, the first epoch is the k-th (from 0) of a run
    that started at 0, in the same order, for a run resumed there.
    """

    def __init__(
        self, token_ids, labels, batch_size, shuffle=False, seed=0, bucket=False,
        multiple_of=1, first_epoch=0, processes=1, process=0,
    ):  # fmt: skip
        super().__init__()
        if multiple_of % processes or not 0 <= process < processes:
            raise ValueError(
                f"cannot feed share {process} of {processes} of batches padded to "
                f"a multiple of {multiple_of}"
            )
        self.processes, self.process = processes, process
        self.token_ids, self.labels = token_ids, labels
        self.batch_size, self.shuffle, self.multiple_of = (
            batch_size,
            shuffle,
            multiple_of,
        )
        self.generator = np.random.default_rng(seed)
        max_seq_len = token_ids.shape[1]
        lengths = np.maximum(np.count_nonzero(token_ids, axis=1), 1)
        self.widths = np.full(len(labels), max_seq_len)
        if bucket:
            self.widths = np.array([bucket_length(n, max_seq_len) for n in lengths])
        for _ in range(first_epoch if shuffle else 0):
            self.plan()  # The orders of the epochs before, drawn and dropped.
        self.batches = self.plan()

    def plan(self):
        """This epoch's batches, as arrays of review indices."""
        order = np.arange(len(self.labels))
        if self.shuffle:
            order = self.generator.permutation(order)
        batches = []
        for width in np.unique(self.widths):
            group = order[self.widths[order] == width]
            batches += np.split(
                group, range(self.batch_size, len(group), self.batch_size)
            )
        if self.shuffle and len(np.unique(self.widths)) > 1:
            batches = [batches[i] for i in self.generator.permutation(len(batches))]
        return batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        rows = self.batches[index]
        width = self.widths[rows[0]]
        if self.multiple_of == 1:
            return self.token_ids[rows, :width], self.labels[rows]
        padding = -len(rows) % self.multiple_of
        # Copies of a real review, not rows of [PAD]: the Transformer would
        # average such a row over no tokens, 0/0 = NaN, and NaN * 0 is NaN.
        padded = np.concatenate([rows, np.repeat(rows[:1], padding)])
        weights = np.concatenate([np.ones(len(rows)), np.zeros(padding)])
        share = np.split(np.arange(len(padded)), self.processes)[self.process]
        return (
            self.token_ids[padded[share], :width],
            self.labels[padded[share]],
            weights[share].astype("float32"),
        )

    def in_review_order(self, outputs):
        """`predict`'s outputs on these batches (unshuffled), one row per
        review in the order of `token_ids`: bucketed batches regrouped the
        reviews, and padding rows are dropped. Over several processes, the
        outputs are every process's (see `hosts.DataParallel`)."""
        outputs, rows, start = np.asarray(outputs), [], 0
        for batch in self.batches:
            rows.append(outputs[start : start + len(batch)])
            start += len(batch) + (-len(batch) % self.multiple_of)
        ordered = np.empty_like(outputs[: len(self.labels)])
        ordered[np.concatenate(self.batches)] = np.concatenate(rows)
        return ordered

    def on_epoch_end(self):
        if self.shuffle:
            self.batches = self.plan()
