"""The project installs with pip (pyproject.toml), as the notebook's setup does."""

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile

from packaging.specifiers import SpecifierSet

from conftest import ROOT

TESTED_PYTHONS = {"3.11", "3.12", "3.13"}  # .ci/run's environments.


def requirement_name(line):
    return re.split(r"[<>=!~\[ ;]", line.strip(), maxsplit=1)[0].lower()


def test_the_wheel_holds_the_tutorial_and_the_package(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT / "fnet_imdb", source / "fnet_imdb")
    for name in ("pyproject.toml", "README.md", "fnet_classification.py"):
        shutil.copy(ROOT / name, source)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index"]
    command += ["--no-build-isolation", "--wheel-dir", str(tmp_path), str(source)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("fnet_imdb-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = [
            requirement_name(line.split(":", 1)[1])
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist:") and "extra ==" not in line
        ]
    modules = {p.relative_to(ROOT).as_posix() for p in ROOT.glob("fnet_imdb/*.py")}
    assert modules | {"fnet_classification.py"} <= names
    pinned = {
        requirement_name(line)
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert requires and set(requires) <= pinned  # Tested pins for each need.


def test_pyproject_states_the_tested_pythons():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    prefix = "Programming Language :: Python :: 3."
    stated = {
        c.rsplit(" :: ", 1)[1] for c in project["classifiers"] if c.startswith(prefix)
    }
    assert stated == TESTED_PYTHONS
    supported = SpecifierSet(project["requires-python"])
    assert all(supported.contains(f"{version}.0") for version in TESTED_PYTHONS)
    assert not supported.contains("3.10.13")  # Untested: refused.
