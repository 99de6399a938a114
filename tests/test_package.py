"""The package as a library: importing any of its modules changes nothing of
the importing program, and no module reads the tutorial."""

import ast
import shutil
import subprocess
import sys

from conftest import ROOT
from fnet_imdb import prepared

MODULES = sorted(p.stem for p in (ROOT / "fnet_imdb").glob("*.py"))

IMPORT_ALL = f"""
import sys, warnings
import keras, keras_hub, matplotlib, numpy, scipy.stats  # Their own effects first.
def state():
    return (sys.excepthook, list(warnings.filters),
            matplotlib.rcParams._get_backend_or_none())
before = state()
for name in {MODULES!r}:
    __import__("fnet_imdb." + name)
assert state() == before, (before, state())
print("unchanged")
"""


def test_importing_the_package_changes_no_global_state():
    """The excepthook, the warning filters and matplotlib's backend stay as the
    importing program set them (a notebook keeps its own)."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], capture_output=True, cwd=ROOT, timeout=240
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert result.stdout.decode().split() == ["unchanged"]


def test_no_module_parses_or_executes_code():
    """The dependency runs one way: the tutorial uses the package, and no
    module of the package parses or runs the tutorial (or any source)."""
    for name in MODULES:
        tree = ast.parse((ROOT / "fnet_imdb" / f"{name}.py").read_text("utf-8"))
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        }
        imported |= {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not imported & {"ast", "runpy", "fnet_classification"}, name
        called = {
            ast.unparse(node.func).rsplit(".", 1)[-1]
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
        }
        assert not called & {"exec", "eval", "spec_from_file_location"}, name


def test_prepare_works_without_the_tutorial(tmp_path):
    """In a copy of the package alone, without fnet_classification.py,
    `prepare` writes a prepared folder (`predict` there: test_predict_training_path.py).
    """
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "fnet_imdb", copy / "fnet_imdb")
    shutil.copytree(ROOT / "data" / "tiny_imdb", copy / "tiny_imdb")
    flags = ["--data-dir", "tiny_imdb", "--max-seq-len", "64", "--vocab-size", "300"]
    result = subprocess.run(
        [sys.executable, "-m", "fnet_imdb.prepare", *flags, "--output-dir", "out"],
        cwd=copy, capture_output=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert not (copy / "fnet_classification.py").exists()
    assert prepared.manifest(copy / "out")["vocabulary_size"] > 100
