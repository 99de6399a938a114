"""The `predict` command: classify new text with the models of a finished run."""

import argparse
import json
import os
import sys
import warnings

import numpy as np

from fnet_imdb import MODEL_KINDS, backend, preprocessing, rundir
from fnet_imdb.cli import run_command
from fnet_imdb.flags import Parser
from fnet_imdb.imdb import decode_utf8, has_content
from fnet_imdb.vocabulary import read_vocabulary


def predict_parser():
    parser = Parser(
        allow_abbrev=False,
        prog="python -m fnet_imdb.predict",
        description="Classify reviews with the models of a finished run, on "
        "any Keras backend: TensorFlow is not needed (docs/predict.md).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "texts", nargs="*", metavar="TEXT", help="reviews (default: stdin lines)"
    )
    parser.add_argument(
        "--run-dir",
        help="a training run's output folder (default: the newest run under "
        f"{rundir.RUNS_ROOT}/ with a trained model of --model)",
    )
    parser.add_argument("--model", default="all", choices=[*MODEL_KINDS, "all"])
    parser.add_argument("--json", action="store_true", help="one JSON object per input")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks on errors"
    )
    return parser


def wanted(model):
    """The kinds `--model` asks for: None for any."""
    return None if model == "all" else [model]


def default_run(model="all"):
    """The newest finished run for `model`, said in one line on stderr."""
    folder, kinds = rundir.newest_finished(wanted(model))
    if folder is None:
        raise ValueError(
            f"no run under {rundir.RUNS_ROOT}/ has a trained "
            f"{'model' if model == 'all' else model}; train one first with: "
            "python fnet_classification.py"
        )
    print(
        f"using {folder} (the newest run with a trained {' and '.join(kinds)})",
        file=sys.stderr,
    )
    return folder


def newest_elsewhere(model):
    """For an error: "; the newest finished run is <folder>", or "" if none."""
    folder, _ = rundir.newest_finished(wanted(model))
    return f"; the newest finished run is {folder}" if folder else ""


def load_run(run_dir, model="all"):
    """The run's results, vocabulary and models; one clear error if any is missing.

    An interrupted run (results.json with "complete": false) serves the models it
    finished. An error names the newest finished run under `runs/`, if any.
    """
    run_dir = rundir.resolve(run_dir)
    try:
        results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
        vocabulary = read_vocabulary(run_dir / "vocab.txt")
        if "max_seq_len" not in results["config"]:
            raise KeyError("config.max_seq_len")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{run_dir} is not a training run's output folder ({error}); train first "
            f"with: python fnet_classification.py --output-dir {run_dir}"
            + newest_elsewhere(model)
        ) from error
    kinds = rundir.trained_models(run_dir, wanted(model))
    if not kinds:
        what = "model" if model == "all" else model
        raise ValueError(
            f"{run_dir} has no trained {what} yet" + newest_elsewhere(model)
        )
    import keras
    import keras_hub  # noqa: F401  (registers the layers the saved models use)

    # Not compiled: predicting needs no optimizer, loss or metrics.
    models = {
        kind: keras.saving.load_model(run_dir / f"{kind}.keras", compile=False)
        for kind in kinds
    }
    return results, vocabulary, models


def classify(texts, results, vocabulary, models):
    """Probability of "positive" per model for each text; None for empty text.

    Reviews go through the training run's own preprocessing (lower-casing and
    the WordPiece tokenizer of its vocabulary), padded to its sequence length, or
    to their bucket's length if it was trained with bucketing or the model
    masks padding (`MASKS_PADDING`).
    """
    from fnet_imdb.batches import bucket_length  # Imports Keras: after the backend.

    config = results["config"]
    rows = [{"text": text, "tokens": 0, "probabilities": None} for text in texts]
    filled = [row for row in rows if has_content(row["text"])]
    if not filled:
        return rows
    texts = [row["text"].encode("utf-8") for row in filled]
    tokenizer = preprocessing.make_tokenizer(vocabulary, config["max_seq_len"])
    token_ids = preprocessing.tokenize(tokenizer, preprocessing.lower_case(texts))
    lengths = np.count_nonzero(token_ids, axis=1)
    buckets = [bucket_length(max(n, 1), config["max_seq_len"]) for n in lengths]
    for row, length in zip(filled, lengths):
        row["tokens"], row["probabilities"] = int(length), {}
    for kind, model in models.items():
        bucketed = config.get("bucket_by_length") or kind in MASKS_PADDING
        widths = buckets if bucketed else [config["max_seq_len"]] * len(filled)
        for row, score in zip(filled, scores(model, token_ids, widths)):
            row["probabilities"][kind] = float(score)
    return rows


