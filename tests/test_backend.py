"""Tests for `fnet_imdb.backend`: the user's backend first, JAX on a GPU or a
TPU, PyTorch on a GPU that only it can use, and GPU hints."""

import json
import os
import subprocess
import sys
from types import ModuleType, SimpleNamespace

import keras
import pytest

from conftest import ROOT
from fnet_imdb import backend


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty `KERAS_HOME`, no `KERAS_BACKEND`, and TensorFlow's quiet import
    left out; returns keras.json's path."""
    monkeypatch.setattr(backend, "import_tensorflow", lambda: None)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    return tmp_path / "keras.json"


def torch_cuda(monkeypatch, available):
    """`torch.cuda.is_available()` answers `available`; where PyTorch is not
    installed, a stand-in module `torch` with only that function."""
    try:
        import torch
    except ImportError:
        torch = ModuleType("torch")
        torch.cuda = SimpleNamespace()
        monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available, raising=False)


def test_configured_backend_env_first(keras_home, monkeypatch):
    """`KERAS_BACKEND` wins over keras.json."""
    keras_home.write_text(json.dumps({"backend": "jax"}))
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert backend.configured_backend() == "torch"


def test_configured_backend_keras_json(keras_home):
    """Without `KERAS_BACKEND`, keras.json's "backend" is the choice."""
    keras_home.write_text(json.dumps({"floatx": "float32", "backend": "jax"}))
    assert backend.configured_backend() == "jax"


def test_configured_backend_keras_json_tensorflow_is_no_choice(keras_home):
    """Keras writes "tensorflow" into a new keras.json: it is no choice."""
    keras_home.write_text(json.dumps({"backend": "tensorflow"}))
    assert backend.configured_backend() is None


def test_configured_backend_empty_env_reads_keras_json(keras_home, monkeypatch):
    """An empty `KERAS_BACKEND` counts as unset."""
    keras_home.write_text(json.dumps({"backend": "jax"}))
    monkeypatch.setenv("KERAS_BACKEND", "")
    assert backend.configured_backend() == "jax"


@pytest.mark.parametrize(
    "text", [None, "{not json", "[1, 2]", json.dumps({"floatx": "float32"})]
)
def test_configured_backend_none(keras_home, text):
    """No keras.json, bad JSON, or no "backend" in it: no choice."""
    if text is not None:
        keras_home.write_text(text)
    assert backend.configured_backend() is None


def test_choose_backend_keeps_keras_json(keras_home, monkeypatch):
    """A backend chosen in keras.json is kept: `KERAS_BACKEND` stays unset."""
    keras_home.write_text(json.dumps({"backend": "jax"}))
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: True)
    assert backend.choose_backend() == "jax"
    assert "KERAS_BACKEND" not in os.environ


@pytest.mark.parametrize("installed", [True, False])
def test_choose_backend_imports_tensorflow_quietly_where_installed(
    keras_home, monkeypatch, installed
):
    """keras-hub imports TensorFlow on every backend: where it is installed, it
    is imported first, its logs silenced and its GPUs hidden from it."""
    imported = []

    def import_tensorflow():
        if not installed:
            raise ModuleNotFoundError("No module named 'tensorflow'")
        imported.append(1)

    monkeypatch.setenv("KERAS_BACKEND", "torch")
    monkeypatch.setattr(backend, "import_tensorflow", import_tensorflow)
    assert backend.choose_backend() == "torch"
    assert imported == ([1] if installed else [])


def test_choose_backend_keras_json_tensorflow_on_cpu(keras_home, monkeypatch):
    """keras.json's tensorflow (Keras's own default) on a CPU stays tensorflow."""
    keras_home.write_text(json.dumps({"backend": "tensorflow"}))
    monkeypatch.setattr(backend, "import_tensorflow", lambda: None)
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: False)
    assert backend.choose_backend() == "tensorflow"
    assert os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow"


def test_choose_backend_keeps_env(keras_home, monkeypatch):
    """A backend set in `KERAS_BACKEND` is kept as it is."""
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: True)
    assert backend.choose_backend() == "torch"
    assert os.environ["KERAS_BACKEND"] == "torch"


