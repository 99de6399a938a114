"""The published keras-io FNet example, made ready to run beside the program: an aclImdb folder with a test/ split, and the example's script with its EPOCHS set.

The example reads `aclImdb/train` and `aclImdb/test` from its working folder.
For data without test/ (the IMDb training reviews alone), `stand_in` writes an
aclImdb folder of links whose test/ holds exactly the reviews that the
program's `--holdout-test SHARE` carves out (the same order, seed and tail),
and whose train/ holds the others:

    python benchmarks/keras_io_example.py --from aclImdb_train.tar.gz \\
        --holdout-test 0.2 --output-dir DIR    # writes DIR/aclImdb

`end_to_end.py --variants keras-io,...` then runs the example on it.
"""

import argparse
import re
import shutil
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from fnet_imdb import download, imdb  # noqa: E402  (light: no Keras)

TRANSFORMER_PART = '"""\n## Comparison with Transformer model'


def review_files(split_folder):
    """The review files of a split folder in the order Keras's
    `text_dataset_from_directory(shuffle=False)` reads them: label by label
    (neg, pos), each sorted by name."""
    return [
        path
        for label in imdb.CLASS_NAMES
        for path in sorted((split_folder / label).glob("*.txt"), key=str)
    ]


def stand_in(folder, output_dir, holdout_test, seed):
    """Write `output_dir`/aclImdb: train/ and test/ of links to `folder`'s
    train/ reviews, test/ holding the `holdout_test` share that the program
    holds out with the same seed. Returns the number of reviews in each."""
    files = review_files(Path(folder) / "train")
    order = np.random.default_rng(seed).permutation(len(files))  # As imdb.shuffled.
    count = int(holdout_test * len(files))  # As imdb.split_tail.
    root = Path(output_dir) / "aclImdb"
    shutil.rmtree(root, ignore_errors=True)
    split_of = {index: "test" for index in order[len(files) - count :]}
    for index, path in enumerate(files):
        link = root / split_of.get(index, "train") / path.parent.name / path.name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(path.resolve())
    return {"train": len(files) - count, "test": count}


def ready_script(example, epochs, fnet_only):
    """The text of the keras-io example `example` with its EPOCHS set and,
    with `fnet_only`, without its Transformer part."""
    source = Path(example).read_text(encoding="utf-8")
    source, count = re.subn(r"^EPOCHS = \d+$", f"EPOCHS = {epochs}", source, flags=re.M)
    cut = source.find(TRANSFORMER_PART)
    if count != 1 or cut < 0:
        raise ValueError(f"{example} is not the keras-io FNet example")
    return source[:cut] if fnet_only else source


def workdir(example, data_dir, epochs, fnet_only, folder):
    """Write `ready_script`'s example into `folder`, with `aclImdb` leading to
    `data_dir`; return the command that runs it there."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    source = ready_script(example, epochs, fnet_only)
    (folder / "example.py").write_text(source, encoding="utf-8")
    (folder / "aclImdb").symlink_to(Path(data_dir).resolve())
    return [sys.executable, "example.py"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="source", required=True, metavar="ARCHIVE")
    parser.add_argument("--holdout-test", type=float, default=0.2, metavar="SHARE")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output-dir", type=Path, required=True, metavar="DIR")
    args = parser.parse_args(argv)
    folder = Path(args.source)
    if folder.is_file():  # An archive: extracted once, beside the links.
        extracted = download.extract(folder, args.output_dir / "extracted")
        folder = download.dataset_root(extracted)
    counts = stand_in(folder, args.output_dir, args.holdout_test, args.seed)
    print(f"{args.output_dir / 'aclImdb'}: {counts['train']:,} train/ and "
          f"{counts['test']:,} test/ reviews (links)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
