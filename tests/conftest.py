"""Shared fixtures: the recipe's config shrunk to the tiny fixture, and one run.

Like google-research f_net's tests, we keep the real `Config` and shrink only
its sizes, so the code under test is the code that runs at full size.
"""

import dataclasses
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import fnet_classification  # noqa: E402  (chooses the Keras backend first)

TINY_IMDB = ROOT / "data" / "tiny_imdb"
# Small enough for seconds on 2 CPU cores, large enough to learn the fixture.
TINY_FLAGS = [
    "--data-dir", str(TINY_IMDB),
    "--epochs", "20",
    "--batch-size", "8",
    "--max-seq-len", "64",
    "--vocab-size", "300",
    "--embed-dim", "16",
    "--intermediate-dim", "32",
    "--num-layers", "1",
    "--learning-rate", "0.003",
    "--quiet",
]  # fmt: skip


@pytest.fixture
def tiny_config(tmp_path):
    """The tiny run's `Config`, writing into this test's own folders."""
    return dataclasses.replace(
        fnet_classification.parse_args(TINY_FLAGS),
        output_dir=str(tmp_path / "run"),
        cache_dir=str(tmp_path / "cache"),
    )


@pytest.fixture
def tiny_imdb_copy(tmp_path):
    """A writable copy of the fixture, for tests that damage or extend it."""
    return Path(shutil.copytree(TINY_IMDB, tmp_path / "imdb"))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One end-to-end run of both models on the fixture, shared by the CLI tests."""
    folder = tmp_path_factory.mktemp("tiny_run")
    argv = TINY_FLAGS + [
        "--output-dir", str(folder / "run"),
        "--cache-dir", str(folder / "cache"),
    ]  # fmt: skip
    results = fnet_classification.main(argv)
    return folder / "run", results
