"""The command line: the recipe's flags and the run's options, resolved to what runs; one-line errors."""

import argparse
import dataclasses
import os
import shlex
import sys
import traceback
from pathlib import Path

from fnet_imdb import MODEL_KINDS, download, flags
from fnet_imdb.flags import choice, fraction, listed, model_name, open_fraction
from fnet_imdb.flags import positive_float, positive_int, sample_count, seed_value
from fnet_imdb.flags import sha256_hex


@dataclasses.dataclass(frozen=True)
class Option:
    """A run option that is not part of the recipe, with its flag's help."""

    name: str
    default: object
    parse: object
    help: str
    data: bool = False  # Decides the prepared data: a flag of the prepare command.


OPTIONS = [
    Option("data_dir", None, str, "an extracted folder in the aclImdb layout "
           "(train/, test/)", data=True),
    Option("archive", None, str, "a local copy of aclImdb_v1.tar.gz, used instead "
           "of downloading", data=True),
    Option("data_url", download.IMDB_URL, str, "where to download from", data=True),
    Option("sha256", download.IMDB_SHA256, sha256_hex, "expected SHA-256 of the "
           "download", data=True),
    Option("download_dir", "data", str, "where downloads are kept", data=True),
    Option("holdout_test", 0.0, fraction, "carve a stand-in test split of this share "
           "from train/ (for data without test/); reported as stand-in, never as IMDb "
           "test accuracy", data=True),
    Option("max_samples", None, sample_count, "quick runs: N reviews from train/ "
           "(split into train and validation) and N from test/, balanced by label",
           data=True),
    Option("vocab_trainer", "fast", choice("fast", "keras"), "fast (identical "
           "result, sooner) or keras (compute_word_piece_vocabulary)"),
    Option("prepared", None, str, "train from a folder written by python -m "
           "fnet_imdb.prepare (no TensorFlow needed)"),
    Option("output_dir", None, str, "where results are written (default: a new "
           "runs/<date-time>/, with runs/latest leading to the newest)"),
    Option("models", MODEL_KINDS, listed(model_name), "comma-separated models to "
           "train"),
    Option("seeds", None, listed(seed_value), "train each model once per seed "
           "(weights and shuffling; the split stays --seed's)"),
    Option("fourier", "auto", choice("auto", "fast", "keras"), "FNet's Fourier "
           "mixing: fast (same math from half the spectrum), keras (FNetEncoder's "
           "own), or auto: fast on a CPU, keras on an accelerator"),
    Option("keep_best", False, bool, "opt-in: keep the weights of the epoch with the "
           "lowest validation loss"),
    Option("bucket_by_length", False, bool, "opt-in: batch reviews of similar "
           "length, padded to 64/128/256/512"),
    Option("mixed_precision", False, bool, "opt-in: compute in bfloat16, keep "
           "float32 weights"),
    Option("data_parallel", False, bool, "split each batch over all devices (JAX "
           "backend), every host's with KERAS_DISTRIBUTION_* or --multi-host"),
    Option("multi_host", False, bool, "one process per host (docs/several_hosts.md)"),
    Option("quiet", False, bool, "print only errors and the final table"),
    Option("smoke", False, bool, "a smoke test: both models on the tiny fixture "
           "data/tiny_imdb, offline, in seconds (other flags still apply); fails "
           "unless every output is written, every figure is finite and the training "
           "loss falls"),
]  # fmt: skip
# The recipe's settings that decide the prepared data, with the tutorial's
# defaults (the keras-io recipe; a test checks they agree), and those checked
# against their own rule rather than "a positive number".
DATA_RECIPE = {"max_seq_len": 512, "vocab_size": 15000, "validation_split": 0.2}
DATA_RECIPE["seed"] = 42
RECIPE_PARSERS = {
    "dropout": fraction,
    "validation_split": open_fraction,
    "seed": seed_value,
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
COMMANDS = {"prepare": "fnet_imdb.prepare", "predict": "fnet_imdb.predict"}


# Each recipe setting's flag help. The defaults are the tutorial's recipe block.
RECIPE_HELP = {
    "vocab_size": "WordPiece tokens to learn, [PAD] and [UNK] included",
    "max_seq_len": "tokens per review: longer ones are cut, shorter ones padded",
    "embed_dim": "size of the token and position embeddings",
    "intermediate_dim": "width of each encoder's feed-forward layer",
    "num_heads": "attention heads of each Transformer encoder",
    "num_layers": "encoder blocks in each model",
    "dropout": "dropout before the output unit",
    "learning_rate": "Adam's learning rate",
    "batch_size": "reviews per training step",
    "epochs": "passes over the training split",
    "validation_split": "share of train/ held out for validation",
    "seed": "seed of that split, and of training unless --seeds",
}


def recipe_settings(recipe, names=None):
    """(name, default, parser, help) of each recipe setting, or of `names`."""
    return [
        (name, value, recipe_parser(name, value), RECIPE_HELP[name])
        for name, value in recipe.items()
        if names is None or name in names
    ]


def recipe_parser(name, value):
    if name in RECIPE_PARSERS:
        return RECIPE_PARSERS[name]
    return positive_int if isinstance(value, int) else positive_float


def option_settings(options):
    return [(o.name, o.default, o.parse, o.help) for o in options]


def parse(recipe, argv=None, prog="fnet_classification.py"):
    """The run's options, each overridden by its flag; the recipe's flags
    change `recipe` in place, so the tutorial's settings are the run's. Both
    are resolved to what runs: `--smoke`'s settings, a prepared folder's,
    `--fourier auto`'s choice, and Keras's verbosity (`verbose`).

    `argv` defaults to the command line's flags (`arguments()`).
    """
    argv = arguments() if argv is None else argv
    if argv and argv[0] in COMMANDS:
        sys.exit(
            f"{prog}: error: {argv[0]} is a command of its own: "
            f"python -m {COMMANDS[argv[0]]} --help"
        )
    parser = flags.make_parser(
        recipe_settings(recipe) + option_settings(OPTIONS),
        "Train and compare FNet and a Transformer on IMDb reviews. Defaults are "
        "the keras-io recipe.",
        prog,
        epilog="Other commands: python -m fnet_imdb.prepare (data for training "
        "elsewhere), python -m fnet_imdb.predict (classify text); each has --help.",
    )
    chosen = flags.chosen(parser, argv)
    if chosen.get("smoke"):
        chosen = with_smoke_settings(chosen)
    config = with_defaults(recipe, chosen)
    if "transformer" in config.models and config.embed_dim % config.num_heads:
        parser.error("--embed-dim must be a multiple of --num-heads")
    resolve(config, chosen)
    recipe.update({name: vars(config).pop(name) for name in recipe})
    return config


def resolve(config, chosen):
    """Resolve `config` to what runs: a prepared folder's settings (refusing
    `chosen` flags that contradict them), `--fourier auto`'s choice and
    Keras's verbosity (`verbose`)."""
    if config.prepared:
        from fnet_imdb import prepared

        settings = prepared.manifest(config.prepared)["settings"]
        clash = prepared.contradictions(settings, chosen)
        if clash:
            raise ValueError(f"{clash}: prepare the data again with these settings")
        vars(config).update(settings)
    if config.fourier == "auto":
        from fnet_imdb import backend

        on_cpu = backend.training_device()[0] == "cpu"
        config.fourier = "fast" if on_cpu else "keras"
    config.verbose = keras_verbosity(config.quiet)


def with_defaults(recipe, chosen):
    """The recipe and the options' defaults, under the flags `chosen`."""
    defaults = {option.name: option.default for option in OPTIONS}
    return argparse.Namespace(**{**recipe, **defaults, **chosen})


def data_settings(config):
    """The settings that decide the prepared data, as `prepared.json` keeps them."""
    names = [*DATA_RECIPE, *(option.name for option in OPTIONS if option.data)]
    return {name: getattr(config, name) for name in names}


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


def one_line_errors(kind, error, trace):
    """`sys.excepthook` for the tutorial: an error as one line on stderr, or
    the traceback when the flags have `--debug`."""
    if "--debug" in arguments():
        sys.__excepthook__(kind, error, trace)
    elif issubclass(kind, KeyboardInterrupt):
        print(
            "interrupted: no half-written output was left behind; rerun the same "
            "command to resume from the last finished epoch",
            file=sys.stderr,
        )
    else:
        print(f"error: {str(error) or kind.__name__}", file=sys.stderr)


def run_command(main, argv):
    """Run a command's `main(argv)`, every failure one line on stderr, or a
    traceback with `--debug` (taken out of `argv` here; the parsers list it
    only for --help). Returns the exit status."""
    debug = "--debug" in argv
    argv = [arg for arg in argv if arg != "--debug"]
    try:
        main(argv)
        return 0
    except KeyboardInterrupt as interrupt:
        one_line_errors(type(interrupt), interrupt, None)
        return 130
    except Exception as error:  # The one place that turns errors into messages.
        if debug:
            traceback.print_exc()
        one_line_errors(type(error), error, None)
        return 1


def keras_verbosity(quiet):
    """Progress bars on a terminal, one line per epoch in logs, nothing if quiet."""
    if quiet:
        return 0
    return 1 if sys.stdout.isatty() else 2
