"""A callback that watches training: a line a minute in logs, and when the first step began."""

import time

import keras


class StepLog(keras.callbacks.Callback):
    """Notes when each `fit` first steps (`first_step_at`, a `perf_counter`
    time); with Keras's `verbose` 2 (one line per epoch, as in logs), also
    prints a line every `every_seconds`."""

    async_safe = True  # Keeps JAX's asynchronous dispatch: it only prints.

    def __init__(self, verbose, every_seconds=60):
        super().__init__()
        self.every_seconds, self.first_step_at = every_seconds, None
        self.enabled = verbose == 2

    def on_train_begin(self, logs=None):
        self.first_step_at = None

    def on_train_batch_begin(self, batch, logs=None):
        if self.first_step_at is None:
            self.first_step_at = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.start = epoch + 1, time.perf_counter()
        self.last = self.start

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self.enabled and now - self.last >= self.every_seconds:
            self.last = now
            rate = (now - self.start) / (batch + 1)
            print(
                f"  epoch {self.epoch}: step {batch + 1}/"
                f"{self.params.get('steps') or '?'}, {rate:.2f} s/step, "
                f"loss {(logs or {}).get('loss', float('nan')):.4f}",
                flush=True,
            )
