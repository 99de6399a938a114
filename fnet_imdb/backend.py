"""The Keras backend: a default only where the user chose none, and its device."""

import contextlib
import importlib.util
import json
import os
import platform
import re
import sys
from importlib import metadata
from pathlib import Path


def configured_backend():
    """The backend the user chose: `KERAS_BACKEND`, else another backend than
    TensorFlow in `keras.json`, else None.

    Keras reads the same two places; this reads them without importing Keras.
    Keras writes "tensorflow" into a missing `keras.json` at its first import,
    so that value cannot tell a choice from the default: it counts as none.
    """
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    keras_home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    try:
        settings = json.loads((Path(keras_home) / "keras.json").read_text())
    except (OSError, ValueError):
        return None
    chosen = settings.get("backend") if isinstance(settings, dict) else None
    return None if chosen == "tensorflow" else chosen


def nvidia_gpu_present():
    """Whether the NVIDIA driver lists a GPU, asked without any framework."""
    gpus = Path("/proc/driver/nvidia/gpus")
    return gpus.is_dir() and any(gpus.iterdir())


def installed(prefix):
    """Whether a distribution whose name starts with `prefix` is installed."""
    return any(
        (dist.metadata["Name"] or "").lower().startswith(prefix)
        for dist in metadata.distributions()
    )


def tpu_present(dev=Path("/dev")):
    """Whether libtpu is installed and the machine has TPU chips, asked without
    any framework: /dev/accel* (TPU v4 and older) or /dev/vfio/N (v5e and newer;
    /dev/vfio/vfio alone is the kernel's control file, on many machines)."""
    chips = [*dev.glob("accel*"), *(dev / "vfio").glob("[0-9]*")]
    return bool(chips) and installed("libtpu")


def choose_backend(predicting=False):
    """Set `KERAS_BACKEND` unless the user chose one: JAX where it lists an
    NVIDIA GPU (a CUDA build of JAX) or a TPU (Colab's TPU runtimes), else
    PyTorch where it sees a CUDA GPU, else TensorFlow (fastest to train on our
    CPUs, README) or, `predicting`, the first of `PREDICTING_ON_CPU` installed.

    Call it before Keras is imported. TensorFlow is imported here, quietly,
    wherever it is installed: keras-hub imports it on every backend. Only when
    `predicting` on another backend, keras-hub is imported without it
    (`import_keras_hub`). Returns the backend.
    """
    backend = configured_backend()
    if backend is None:
        gpu = nvidia_gpu_present()
        if gpu and installed("jax-cuda") and jax_lists("gpu"):
            backend = "jax"
        elif tpu_present() and jax_lists("tpu"):
            backend = "jax"
        elif gpu and torch_sees_cuda():
            backend = "torch"
        elif predicting:
            backend = next(filter(importable, PREDICTING_ON_CPU), "tensorflow")
        else:
            backend = "tensorflow"
        os.environ["KERAS_BACKEND"] = backend
    if backend == "tensorflow":
        import_tensorflow()
    elif predicting:
        import_keras_hub()
    else:
        with contextlib.suppress(ImportError):  # Not installed: keras-hub runs on.
            import_tensorflow()
    return backend


# Both start sooner than TensorFlow, in less than half its memory; JAX started
# the sooner on our 2-core CPU (docs/speed.md, "predict").
PREDICTING_ON_CPU = ("jax", "torch")


def importable(name):
    """Whether the module `name` is installed, asked without importing it."""
    return importlib.util.find_spec(name) is not None


def torch_sees_cuda():
    """Whether PyTorch is installed and `torch.cuda.is_available()`."""
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def jax_lists(platform):
    """Whether JAX itself lists a device of `platform`, "gpu" or "tpu" (a CUDA
    plugin or libtpu can fail to load)."""
    try:
        import jax

        return any(device.platform == platform for device in jax.devices())
    except Exception:  # No JAX, or no usable plugin: either way, no such device.
        return False


def training_device():
    """Where the Keras backend trains: ("gpu", "tpu" or "cpu", the device's
    name). Callers take anything but "cpu" for an accelerator."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform in ("gpu", "tpu"):
            return device.platform, device.device_kind
    elif backend == "torch":
        import torch

        if torch.cuda.is_available():
            return "gpu", torch.cuda.get_device_name()
    else:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return "gpu", details.get("device_name", "gpu")
    return "cpu", cpu_name()


def cpu_name():
    """The CPU's model and core count, as results record the machine."""
    info = Path("/proc/cpuinfo").read_text() if sys.platform == "linux" else ""
    model = re.search(r"model name\s*: (.*)", info)
    name = model[1].strip() if model else platform.processor() or "unknown"
    return f"cpu: {name} ({os.cpu_count()} cores)"


def warn_if_gpu_unused(backend, device):
    """Print `unused_gpu_warning`'s line on stderr, if there is one."""
    warning = unused_gpu_warning(backend, device, nvidia_gpu_present())
    if warning:
        print(warning, file=sys.stderr)


def unused_gpu_warning(backend, device, gpu_present):
    """One line saying that a GPU sits unused and what to install, or None."""
    if not gpu_present or device == "gpu":
        return None
    install = {
        "jax": "pip install -r requirements-cuda.txt",
        "tensorflow": "pip install 'tensorflow[and-cuda]'",
        # PyPI's Linux wheels of PyTorch are CUDA builds.
        "torch": "pip install --force-reinstall torch",
    }.get(backend, "a CUDA build of your backend")
    return (
        f"warning: an NVIDIA GPU is present but the {backend} backend cannot use "
        f"it, so training runs on the CPU; install {install} "
        "(README: GPU, TPU and Colab)"
    )


def import_tensorflow():
    """TensorFlow for preparing data only: its start-up logs silenced and, when
    another backend trains, the GPUs hidden from it so it takes no GPU memory.

    Its logs go: training never depends on its GPU support (a GPU that the
    training backend cannot use gets `unused_gpu_warning` instead).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_logs_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # Looks for CUDA now, quietly.
        if configured_backend() not in (None, "tensorflow"):
            tf.config.set_visible_devices([], "GPU")
    return tf


def import_keras_hub():
    """keras-hub, imported with TensorFlow and tensorflow-text hidden from it.

    keras-hub 0.32 imports both at its own import wherever they are installed
    (`keras_hub/src/utils/tensor_utils.py`), seconds and hundreds of MB, though
    its layers need Keras alone and its tokenizers run their Python path on
    eager calls. A `None` in `sys.modules` makes an import raise ImportError,
    which keras-hub takes for "not installed"; the entries go once it is in.
    """
    hidden = [
        name for name in ("tensorflow", "tensorflow_text") if name not in sys.modules
    ]
    sys.modules.update(dict.fromkeys(hidden))
    try:
        import keras_hub
    finally:
        for name in hidden:
            del sys.modules[name]
    return keras_hub


@contextlib.contextmanager
def native_logs_silenced():
    """Send file descriptor 2 to /dev/null: C++ logs bypass Python's stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
