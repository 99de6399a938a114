"""Data parallelism over the devices of one process or of several, one a host."""

import atexit
import io
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np

# Keras's public API cannot lay out a model's output alone (`DataParallel`) or
# seed every process: the private names read here are checked by a test.
from keras.src.backend.common import global_state

from fnet_imdb import rundir

# Keras's own variables: keras.distribution.initialize() reads the same three.
VARIABLES = [
    f"KERAS_DISTRIBUTION_{name}"
    for name in ("JOB_ADDRESSES", "NUM_PROCESSES", "PROCESS_ID")
]
# Seconds after which JAX ends every process if one stopped answering outside
# a collective (a collective reports a killed peer at once); JAX's default,
# 100 s, would keep the others waiting that long.
HEARTBEAT_SECONDS = 30


def several_processes(multi_host, environ):
    """Whether this run is one process of several: `--multi-host` (a Cloud
    TPU pod slice, where JAX finds its peers), or Keras's variables set."""
    return bool(multi_host) or any(environ.get(name) for name in VARIABLES)


def distribute_over_devices(options, environ=os.environ):
    """With `options.data_parallel` (JAX backend), Keras's `DataParallel` over
    every device that `keras.distribution.list_devices()` returns: all GPUs,
    else all TPU devices (one per core on TPU v2 and v3, one per chip from v4
    on), else the CPU. A run of several processes (`several_processes`) first
    starts JAX's multi-process runtime, and its devices are every process's;
    processes other than 0 then print nothing (`options.quiet`). Returns the
    devices, or [] without `--data-parallel`."""
    several = several_processes(options.multi_host, environ)
    if not options.data_parallel:
        if several:
            raise ValueError(
                "--multi-host or KERAS_DISTRIBUTION_* starts several processes, "
                "which train with --data-parallel only"
            )
        return []
    if keras.backend.backend() != "jax":
        raise ValueError("--data-parallel needs the JAX backend: set KERAS_BACKEND=jax")
    if several:
        start_processes(environ)
        if process_index() != 0:  # Process 0 speaks for the run.
            options.quiet, options.verbose = True, 0
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(
        DataParallel(devices=devices, auto_shard_dataset=False)
    )
    return devices


def start_processes(environ):
    """Start JAX's multi-process runtime from Keras's variables (none on a
    Cloud TPU pod slice, where JAX finds them), with gloo collectives on a
    CPU; an error then ends this process at once (`end_at_once_on_errors`)."""
    import jax
    from jax.extend.backend import clear_backends
    from keras.src.backend.jax.distribution_lib import initialize_rng

    address, count, index = (environ.get(name) or None for name in VARIABLES)
    for name, value in zip(VARIABLES[1:], (count, index)):
        if value is not None and not value.isdigit():
            raise ValueError(f"{name} must be a whole number, not {value!r}")
    # The flags' --fourier auto asked JAX for its devices, and JAX joins other
    # processes only before its backends start: they start again, joined.
    clear_backends()
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    # As keras.distribution.initialize() does, with a heartbeat timeout, which
    # it does not pass; then Keras's one seed for all, unless one was set.
    jax.distributed.initialize(
        address.split(",")[0] if address else None,
        int(count) if count else None,
        int(index) if index else None,
        heartbeat_timeout_seconds=HEARTBEAT_SECONDS,
    )
    initialize_rng()
    end_at_once_on_errors()


def end_at_once_on_errors():
    """Make an uncaught error end this process right after its one line.

    At exit JAX waits for every process to finish (a killed one never does):
    after its heartbeat timeout it aborts with a C++ report, not one line.
    """
    report = sys.excepthook

    def report_and_end(kind, error, trace):
        report(kind, error, trace)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130 if issubclass(kind, KeyboardInterrupt) else 1)

    sys.excepthook = report_and_end


def process_index():
    """This process's number, 0 in a run of one process (any backend)."""
    return jax_runtime().process_index() if jax_runtime() else 0


def process_count():
    """How many processes train this run: 1 unless `start_processes` ran."""
    return jax_runtime().process_count() if jax_runtime() else 1


def jax_runtime():
    """The `jax` module if it trains (the JAX backend), else None."""
    if keras.backend.backend() != "jax":
        return None
    import jax

    return jax


def batching(devices):
    """The arguments of `batches.Batches` that split each batch over `devices`
    (every process's): padded to a multiple of their number, this process's
    share of each."""
    if not devices:
        return dict(multiple_of=1)
    return dict(
        multiple_of=len(devices), processes=process_count(), process=process_index()
    )


class DataParallel(keras.distribution.DataParallel):
    """Keras's `DataParallel`, with a model's output laid out whole on every
    device (one number a review): Keras's `predict` concatenates its batches
    with numpy, which cannot read an array spread over several processes."""

    def get_tensor_layout(self, path):
        # Keras passes the output's path only; the layer itself is on its name
        # scope, and a layer of a model's graph that feeds no other ends it.
        scopes = global_state.get_global_attribute("name_scope_stack")
        layer = scopes[-1].caller if scopes else None
        inputs = getattr(layer, "_inbound_nodes", None)
        if inputs and not getattr(layer, "_outbound_nodes", True):
            return keras.distribution.TensorLayout([], self.device_mesh)
        return None


def open_run(output_dir, settings):
    """`rundir.open_run` for this process. Process 0 owns the output folder;
    any other process keeps its record in a temporary folder of its own,
    which starts as a copy of the interrupted run that process 0 resumes
    (its results, backups and predictions), removed at exit."""
    if process_count() == 1:
        return rundir.open_run(output_dir, settings)
    if process_index() == 0:
        opened = rundir.open_run(output_dir, settings)
        share_folder(opened.folder if opened.previous else None)
        return opened
    folder = Path(tempfile.mkdtemp(prefix="fnet-imdb-process-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    share_folder(None, into=folder)
    return rundir.open_run(folder, settings)


def share_folder(folder, into=None):
    """Send the files of `folder` (process 0; None: nothing) to every other
    process, which writes them into `into`. Every process calls it."""
    from jax.experimental import multihost_utils

    data = np.zeros(0, np.uint8)
    if process_index() == 0 and folder is not None:
        data = np.frombuffer(zipped(folder), np.uint8)
    size = int(multihost_utils.broadcast_one_to_all(np.int32(data.size)))
    if size:
        data = multihost_utils.broadcast_one_to_all(
            data if process_index() == 0 else np.zeros(size, np.uint8)
        )
    if into is not None and size:
        received = np.asarray(data).astype(np.uint8).tobytes()  # Summed as wider ints.
        with zipfile.ZipFile(io.BytesIO(received)) as archive:
            archive.extractall(into)


def zipped(folder):
    """The files under `folder` but its lock, as the bytes of a zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file() and path.name != ".lock":
                archive.write(path, path.relative_to(folder))
    return buffer.getvalue()
