"""The `prepare` command: the tutorial's data steps alone, written to a folder for training elsewhere."""

import sys
from pathlib import Path

from fnet_imdb import cli, prepared, preprocessing, results, tutorial
from fnet_imdb import vocabulary as word_pieces
from fnet_imdb.cache import Cache

STEPS = ("recipe", "RESERVED_TOKENS", "read_reviews", "read_imdb")
STEPS += ("learn_vocabulary", "make_tokenizer")


def parse_args(argv, recipe):
    """The data settings: the recipe's and the data options', each overridden
    by its flag, and the folder to write."""
    settings = cli.recipe_settings(recipe, cli.DATA_RECIPE)
    settings += cli.option_settings(
        [o for o in cli.OPTIONS if o.data or o.name == "quiet"]
    )
    parser = cli.make_parser(
        settings,
        "Read the IMDb reviews, learn the vocabulary and tokenize, as the tutorial "
        "does, and write them to a folder: training from it needs no TensorFlow.",
        "python -m fnet_imdb.prepare",
    )
    parser.add_argument(
        "--output-dir", required=True, help="the prepared folder to write"
    )
    chosen = vars(parser.parse_args(argv))
    output_dir = Path(chosen.pop("output_dir"))
    if chosen.get("data_dir") and chosen.get("archive"):
        parser.error("use either --data-dir or --archive, not both")
    return cli.with_defaults(recipe, chosen), output_dir


def read_data(config, read_imdb, say):
    """The tutorial's Data step, `read_imdb`: each split's lower-cased texts and
    labels, and the data record (folder, archive checksum, counts per split)."""
    splits, data = read_imdb(config, say)
    lowered = {
        name: (preprocessing.lower_case(x), y) for name, (x, y) in splits.items()
    }
    return lowered, data


def main(argv):
    """Prepare the data as the tutorial's Data, Vocabulary and Tokenizer steps
    do; return the run's record (timings, cache, data)."""
    steps = tutorial.load(*STEPS)
    config, output_dir = parse_args(argv, steps.recipe)
    record = results.Record(config, output_dir, config.quiet)
    cache = Cache(config.cache_dir, not config.no_cache)
    with record.stage("data"):
        splits, record.results["data"] = read_data(config, steps.read_imdb, record.say)
    texts = {name: x for name, (x, _) in splits.items()}
    with record.stage("vocab"):
        vocabulary, record.results["cache"]["vocab"] = word_pieces.cached(
            cache,
            texts["train"],
            config.vocab_size,
            steps.RESERVED_TOKENS,
            config.vocab_trainer,
            steps.learn_vocabulary,
        )
    tokenizer = steps.make_tokenizer(vocabulary, config.max_seq_len)
    with record.stage("tokenize"):
        token_ids, record.results["cache"]["tokens"] = preprocessing.cached_token_ids(
            cache, tokenizer, texts
        )
    labels = {name: y for name, (_, y) in splits.items()}
    settings, data = cli.data_settings(config), record.results["data"]
    prepared.write(output_dir, vocabulary, token_ids, labels, settings, data)
    record.say(f"Prepared data written to {output_dir}/")
    return record.results


if __name__ == "__main__":
    sys.exit(cli.run_command(main, sys.argv[1:]))
