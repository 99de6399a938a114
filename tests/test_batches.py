"""Tests for `fnet_imdb.batches`: order, shuffling, bucketing and padding."""

import keras
import numpy as np
import pytest

from fnet_imdb.batches import Batches, bucket_length, bucket_lengths


def reviews(lengths, max_seq_len=512):
    """Token ids whose row i holds `lengths[i]` copies of i + 1, then padding,
    so every row of a batch names its review; and alternating labels."""
    token_ids = np.zeros((len(lengths), max_seq_len), "int32")
    for i, length in enumerate(lengths):
        token_ids[i, :length] = i + 1
    return token_ids, np.arange(len(lengths), dtype="int32") % 2


def epoch_order(batches):
    """The reviews of one epoch, in the order the batches give them."""
    return np.concatenate([x[:, 0] - 1 for x, *_ in batches])


def test_bucket_lengths():
    """Fixed widths below the maximum, then the maximum itself."""
    assert bucket_lengths(512) == [64, 128, 256, 512]
    assert bucket_lengths(100) == [64, 100]
    assert bucket_lengths(64) == [64]
    assert [bucket_length(n, 512) for n in (1, 64, 65, 128, 129, 257, 512)] == [
        64,
        64,
        128,
        128,
        256,
        512,
        512,
    ]


def test_every_review_once_per_epoch():
    """Each epoch gives every review exactly once, also after reshuffling."""
    token_ids, labels = reviews([5 + i for i in range(45)])
    batches = Batches(token_ids, labels, 6, shuffle=True, seed=3)
    for _ in range(3):
        order = epoch_order(batches)
        assert sorted(order) == list(range(45))
        batches.on_epoch_end()


def test_batch_sizes_last_partial():
    """45 reviews in batches of 6: 7 full batches, then one of 3."""
    token_ids, labels = reviews([10] * 45)
    batches = Batches(token_ids, labels, 6)
    assert len(batches) == 8
    assert [len(batches[i][0]) for i in range(8)] == [6] * 7 + [3]
    x, y = batches[7]
    np.testing.assert_array_equal(x, token_ids[42:45])
    np.testing.assert_array_equal(y, labels[42:45])


def test_no_shuffle_keeps_file_order():
    """Without shuffle, the order is the files' in every epoch."""
    token_ids, labels = reviews([10] * 20)
    batches = Batches(token_ids, labels, 6, shuffle=False, seed=3)
    np.testing.assert_array_equal(epoch_order(batches), np.arange(20))
    batches.on_epoch_end()
    np.testing.assert_array_equal(epoch_order(batches), np.arange(20))


def test_shuffle_new_order_each_epoch_reproducible():
    """A new order every epoch, the same for the same seed, not for another."""
    token_ids, labels = reviews([10] * 40)

    def orders(seed, epochs=3):
        batches = Batches(token_ids, labels, 6, shuffle=True, seed=seed)
        result = []
        for _ in range(epochs):
            result.append(epoch_order(batches))
            batches.on_epoch_end()
        return result

    first = orders(seed=7)
    assert not np.array_equal(first[0], np.arange(40))
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[1], first[2])
    for a, b in zip(first, orders(seed=7)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], orders(seed=8)[0])


def test_shuffled_labels_follow_their_reviews():
    """Shuffling moves each label with its review."""
    token_ids, labels = reviews([10] * 30)
    for x, y in Batches(token_ids, labels, 4, shuffle=True, seed=1):
        np.testing.assert_array_equal(y, labels[x[:, 0] - 1])


@pytest.mark.parametrize("shuffle", [False, True])
def test_bucket_pads_to_bucket_width_only(shuffle):
    """Each batch is as wide as its reviews' bucket, one width per batch,
    and no token is cut."""
    lengths = [3, 64, 65, 100, 128, 129, 256, 257, 400, 512] * 4
    token_ids, labels = reviews(lengths)
    batches = Batches(token_ids, labels, 3, shuffle=shuffle, seed=5, bucket=True)
    widths, tokens = set(), 0
    for x, y in batches:
        rows = x[:, 0] - 1
        width = x.shape[1]
        assert {bucket_length(lengths[i], 512) for i in rows} == {width}
        np.testing.assert_array_equal(x, token_ids[rows, :width])
        widths.add(width)
        tokens += np.count_nonzero(x)
    assert widths == {64, 128, 256, 512}
    assert tokens == np.count_nonzero(token_ids) == sum(lengths)
    assert sorted(epoch_order(batches)) == list(range(len(lengths)))


