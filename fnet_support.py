"""Plumbing for `fnet_classification.py` that a reader of the tutorial does not need.

Robust download and extraction, data checks, the on-disk cache, output files
written atomically, plots, the `predict` command and the command-line glue.
Keras, TensorFlow and matplotlib are imported inside the functions that need
them, so the tutorial can choose the Keras backend before anything loads Keras.
"""

import argparse
import collections
import contextlib
import dataclasses
import functools
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import sys
import tarfile
import tempfile
import time
import traceback
import unicodedata
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
IMDB_SIZE = 84_125_825
CLASS_NAMES = ("neg", "pos")
OUTPUT_FILES = (
    "vocab.txt",
    "fnet.keras",
    "transformer.keras",
    "results.json",
    "results.md",
    "learning_curves.png",
    "comparison.png",
)
BUCKET_LENGTHS = (64, 128, 256, 512)


# ---------------------------------------------------------------- command line


def option(default, parse, help_text, metavar=None):
    """A `Config` field whose command-line flag is generated from its metadata."""
    metadata = {"parse": parse, "help": help_text, "metavar": metavar}
    return dataclasses.field(default=default, metadata=metadata)


class Parser(argparse.ArgumentParser):
    """An argparse parser that reports a bad flag in one line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def sample_count(text):
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(
            f"must be at least 2 (one per label), got {text}"
        )
    return value


def seed_value(text):
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be in [0, 2**32), got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def open_fraction(text):
    value = fraction(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return value


def model_list(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - {"fnet", "transformer"})
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown model {','.join(unknown) or text!r}; choose from fnet,transformer"
        )
    return ",".join(dict.fromkeys(names))


def choice(*options):
    def parse(text):
        if text not in options:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(options)}")
        return text

    return parse


def sha256_hex(text):
    value = text.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise argparse.ArgumentTypeError("must be 64 hexadecimal digits")
    return value


METAVARS = {
    positive_int: "N",
    sample_count: "N",
    seed_value: "N",
    positive_float: "X",
    fraction: "FRACTION",
    open_fraction: "FRACTION",
    model_list: "MODELS",
    sha256_hex: "HEX",
    str: "PATH",
}


def parser_from_dataclass(config_class, doc):
    """One flag per field of `config_class`: `batch_size` becomes `--batch-size`."""
    title = doc.split("Description:")[1].split("\n")[0].strip()
    parser = Parser(
        allow_abbrev=False,
        prog="fnet_classification.py",
        description=f"{title} Defaults are the keras-io recipe.",
        epilog="To classify new text with a finished run: "
        "fnet_classification.py predict --run-dir runs/latest 'Great film!' "
        "(see predict --help).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for field in dataclasses.fields(config_class):
        flag = "--" + field.name.replace("_", "-")
        parse, help_text = field.metadata["parse"], field.metadata["help"]
        if parse is bool:
            parser.add_argument(flag, action="store_true", help=help_text)
        else:
            metavar = field.metadata["metavar"] or METAVARS.get(parse, "VALUE")
            parser.add_argument(
                flag, type=parse, default=field.default, metavar=metavar, help=help_text
            )
    return parser


def run_cli(main, argv):
    """Run `main` (or `predict`) and turn every failure into one line on stderr."""
    debug = "--debug" in argv
    try:
        if argv[:1] == ["predict"]:
            predict_main(argv[1:])
        else:
            main(argv)
        return 0
    except KeyboardInterrupt:
        finished = ", ".join(Report.active.finished) if Report.active else ""
        print(
            f"interrupted: finished {finished or 'nothing'}; "
            "no half-written output was left behind",
            file=sys.stderr,
        )
        return 130
    except Exception as error:  # The one place that turns errors into messages.
        if debug:
            traceback.print_exc()
        message = str(error) or type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1


def default_backend():
    """TensorFlow on CPU, JAX on an NVIDIA GPU: the fastest we measured (README)."""
    from importlib import metadata

    gpus = Path("/proc/driver/nvidia/gpus")
    has_gpu = gpus.is_dir() and any(gpus.iterdir())
    jax_cuda = any(
        (dist.metadata["Name"] or "").startswith("jax-cuda")
        for dist in metadata.distributions()
    )
    return "jax" if has_gpu and jax_cuda else "tensorflow"


def jit_compile():
    """XLA, except for TensorFlow on a CPU, where oneDNN's kernels were faster (README)."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            return False
    return "auto"


