"""Tests of the requirement files: the tested JAX on Python 3.11, and a GPU or
TPU image's newer stack kept by the training files."""

from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
FILES = ("requirements.txt", "requirements-train.txt", "requirements-cuda.txt")
# Training without TensorFlow, on an image's stack.
TRAINING = ("requirements-train.txt", "requirements-torch.txt")
# jax 0.10.2 is the newest on Python 3.11 and the tested one; GPU images carry
# jax 0.11.2 on Python 3.12.
KEPT = {"3.11": "0.10.2", "3.12": "0.11.2"}
# An H100 image's stack on Python 3.12, beside its JAX.
IMAGE = {"numpy": "2.5.2", "jax": "0.11.2", "jaxlib": "0.11.2"}


def requirements(name):
    """The requirements of a file, its `-r` includes followed (pip has no
    public API to parse requirement files)."""
    found = []
    for line in (ROOT / name).read_text().splitlines():
        line = line.split(" #")[0].strip()
        if line.startswith("-r "):
            found += requirements(line[3:].strip())
        elif line and not line.startswith("#"):
            found.append(Requirement(line))
    return found


def applying(name, package, python=None):
    """The requirements on `package` that pip applies on that Python version
    (None: the running one)."""
    environment = None
    if python:
        environment = {"python_version": python, "python_full_version": python + ".0"}
    return [
        requirement
        for requirement in requirements(name)
        if canonicalize_name(requirement.name) == package
        and (requirement.marker is None or requirement.marker.evaluate(environment))
    ]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("python", sorted(KEPT))
@pytest.mark.parametrize("package", ["jax", "jaxlib"])
def test_jax_ranges_keep_the_jax_of_each_python(name, python, package):
    found = applying(name, package, python)
    assert found, f"{name} sets no {package} for Python {python}"
    for requirement in found:
        assert requirement.specifier.contains(KEPT[python]), (name, str(requirement))


@pytest.mark.parametrize("name", TRAINING)
def test_training_files_have_lower_bounds_only(name):
    """An image's stack stays whatever its versions: nothing is capped."""
    found = requirements(name)
    assert found
    for requirement in found:
        assert requirement.specifier.contains("99.0"), (name, str(requirement))
        assert canonicalize_name(requirement.name) != "tensorflow", name


@pytest.mark.parametrize("name", TRAINING)
@pytest.mark.parametrize("package, version", sorted(IMAGE.items()))
def test_training_files_keep_an_h100_images_stack(name, package, version):
    for requirement in applying(name, package, "3.12"):
        assert requirement.specifier.contains(version), (name, str(requirement))


def test_torch_requirements_keep_the_tested_pytorch():
    (requirement,) = applying("requirements-torch.txt", "torch", "3.11")
    assert requirement.specifier.contains("2.13.0")
    assert not requirement.specifier.contains("2.12.0")


@pytest.mark.parametrize("name", ["requirements-train.txt", "requirements-cuda.txt"])
def test_images_keep_a_newer_jax_on_python_3_12(name):
    """Lower bounds only: a JAX newer than any tested one stays too."""
    for package in ("jax", "jaxlib"):
        for requirement in applying(name, package, "3.12"):
            assert requirement.specifier.contains("99.0"), (name, str(requirement))


def test_requirements_txt_pins_the_tested_jax_on_python_3_11():
    for package in ("jax", "jaxlib"):
        for requirement in applying("requirements.txt", package, "3.11"):
            assert not requirement.specifier.contains("0.11.0"), str(requirement)


def test_cuda_requirements_install_a_cuda_build_of_jax():
    for python in KEPT:
        (requirement,) = [
            r for r in applying("requirements-cuda.txt", "jax", python) if r.extras
        ]
        assert requirement.extras == {"cuda13"}


def test_the_installed_jax_meets_requirements_txt():
    """This machine's JAX is within requirements.txt for the running Python."""
    for package in ("jax", "jaxlib"):
        installed = Version(metadata.version(package))
        for requirement in applying("requirements.txt", package):
            assert requirement.specifier.contains(installed), str(requirement)
