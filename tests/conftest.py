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
from fnet_imdb import cli

ROOT = Path(__file__).resolve().parents[1]
TINY_IMDB = cli.TINY_IMDB


def flags(settings):
    """Command-line flags for a dict of `Config` settings."""
    return [
        text
        for name, value in settings.items()
        for text in ("--" + name.replace("_", "-"), str(value))
    ]


# The --smoke settings as flags: the data's, and training's (quiet).
DATA_SETTINGS = ("data_dir", "max_seq_len", "vocab_size")
TINY_DATA_FLAGS = flags({k: cli.SMOKE_SETTINGS[k] for k in DATA_SETTINGS})
TINY_TRAINING_FLAGS = flags(
    {
        name: value
        for name, value in cli.SMOKE_SETTINGS.items()
        if name not in DATA_SETTINGS + ("output_dir",)
    }
) + ["--quiet"]
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
    """One `--smoke` run of both models on the fixture, shared by many tests."""
    folder = tmp_path_factory.mktemp("tiny_run")
    argv = ["--smoke", "--quiet"] + flags(
        {"output_dir": folder / "run", "cache_dir": folder / "cache"}
    )
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