@contextlib.contextmanager
def native_logs_silenced():
    """Send file descriptor 2 to /dev/null: C++ logs bypass Python's stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def silence_known_warnings():
    """Warnings about behaviour the tutorial chooses and explains."""
    import warnings

    # FNetEncoder ignores the padding mask by design (see "Models").
    warnings.filterwarnings("ignore", message=".*does not support masking.*")
    # Our tf.data pipeline shuffles itself; fit()'s default shuffle=True is moot.
    warnings.filterwarnings("ignore", message=".*`shuffle=True` was passed.*")


def distribute_over_devices(config, report):
    """Data parallelism with Keras's distribution API: one batch, many devices."""
    import keras

    if keras.backend.backend() != "jax":
        raise ValueError("--data-parallel needs the JAX backend: set KERAS_BACKEND=jax")
    devices = keras.distribution.list_devices()
    if config.batch_size % len(devices):
        raise ValueError(
            f"--batch-size {config.batch_size} must be a multiple of the "
            f"{len(devices)} devices for --data-parallel"
        )
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=devices)
    )
    report.results["environment"]["data_parallel_devices"] = devices
    report.say(f"Data parallel over {len(devices)} devices: {', '.join(devices)}")


def keras_verbosity(quiet):
    """Progress bars on a terminal, one line per epoch in logs, nothing if quiet."""
    if quiet:
        return 0
    return 1 if sys.stdout.isatty() else 2


# ------------------------------------------------------------------- download


class DownloadError(OSError):
    pass


# keras.utils.get_file writes straight to the target without resuming,
# classifying errors or retrying, so the download is written here by hand.
def download(url, target, sha256, expected_size=None, attempts=4, delay=1.0):
    """Download `url` to `target` via `target.part`, resuming and verifying."""
    target = Path(target)
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    resumed = part.exists()
    for attempt in range(attempts):
        try:
            _fetch(url, part, expected_size)
            break
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise DownloadError(f"{url} answered HTTP {error.code} {error.reason}")
            problem = f"HTTP {error.code} {error.reason}"
        except (urllib.error.URLError, OSError) as error:
            problem = getattr(error, "reason", None) or error
        if attempt + 1 == attempts:
            raise DownloadError(f"could not download {url} ({problem})")
        time.sleep(delay * 2**attempt)
    actual = file_sha256(part)
    if actual != sha256:
        part.unlink()
        if resumed:  # The old .part may come from another file: start over once.
            return download(url, target, sha256, expected_size, attempts, delay)
        raise DownloadError(
            f"{url} gave a file with SHA-256 {actual}, expected {sha256}; "
            "it was deleted (check --data-url and --sha256)"
        )
    os.replace(part, target)
    return target


def _fetch(url, part, expected_size):
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # Nothing left to send: check what we have.
            return
        raise
    with response:
        if offset and response.status != 206:
            offset = 0  # The server ignored the range: start over.
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length else expected_size
        with open(part, "ab" if offset else "wb") as file:
            progress = Progress(total, offset)
            while chunk := response.read(1 << 16):
                file.write(chunk)
                progress.update(len(chunk))
            progress.close()
    if total and part.stat().st_size < total:
        raise DownloadError(f"connection closed after {part.stat().st_size} bytes")


class Progress:
    """Bytes and rate on a terminal; silent in logs and CI."""

    def __init__(self, total, done):
        self.total, self.done, self.start = total, done, time.perf_counter()
        self.enabled = sys.stderr.isatty()

    def update(self, count):
        self.done += count
        if self.enabled:
            rate = self.done / max(time.perf_counter() - self.start, 1e-6) / 1e6
            total = f"/{self.total / 1e6:.1f}" if self.total else ""
            print(
                f"\r  {self.done / 1e6:.1f}{total} MB, {rate:.1f} MB/s",
                end="",
                file=sys.stderr,
            )

    def close(self):
        if self.enabled:
            print(file=sys.stderr)


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------ extraction


