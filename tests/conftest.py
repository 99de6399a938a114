"""Shared fixtures: the recipe's config shrunk to the tiny fixture, and one run.

Like google-research f_net's tests, we keep the real `Config` and shrink only
its sizes, so the code under test is the code that runs at full size.
"""

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fnet_classification  # Chooses the Keras backend first.

ROOT = Path(__file__).resolve().parents[1]
TINY_IMDB = ROOT / "data" / "tiny_imdb"
# Small enough for seconds on 2 CPU cores, large enough to learn the fixture.
TINY_DATA_FLAGS = [
    "--data-dir", str(TINY_IMDB),
    "--max-seq-len", "64",
    "--vocab-size", "300",
]  # fmt: skip
TINY_TRAINING_FLAGS = [
    "--epochs", "20",
    "--batch-size", "8",
    "--embed-dim", "16",
    "--intermediate-dim", "32",
    "--num-layers", "1",
    "--learning-rate", "0.003",
    "--quiet",
]  # fmt: skip
TINY_FLAGS = TINY_DATA_FLAGS + TINY_TRAINING_FLAGS


def run_script(*args, stdin=None, env=None, prelude=""):
    """The script in a fresh process, as a user runs it; `prelude` is Python
    run first in that process (for example to make an import fail)."""
    code = f"{prelude}\nimport runpy, sys\nsys.argv[0] = 'fnet_classification.py'\n"
    code += "runpy.run_path(sys.argv[0], run_name='__main__')"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=240,
    )


@pytest.fixture
def tiny_config(tmp_path):
    """The tiny run's `Config`, writing into this test's own folders."""
    config, _ = fnet_classification.parse_args(TINY_FLAGS)
    return dataclasses.replace(
        config, output_dir=str(tmp_path / "run"), cache_dir=str(tmp_path / "cache")
    )


@pytest.fixture
def tiny_imdb_copy(tmp_path):
    """A writable copy of the fixture, for tests that damage or extend it."""
    return Path(shutil.copytree(TINY_IMDB, tmp_path / "imdb"))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One end-to-end run of both models on the fixture, shared by many tests."""
    folder = tmp_path_factory.mktemp("tiny_run")
    argv = TINY_FLAGS + [
        "--output-dir", str(folder / "run"),
        "--cache-dir", str(folder / "cache"),
    ]  # fmt: skip
    results = fnet_classification.main(argv)
    return folder / "run", results


@pytest.fixture(scope="session")
def tiny_prepared(tmp_path_factory):
    """The fixture prepared for training elsewhere, by the `prepare` command."""
    folder = tmp_path_factory.mktemp("prepared") / "prepared"
    cache = str(folder.parent / "cache")
    argv = TINY_DATA_FLAGS + ["--cache-dir", cache, "--output-dir", str(folder)]
    fnet_classification.prepare_main(argv + ["--quiet"])
    return folder
