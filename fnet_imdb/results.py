"""What a run records in its output folder: settings, environment, data, per-seed results."""

import json
import math
import os
import platform
import shutil
import time

from fnet_imdb import backend, predictions, provenance
from fnet_imdb.atomic import atomic_path, write_text
from fnet_imdb.comparison import comparison_table, results_markdown, summarise
from fnet_imdb.paired import paired_comparison
from fnet_imdb.plots import save_plots, show_in_notebook
from fnet_imdb.vocabulary import write_vocabulary

OUTPUT_FILES = ("vocab.txt", "fnet.keras", "transformer.keras", "results.json")
OUTPUT_FILES += ("results.md", "learning_curves.png", "comparison.png")


# Settings that change no result: a run resumes whatever their values.
NOT_RESUMED_ON = ("quiet", "verbose", "output_dir", "download_dir")


def start(recipe, options, devices=()):
    """The record of a training run in its own output folder, locked, with the
    backend, device and machine it trains on; a resumed run's finished
    training is kept. Says where it writes in a line or two. Over several
    processes, the output folder is process 0's (`hosts.open_run`)."""
    import keras

    from fnet_imdb import hosts  # Imports Keras: after the backend.

    device, device_name = backend.training_device()
    backend.warn_if_gpu_unused(keras.backend.backend(), device)
    config = {**recipe, **vars(options)}
    settings = {k: v for k, v in config.items() if k not in NOT_RESUMED_ON}
    output_folder = hosts.open_run(options.output_dir, settings)
    record = Record(config, output_folder.folder, options.quiet)
    record.lock = output_folder
    if output_folder.previous:
        for key in ("timings", "models"):
            record.results[key] = output_folder.previous[key]
    else:
        for name in OUTPUT_FILES:
            (record.output_dir / name).unlink(missing_ok=True)
        for name in (".backup", predictions.FOLDER):
            shutil.rmtree(record.output_dir / name, ignore_errors=True)
    record.results["resumed"] = bool(output_folder.previous)
    record.results["environment"] = {
        **environment(keras.backend.backend(), device_name),
        "data_parallel_devices": [str(d) for d in devices],
        "processes": hosts.process_count(),
    }
    record.write_json()  # From now on, an interrupted run can resume.
    if output_folder.note:
        note = output_folder.note
        record.say(note[:1].upper() + note[1:] + ".")
    record.say(
        f"Keras {keras.__version__} on {keras.backend.backend()}, training on "
        f"{device_name}; results go to {record.output_dir}/."
    )
    return record


