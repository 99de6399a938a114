"""
Title: Text Classification using FNet
Author: [Abheesht Sharma](https://github.com/abheesht17/), ported to a tested program by the fnet-imdb team
Date created: 2022/06/01
Last modified: 2026/12/06
Description: FNet and a Transformer from KerasHub layers classify IMDb reviews, honestly compared.
Accelerator: GPU
"""

"""
## Introduction

In this example, we demonstrate that FNet reaches results comparable to a vanilla
Transformer on text classification while training faster. We use the IMDb
dataset of movie reviews labelled positive or negative (sentiment analysis), and
build the tokenizer and both models from [KerasHub](https://github.com/keras-team/keras-hub)
components.

Self-attention costs `O(n^2)` in the number of tokens `n`. The paper
[FNet: Mixing Tokens with Fourier Transforms](https://arxiv.org/abs/2105.03824)
replaces it with an unparameterised 2-D Fourier transform that costs `O(n log n)`:
it has no weights to learn, and the FFT is cheap. The authors report FNet 80%
faster than BERT on GPUs, with 92-97% of its accuracy on GLUE.

This file is both the tutorial and a program: it runs top to bottom, step by
step, and every figure in the final table is measured by the run itself. Run
`python fnet_classification.py --help` for its flags. The plumbing a reader does
not need (downloading, the run's output folder, resuming after a kill, the
tables and plots) lives in the `fnet_imdb` package beside this file.
"""

"""
## Setup

Keras 3 runs on JAX, TensorFlow or PyTorch. TensorFlow prepares the data
(reading reviews, the vocabulary, the tokenizer); training reads numpy token ids
and runs on any backend. The backend you chose (`KERAS_BACKEND` or
`~/.keras/keras.json`) is respected; otherwise we pick JAX where it lists a GPU
or a TPU, else PyTorch where it sees a CUDA GPU, else TensorFlow on a CPU.

In a notebook, pick an accelerator first (in Colab: Runtime > Change runtime type,
a GPU or a TPU), then install the project and fetch the IMDb archive; the program
checks its SHA-256 and extracts it. The install keeps the JAX the runtime already
has. The TPU path is untested until it has run on one.
"""

"""shell
pip install -q "fnet-imdb @ git+https://github.com/fnet-imdb/fnet-imdb"
mkdir -p data
curl -sSL -o data/aclImdb_v1.tar.gz https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz
"""

import sys
import warnings

from fnet_imdb import backend

backend.choose_backend()  # Before Keras is imported.
# Noise to our readers: FNetEncoder takes no padding mask, by design, and Keras
# warns of that at each build; tqdm asks a notebook for ipywidgets.
warnings.filterwarnings("ignore", message=".*does not support masking.*")
warnings.filterwarnings("ignore", message="IProgress not found")

import keras
import keras_hub
import numpy as np

from fnet_imdb import batches, cli, hosts, layers, prepare, prepared, progress, results
from fnet_imdb import vocabulary as word_pieces

# An error is one line on stderr (--debug: the traceback); notebooks keep theirs.
sys.excepthook = cli.one_line_errors

"""
These are the recipe's hyperparameters. A flag overrides each one
(`--batch-size 32`); `--help` lists them with the run's other options: where the
data is, several seeds, the opt-in speed-ups. In a notebook, the flags come from
the `FNET_IMDB_FLAGS` environment variable (`%env FNET_IMDB_FLAGS=--epochs 1`).
"""

recipe = dict(
    vocab_size=15000,  # WordPiece tokens to learn, [PAD] and [UNK] included.
    max_seq_len=512,  # Tokens per review: longer ones are cut, shorter ones padded.
    embed_dim=128,  # Size of the token and position embeddings.
    intermediate_dim=512,  # Width of each encoder's feed-forward layer.
    num_heads=2,  # Attention heads of each Transformer encoder.
    num_layers=3,  # Encoder blocks in each model.
    dropout=0.1,  # Dropout before the output unit.
    learning_rate=1e-3,  # Adam's learning rate.
    batch_size=64,  # Reviews per training step.
    epochs=3,  # Passes over the training split.
    validation_split=0.2,  # Share of train/ held out for validation.
    seed=42,  # Seed of that split, and of training unless --seeds.
)
RESERVED_TOKENS = ["[PAD]", "[UNK]"]

options = cli.parse(recipe)  # Applies the flags to `recipe`; returns the rest.
devices = hosts.distribute_over_devices(options)  # [] unless --data-parallel.
record = results.start(recipe, options, devices)  # Its output folder, locked.
say = (lambda *lines: None) if options.quiet else print
say("The recipe, after the flags:")
for name, value in recipe.items():
    say(f"    {name} = {value}")