def test_bucket_batch_count_constant_over_epochs():
    """Shuffled buckets keep their batch count, so Keras's steps stay right."""
    token_ids, labels = reviews([10, 70, 300] * 7)
    batches = Batches(token_ids, labels, 4, shuffle=True, seed=0, bucket=True)
    count = len(batches)
    assert count == 3 * 2  # 7 reviews per bucket: a batch of 4, one of 3.
    batches.on_epoch_end()
    assert len(batches) == count


def test_without_bucket_pads_to_max_seq_len():
    """Without bucketing, every batch keeps the full sequence length."""
    token_ids, labels = reviews([3, 70, 300] * 3)
    assert {x.shape[1] for x, _ in Batches(token_ids, labels, 2)} == {512}


def test_multiple_of_one_returns_x_y():
    """`multiple_of=1` gives (token ids, labels), no sample weights."""
    token_ids, labels = reviews([10] * 5)
    batch = Batches(token_ids, labels, 3)[1]
    assert len(batch) == 2
    assert batch[0].shape == (2, 512)


def test_multiple_of_pads_with_zero_weight_rows():
    """An odd batch gets one more row of weight 0; real rows weigh 1."""
    token_ids, labels = reviews([10] * 45)
    batches = Batches(token_ids, labels, 6, multiple_of=2)
    x, y, weights = batches[0]
    assert x.shape == (6, 512) and y.shape == (6,)
    np.testing.assert_array_equal(weights, np.ones(6))
    x, y, weights = batches[7]
    assert x.shape == (4, 512) and y.shape == (4,)
    assert weights.dtype == np.float32
    np.testing.assert_array_equal(weights, [1, 1, 1, 0])
    np.testing.assert_array_equal(x[:3], token_ids[42:45])
    np.testing.assert_array_equal(y[:3], labels[42:45])


def test_multiple_of_pads_bucketed_batch_to_its_width():
    """Padding rows take the bucket's width, not the maximum."""
    token_ids, labels = reviews([10] * 3)
    x, y, weights = Batches(token_ids, labels, 8, bucket=True, multiple_of=4)[0]
    assert x.shape == (4, 64)
    np.testing.assert_array_equal(weights, [1, 1, 1, 0])