# The Transformer masks padding (the embedding's mask reaches its attention and
# the pooling): cutting a text's padding shortens its computation and leaves
# its probability as it was. FNetEncoder takes no mask: FNet's changes.
MASKS_PADDING = ("transformer",)


def scores(model, token_ids, widths, batch_size=32):
    """The model's output for each row of `token_ids`, cut to its width. Each
    width's rows are padded with rows of [PAD] to whole batches, so that a
    compiling backend (JAX) compiles once per width, not again for a last,
    shorter batch; fewer rows than a batch make one batch of their own."""
    result = np.zeros(len(token_ids), dtype="float32")
    for width in sorted(set(widths)):
        group = np.flatnonzero(np.equal(widths, width))
        size = min(batch_size, len(group))
        rows = np.zeros((-(-len(group) // size) * size, width), "int32")
        rows[: len(group)] = token_ids[group, :width]
        outputs = model.predict(rows, batch_size=size, verbose=0)
        result[group] = outputs[: len(group), 0]
    return result


def compilation_cache(environ):
    """The folder where JAX keeps predict's compiled programs between calls:
    `JAX_COMPILATION_CACHE_DIR` if set, else fnet-imdb/jax in the user's cache
    folder (`XDG_CACHE_HOME`, or ~/.cache); None where it cannot be made or
    written, and every call compiles anew."""
    root = environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    folder = environ.get("JAX_COMPILATION_CACHE_DIR") or os.path.join(
        root, "fnet-imdb", "jax"
    )
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def keep_compiled_programs(folder):
    """On JAX, keep every compiled program in `folder` for the next call.

    Each call compiles the weights' initializers (run at load, then
    overwritten) and the models' forward passes: about 1.5 s of a one-text
    call on 2 CPU cores. JAX's persistent cache keys each program by its code,
    JAX's version and the device; by default it keeps only programs that took a
    second or more to compile, and these take less.
    """
    import jax

    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)


def stdin_lines(text):
    """The lines of `text`: split at each newline (with a carriage return before
    it, if any) and nowhere else, as line-based tools count them."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def main(argv):
    """Classify TEXT arguments, or lines of stdin, and print one line each."""
    args = predict_parser().parse_args(argv)
    chosen = backend.choose_backend(predicting=True)
    folder = chosen == "jax" and compilation_cache(os.environ)
    if folder:
        keep_compiled_programs(folder)
    # Invalid UTF-8 in arguments arrives as surrogates: replace it, as on stdin.
    decoded = [decode_utf8(t.encode("utf-8", "surrogateescape")) for t in args.texts]
    texts, where = [text for text, _ in decoded], "in TEXT"
    valid = all(ok for _, ok in decoded)
    if not texts:
        text, valid = decode_utf8(sys.stdin.buffer.read())
        texts, where = stdin_lines(text), "on stdin"
    if not valid:
        print(f"warning: invalid UTF-8 {where} was replaced by U+FFFD", file=sys.stderr)
    if not texts:
        raise ValueError("no text to classify: give TEXT arguments or lines on stdin")
    run_dir = args.run_dir or default_run(args.model)
    results, vocabulary, models = load_run(run_dir, args.model)
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
            shown = " ".join(row["text"][:80].splitlines())  # One output line.
            print("  ".join(cells) + f"\t{shown}")
    return rows


if __name__ == "__main__":
    # FNetEncoder takes no padding mask, by design: Keras warns of it at each load.
    warnings.filterwarnings("ignore", message=".*does not support masking.*")
    sys.exit(run_command(main, sys.argv[1:]))