"""
## Data

The IMDb archive (84 MB, checksum verified) is downloaded once and extracted
safely. `keras.utils.text_dataset_from_directory` reads the labelled reviews of
`train/` and `test/`: one text file per review, in a `pos/` or `neg/` folder
(the unlabelled `train/unsup` is left out). `prepare.read_splits` then shuffles
`train/` with the seed and holds out its last 20% for validation, as Keras's
`validation_split` does; it drops empty reviews and replaces invalid UTF-8
(`results.json` counts both), and lower-cases every review, the one
preprocessing step, shared with the `predict` command.

Only the data steps need TensorFlow. `python -m fnet_imdb.prepare` runs them
alone and writes the vocabulary and token ids to a folder, with the settings,
counts and checksums that describe them; a GPU or TPU machine without
TensorFlow trains from it with `--prepared`, which skips these three steps:

```shell
python -m fnet_imdb.prepare --output-dir prepared/imdb
KERAS_BACKEND=jax python fnet_classification.py --prepared prepared/imdb
```
"""


def read_reviews(folder):
    return keras.utils.text_dataset_from_directory(
        folder,
        class_names=["neg", "pos"],  # Leaves out train/unsup.
        batch_size=None,
        shuffle=False,  # Shuffled next, by a generator of the seed.
        verbose=False,
    )


if options.prepared:  # Read, learnt and tokenized before: no TensorFlow needed.
    vocabulary, token_ids, labels, data = prepared.read(options.prepared)
else:
    texts, labels, data = prepare.read_splits(
        read_reviews, options, recipe["seed"], recipe["validation_split"], say
    )
for split in labels:
    say(
        f"{split}: {len(labels[split]):,} reviews, {np.mean(labels[split]):.0%} positive"
    )

"""
## Vocabulary

WordPiece splits rare words into frequent sub-words, a compromise between word
vocabularies (huge) and characters (meaningless).
`keras_hub.tokenizers.compute_word_piece_vocabulary` learns one from the
training split only, never from validation or test text. Two reserved tokens
come first: `[PAD]` (id 0, padding) and `[UNK]` (unknown). The vocabulary may
hold fewer than 15,000 tokens when the corpus is small.

It takes about two minutes on 20,000 reviews, nearly all of it in one slow loop
of tensorflow_text's learner. By default we call
`fnet_imdb.vocabulary.fast_word_piece_vocabulary`, a faster copy of that loop
that returns the identical vocabulary, token for token (tested);
`--vocab-trainer keras` runs keras-hub's own.
"""


def learn_vocabulary(texts, vocabulary_size, trainer):
    if trainer == "fast":  # The identical vocabulary, sooner.
        return word_pieces.fast_word_piece_vocabulary(
            texts, vocabulary_size, RESERVED_TOKENS
        )
    import tensorflow as tf  # keras-hub's learner reads a tf.data.Dataset.

    return keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(texts).batch(1000),
        vocabulary_size=vocabulary_size,
        reserved_tokens=RESERVED_TOKENS,
    )


if not options.prepared:
    vocabulary = learn_vocabulary(
        texts["train"], recipe["vocab_size"], options.vocab_trainer
    )
say(f"{len(vocabulary):,} tokens; tokens 100-110: {vocabulary[100:110]}")

"""
## Tokenizer

`keras_hub.tokenizers.WordPieceTokenizer` pads every review to 512 tokens with
`[PAD]` (id 0) and truncates longer ones. Token ids are `int32`, which JAX
handles without 64-bit mode. As in the keras-io example, the reviews go through
it in batches inside `tf.data`, where keras-hub runs tensorflow-text's compiled
WordPiece; called eagerly on a text, as `predict` does, it runs its own Python
copy, with the same ids (tested). Tokenization stays outside the models, so any
backend can load a saved model and feed it ids from `vocab.txt`.
"""


def make_tokenizer(vocabulary, sequence_length):
    return keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary, lowercase=False, sequence_length=sequence_length
    )


def tokenize(tokenizer, texts):
    import tensorflow as tf  # Only the data steps need it.

    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(1024)
    dataset = dataset.map(tokenizer, num_parallel_calls=tf.data.AUTOTUNE)
    return np.concatenate(list(dataset.as_numpy_iterator()))


tokenizer = make_tokenizer(vocabulary, recipe["max_seq_len"])
if not options.prepared:
    token_ids = {split: tokenize(tokenizer, texts[split]) for split in texts}
record.keep_data(vocabulary, labels["test"], data)  # vocab.txt, and the counts.
review_ids = token_ids["train"][0]
say(f"A training review, as {len(review_ids)} token ids; the first 20:")
say(" ".join(str(token_id) for token_id in review_ids[:20]))
say(f"The same 20, detokenized: {tokenizer.detokenize(review_ids[:20])}")