def tiny_classifier(mask_zero):
    """Embedding, average pooling and a sigmoid unit, compiled like the recipe."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(50, 4, mask_zero=mask_zero)(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.5),
        loss=keras.losses.BinaryCrossentropy(reduction="mean_with_sample_weight"),
        weighted_metrics=["accuracy"],
    )
    return model


@pytest.mark.parametrize("mask_zero", [False, True])
def test_fit_padded_batches_train_like_unpadded(mask_zero):
    """`fit` on batches padded with weight-0 rows updates the weights exactly
    as on the unpadded batches (the loss averages over real rows only)."""
    token_ids, labels = reviews([2, 5, 9, 3, 7, 4, 8, 6, 1], max_seq_len=12)
    token_ids = np.minimum(token_ids, 49)
    padded_model = tiny_classifier(mask_zero)
    plain_model = tiny_classifier(mask_zero)
    plain_model.set_weights(padded_model.get_weights())
    padded = Batches(token_ids, labels, 3, multiple_of=2)
    assert padded[0][0].shape == (4, 12)
    # shuffle=False: Keras would otherwise reorder the batches with `random`.
    padded_history = padded_model.fit(padded, epochs=2, shuffle=False, verbose=0)
    plain_history = plain_model.fit(
        Batches(token_ids, labels, 3), epochs=2, shuffle=False, verbose=0
    )
    np.testing.assert_allclose(
        padded_history.history["loss"], plain_history.history["loss"], atol=1e-6
    )
    for a, b in zip(padded_model.get_weights(), plain_model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_fit_reshuffles_every_epoch():
    """Under `fit`, every epoch starts with a new order of all reviews."""

    class Recorded(Batches):
        orders = []

        def on_epoch_begin(self):
            Recorded.orders.append(np.concatenate(self.batches))

    token_ids, labels = reviews([3] * 16, max_seq_len=12)
    model = tiny_classifier(mask_zero=False)
    model.fit(Recorded(token_ids, labels, 4, shuffle=True), epochs=3, verbose=0)
    assert len(Recorded.orders) == 3
    for order in Recorded.orders:
        assert sorted(order) == list(range(16))
    for before, after in zip(Recorded.orders, Recorded.orders[1:]):
        assert not np.array_equal(before, after)


@pytest.mark.parametrize("bucket", [False, True])
def test_first_epoch_has_the_uninterrupted_runs_order(bucket):
    """With `first_epoch=k`, epochs k, k+1... come in the order an
    uninterrupted run gives them, bucketed or not."""
    token_ids, labels = reviews([10, 70, 300] * 9)

    def orders(first_epoch, epochs):
        batches = Batches(
            token_ids, labels, 4, shuffle=True, seed=2, bucket=bucket,
            first_epoch=first_epoch,
        )  # fmt: skip
        result = []
        for _ in range(epochs):
            result.append(epoch_order(batches))
            batches.on_epoch_end()
        return result

    uninterrupted = orders(0, 4)
    for a, b in zip(orders(2, 2), uninterrupted[2:]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(orders(2, 1)[0], uninterrupted[0])


def test_fit_resumed_at_first_epoch_sees_the_same_orders():
    """Under `fit` resumed at epoch 2 (`initial_epoch`), epochs 2 and 3 see
    the orders of an uninterrupted run's epochs 2 and 3."""

    class Recorded(Batches):
        def on_epoch_begin(self):
            self.orders.append(np.concatenate(self.batches))

    token_ids, labels = reviews([3] * 16, max_seq_len=12)

    def orders(first_epoch):
        batches = Recorded(token_ids, labels, 4, shuffle=True, first_epoch=first_epoch)
        batches.orders = []
        tiny_classifier(mask_zero=False).fit(
            batches, epochs=4, initial_epoch=first_epoch, shuffle=False, verbose=0
        )
        return batches.orders

    uninterrupted = orders(0)
    assert len(uninterrupted) == 4
    resumed = orders(2)
    assert len(resumed) == 2
    for a, b in zip(resumed, uninterrupted[2:]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bucket, multiple_of", [(False, 1), (True, 1), (True, 3)])
def test_in_review_order_undoes_buckets_and_padding(bucket, multiple_of):
    """`predict` on bucketed or padded batches gives rows in batch order, with
    padding rows: `in_review_order` returns one row per review, in order."""
    token_ids, labels = reviews([300, 10, 100, 500, 70, 20, 200, 5], max_seq_len=512)
    batches = Batches(token_ids, labels, 3, bucket=bucket, multiple_of=multiple_of)
    outputs = np.concatenate([x[:, :1] for x, *_ in batches])  # Each row's review + 1.
    assert len(outputs) >= len(labels)
    ordered = batches.in_review_order(outputs)
    np.testing.assert_array_equal(ordered[:, 0], np.arange(1, len(labels) + 1))


@pytest.mark.parametrize("bucket", [False, True])
def test_process_shares_join_into_the_padded_batch(bucket):
    """Over 2 processes of 2 devices each, each batch padded to a multiple of
    4 is cut in two halves, one a process; joined in process order they are
    the batch of one process with 4 devices (a last batch of 1 review: 3
    padding rows, the second share all padding); unshuffled, their joined
    outputs come back in review order."""
    token_ids, labels = reviews([300, 10, 100, 500, 70, 20, 200, 5, 9], max_seq_len=512)
    settings = dict(shuffle=True, seed=4, bucket=bucket, multiple_of=4)
    whole = Batches(token_ids, labels, 4, **settings)
    shares = [
        Batches(token_ids, labels, 4, **settings, processes=2, process=p)
        for p in (0, 1)
    ]
    assert len(shares[0]) == len(shares[1]) == len(whole)
    for index in range(len(whole)):
        for array, first, second in zip(
            whole[index], shares[0][index], shares[1][index]
        ):
            assert len(first) == len(second) == len(array) // 2
            np.testing.assert_array_equal(np.concatenate([first, second]), array)
    last = [batches[len(whole) - 1][2] for batches in shares]
    if not bucket:
        np.testing.assert_array_equal(np.concatenate(last), [1, 0, 0, 0])
    settings.update(shuffle=False)
    one = Batches(token_ids, labels, 4, **settings)
    test = Batches(token_ids, labels, 4, **settings, processes=2, process=1)
    outputs = np.concatenate([x[:, :1] for x, *_ in one])  # Every process's rows.
    ordered = test.in_review_order(outputs)
    np.testing.assert_array_equal(ordered[:, 0], np.arange(1, len(labels) + 1))


def test_shares_must_divide_the_padding():
    token_ids, labels = reviews([5] * 6)
    with pytest.raises(ValueError, match="cannot feed share 1 of 2"):
        Batches(token_ids, labels, 4, multiple_of=3, processes=2, process=1)
    with pytest.raises(ValueError, match="cannot feed share 2 of 2"):
        Batches(token_ids, labels, 4, multiple_of=2, processes=2, process=2)