def test_choose_backend_default_without_accelerator(keras_home, monkeypatch):
    """No choice, no GPU and no TPU: TensorFlow, set in `KERAS_BACKEND`."""
    imported = []
    monkeypatch.setattr(backend, "import_tensorflow", lambda: imported.append(1))
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: False)
    monkeypatch.setattr(backend, "tpu_present", lambda: False)
    assert backend.choose_backend() == "tensorflow"
    assert os.environ["KERAS_BACKEND"] == "tensorflow"
    assert imported == [1]


def test_choose_backend_jax_where_it_lists_a_gpu(keras_home, monkeypatch):
    """No choice, a GPU, a CUDA JAX that lists it: JAX."""
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: True)
    monkeypatch.setattr(backend, "installed", lambda prefix: prefix == "jax-cuda")
    monkeypatch.setattr(backend, "tpu_present", lambda: False)
    monkeypatch.setattr(backend, "jax_lists", lambda platform: platform == "gpu")
    assert backend.choose_backend() == "jax"
    assert os.environ["KERAS_BACKEND"] == "jax"


def test_choose_backend_jax_where_it_lists_a_tpu(keras_home, monkeypatch):
    """No choice, no NVIDIA GPU, a TPU that JAX lists (Colab's TPU runtime): JAX."""
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: False)
    monkeypatch.setattr(backend, "tpu_present", lambda: True)
    monkeypatch.setattr(backend, "jax_lists", lambda platform: platform == "tpu")
    assert backend.choose_backend() == "jax"
    assert os.environ["KERAS_BACKEND"] == "jax"


@pytest.mark.parametrize("gpu", [False, True])
def test_choose_backend_tensorflow_where_jax_lists_no_accelerator(
    keras_home, monkeypatch, gpu
):
    """A GPU or TPU that JAX cannot use (plugin or libtpu failed), and no CUDA
    PyTorch: TensorFlow."""
    asked = []
    monkeypatch.setattr(backend, "import_tensorflow", lambda: None)
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: gpu)
    monkeypatch.setattr(backend, "installed", lambda prefix: True)
    monkeypatch.setattr(backend, "tpu_present", lambda: not gpu)
    monkeypatch.setattr(backend, "jax_lists", lambda platform: asked.append(platform))
    torch_cuda(monkeypatch, False)
    assert backend.choose_backend() == "tensorflow"
    assert asked == ["gpu" if gpu else "tpu"]


def test_choose_backend_takes_pytorch_for_a_cuda_gpu_that_jax_cannot_use(
    keras_home, monkeypatch
):
    """No choice, a GPU that JAX does not list and PyTorch sees: PyTorch."""
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: True)
    monkeypatch.setattr(backend, "jax_lists", lambda platform: False)
    torch_cuda(monkeypatch, True)
    assert backend.choose_backend() == "torch"
    assert os.environ["KERAS_BACKEND"] == "torch"


def test_choose_backend_jax_before_pytorch_on_a_gpu(keras_home, monkeypatch):
    """A GPU that both JAX and PyTorch can use: JAX, as on GPU images."""
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: True)
    monkeypatch.setattr(backend, "installed", lambda prefix: prefix == "jax-cuda")
    monkeypatch.setattr(backend, "jax_lists", lambda platform: platform == "gpu")
    torch_cuda(monkeypatch, True)
    assert backend.choose_backend() == "jax"


def test_choose_backend_no_pytorch_without_an_nvidia_gpu(keras_home, monkeypatch):
    """PyTorch is asked only where the driver lists an NVIDIA GPU."""
    monkeypatch.setattr(backend, "import_tensorflow", lambda: None)
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: False)
    monkeypatch.setattr(backend, "tpu_present", lambda: False)
    torch_cuda(monkeypatch, True)
    assert backend.choose_backend() == "tensorflow"


