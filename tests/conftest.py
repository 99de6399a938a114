"""Shared fixtures: the tutorial's recipe shrunk to the tiny fixture, and one run.

Like google-research f_net's tests, we keep the real recipe and shrink only its
sizes, so the code under test is the code that runs at full size. Importing the
tutorial would run it: tests take its definitions with `tutorial_definitions.load`,
and run it whole with `run_tutorial` (in this process) or `run_script` (in a
fresh one, as a user does).
"""

import argparse
import contextlib
import io
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tutorial_definitions
from tutorial_definitions import build, compile_model  # noqa: F401  (for tests)
from fnet_imdb import cli, prepare
from fnet_imdb.flags import flag_name

# Chooses the Keras backend first, as the tutorial does.
TUTORIAL = tutorial_definitions.load(
    "recipe",
    "RESERVED_TOKENS",
    "read_reviews",
    "learn_vocabulary",
    "make_tokenizer",
    "tokenize",
    "build_classifier",
)
ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "fnet_classification.py"
TINY_IMDB = cli.TINY_IMDB


def flags(settings):
    """Command-line flags for a dict of settings."""
    return [
        text
        for name, value in settings.items()
        for text in (flag_name(name), str(value))
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


def parse(argv):
    """The tutorial's settings for `argv`, as its Setup step resolves them:
    its recipe and its options in one namespace."""
    recipe = dict(TUTORIAL.recipe)
    options = cli.parse(recipe, list(map(str, argv)))
    return argparse.Namespace(**recipe, **vars(options))


def replace(config, **changes):
    """A copy of a settings namespace with `changes`."""
    return type(config)(**{**vars(config), **changes})


def run_tutorial(*argv):
    """Run the whole tutorial in this process with `argv` as its flags; return
    its record's results."""
    saved = sys.argv
    sys.argv = [str(SCRIPT), *map(str, argv)]
    try:
        namespace = runpy.run_path(str(SCRIPT), run_name="__main__")
    finally:
        sys.argv = saved
    return namespace["record"].results


def run_script(*args, stdin=None, env=None, prelude="", module=None):
    """The script (or `python -m module`) in a fresh process, as a user runs
    it; `prelude` is Python run first in that process (for example to make an
    import fail)."""
    if module:
        code = f"{prelude}\nimport runpy\nrunpy.run_module({module!r}, run_name='__main__')"
    else:
        code = f"{prelude}\nimport runpy, sys\nsys.argv[0] = {str(SCRIPT)!r}\n"
        code += "runpy.run_path(sys.argv[0], run_name='__main__')"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=240,
    )


def killed_in_second_epoch(fit_number):
    """Python for `run_script`'s prelude: the process kills itself (SIGKILL) in
    the second epoch of its `fit_number`-th call of `fit()`."""
    return f"""
import os, signal, keras
fit, calls = keras.Model.fit, []
class KillInSecondEpoch(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch == 1 and batch == 2:
            os.kill(os.getpid(), signal.SIGKILL)
def killing_fit(model, *args, callbacks=(), **kwargs):
    calls.append(model.name)
    if len(calls) == {fit_number}:
        callbacks = [*callbacks, KillInSecondEpoch()]
    return fit(model, *args, callbacks=callbacks, **kwargs)
keras.Model.fit = killing_fit
"""


@pytest.fixture(autouse=True, scope="session")
def user_cache_folder(tmp_path_factory):
    """predict keeps JAX's compiled programs in the user's cache folder: the
    tests use one of their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user_cache")))
        patch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
        yield


@pytest.fixture
def tiny_config(tmp_path):
    """The tiny run's settings, writing into this test's own folders."""
    return parse(TINY_FLAGS + ["--output-dir", tmp_path / "run"])


@pytest.fixture
def tiny_imdb_copy(tmp_path):
    """A writable copy of the fixture, for tests that damage or extend it."""
    return Path(shutil.copytree(TINY_IMDB, tmp_path / "imdb"))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One `--smoke --quiet` run of both models on the fixture, shared by many
    tests; what it printed lies beside its folder (`stdout.txt`)."""
    folder = tmp_path_factory.mktemp("tiny_run")
    printed = io.StringIO()  # Kept beside the run: what --quiet printed.
    with contextlib.redirect_stdout(printed):
        results = run_tutorial("--smoke", "--quiet", "--output-dir", folder / "run")
    (folder / "stdout.txt").write_text(printed.getvalue())
    return folder / "run", results


@pytest.fixture(scope="session")
def tiny_prepared(tmp_path_factory):
    """The fixture prepared for training elsewhere, by the prepare command."""
    folder = tmp_path_factory.mktemp("prepared") / "prepared"
    cache = str(folder.parent / "cache")
    argv = TINY_DATA_FLAGS + ["--cache-dir", cache, "--output-dir", str(folder)]
    prepare.main(argv + ["--quiet"])
    return folder


def load_imdb(config):
    """The tutorial's Data step on `config`: lower-cased (texts, labels) of
    each split, and the data record."""
    texts, labels, data = prepare.read_splits(
        TUTORIAL.read_reviews, config, config.seed, config.validation_split, print
    )
    return {name: (texts[name], labels[name]) for name in texts}, data
