"""Tests for `fnet_imdb.hosts`: what starts several processes, and the tutorial
run as two JAX processes on 127.0.0.1, against one process with two devices.

The runs of two processes take minutes of CPU between them: they are marked
`processes`, which the default selection leaves out and CI runs on its own.
"""

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest

from conftest import ROOT, SCRIPT, TINY_FLAGS, killed_in_second_epoch, run_script
from fnet_imdb import hosts

# Both models, 2 epochs, batches of 7 over two devices: every split ends in a
# partial batch, some of odd size (padded), and the reviews split unevenly.
FLAGS = TINY_FLAGS + ["--epochs", "2", "--batch-size", "7", "--max-samples", "50"]
FLAGS += ["--data-parallel"]
TWO_DEVICES = {
    "KERAS_BACKEND": "jax",
    "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
}


def options(**chosen):
    """The options that `hosts.distribute_over_devices` reads."""
    defaults = dict(data_parallel=False, multi_host=False, quiet=False, verbose=2)
    return argparse.Namespace(**{**defaults, **chosen})


def test_several_processes_from_the_flag_or_keras_variables():
    assert not hosts.several_processes(False, {})
    assert hosts.several_processes(True, {})
    for name in hosts.VARIABLES:
        assert hosts.several_processes(False, {name: "1"})
    assert not hosts.several_processes(False, {hosts.VARIABLES[0]: ""})


def test_without_data_parallel_one_process_and_no_devices():
    assert hosts.distribute_over_devices(options(), environ={}) == []
    assert hosts.batching([]) == {"multiple_of": 1}
    assert (hosts.process_index(), hosts.process_count()) == (0, 1)


def test_several_processes_need_data_parallel():
    environ = {"KERAS_DISTRIBUTION_NUM_PROCESSES": "2"}
    with pytest.raises(ValueError, match="with --data-parallel only"):
        hosts.distribute_over_devices(options(), environ)
    with pytest.raises(ValueError, match="with --data-parallel only"):
        hosts.distribute_over_devices(options(multi_host=True), environ={})


def test_a_process_count_that_is_no_number_is_refused():
    """Refused in one line, before JAX is asked anything."""
    environ = {"KERAS_DISTRIBUTION_NUM_PROCESSES": "two"}
    with pytest.raises(ValueError, match="NUM_PROCESSES must be a whole number"):
        hosts.start_processes(environ)


def test_zipped_holds_every_file_but_the_lock(tmp_path):
    (tmp_path / ".backup" / "fnet-seed1").mkdir(parents=True)
    (tmp_path / ".backup" / "fnet-seed1" / "current").write_text("epoch-1\n")
    (tmp_path / "results.json").write_text("{}")
    (tmp_path / ".lock").write_text("123\n")
    archive = zipfile.ZipFile(io.BytesIO(hosts.zipped(tmp_path)))
    assert sorted(archive.namelist()) == [".backup/fnet-seed1/current", "results.json"]
    assert archive.read(".backup/fnet-seed1/current") == b"epoch-1\n"


@pytest.mark.backend
@pytest.mark.skipif(keras.backend.backend() == "jax", reason="JAX distributes")
def test_data_parallel_needs_jax():
    """Data parallelism on another backend fails with one clear error."""
    with pytest.raises(ValueError, match="needs the JAX backend"):
        hosts.distribute_over_devices(options(data_parallel=True), environ={})


def test_data_parallel_uses_every_local_device(tmp_path):
    """With JAX, `--data-parallel` spreads each batch over all local devices
    (here 4 host devices; a GPU or TPU machine lists its accelerators)."""
    code = (
        "import argparse; from fnet_imdb import hosts\n"
        "chosen = argparse.Namespace(data_parallel=True, multi_host=False)\n"
        "print(hosts.distribute_over_devices(chosen, environ={}))"
    )
    environment = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "KERAS_HOME": str(tmp_path),
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "['cpu:0', 'cpu:1', 'cpu:2', 'cpu:3']"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_two(argv, logs, kill_process_1=False):
    """The tutorial as processes 0 and 1 of one run, coordinator on 127.0.0.1,
    each writing its stdout and stderr to `logs`/<n>.out and .err; process 1
    copies its record into `logs` (TMPDIR)."""
    logs.mkdir(parents=True)
    port, processes = free_port(), []
    try:
        for index in (0, 1):
            prelude = killed_in_second_epoch(1) if kill_process_1 and index else ""
            processes.append(start_one(argv, logs, port, index, prelude))
    except BaseException:
        stop(processes)
        raise
    return processes


def start_one(argv, logs, port, index, prelude):
    """Process `index` of two, `prelude` run before the tutorial."""
    code = f"{prelude}\nimport runpy, sys\nsys.argv[0] = {str(SCRIPT)!r}\n"
    code += "runpy.run_path(sys.argv[0], run_name='__main__')"
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TMPDIR": str(logs),
        "KERAS_BACKEND": "jax",
        "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{port}",
        "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
        "KERAS_DISTRIBUTION_PROCESS_ID": str(index),
    }
    environment.pop("XLA_FLAGS", None)  # One CPU device each.
    with open(logs / f"{index}.out", "wb") as out:
        with open(logs / f"{index}.err", "wb") as err:
            return subprocess.Popen(
                [sys.executable, "-c", code, *map(str, argv)],
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=err,
            )


