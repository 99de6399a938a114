"""The command line: flags generated from a dataclass, and one-line errors."""

import argparse
import dataclasses
import math
import os
import shlex
import sys
import traceback
from pathlib import Path

from fnet_imdb import MODEL_KINDS


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run, carrying the stages that had finished."""

    def __init__(self, finished):
        super().__init__()
        self.finished = finished


def option(default, parse, data=False):
    """A `Config` field whose flag is generated from its metadata; its help is
    in `FLAG_HELP`.

    `data=True` marks the settings that decide the prepared data: the flags of
    the `prepare` command, fixed by a prepared folder.
    """
    metadata = {"parse": parse, "data": data}
    return dataclasses.field(default=default, metadata=metadata)


FLAG_HELP = {
    "data_dir": "an extracted folder in the aclImdb layout (train/, test/)",
    "archive": "a local copy of aclImdb_v1.tar.gz, used instead of downloading",
    "data_url": "where to download from",
    "sha256": "expected SHA-256 of the download",
    "download_dir": "where downloads are kept",
    "prepared": "train from a folder written by the prepare command (no TensorFlow)",
    "output_dir": "where results are written",
    "models": "comma-separated models to train",
    "epochs": "training epochs",
    "batch_size": "batch size",
    "max_seq_len": "tokens per review",
    "vocab_size": "WordPiece vocabulary size",
    "vocab_trainer": "fast (identical result, sooner) or keras "
    "(compute_word_piece_vocabulary)",
    "fourier": "FNet's Fourier mixing: fast (same math from half the spectrum), "
    "keras (FNetEncoder's own), or auto: fast on a CPU, keras on a GPU",
    "embed_dim": "embedding size",
    "intermediate_dim": "encoder feed-forward size",
    "num_heads": "Transformer heads",
    "num_layers": "encoder layers",
    "dropout": "dropout before the output unit",
    "learning_rate": "Adam's learning rate",
    "validation_split": "share of train/ (after --holdout-test) held out for "
    "validation",
    "holdout_test": "carve a stand-in test split of this share from train/ (for "
    "data without test/); reported as stand-in, never as IMDb test accuracy",
    "max_samples": "quick runs: N reviews from train/ (split into train and "
    "validation) and N from test/, balanced by label",
    "seed": "seed for the split, and for training unless --seeds",
    "seeds": "train each model once per seed (weights and shuffling; the split "
    "stays --seed's)",
    "keep_best": "opt-in: keep the weights of the epoch with the lowest "
    "validation loss",
    "bucket_by_length": "opt-in: batch reviews of similar length, padded to "
    "64/128/256/512",
    "mixed_precision": "opt-in: compute in bfloat16, keep float32 weights",
    "data_parallel": "split each batch over all local devices (JAX backend)",
    "cache_dir": "vocabulary and token cache",
    "no_cache": "recompute instead of using the cache",
    "quiet": "print only errors and the final table",
    "smoke": "a smoke test: both models on the tiny fixture data/tiny_imdb, offline, "
    "in seconds (other flags still apply); fails unless every output is written, "
    "every figure is finite and the training loss falls",
}

TINY_IMDB = Path(__file__).resolve().parents[1] / "data" / "tiny_imdb"
# What --smoke sets: small enough for seconds on 2 CPU cores, large enough to
# learn the fixture.
SMOKE_SETTINGS = {
    "data_dir": str(TINY_IMDB),
    "output_dir": "runs/smoke",
    "max_seq_len": 64,
    "vocab_size": 300,
    "epochs": 20,
    "batch_size": 8,
    "embed_dim": 16,
    "intermediate_dim": 32,
    "num_layers": 1,
    "learning_rate": 0.003,
}
NOTEBOOK_FLAGS = "FNET_IMDB_FLAGS"


def with_smoke_settings(chosen):
    """The flags chosen, with the `--smoke` settings under them: a flag given
    explicitly wins, and `--archive` or `--data-dir` replaces the fixture."""
    settings = dict(SMOKE_SETTINGS)
    if chosen.get("archive") or chosen.get("data_dir"):
        del settings["data_dir"]
    elif not TINY_IMDB.is_dir():
        raise ValueError(
            f"--smoke needs the fixture {TINY_IMDB}, which a checkout of the "
            "repository has (a pip-installed copy does not)"
        )
    return {**settings, **chosen}


def in_notebook():
    """Whether this runs in a Jupyter kernel (the tutorial's notebook form)."""
    ipython = sys.modules.get("IPython")
    return hasattr(ipython and ipython.get_ipython(), "kernel")


def arguments():
    """The flags of this run: the command line's, or in a notebook, whose kernel
    has its own, those in the `FNET_IMDB_FLAGS` environment variable."""
    if in_notebook():
        return shlex.split(os.environ.get(NOTEBOOK_FLAGS, ""))
    return sys.argv[1:]


class Parser(argparse.ArgumentParser):
    """An argparse parser that reports a bad flag in one line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def bounded(kind, low, high=math.inf, meaning="", low_open=False):
    """A flag parser for values of `kind` in [low, high), or (low, high)."""

    def parse(text):
        value = kind(text)
        if not (low < value if low_open else low <= value) or not value < high:
            raise argparse.ArgumentTypeError(f"must be {meaning}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names it in "invalid int value".
    parse.metavar = "N" if kind is int else "X"
    return parse


positive_int = bounded(int, 1, meaning="a positive integer")
sample_count = bounded(int, 2, meaning="at least 2 (one per label)")
seed_value = bounded(int, 0, 2**32, meaning="in [0, 2**32)")
positive_float = bounded(float, 0, meaning="a positive number", low_open=True)
fraction = bounded(float, 0, 1, meaning="in [0, 1)")
open_fraction = bounded(float, 0, 1, meaning="in (0, 1)", low_open=True)


def choice(*options):
    """A flag parser that accepts one of `options`."""

    def parse(text):
        if text not in options:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(options)}")
        return text

    parse.metavar = "NAME"
    return parse


def listed(parse_one):
    """A flag parser for a comma-separated list, each item parsed by `parse_one`."""

    def parse_item(item):
        try:
            return parse_one(item)
        except ValueError:  # As argparse words it for a single value.
            raise argparse.ArgumentTypeError(
                f"invalid {parse_one.__name__} value: {item!r}"
            ) from None

    def parse(text):
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"expected a list, got {text!r}")
        return tuple(dict.fromkeys(parse_item(item) for item in items))

    parse.metavar = "A,B"
    return parse


def model_name(text):
    if text not in MODEL_KINDS:
        raise argparse.ArgumentTypeError(
            f"unknown model {text!r}; choose from {','.join(MODEL_KINDS)}"
        )
    return text


def sha256_hex(text):
    value = text.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise argparse.ArgumentTypeError("must be 64 hexadecimal digits")
    return value


sha256_hex.metavar = "HEX"


def parser_from_dataclass(config_class, description, prog, fields=None, epilog=None):
    """One flag per field of `config_class` (or of `fields`): `batch_size`
    becomes `--batch-size`. Flags not given are absent from the namespace, so
    callers know which settings the user chose."""
    parser = Parser(
        allow_abbrev=False,
        prog=prog,
        description=description,
        epilog=epilog,
        argument_default=argparse.SUPPRESS,
    )
    for field in fields or dataclasses.fields(config_class):
        flag = "--" + field.name.replace("_", "-")
        parse, help_text = field.metadata["parse"], FLAG_HELP[field.name]
        if parse is bool:
            parser.add_argument(flag, action="store_true", help=help_text)
            continue
        metavar = getattr(parse, "metavar", "PATH")
        default = field.default
        if isinstance(default, tuple):
            default = ",".join(map(str, default))
        shown = "" if default is None else f" (default: {default})"
        parser.add_argument(flag, type=parse, metavar=metavar, help=help_text + shown)
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks on errors"
    )
    return parser


def run_cli(commands, argv):
    """Run the command named by `argv[0]` (or the default, `commands[None]`) and
    turn every failure into one line on stderr, or a traceback with `--debug`
    (taken out of `argv` here; the parsers list it only for --help)."""
    debug = "--debug" in argv
    argv = [arg for arg in argv if arg != "--debug"]
    name = argv[0] if argv and argv[0] in commands else None
    try:
        commands[name](argv[1:] if name else argv)
        return 0
    except KeyboardInterrupt as interrupt:
        finished = ", ".join(getattr(interrupt, "finished", []))
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


def keras_verbosity(quiet):
    """Progress bars on a terminal, one line per epoch in logs, nothing if quiet."""
    if quiet:
        return 0
    return 1 if sys.stdout.isatty() else 2