@pytest.mark.parametrize(
    "configured, installed, chosen",
    [
        ("", ["jax", "torch"], "jax"),
        ("", ["torch"], "torch"),
        ("", [], "tensorflow"),
        ("tensorflow", ["jax"], "tensorflow"),
        ("jax", [], "jax"),
    ],
)
def test_choose_backend_predicting(
    keras_home, monkeypatch, configured, installed, chosen
):
    """To predict on a CPU: the user's backend, else JAX, else PyTorch, else
    TensorFlow; keras-hub imported without TensorFlow but on TensorFlow."""
    imported = []
    monkeypatch.setenv("KERAS_BACKEND", configured)  # Empty: no choice.
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: False)
    monkeypatch.setattr(backend, "tpu_present", lambda: False)
    monkeypatch.setattr(backend, "importable", lambda name: name in installed)
    monkeypatch.setattr(backend, "import_tensorflow", lambda: imported.append("tf"))
    monkeypatch.setattr(backend, "import_keras_hub", lambda: imported.append("hub"))
    assert backend.choose_backend(predicting=True) == chosen
    assert os.environ["KERAS_BACKEND"] == chosen
    assert imported == (["tf"] if chosen == "tensorflow" else ["hub"])


IMPORT_KERAS_HUB = """
import sys
from fnet_imdb import backend
keras_hub = backend.import_keras_hub()
tokenizer = keras_hub.tokenizers.WordPieceTokenizer(["[PAD]", "[UNK]", "good"])
print(tokenizer(["good bad"]), [m for m in sys.modules if m.startswith("tensorflow")])
import tensorflow  # Hidden from keras-hub only.
"""


def test_import_keras_hub_leaves_tensorflow_out(tmp_path):
    """keras-hub without TensorFlow (installed here): its tokenizer works on
    its Python path, and TensorFlow can still be imported afterwards."""
    pytest.importorskip("tensorflow")
    environment = {**os.environ, "KERAS_BACKEND": "jax", "KERAS_HOME": str(tmp_path)}
    command = [sys.executable, "-c", IMPORT_KERAS_HUB]
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().splitlines()[-1] == "[[2, 1]] []"


@pytest.mark.parametrize(
    "files, libtpu, present",
    [
        (["accel0"], True, True),  # TPU v4 and older.
        (["vfio/vfio", "vfio/0"], True, True),  # TPU v5e and newer.
        (["vfio/vfio"], True, False),  # The kernel's VFIO control file only.
        (["accel0"], False, False),  # No libtpu: JAX cannot use the chip.
        ([], True, False),
    ],
)
def test_tpu_present(tmp_path, monkeypatch, files, libtpu, present):
    for name in files:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).touch()
    monkeypatch.setattr(backend, "installed", lambda prefix: libtpu)
    assert backend.tpu_present(tmp_path) is present


@pytest.mark.parametrize(
    "platform, kind", [("tpu", "TPU v5 lite"), ("gpu", "NVIDIA H100 80GB HBM3")]
)
def test_training_device_names_a_jax_accelerator(monkeypatch, platform, kind):
    """A JAX TPU or GPU is the training device, with JAX's name for it."""
    import jax

    device = SimpleNamespace(platform=platform, device_kind=kind)
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    monkeypatch.setattr(jax, "devices", lambda: [device])
    assert backend.training_device() == (platform, kind)


def test_unused_gpu_warning_without_gpu():
    """No GPU, no warning."""
    assert backend.unused_gpu_warning("jax", "cpu", gpu_present=False) is None


def test_unused_gpu_warning_gpu_in_use():
    """A GPU that trains needs no warning."""
    assert backend.unused_gpu_warning("jax", "gpu", gpu_present=True) is None


def test_unused_gpu_warning_idle_gpu():
    """An idle GPU gets one line naming the backend and what to install."""
    warning = backend.unused_gpu_warning("jax", "cpu", gpu_present=True)
    assert "\n" not in warning
    assert "jax backend" in warning
    assert "requirements-cuda.txt" in warning
    other = backend.unused_gpu_warning("tensorflow", "cpu", gpu_present=True)
    assert "tensorflow backend" in other and "tensorflow[and-cuda]" in other
    torch = backend.unused_gpu_warning("torch", "cpu", gpu_present=True)
    assert "torch backend" in torch and "pip install --force-reinstall torch" in torch


def test_a_cpu_run_records_the_cpu_model():
    kind, name = backend.training_device()
    assert kind == "cpu" and name == backend.cpu_name()
    assert name.startswith("cpu: ") and name.endswith(f"({os.cpu_count()} cores)")
    assert "unknown" not in name  # Linux names its CPU in /proc/cpuinfo.