class Record:
    """The record of one run (settings, data, per-seed results, timings) and
    its output folder, where it writes `results.json` after every change."""

    def __init__(self, config, output_dir, quiet=False):
        self.output_dir, self.quiet = output_dir, quiet
        self.lock = None
        self.started = time.perf_counter()
        self.results = {
            "config": dict(config),
            "environment": {},
            "timings": {},
            "data": {},
            "models": {},
            "complete": False,
        }

    def say(self, message):
        if not self.quiet:
            print(message, flush=True)

    def keep_data(self, vocabulary, test_labels, data):
        """Write `vocab.txt` and the test labels (the order of every seed's
        predictions), and record the data (folder, counts per split)."""
        write_vocabulary(self.output_dir / "vocab.txt", vocabulary)
        self.results["data"] = data
        self.results["test_labels"] = predictions.save_labels(
            self.output_dir, test_labels
        )
        self.results["timings"]["data"] = time.perf_counter() - self.started
        self.write_json()

    def seeds_to_train(self, kind):
        """The seeds `kind` still has to train (`--seeds`, or `--seed`), each
        timed; says which are skipped: another model, or finished before."""
        config = self.results["config"]
        if kind not in config["models"]:
            self.say(f"Skipped: --models {','.join(config['models'])}.")
            return
        for seed in config["seeds"] or [config["seed"]]:
            if self.finished(kind, seed):
                self.say(
                    f"{kind}, seed {seed}: finished before the interruption, kept."
                )
                continue
            self.say(f"== train {kind}, seed {seed}")
            start = time.perf_counter()
            yield seed
            self.results["timings"][f"train {kind} seed {seed}"] = (
                time.perf_counter() - start
            )
            self.write_json()

    def backup(self, kind, seed):
        """The `resume.Backup` callback of the training of `kind` from `seed`."""
        from fnet_imdb.resume import Backup  # Imports Keras: after the backend.

        folder = self.output_dir / ".backup" / f"{kind}-seed{seed}"
        return Backup(folder, keep_best=self.results["config"]["keep_best"])

    def finished(self, kind, seed):
        """Whether this run has a finished record of `kind` from `seed`."""
        runs = self.results["models"].get(kind, {}).get("runs", [])
        return any(seed_result["seed"] == seed for seed_result in runs)

    def add_run(
        self, kind, seed, model, *, backup, step_log, test_loss, test_accuracy,
        probabilities,
    ):  # fmt: skip
        """Record `model`, of `kind`, trained from `seed`: its `backup` keeps
        the history and times, `step_log` when training began; its test loss,
        accuracy and probabilities (in review order). The first seed's model is
        saved, with plain keras-hub layers. The backup, no longer needed, is
        deleted."""
        seconds = backup.segment_seconds()  # Of each process, if resumed.
        seed_result = dict(
            seed=seed, train_seconds=sum(seconds), train_segments=seconds
        )
        # Since fit() ended: the test split's pass and scoring.
        seed_result["test_seconds"] = time.perf_counter() - backup.ended
        seed_result.update(
            resumed_from_epoch=backup.resumed_from, history=backup.history
        )
        seed_result.update(jit_compile=model.jit_compile)
        if backup.keep_best:
            seed_result["kept_epoch"] = backup.best["epoch"]
        seed_result.update(
            test_loss=float(test_loss), test_accuracy=float(test_accuracy)
        )
        if step_log.first_step_at is not None:  # None if no epoch was left.
            seed_result["to_first_step"] = step_log.first_step_at - self.started
            self.results["timings"].setdefault(
                "to_first_step", seed_result["to_first_step"]
            )
        seed_result["predictions"] = predictions.save(
            self.output_dir, kind, seed, probabilities
        )
        entry = self.results["models"].setdefault(kind, {"runs": []})
        if not entry["runs"]:
            from fnet_imdb.layers import as_keras_hub_fnet  # Keras: after the backend.

            with atomic_path(self.output_dir / f"{kind}.keras") as partial:
                as_keras_hub_fnet(model).save(partial)
            entry.update(params=model.count_params(), saved_seed=seed)
        entry["runs"].append(seed_result)
        entry["summary"] = summarise(entry["runs"])
        self.write_json()
        backup.delete()

    def finish(self, test_texts=None):
        """Write the plots and `results.md`, mark the run complete, print the
        table (the pictures below it in a notebook); check a `--smoke` run.
        `test_texts` (in the order of the predictions) show the reviews on
        which the models disagree."""
        pictures = save_plots(self.results, self.output_dir)
        paired = paired_comparison(self.results, self.output_dir, test_texts)
        if paired:  # Both models trained, from at least one seed in common.
            self.results["paired"] = paired
        markdown = results_markdown(self.results, paired=paired)
        write_text(self.output_dir / "results.md", markdown)
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
    """Backend, device, versions, machine and commit of this run."""
    version = provenance.version
    return {
        "keras_backend": backend,
        "device": device,
        "python": platform.python_version(),
        **{name: version(name) for name in ("keras", "keras-hub", "tensorflow")},
        "jax": version("jax") if backend == "jax" else None,
        "torch": version("torch") if backend == "torch" else None,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "commit": provenance.commit(),
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
        if [seed_result["seed"] for seed_result in runs] != seeds:
            problems.append(f"{kind} did not train once per seed {seeds}")
        for seed_result in runs:
            name = f"{kind} (seed {seed_result['seed']})"
            figures = [
                seed_result["test_loss"],
                seed_result["test_accuracy"],
                seed_result["train_seconds"],
            ]
            figures += [
                value for values in seed_result["history"].values() for value in values
            ]
            if not all(math.isfinite(figure) for figure in figures):
                problems.append(f"{name} has a figure that is not finite")
            loss = seed_result["history"]["loss"]
            if len(loss) > 1 and not loss[-1] < loss[0]:
                problems.append(
                    f"{name}'s training loss did not fall ({loss[0]:.4f} to "
                    f"{loss[-1]:.4f})"
                )
    if problems:
        raise ValueError("smoke run failed: " + "; ".join(problems))