"""
## The models

Both classifiers share everything but their encoder blocks: token and position
embeddings (`mask_zero=True`), three encoders, global average pooling, dropout
and one sigmoid unit.

The FNet model stacks `FNetEncoder` blocks. `FNetEncoder` takes no padding mask,
by design, like the official FNet: its average pooling also averages over
padding. The Transformer model stacks `TransformerEncoder` blocks, which receive
the padding mask from the embedding and ignore padding, at the price of
attention's `n^2`.

`FNetEncoder` mixes tokens with the real part of a complex 2-D FFT, and its
gradient costs another one. For a real input half the spectrum is enough, and
the transform is its own transpose, so its gradient is the same transform.
`layers.HalfSpectrumFNetEncoder` is `FNetEncoder` with exactly that change: the
same weights and math, and an FNet step 8-12% faster on our CPUs. On a GPU it
brings nothing measurable, so `--fourier auto` uses it on a CPU only. Either way
the saved model holds plain `FNetEncoder` layers.

With `--mixed-precision` (opt-in, it changes the math) every layer computes in
bfloat16 while its weights stay float32; the Fourier transform itself runs in
float32, and the output unit stays float32.
"""


def build_classifier(kind, recipe, fourier="fast", dtype="float32"):
    if kind not in ("fnet", "transformer"):
        raise ValueError(f"Unknown model kind {kind!r}; expected fnet or transformer")
    input_ids = keras.Input(shape=(None,), dtype="int32", name="input_ids")
    x = keras_hub.layers.TokenAndPositionEmbedding(
        vocabulary_size=recipe["vocab_size"],
        sequence_length=recipe["max_seq_len"],
        embedding_dim=recipe["embed_dim"],
        mask_zero=True,
        dtype=dtype,
    )(input_ids)
    for _ in range(recipe["num_layers"]):
        if kind == "transformer":
            encoder = keras_hub.layers.TransformerEncoder(
                intermediate_dim=recipe["intermediate_dim"],
                num_heads=recipe["num_heads"],
                dtype=dtype,
            )
        elif fourier == "keras":
            encoder = keras_hub.layers.FNetEncoder(
                recipe["intermediate_dim"], dtype=dtype
            )
        else:
            encoder = layers.HalfSpectrumFNetEncoder(
                recipe["intermediate_dim"], dtype=dtype
            )
        x = encoder(inputs=x)
    x = keras.layers.GlobalAveragePooling1D(dtype=dtype)(x)
    x = keras.layers.Dropout(recipe["dropout"], dtype=dtype)(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32")(x)
    return keras.Model(input_ids, outputs, name=f"{kind}_classifier")


"""
Here are both, as the recipe builds them; training builds each afresh from its
seed.
"""

DTYPE = "mixed_bfloat16" if options.mixed_precision else "float32"
build_classifier("fnet", recipe, options.fourier, DTYPE).summary(print_fn=say)
build_classifier("transformer", recipe, dtype=DTYPE).summary(print_fn=say)

"""
## Training

Each model is trained with Adam and binary cross-entropy, monitoring accuracy on
the validation set. The training time is the wall-clock time of `fit()`,
validation included, as in the original example. Keras decides whether to
compile the step with XLA (`jit_compile="auto"`: not for TensorFlow on a CPU);
`results.json` records what it chose. Each test review then goes through the
model once: `predict` gives its probability of being positive, and Keras's own
`BinaryAccuracy` and `BinaryCrossentropy` score those probabilities as
`evaluate` would, without a second pass.

The keras-io example built its input pipeline as `shuffle(512).prefetch(16).cache()`:
caching *after* shuffling froze the first epoch's order for every later epoch.
`batches.Batches` feeds numpy token ids and draws a new order of all reviews
every epoch, from the training seed, identically on every backend. With
`--bucket-by-length` (opt-in, it changes FNet's math) reviews of similar length
are batched together and padded only to 64, 128, 256 or 512 tokens. With
`--data-parallel` (JAX), each batch is split over every device, of this machine
or of several hosts (`docs/several_hosts.md`), a partial batch padded with rows of
weight 0; the loss averages over the real rows only.
"""

BATCHING = dict(bucket=options.bucket_by_length, **hosts.batching(devices))
validation_batches = batches.Batches(
    token_ids["validation"], labels["validation"], recipe["batch_size"], **BATCHING
)
test_labels = labels["test"]
test_batches = batches.Batches(
    token_ids["test"], test_labels, recipe["batch_size"], **BATCHING
)
step_log = progress.StepLog(options.verbose)  # A line a minute in logs.
say(f"{len(validation_batches)} validation and {len(test_batches)} test batches")

"""
A killed run loses nothing: `record.backup` is Keras's `BackupAndRestore`,
written atomically, which keeps the weights, optimizer and history after every
epoch; rerunning the same command continues from there, and seeds that had
finished are kept. Opt-in `--keep-best` keeps the weights of the epoch with the
lowest validation loss (restored when `fit` ends, as `EarlyStopping` does).

## Train FNet

FNet's last epoch swings by points from seed to seed, so one run per model
cannot settle the comparison: `--seeds 42,1,7` trains each model once per seed
(the data split stays the one `--seed` chose). Each seed's test probabilities are
kept for the paired comparison at the end.
"""

for seed in record.seeds_to_train("fnet"):
    keras.utils.set_random_seed(seed)
    fnet_classifier = build_classifier("fnet", recipe, options.fourier, DTYPE)
    fnet_classifier.compile(
        optimizer=keras.optimizers.Adam(learning_rate=recipe["learning_rate"]),
        loss=keras.losses.BinaryCrossentropy(reduction="mean_with_sample_weight"),
        weighted_metrics=["accuracy"],
    )
    backup = record.backup("fnet", seed)
    fnet_classifier.fit(
        batches.Batches(
            token_ids["train"],
            labels["train"],
            recipe["batch_size"],
            shuffle=True,
            seed=seed,
            first_epoch=backup.epochs_done,
            **BATCHING,
        ),
        validation_data=validation_batches,
        shuffle=False,  # The batches shuffle, from the seed.
        epochs=recipe["epochs"],
        verbose=options.verbose,
        callbacks=[backup, step_log],
    )
    probabilities = test_batches.in_review_order(
        fnet_classifier.predict(test_batches, verbose=options.verbose)
    )
    test_accuracy = keras.metrics.BinaryAccuracy()(test_labels, probabilities)
    test_loss = keras.losses.BinaryCrossentropy()(test_labels, probabilities)
    say(f"FNet, seed {seed}: test accuracy {float(test_accuracy):.2%}")
    record.add_run(
        "fnet",
        seed,
        fnet_classifier,
        backup=backup,
        step_log=step_log,
        test_loss=test_loss,
        test_accuracy=test_accuracy,
        probabilities=probabilities,
    )

"""
## Train the Transformer
"""

for seed in record.seeds_to_train("transformer"):
    keras.utils.set_random_seed(seed)
    transformer_classifier = build_classifier("transformer", recipe, dtype=DTYPE)
    transformer_classifier.compile(
        optimizer=keras.optimizers.Adam(learning_rate=recipe["learning_rate"]),
        loss=keras.losses.BinaryCrossentropy(reduction="mean_with_sample_weight"),
        weighted_metrics=["accuracy"],
    )
    backup = record.backup("transformer", seed)
    transformer_classifier.fit(
        batches.Batches(
            token_ids["train"],
            labels["train"],
            recipe["batch_size"],
            shuffle=True,
            seed=seed,
            first_epoch=backup.epochs_done,
            **BATCHING,
        ),
        validation_data=validation_batches,
        shuffle=False,  # The batches shuffle, from the seed.
        epochs=recipe["epochs"],
        verbose=options.verbose,
        callbacks=[backup, step_log],
    )
    probabilities = test_batches.in_review_order(
        transformer_classifier.predict(test_batches, verbose=options.verbose)
    )
    test_accuracy = keras.metrics.BinaryAccuracy()(test_labels, probabilities)
    test_loss = keras.losses.BinaryCrossentropy()(test_labels, probabilities)
    say(f"Transformer, seed {seed}: test accuracy {float(test_accuracy):.2%}")
    record.add_run(
        "transformer",
        seed,
        transformer_classifier,
        backup=backup,
        step_log=step_log,
        test_loss=test_loss,
        test_accuracy=test_accuracy,
        probabilities=probabilities,
    )

"""
## Comparison

The keras-io example wrote its comparison table by hand. Ours is measured:
training time, the last epoch's train and validation accuracy, test accuracy and
parameter count for each model (mean ± standard deviation over several seeds),
and, from the test probabilities kept for each seed, a paired comparison of the
two models on the same reviews. It is printed and saved to `results.md` and
`results.json` in the output folder, next to `vocab.txt` and one saved model per
architecture (`fnet.keras`, `transformer.keras`) that loads with `keras` and
`keras_hub` alone.
"""

record.finish(None if options.prepared else texts["test"])

"""
## Conclusion

FNet replaces attention with a Fourier transform that has no weights, so each
training step does less work: on the original Colab T4 run, FNet trained in 86 s
versus 146 s for the Transformer (1.7x), for 83.9% versus 84.7% test accuracy.
The gap in speed grows with the sequence length, since the FFT scales as
`n log n` and attention as `n^2`: see `benchmarks/seq_len_scaling.py`.

To try the trained models on your own text, run
`python -m fnet_imdb.predict "What a film!"`: it uses the newest finished run.
"""
