"""The flags: parsers of their values (numbers in a range, choices, lists, model names, checksums), and an argparse parser of settings that reports a bad flag in one line."""

import argparse
import math

from fnet_imdb import MODEL_KINDS


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


def flag_name(name):
    """The flag of a setting: `batch_size` is `--batch-size`."""
    return "--" + name.replace("_", "-")


class Parser(argparse.ArgumentParser):
    """An argparse parser that reports a bad flag in one line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def make_parser(settings, description, prog, epilog=None):
    """One flag per (name, default, parser, help) setting: `batch_size` becomes
    `--batch-size`. Flags not given are absent from the namespace, so callers
    know which settings the user chose."""
    parser = Parser(
        allow_abbrev=False,
        prog=prog,
        description=description,
        epilog=epilog,
        argument_default=argparse.SUPPRESS,
    )
    for name, default, parse_value, help_text in settings:
        flag = flag_name(name)
        if parse_value is bool:
            parser.add_argument(flag, action="store_true", help=help_text)
            continue
        if isinstance(default, tuple):
            default = ",".join(map(str, default))
        shown = "" if default is None else f" (default: {default})"
        metavar = getattr(parse_value, "metavar", "PATH")
        parser.add_argument(
            flag, type=parse_value, metavar=metavar, help=help_text + shown
        )
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks on errors"
    )
    return parser


def chosen(parser, argv):
    """The flags given in `argv`, as a dict: `--debug` left to the error
    handler, `--data-dir` with `--archive` refused."""
    chosen = vars(parser.parse_args(argv))
    chosen.pop("debug", None)  # Read by one_line_errors and run_command.
    if chosen.get("data_dir") and chosen.get("archive"):
        parser.error("use either --data-dir or --archive, not both")
    return chosen
