"""The `prepare` command: the data steps of the tutorial, written to a folder for training elsewhere."""

import sys
import time
from pathlib import Path

from fnet_imdb import backend, cli, download, flags, imdb, prepared, preprocessing
from fnet_imdb import vocabulary as word_pieces
from fnet_imdb.cache import Cache


def read_splits(read, options, seed, validation_split, say):
    """The tutorial's Data step: each split's lower-cased reviews and labels
    (dicts by split name), and the data record (folder, archive checksum,
    reviews kept per split). `read` reads a split folder (as
    `imdb.read_reviews`); `options` says where the data is, and how much of it
    to take (`cli.OPTIONS` marked `data`)."""
    folder, digest = download.imdb_folder(
        options.data_dir,
        options.archive,
        options.download_dir,
        options.data_url,
        options.sha256,
        say,
    )
    splits, counts = imdb.load_splits(
        folder, read, seed, validation_split, options.max_samples, options.holdout_test
    )
    texts = {name: preprocessing.lower_case(x) for name, (x, _) in splits.items()}
    labels = {name: y for name, (_, y) in splits.items()}
    return texts, labels, {"directory": str(folder), "archive_sha256": digest, **counts}


def parse_args(argv):
    """The data settings: the recipe's and the data options', each overridden
    by its flag, with the cache and the folder to write."""
    settings = cli.recipe_settings(cli.DATA_RECIPE)
    settings += cli.option_settings(
        [o for o in cli.OPTIONS if o.data or o.name == "quiet"]
    )
    settings += [
        ("cache_dir", "data/cache", str, "vocabulary and token cache"),
        ("no_cache", False, bool, "recompute instead of using the cache"),
    ]
    parser = flags.make_parser(
        settings,
        "Read the IMDb reviews, learn the vocabulary and tokenize, as the tutorial "
        "does, and write them to a folder: training from it needs no TensorFlow.",
        "python -m fnet_imdb.prepare",
    )
    parser.add_argument(
        "--output-dir", required=True, help="the prepared folder to write"
    )
    chosen = flags.chosen(parser, argv)
    output_dir = Path(chosen.pop("output_dir"))
    defaults = {"cache_dir": "data/cache", "no_cache": False}
    return cli.with_defaults({**cli.DATA_RECIPE, **defaults}, chosen), output_dir


def main(argv):
    """Prepare the data as the tutorial's data steps do, through the cache;
    return what was done (seconds per step, and what the cache reused)."""
    config, output_dir = parse_args(argv)
    backend.import_tensorflow()  # Quietly: Keras would import it with its logs.
    say = (lambda line: None) if config.quiet else print
    cache = Cache(config.cache_dir, not config.no_cache)
    timings, reused, started = {}, {}, time.perf_counter()
    texts, labels, data = read_splits(
        imdb.read_reviews, config, config.seed, config.validation_split, say
    )
    timings["data"] = time.perf_counter() - started
    # The fast learner: the tutorial's vocabulary, token for token (tested).
    vocabulary, reused["vocab"] = word_pieces.cached(
        cache, texts["train"], config.vocab_size
    )
    timings["vocab"] = time.perf_counter() - started - timings["data"]
    tokenizer = preprocessing.make_tokenizer(vocabulary, config.max_seq_len)
    token_ids, reused["tokens"] = cache.get(
        "tokens",
        [vocabulary, config.max_seq_len, *texts.values()],
        lambda: {
            name: preprocessing.tokenize_in_batches(tokenizer, x)
            for name, x in texts.items()
        },
    )
    timings["tokenize"] = time.perf_counter() - started - sum(timings.values())
    settings = cli.data_settings(config)
    prepared.write(output_dir, vocabulary, token_ids, labels, settings, data, timings)
    say(f"Prepared data written to {output_dir}/")
    return {"timings": timings, "cache": reused, "data": data}


if __name__ == "__main__":
    sys.exit(cli.run_command(main, sys.argv[1:]))