def extract(archive, destination_root, sha256=None):
    """Extract `archive` once into `destination_root/<checksum>`, atomically."""
    archive = Path(archive)
    if not archive.is_file():
        raise ValueError(f"archive {archive} does not exist")
    destination_root = Path(destination_root)
    destination_root.mkdir(parents=True, exist_ok=True)
    final = destination_root / (sha256 or file_sha256(archive))[:16]
    if final.is_dir():
        return final
    for stale in destination_root.glob(".partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=destination_root))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(partial, filter=_safe_member)
            while tar.fileobj.read(1 << 20):  # gzip checks its CRC at the very end.
                pass
        os.rename(partial, final)
    except tarfile.FilterError as error:
        raise ValueError(f"refusing to extract {archive}: unsafe member ({error})")
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ValueError(f"{archive} is not a readable .tar.gz archive ({error})")
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return final


def _safe_member(member, path):
    """The "data" filter (no `..`, no links outside), refusing absolute names too:
    on its own it strips their leading "/" and extracts them."""
    if os.path.isabs(member.name):
        raise tarfile.AbsolutePathError(member)
    return tarfile.data_filter(member, path)


def dataset_root(extracted):
    """The folder holding `train/`: `aclImdb/` in the official archive."""
    for candidate in (extracted / "aclImdb", extracted):
        if (candidate / "train").is_dir():
            return candidate
    return extracted / "aclImdb"


# ---------------------------------------------------------------------- data


def prepare_dataset(config, report):
    """Return the aclImdb folder to read, downloading and extracting if needed."""
    if config.data_dir:
        root = Path(config.data_dir)
    else:
        if config.archive:
            archive = Path(config.archive)
            if not archive.is_file():
                raise ValueError(f"archive {archive} does not exist")
            digest = file_sha256(archive)
        else:
            archive = Path(config.download_dir) / "aclImdb_v1.tar.gz"
            digest = file_sha256(archive) if archive.is_file() else None
            if digest != config.sha256:
                report.say(f"Downloading {config.data_url} to {archive}")
                size = IMDB_SIZE if config.sha256 == IMDB_SHA256 else None
                try:
                    download(config.data_url, archive, config.sha256, size)
                except DownloadError as error:
                    raise DownloadError(
                        f"{error}. To run offline, pass --archive with a copy of "
                        "aclImdb_v1.tar.gz or --data-dir with an extracted aclImdb folder"
                    ) from error
                digest = config.sha256
        report.results["data"]["archive_sha256"] = digest
        extracted = extract(archive, Path(config.download_dir) / "extracted", digest)
        root = dataset_root(extracted)
    check_dataset_dir(root, need_test=not config.holdout_test)
    report.results["data"]["directory"] = str(root)
    return root


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
    texts, labels = [], []
    for text_batch, label_batch in dataset.batch(4096).as_numpy_iterator():
        texts.extend(text_batch)
        labels.extend(label_batch)
    return np.array(texts, dtype=object), np.array(labels, dtype="int32")


def split_tail(split, fraction_):
    """Hold out the last `fraction_` of a split, as Keras's validation_split does."""
    texts, labels = split
    count = int(fraction_ * len(texts))
    if not 0 < count < len(texts):
        raise ValueError(
            f"--validation-split {fraction_} of {len(texts)} reviews leaves a split empty"
        )
    keep = len(texts) - count
    return (texts[:keep], labels[:keep]), (texts[keep:], labels[keep:])


def clean_reviews(texts, labels, name, report):
    """Replace invalid UTF-8, drop empty reviews, and count both."""
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
    kept_labels = np.array(kept_labels, dtype="int32")
    if len(set(kept_labels.tolist())) < 2:
        raise ValueError(
            f"the {name} split needs reviews of both labels, found {len(kept)}"
        )
    report.results["data"][name] = {
        "reviews": len(kept),
        "empty_skipped": empty,
        "invalid_utf8_replaced": invalid,
    }
    return np.array(kept, dtype=object), kept_labels


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


def bucket_lengths(max_seq_len):
    return [n for n in BUCKET_LENGTHS if n < max_seq_len] + [max_seq_len]


def bucket_length(length, max_seq_len):
    """The padded length of a review of `length` tokens in a bucketed run."""
    return next(n for n in bucket_lengths(max_seq_len) if n >= length)


def bucket_batches(dataset, token_ids, config):
    """Batches of similar length, padded to the next of a few fixed lengths."""
    import tensorflow as tf

    lengths = bucket_lengths(config.max_seq_len)

    def length(ids, label):
        return tf.maximum(tf.math.count_nonzero(ids, dtype=tf.int32), 1)

    # Each bucket ends on a partial batch. Counting them up front lets Keras show
    # "step n/N" and spares it a "ran out of data" warning after the first epoch.
    widths = collections.Counter(
        bucket_length(max(n, 1), config.max_seq_len)
        for n in np.count_nonzero(token_ids, axis=1)
    )
    batches = sum(-(-count // config.batch_size) for count in widths.values())
    dataset = dataset.map(lambda ids, label: (ids[: length(ids, label)], label))
    dataset = dataset.bucket_by_sequence_length(
        length,
        bucket_boundaries=[n + 1 for n in lengths],
        bucket_batch_sizes=[config.batch_size] * (len(lengths) + 1),
        pad_to_bucket_boundary=True,
    )
    return dataset.apply(tf.data.experimental.assert_cardinality(batches))


# ------------------------------------------------------------- fast Fourier

# FNetEncoder mixes tokens with Re(FFT2(x)) through a complex FFT of the whole
# input, and autodiff then runs an inverse complex FFT. Keras has no real-input
# 2-D FFT (its 1-D `rfft` plus `fft` over the other axis, with transposes, was
# slower with TensorFlow), so `real_fft2` calls the backend's own.


def real_fft2(x):
    """Re(FFT2(x)) over the last two axes of a real x, from half its spectrum
    (TensorFlow or JAX backend).

    For a real input Re Y[m, k] = Re Y[-m, -k] (indices modulo the axis sizes):
    the real-input FFT's first width // 2 + 1 columns give the others.
    """
    import keras
    from keras import ops

    if keras.backend.backend() == "jax":
        import jax.numpy as jnp

        half = jnp.real(jnp.fft.rfft2(x))
    else:
        import tensorflow as tf

        half = tf.math.real(tf.signal.rfft2d(x))
    rows_negated = ops.concatenate(
        [half[..., :1, :], ops.flip(half[..., 1:, :], axis=-2)], axis=-2
    )
    columns = ops.flip(rows_negated[..., 1 : (ops.shape(x)[-1] + 1) // 2], axis=-1)
    return ops.concatenate([half, columns], axis=-1)


@functools.cache
def half_spectrum_fnet_encoder():
    """keras-hub's FNetEncoder with the same weights and math, mixing by `real_fft2`.

    Registered for `keras.saving.load_model`. Backends other than TensorFlow and
    JAX use FNetEncoder's own mixing.
    """
    import keras
    import keras_hub
    from keras import ops

    @ops.custom_gradient
    def fourier_mixing(x):
        def gradient(*args, upstream=None):
            # Re(FFT2) is linear and its own transpose (the DFT matrix is
            # symmetric), so its gradient is the same transform.
            return real_fft2(args[0] if upstream is None else upstream)

        return real_fft2(x), gradient

    @keras.saving.register_keras_serializable(package="fnet_imdb")
    class HalfSpectrumFNetEncoder(keras_hub.layers.FNetEncoder):
        def call(self, inputs, training=None):
            if keras.backend.backend() not in ("tensorflow", "jax"):
                return super().call(inputs, training=training)
            # FNetEncoder.call with another mixing: it has no hook for one.
            mixed = fourier_mixing(ops.cast(inputs, "float32"))  # As FNetEncoder.
            mixed = self._mixing_layer_norm(inputs + ops.cast(mixed, inputs.dtype))
            x = self._output_dense(self._intermediate_dense(mixed))
            x = self._output_dropout(x, training=training)
            return self._output_layer_norm(mixed + x)

    return HalfSpectrumFNetEncoder


# ---------------------------------------------------------- fast vocabulary

# keras_hub's compute_word_piece_vocabulary spends nearly all its time (105 of
# 108 s on 20,000 IMDb reviews) in tensorflow_text's `learn`; nothing in either
# library does the same faster, so the slow part is rewritten here.
JOINER = "##"


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
    threshold, once. It also pretokenizes in batches of 5000 texts.
    """
    import tensorflow as tf
    from keras_hub.src.tokenizers.word_piece_tokenizer import pretokenize
    from tensorflow_text.tools.wordpiece_vocab import (
        wordpiece_tokenizer_learner_lib as learner,
    )

    words = (
        pretokenize(tf.constant(texts[i : i + 5000]), False, False, True, True)
        for i in range(0, len(texts), 5000)
    )
    word_counts = learner.count_words(words).items()
    # `learn`'s defaults, as `compute_word_piece_vocabulary` uses them.
    p = learner.Params(
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
    # Same preparation and binary search as `learner.learn`.
    upper, lower = learner.get_search_threshs(
        word_counts, p.upper_thresh, p.lower_thresh
    )
    all_counts = learner.get_input_words(
        word_counts, reserved_tokens, p.max_token_length
    )
    allowed_chars = learner.get_allowed_chars(all_counts, p.max_unique_chars)
    word_counts = learner.filter_input_words(
        all_counts, allowed_chars, p.max_input_tokens
    )
    char_tokens = learner.extract_char_tokens(word_counts)
    # The first iteration splits words at every character, whatever `thresh`.
    first = collections.defaultdict(int)
    for word, count in word_counts:
        first[word] += count
        for start in range(1, len(word)):
            first[JOINER + word[start:]] += count
    # Words starting with "##" would mix with suffixes in `_learn_with_thresh`.
    exact = any(word.startswith(JOINER) for word, _ in word_counts)
    while True:
        thresh = (upper + lower) // 2
        if exact or thresh < 1:
            vocab = learner.learn_with_thresh(word_counts, thresh, p)
        else:
            vocab = _learn_with_thresh(word_counts, thresh, p, char_tokens, first)
        size = len(vocab)
        within_slack = 0 <= vocabulary_size - size <= p.slack_ratio * vocabulary_size
        if within_slack or lower >= upper or thresh <= 1:
            return vocab[:vocabulary_size]
        if size > vocabulary_size:
            lower = thresh + 1
        else:
            upper = thresh - 1


def _learn_with_thresh(word_counts, thresh, params, char_tokens, first):
    """Same vocabulary as `learner.learn_with_thresh(word_counts, thresh, params)`.

    After its subtractions, a word keeps its own count and "##" + rest keeps
    the count of the words split so that `rest` is left after a piece.
    """
    from tensorflow_text.tools.wordpiece_vocab import (
        wordpiece_tokenizer_learner_lib as learner,
    )

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


# --------------------------------------------------------------------- cache


def tokenizer_versions():
    """Versions of the libraries whose code decides vocabularies and token ids."""
    from importlib import metadata

    return ",".join(metadata.version(n) for n in ("keras-hub", "tensorflow-text"))


def fingerprint(*parts):
    """SHA-256 of the content of strings, numbers and arrays of bytes."""
    digest = hashlib.sha256()
    for part in parts:
        items = part if isinstance(part, (list, tuple, np.ndarray)) else [part]
        for item in items:
            data = item if isinstance(item, bytes) else str(item).encode("utf-8")
            digest.update(len(data).to_bytes(8, "little") + data)
        digest.update(b"|")
    return digest.hexdigest()


class Cache:
    """Arrays on disk, keyed by the content they were computed from."""

    def __init__(self, directory, enabled, report):
        self.directory, self.enabled, self.report = Path(directory), enabled, report

    def get(self, name, inputs, compute):
        """`compute()`'s dict of arrays, reused while `inputs` stay the same."""
        key = fingerprint(*inputs, tokenizer_versions())
        path = self.directory / f"{name}-{key[:24]}.npz"
        if self.enabled and path.exists():
            arrays = self._load(path)
            if arrays is not None:
                self.report.results["cache"][name] = "reused"
                return arrays
            self.report.say(f"Cache entry {path} is corrupt; rebuilding it")
        arrays = compute()
        self.report.results["cache"][name] = "computed"
        if self.enabled:
            self.directory.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as partial:
                np.savez(partial, **arrays)
        return arrays

    @staticmethod
    def _load(path):
        """The arrays, or None if the entry is damaged (zip checks CRC-32)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                return {key: data[key] for key in data.files}
        except Exception:  # Any unreadable entry is rebuilt, whatever broke it.
            return None


# -------------------------------------------------------------------- output


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; move it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_text(path, text):
    with atomic_path(path) as partial:
        partial.write_text(text, encoding="utf-8")


def environment():
    import keras
    import keras_hub
    import tensorflow as tf

    backend = keras.backend.backend()
    info = {
        "keras_backend": backend,
        "python": platform.python_version(),
        "keras": keras.__version__,
        "keras_hub": keras_hub.__version__,
        "tensorflow": tf.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "jit_compile": jit_compile(),
    }
    if backend == "jax":
        import jax

        info["jax"] = jax.__version__
        info["device"] = str(jax.devices()[0].device_kind)
    elif backend == "torch":
        import torch

        info["torch"] = torch.__version__
        info["device"] = (
            torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
        )
    else:
        gpus = tf.config.list_physical_devices("GPU")
        details = tf.config.experimental.get_device_details(gpus[0]) if gpus else {}
        info["device"] = details.get("device_name", "cpu")
    return info


class Report:
    """Stages, timings and results of one run, and the files it writes."""

    active = None

    def __init__(self, config):
        self.config, self.finished = config, []
        self.started = time.perf_counter()
        self.output_dir = Path(config.output_dir)
        self.results = {
            "config": dataclasses.asdict(config),
            "environment": environment(),
            "timings": {},
            "cache": {},
            "data": {},
            "models": {},
            "complete": False,
        }
        Report.active = self

    def say(self, message):
        if not self.config.quiet:
            print(message, flush=True)

    @contextlib.contextmanager
    def stage(self, name):
        self.say(f"== {name} ...")
        start = time.perf_counter()
        quiet = self.config.quiet
        with (
            contextlib.redirect_stdout(io.StringIO())
            if quiet
            else contextlib.nullcontext()
        ):
            yield
        seconds = time.perf_counter() - start
        self.results["timings"][name] = seconds
        self.finished.append(name)
        self.say(f"== {name} done in {seconds:.1f} s")

    def training_callbacks(self, every_seconds=60):
        """Note when training starts; in logs, print a line every minute."""
        import keras

        report, log = self, not (self.config.quiet or sys.stdout.isatty())

        class StepLog(keras.callbacks.Callback):
            async_safe = True  # Keeps JAX's asynchronous dispatch: it only prints.

            def on_train_batch_begin(self, batch, logs=None):
                if "to_first_step" not in report.results["timings"]:
                    seconds = time.perf_counter() - report.started
                    report.results["timings"]["to_first_step"] = seconds
                    report.results["first_step_unix_time"] = time.time()

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch, self.start = epoch + 1, time.perf_counter()
                self.last = self.start

            def on_train_batch_end(self, batch, logs=None):
                now = time.perf_counter()
                if log and now - self.last >= every_seconds:
                    self.last = now
                    rate = (now - self.start) / (batch + 1)
                    print(
                        f"  epoch {self.epoch}: step {batch + 1}/"
                        f"{self.params.get('steps') or '?'}, {rate:.2f} s/step, "
                        f"loss {(logs or {}).get('loss', float('nan')):.4f}",
                        flush=True,
                    )

        return [StepLog()]

    def save_vocabulary(self, vocabulary):
        """The run's first output: it replaces all of the previous run's."""
        for name in OUTPUT_FILES:
            (self.output_dir / name).unlink(missing_ok=True)
        write_text(self.output_dir / "vocab.txt", "".join(f"{t}\n" for t in vocabulary))

    def save_model(self, kind, model, metrics):
        with atomic_path(self.output_dir / f"{kind}.keras") as partial:
            model.save(partial)
        self.results["models"][kind] = metrics
        self._write_json()

    def finish(self):
        save_plots(self.results, self.output_dir)
        table = comparison_table(self.results)
        write_text(
            self.output_dir / "results.md", results_markdown(self.results, table)
        )
        self.results["complete"] = True
        self._write_json()
        print(table)
        self.say(f"Results written to {self.output_dir}/")

    def _write_json(self):
        text = json.dumps(self.results, indent=2, default=str)
        write_text(self.output_dir / "results.json", text + "\n")


def comparison_table(results):
    models = results["models"]
    names = {"fnet": "FNet Classifier", "transformer": "Transformer Classifier"}
    test_name = test_label(results)
    rows = [
        ("Training time", lambda m: f"{m['train_seconds']:.0f} seconds"),
        ("Train accuracy", lambda m: f"{m['history']['accuracy'][-1]:.2%}"),
        ("Validation accuracy", lambda m: f"{m['history']['val_accuracy'][-1]:.2%}"),
        (test_name, lambda m: f"{m['test_accuracy']:.2%}"),
        ("#Params", lambda m: f"{m['params']:,}"),
    ]
    lines = ["| | " + " | ".join(f"**{names[k]}**" for k in models) + " |"]
    lines.append("|:--|" + "--:|" * len(models))
    for label, cell in rows:
        lines.append(
            f"| **{label}** | " + " | ".join(cell(m) for m in models.values()) + " |"
        )
    return "\n".join(lines)


def test_label(results):
    reviews = results["data"]["test"]["reviews"]
    kind = "Stand-in test" if results["config"]["holdout_test"] else "Test"
    return f"{kind} accuracy ({reviews:,} reviews)"


def results_markdown(results, table):
    env = results["environment"]
    config = results["config"]
    return (
        "# FNet vs Transformer on IMDb\n\n"
        f"{table}\n\n"
        f"Backend `{env['keras_backend']}` on `{env['device']}` "
        f"({env['cpu_count']} CPUs), {config['epochs']} epochs, batch {config['batch_size']}, "
        f"sequence length {config['max_seq_len']}"
        f"{', bucketed by length' if config['bucket_by_length'] else ''}.\n\n"
        "![Learning curves](learning_curves.png)\n\n"
        "![Comparison](comparison.png)\n"
    )


# -------------------------------------------------------------------- plots


def save_plots(results, output_dir):
    """`learning_curves.png` and `comparison.png`, drawn without a display."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = results["models"]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for color, (kind, metrics) in zip(("C0", "C1"), models.items()):
        history = metrics["history"]
        epochs = range(1, len(history["loss"]) + 1)
        for axis, metric in zip(axes, ("accuracy", "loss")):
            axis.plot(epochs, history[metric], "o-", c=color, label=f"{kind} train")
            axis.plot(
                epochs,
                history[f"val_{metric}"],
                "s--",
                c=color,
                label=f"{kind} validation",
            )
    for axis, metric in zip(axes, ("Accuracy", "Loss")):
        axis.set(title=metric, xlabel="epoch", ylabel=metric.lower())
        axis.set_xticks(epochs)
        axis.legend()
    _save_figure(figure, output_dir / "learning_curves.png")

    figure, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    names = list(models)
    colors = ["C0", "C1"][: len(names)]
    bars = axes[0].bar(names, [models[k]["train_seconds"] for k in names], color=colors)
    axes[0].bar_label(bars, fmt="%.0f s")
    axes[0].set(title="Training time", ylabel="seconds")
    bars = axes[1].bar(names, [models[k]["test_accuracy"] for k in names], color=colors)
    axes[1].bar_label(bars, labels=[f"{models[k]['test_accuracy']:.1%}" for k in names])
    axes[1].set(title=test_label(results), ylabel="accuracy", ylim=(0, 1))
    _save_figure(figure, output_dir / "comparison.png")


def _save_figure(figure, path):
    import matplotlib.pyplot as plt

    figure.tight_layout()
    with atomic_path(path) as partial:
        figure.savefig(partial, format="png")
    plt.close(figure)


# -------------------------------------------------------------------- predict


def predict_parser():
    parser = Parser(
        allow_abbrev=False,
        prog="fnet_classification.py predict",
        description="Classify reviews with the models of a finished run.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "texts", nargs="*", metavar="TEXT", help="reviews (default: stdin lines)"
    )
    parser.add_argument(
        "--run-dir", default="runs/latest", help="a training run's output folder"
    )
    parser.add_argument(
        "--model", default="all", choices=["fnet", "transformer", "all"]
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per input")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks on errors"
    )
    return parser


def load_run(run_dir, model="all"):
    """The run's results, vocabulary and models; one clear error if any is missing.

    An interrupted run (results.json with "complete": false) serves the models it
    finished.
    """
    run_dir = Path(run_dir)
    try:
        results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
        vocabulary = (run_dir / "vocab.txt").read_text(encoding="utf-8")
        trained = results["models"]
        results["config"]["max_seq_len"]  # classify() needs it: fail here if absent.
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{run_dir} is not a training run's output folder ({error}); train first "
            f"with: python fnet_classification.py --output-dir {run_dir}"
        ) from error
    kinds = list(trained) if model == "all" else [model]
    missing = [k for k in kinds if not (run_dir / f"{k}.keras").is_file()]
    if missing or not kinds:
        raise ValueError(f"{run_dir} has no trained {', '.join(missing) or 'model'}")
    import keras
    import keras_hub  # noqa: F401  (registers the layers the saved models use)

    half_spectrum_fnet_encoder()  # Registers our FNet encoder.
    models = {k: keras.saving.load_model(run_dir / f"{k}.keras") for k in kinds}
    # One token per line; splitlines() would also split on U+2028 inside a token.
    return results, vocabulary.split("\n")[:-1], models


def classify(texts, results, vocabulary, models):
    """Probability of "positive" per model for each text; None for empty text.

    Reviews are lower-cased, tokenized and padded as in the run: to its sequence
    length, or to their bucket's length if it was trained with bucketing.
    """
    import keras_hub
    import tensorflow as tf

    config = results["config"]
    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary, lowercase=False, sequence_length=config["max_seq_len"]
    )
    rows = [{"text": text, "tokens": 0, "probabilities": None} for text in texts]
    filled = [row for row in rows if has_content(row["text"])]
    if not filled:
        return rows
    token_ids = np.asarray(tokenizer(tf.strings.lower([r["text"] for r in filled])))
    lengths = np.count_nonzero(token_ids, axis=1)
    widths = np.full(len(filled), config["max_seq_len"])
    if config.get("bucket_by_length"):
        widths = [bucket_length(n, config["max_seq_len"]) for n in lengths]
    for row, length in zip(filled, lengths):
        row["tokens"], row["probabilities"] = int(length), {}
    for width in set(widths):
        group = np.flatnonzero(np.equal(widths, width))
        for kind, model in models.items():
            scores = model.predict(token_ids[group, :width], verbose=0)[:, 0]
            for index, score in zip(group, scores):
                filled[index]["probabilities"][kind] = float(score)
    return rows


def predict_main(argv):
    args = predict_parser().parse_args(argv)
    # Invalid UTF-8 in arguments arrives as surrogates: replace it, as on stdin.
    decoded = [decode_utf8(t.encode("utf-8", "surrogateescape")) for t in args.texts]
    texts, where = [text for text, _ in decoded], "in TEXT"
    valid = all(ok for _, ok in decoded)
    if not texts:
        text, valid = decode_utf8(sys.stdin.buffer.read())
        texts, where = text.splitlines(), "on stdin"
    if not valid:
        print(f"warning: invalid UTF-8 {where} was replaced by U+FFFD", file=sys.stderr)
    if not texts:
        raise ValueError("no text to classify: give TEXT arguments or lines on stdin")
    results, vocabulary, models = load_run(args.run_dir, args.model)
    rows = classify(texts, results, vocabulary, models)
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        elif row["probabilities"] is None:
            print(f"(empty input: no prediction)\t{row['text']!r}")
        else:
            cells = [
                f"{k}: {'positive' if p >= 0.5 else 'negative'} ({p:.3f})"
                for k, p in row["probabilities"].items()
            ]
            print("  ".join(cells) + f"\t{row['text'][:80]}")
    return rows
