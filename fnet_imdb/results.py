"""What a run records: stages and timings, the environment and per-seed results, in its output folder."""

import contextlib
import io
import json
import math
import os
import platform
import shutil
import time
from importlib import metadata

from fnet_imdb import backend, rundir
from fnet_imdb.cache import atomic_path, write_text
from fnet_imdb.cli import Interrupted
from fnet_imdb.comparison import comparison_table, results_markdown, summarise
from fnet_imdb.plots import save_plots, show_in_notebook
from fnet_imdb.vocabulary import write_vocabulary

OUTPUT_FILES = ("vocab.txt", "fnet.keras", "transformer.keras", "results.json")
OUTPUT_FILES += ("results.md", "learning_curves.png", "comparison.png")


# Settings that change no result: a run resumes whatever their values.
NOT_RESUMED_ON = ("quiet", "output_dir", "cache_dir", "no_cache", "download_dir")


def start(config, devices=()):
    """The record of a training run in its own output folder, locked, with the
    backend, device and machine it trains on; a resumed run's finished
    training is kept. Says where it writes in a line or two."""
    import keras

    device, device_name = backend.training_device()
    backend.warn_if_gpu_unused(keras.backend.backend(), device)
    settings = {k: v for k, v in vars(config).items() if k not in NOT_RESUMED_ON}
    folder = rundir.open_run(config.output_dir, settings)
    record = Record(config, folder.folder, config.quiet)
    record.lock = folder
    if folder.previous:
        for key in ("timings", "models"):
            record.results[key] = folder.previous[key]
    else:
        for name in OUTPUT_FILES:
            (record.output_dir / name).unlink(missing_ok=True)
        shutil.rmtree(record.output_dir / ".backup", ignore_errors=True)
    record.results["resumed"] = bool(folder.previous)
    record.results["environment"] = {
        **environment(keras.backend.backend(), device_name),
        "data_parallel_devices": [str(d) for d in devices],
    }
    record.write_json()  # From now on, an interrupted run can resume.
    if folder.note:
        record.say(folder.note[:1].upper() + folder.note[1:] + ".")
    record.say(
        f"Keras {keras.__version__} on {keras.backend.backend()}, training on "
        f"{device_name}; results go to {record.output_dir}/."
    )
    return record


class Record:
    """The results of one run, its stages' timings and its `results.json`."""

    def __init__(self, config, output_dir, quiet=False):
        self.output_dir, self.quiet, self.stages = output_dir, quiet, []
        self.lock = None
        self.started = time.perf_counter()
        self.results = {
            "config": dict(vars(config)),
            "environment": {},
            "timings": {},
            "cache": {},
            "data": {},
            "models": {},
            "complete": False,
        }

    def say(self, message):
        if not self.quiet:
            print(message, flush=True)

    @contextlib.contextmanager
    def stage(self, name):
        """Time a stage; on Ctrl-C, say which stages had finished."""
        self.say(f"== {name} ...")
        start = time.perf_counter()
        silence = contextlib.redirect_stdout(io.StringIO()) if self.quiet else None
        try:
            with silence or contextlib.nullcontext():
                yield
        except KeyboardInterrupt:
            raise Interrupted(self.stages) from None
        seconds = time.perf_counter() - start
        self.results["timings"][name] = seconds
        self.stages.append(name)
        self.say(f"== {name} done in {seconds:.1f} s")

    def save_vocabulary(self, vocabulary):
        write_vocabulary(self.output_dir / "vocab.txt", vocabulary)

    def backup_dir(self, kind, seed):
        """Where the training of `kind` from `seed` keeps its backups."""
        return self.output_dir / ".backup" / f"{kind}-seed{seed}"

    def finished(self, kind, seed):
        """Whether this run has a finished record of `kind` from `seed`."""
        runs = self.results["models"].get(kind, {}).get("runs", [])
        return any(run["seed"] == seed for run in runs)

    def add_run(self, kind, model, run):
        """Record one model's run (one seed) and its models' spread; the first
        run of each model is saved, with plain keras-hub layers."""
        first_step_at = run.pop("first_step_at")  # None if no epoch was left.
        if first_step_at is not None:
            run["to_first_step"] = first_step_at - self.started
            self.results["timings"].setdefault("to_first_step", run["to_first_step"])
        entry = self.results["models"].setdefault(kind, {"runs": []})
        if not entry["runs"]:
            from fnet_imdb.layers import as_keras_hub_fnet  # Keras: after the backend.

            with atomic_path(self.output_dir / f"{kind}.keras") as partial:
                as_keras_hub_fnet(model).save(partial)
            entry.update(params=model.count_params(), saved_seed=run["seed"])
        entry["runs"].append(run)
        entry["summary"] = summarise(entry["runs"])
        self.write_json()

    def finish(self):
        """Write the plots and `results.md`, mark the run complete, print the
        table (the pictures below it in a notebook); check a `--smoke` run."""
        pictures = save_plots(self.results, self.output_dir)
        write_text(self.output_dir / "results.md", results_markdown(self.results))
        self.results["complete"] = True
        self.write_json()
        shutil.rmtree(self.output_dir / ".backup", ignore_errors=True)
        if self.lock:
            self.lock.release()
        print(comparison_table(self.results), flush=True)
        show_in_notebook(pictures)
        self.say(f"Results written to {self.output_dir}/")
        if self.results["config"]["smoke"]:
            check_smoke_run(self.results, self.output_dir)

    def write_json(self):
        text = json.dumps(self.results, indent=2, default=str)
        write_text(self.output_dir / "results.json", text + "\n")


def environment(backend, device):
    """Backend, device, versions and machine of this run."""

    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "keras_backend": backend,
        "device": device,
        "python": platform.python_version(),
        **{name: version(name) for name in ("keras", "keras-hub", "tensorflow")},
        "jax": version("jax") if backend == "jax" else None,
        "torch": version("torch") if backend == "torch" else None,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def check_smoke_run(results, output_dir):
    """Raise `ValueError` naming what is off in a finished `--smoke` run: a
    missing output or seed, a figure that is not finite, a training loss that
    did not fall from the first epoch to the last."""
    config, problems = results["config"], []
    kinds = list(config["models"])
    names = [name for name in OUTPUT_FILES if not name.endswith(".keras")]
    for name in names + [f"{kind}.keras" for kind in kinds]:
        path = output_dir / name
        if not path.is_file() or not path.stat().st_size:
            problems.append(f"{name} is missing or empty")
    seeds = list(config["seeds"] or [config["seed"]])
    for kind in kinds:
        runs = results["models"].get(kind, {}).get("runs", [])
        if [run["seed"] for run in runs] != seeds:
            problems.append(f"{kind} did not train once per seed {seeds}")
        for run in runs:
            name = f"{kind} (seed {run['seed']})"
            figures = [run["test_loss"], run["test_accuracy"], run["train_seconds"]]
            figures += [value for values in run["history"].values() for value in values]
            if not all(math.isfinite(figure) for figure in figures):
                problems.append(f"{name} has a figure that is not finite")
            loss = run["history"]["loss"]
            if len(loss) > 1 and not loss[-1] < loss[0]:
                problems.append(
                    f"{name}'s training loss did not fall ({loss[0]:.4f} to "
                    f"{loss[-1]:.4f})"
                )
    if problems:
        raise ValueError("smoke run failed: " + "; ".join(problems))