def stop(processes):
    """Kill whichever of `processes` still runs, and reap them all."""
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def run_two(argv, logs):
    """Both processes to the end (4 minutes at most); their exit statuses and
    pids."""
    processes = start_two(argv, logs)
    try:
        for process in processes:
            process.wait(timeout=240)
    finally:
        stop(processes)
    return [process.returncode for process in processes], [p.pid for p in processes]


def figures(results):
    """Each model's figures per epoch (loss, accuracy, and on validation) and
    its test accuracy."""
    return {
        kind: {
            **entry["runs"][0]["history"],
            "test_accuracy": entry["runs"][0]["test_accuracy"],
        }
        for kind, entry in results["models"].items()
    }


def assert_same_figures(results, reference):
    mine, theirs = figures(results), figures(reference)
    assert mine.keys() == theirs.keys() == {"fnet", "transformer"}
    for kind in theirs:
        assert mine[kind].keys() == theirs[kind].keys()
        for name, values in theirs[kind].items():
            assert mine[kind][name] == pytest.approx(values, abs=1e-4), (kind, name)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One process with two devices: its results, and its output folder."""
    folder = tmp_path_factory.mktemp("one_process") / "run"
    result = run_script(*FLAGS, "--output-dir", folder, env=TWO_DEVICES)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    return json.loads((folder / "results.json").read_text()), folder


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """The same run as two processes of one device each: exit statuses, pids,
    the output folder and the folder of their logs."""
    root = tmp_path_factory.mktemp("two_processes")
    statuses, pids = run_two(FLAGS + ["--output-dir", root / "run"], root / "logs")
    return statuses, pids, root / "run", root / "logs"


@pytest.mark.processes
def test_two_processes_train_as_one_process_with_two_devices(two_processes, reference):
    statuses, pids, folder, logs = two_processes
    assert statuses == [0, 0], [(logs / f"{i}.err").read_text()[-2000:] for i in (0, 1)]
    results = json.loads((folder / "results.json").read_text())
    assert results["complete"] is True
    assert results["environment"]["processes"] == 2
    assert len(results["environment"]["data_parallel_devices"]) == 2
    assert reference[0]["environment"]["processes"] == 1
    assert_same_figures(results, reference[0])
    assert (folder / "results.md").is_file() and (folder / "comparison.png").is_file()
    # One writer: process 0 held the lock; process 1 removed its own copy.
    assert (folder / ".lock").read_text().strip() == str(pids[0])
    assert not list(logs.glob("fnet-imdb-process-*"))


@pytest.mark.processes
def test_two_processes_gather_every_review_once(two_processes, reference):
    """Partial last batches, some padded, split over the two processes: the
    test probabilities kept are every review's, in review order, as one
    process's; validation and test count each review once."""
    folder = two_processes[2]
    results = json.loads((folder / "results.json").read_text())
    counts = [results["data"][split]["reviews"] for split in ("train", "validation")]
    counts.append(results["data"]["test"]["reviews"])
    assert [count % 7 for count in counts] == [5, 3, 1]  # Padded to 6, 4 and 2.
    for kind in ("fnet", "transformer"):
        kept = results["models"][kind]["runs"][0]["predictions"]
        mine = np.load(folder / kept).astype(float)
        theirs = np.load(reference[1] / kept).astype(float)
        assert mine.shape == (counts[2],)
        np.testing.assert_allclose(mine, theirs, atol=1e-3)


@pytest.mark.processes
def test_a_killed_process_ends_the_run_and_a_rerun_resumes(tmp_path, reference):
    argv = FLAGS + ["--output-dir", tmp_path / "run"]
    processes = start_two(argv, tmp_path / "killed", kill_process_1=True)
    try:
        processes[1].wait(timeout=240)
        processes[0].wait(timeout=60)  # Ends, and soon: no hang.
    finally:
        stop(processes)
    assert processes[1].returncode == -signal.SIGKILL
    assert processes[0].returncode == 1
    error = (tmp_path / "killed" / "0.err").read_text()
    assert len(error.splitlines()) == 1 and error.startswith("error: "), error
    before = json.loads((tmp_path / "run" / "results.json").read_text())
    assert before["complete"] is False and before["models"] == {}
    statuses, _ = run_two(argv, tmp_path / "rerun")  # The same command again.
    assert statuses == [0, 0], (tmp_path / "rerun" / "1.err").read_text()[-2000:]
    resumed = json.loads((tmp_path / "run" / "results.json").read_text())
    assert resumed["complete"] is True and resumed["resumed"] is True
    assert resumed["models"]["fnet"]["runs"][0]["resumed_from_epoch"] == 1
    assert_same_figures(resumed, reference[0])


def test_the_keras_internals_it_reads_are_there():
    """`hosts` reads what Keras keeps private (its public API has no way to
    lay out a model's output alone, or to seed every process): the layer on
    the name-scope stack and its node lists, and the JAX backend's
    `initialize_rng`. A release that moves one fails here, by name."""
    from keras.src.backend.common import global_state
    from keras.src.backend.jax.distribution_lib import initialize_rng

    assert callable(initialize_rng) and callable(global_state.get_global_attribute)
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(2)
    output = keras.layers.Dense(1)
    keras.Model(inputs, output(hidden(inputs)))
    assert output._inbound_nodes and not output._outbound_nodes
    assert hidden._outbound_nodes, "Keras renamed a layer's _outbound_nodes"
