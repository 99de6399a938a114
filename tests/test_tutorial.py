"""The tutorial end to end: flags, outputs, seeds, the defects it once had,
training from a prepared folder without TensorFlow, interrupted and concurrent
runs, and failures."""

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import keras
import matplotlib.image
import numpy as np
import pytest
import stages

from conftest import (
    ROOT,
    TINY_FLAGS,
    TINY_TRAINING_FLAGS,
    TUTORIAL,
    compile_model,
    killed_in_second_epoch,
    parse,
    run_script,
    run_tutorial,
)
from fnet_imdb import backend, batches, cli, flags, prepared, results, rundir
from fnet_imdb.results import OUTPUT_FILES

# What a finished run writes: the files, and the folder of test predictions.
ALL_OUTPUTS = set(OUTPUT_FILES) | {"predictions"}


def outputs(folder):
    """The files a run left in `folder`, without its lock."""
    return {path.name for path in folder.iterdir() if path.name != ".lock"}


def test_help_lists_every_setting_with_its_meaning(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for name in [*TUTORIAL.recipe, *(option.name for option in cli.OPTIONS)]:
        assert flags.flag_name(name) in text
    # A recipe flag's help is the comment beside it in the tutorial.
    assert "--vocab-size N WordPiece tokens to learn, [PAD] and [UNK] included" in text
    assert "(default: 15000)" in text and "fnet_imdb.predict" in text
    assert "--debug" in text


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--epochs", "0"], "--epochs: must be a positive integer"),
        (["--epochs", "two"], "--epochs: invalid int value: 'two'"),
        (["--batch-size", "-4"], "--batch-size: must be a positive integer"),
        (["--models", "fnet,bert"], "unknown model 'bert'"),
        (["--max-samples", "1"], "--max-samples: must be at least 2"),
        (["--data-dir", "a", "--archive", "b"], "either --data-dir or --archive"),
        (["--embed-dim", "15"], "multiple of --num-heads"),
        (["--sha256", "abc"], "64 hexadecimal digits"),
        (["--seed", "-1"], "--seed: must be in [0, 2**32)"),
        (["--seeds", "1,x"], "--seeds: invalid int value: 'x'"),
        (["--fourier", "numpy"], "--fourier: choose from auto, fast, keras"),
        (["--dropout", "1"], "--dropout: must be in [0, 1)"),
        (["--no-such-flag"], "unrecognized arguments"),
        (["prepare"], "prepare is a command of its own: python -m fnet_imdb.prepare"),
    ],
)
def test_bad_flags_are_refused_in_one_line(capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        parse(flags)
    error = capsys.readouterr().err or str(exit_info.value.code)
    assert exit_info.value.code != 0
    assert message in error and error.strip().count("\n") == 0


@pytest.mark.backend
def test_tiny_run_writes_every_output(tiny_run):
    run_dir, results = tiny_run
    assert outputs(run_dir) == ALL_OUTPUTS  # No backups are left either.
    saved = json.loads((run_dir / "results.json").read_text())
    assert saved["complete"] is True and saved["config"]["smoke"] is True
    assert saved["resumed"] is False
    assert saved["config"]["epochs"] == 20 and saved["config"]["max_seq_len"] == 64
    assert saved["config"]["fourier"] == "fast"  # What ran: "auto" on a CPU.
    assert saved["environment"]["keras_backend"] == os.environ["KERAS_BACKEND"]
    assert set(saved["timings"]) >= {"data", "to_first_step"}
    assert {"train fnet seed 42", "train transformer seed 42"} <= set(saved["timings"])
    labels = np.load(run_dir / saved["test_labels"])
    assert saved["test_labels"] == "predictions/labels.npy" and labels.dtype == np.int8
    assert saved["data"]["test"]["reviews"] == 100
    vocabulary = (run_dir / "vocab.txt").read_text().splitlines()
    assert vocabulary[:2] == ["[PAD]", "[UNK]"]
    for kind in ("fnet", "transformer"):
        model = saved["models"][kind]
        assert model["params"] == results["models"][kind]["params"] > 0
        (run,) = model["runs"]
        assert run["seed"] == 42 and run["train_seconds"] > 0
        assert run["train_segments"] == [run["train_seconds"]]
        assert run["resumed_from_epoch"] is None
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert len(run["history"][key]) == 20
        assert 0 <= run["test_accuracy"] <= 1 and run["test_loss"] > 0
        assert model["summary"]["test_accuracy"]["std"] == 0
        # The kept probabilities score what evaluate() scored, review by review.
        probabilities = np.load(run_dir / run["predictions"])
        assert run["predictions"] == f"predictions/{kind}_seed42.npy"
        assert probabilities.dtype == np.float16 and probabilities.shape == (100,)
        accuracy = np.mean((probabilities > 0.5) == labels)
        assert accuracy == pytest.approx(run["test_accuracy"], abs=0.011)


@pytest.mark.backend
def test_one_pass_scores_the_test_split_as_evaluate_does(tiny_run, tiny_prepared):
    """Each test review goes through the model once: its float32 probabilities,
    scored by Keras's BinaryAccuracy and BinaryCrossentropy, give the loss and
    accuracy that evaluate() gives on the same reviews."""
    run_dir, results = tiny_run
    _, token_ids, labels, _ = prepared.read(tiny_prepared)  # The run's ids.
    test_batches = batches.Batches(token_ids["test"], labels["test"], 8)
    for kind in ("fnet", "transformer"):
        model = keras.saving.load_model(run_dir / f"{kind}.keras")
        compile_model(model, parse(TINY_FLAGS))
        loss, accuracy = model.evaluate(test_batches, verbose=0)
        (run,) = results["models"][kind]["runs"]
        assert run["test_accuracy"] == pytest.approx(accuracy, abs=1e-6)
        assert run["test_loss"] == pytest.approx(loss, rel=1e-5)


def test_smoke_sets_the_tiny_run_and_explicit_flags_win():
    config = parse(["--smoke", "--epochs", "3"])
    assert config.data_dir == str(cli.TINY_IMDB) and config.max_seq_len == 64
    assert config.epochs == 3 and config.output_dir == "runs/smoke"
    assert config.vocab_size == 300
    default = parse([])
    assert default.data_dir is None and default.output_dir is None
    assert default.epochs == TUTORIAL.recipe["epochs"] == 3


def test_smoke_takes_other_data_and_says_when_the_fixture_is_missing(
    tmp_path, monkeypatch
):
    config = parse(["--smoke", "--archive", "a.tar.gz"])
    assert config.archive == "a.tar.gz" and config.data_dir is None
    assert config.max_seq_len == 64
    monkeypatch.setattr(cli, "TINY_IMDB", tmp_path / "missing")
    with pytest.raises(ValueError, match="--smoke needs the fixture .* checkout"):
        parse(["--smoke"])


def test_a_smoke_run_is_checked_when_it_finishes(tiny_run, tmp_path, monkeypatch):
    """`record.finish` checks a --smoke run (`results.check_smoke_run`, tested
    on its own): a picture not written fails it."""
    run_dir, finished = tiny_run
    folder = Path(shutil.copytree(run_dir, tmp_path / "run"))
    for name in ("learning_curves.png", "comparison.png"):
        (folder / name).unlink()
    monkeypatch.setattr("fnet_imdb.results.save_plots", lambda *arguments: [])
    record = results.Record(finished["config"], folder, quiet=True)
    record.results.update(copy.deepcopy(finished), complete=False)
    with pytest.raises(ValueError, match="^smoke run failed: learning_curves.png"):
        record.finish()


def test_notebook_flags_come_from_the_environment(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["fnet_classification.py", "--epochs", "2"])
    assert cli.arguments() == ["--epochs", "2"]
    monkeypatch.setattr(cli, "in_notebook", lambda: True)
    monkeypatch.setenv("FNET_IMDB_FLAGS", "--smoke --output-dir 'a b'")
    assert cli.arguments() == ["--smoke", "--output-dir", "a b"]
    monkeypatch.delenv("FNET_IMDB_FLAGS")
    assert cli.arguments() == []


@pytest.mark.backend
def test_xla_setting_recorded_is_what_ran(tiny_run):
    """Defect: results.json recorded the request ("auto"), not what ran:
    XLA for JAX, and for TensorFlow off a CPU; never for PyTorch."""
    _, results = tiny_run
    on_cpu = backend.training_device()[0] == "cpu"
    name = os.environ["KERAS_BACKEND"]
    expected = name == "jax" or name == "tensorflow" and not on_cpu
    for model in results["models"].values():
        assert model["runs"][0]["jit_compile"] is expected


@pytest.mark.backend
def test_fnet_beats_chance_on_the_fixture(tiny_run):
    _, results = tiny_run
    # 100 balanced test reviews: 65% correct is beyond chance (p < 0.002).
    assert results["models"]["fnet"]["runs"][0]["test_accuracy"] >= 0.65


def test_results_table_and_pictures(tiny_run):
    run_dir, _ = tiny_run
    markdown = (run_dir / "results.md").read_text()
    assert "| **Test accuracy (100 reviews)** |" in markdown
    assert "**FNet Classifier**" in markdown and "±" not in markdown
    assert "![Learning curves](learning_curves.png)" in markdown
    for name in ("learning_curves.png", "comparison.png"):
        height, width, _ = matplotlib.image.imread(run_dir / name).shape
        assert (width, height) == (1000, 400)


def test_a_model_trained_alone_matches_the_same_model_in_a_pair(tiny_run, tmp_path):
    """Defect: the second model of a run saw the first one's shuffle orders.
    Its first two epochs alone are those of the pair's 20."""
    _, pair = tiny_run
    argv = TINY_FLAGS + ["--models", "transformer", "--epochs", "2"]
    alone = run_tutorial(*argv, "--output-dir", tmp_path)
    history = alone["models"]["transformer"]["runs"][0]["history"]
    in_pair = pair["models"]["transformer"]["runs"][0]["history"]
    assert history == {key: values[:2] for key, values in in_pair.items()}


@pytest.mark.backend
def test_several_seeds_give_records_spread_a_table_and_keep_their_best(tmp_path):
    argv = TINY_FLAGS + ["--epochs", "2", "--seeds", "1,2", "--models", "fnet"]
    results = run_tutorial(*argv, "--keep-best", "--output-dir", tmp_path)
    model = results["models"]["fnet"]
    runs = model["runs"]
    assert [run["seed"] for run in runs] == [1, 2] and model["saved_seed"] == 1
    assert runs[0]["history"] != runs[1]["history"]
    accuracies = [run["test_accuracy"] for run in runs]
    summary = model["summary"]["test_accuracy"]
    assert summary["n"] == 2 and summary["min"] == min(accuracies)
    assert summary["mean"] == pytest.approx(np.mean(accuracies))
    assert summary["std"] == pytest.approx(np.std(accuracies, ddof=1))
    assert results["data"]["train"]["reviews"] == 80  # One split for all seeds.
    markdown = (tmp_path / "results.md").read_text()
    assert "(2 runs)" in markdown and "±" in markdown and "| FNet | 2 |" in markdown
    # --keep-best: each seed keeps the epoch with the lowest validation loss.
    for run in runs:
        assert run["kept_epoch"] == int(np.argmin(run["history"]["val_loss"])) + 1
    assert results["config"]["keep_best"] is True
    saved = keras.saving.load_model(tmp_path / "fnet.keras")
    assert saved.count_params() == model["params"]


def test_quiet_prints_only_the_table(tiny_run):
    run_dir, _ = tiny_run  # Run with --quiet; what it printed lies beside it.
    lines = (run_dir.parent / "stdout.txt").read_text().splitlines()
    assert lines[0].startswith("| |") and len(lines) == 7


def test_log_gpu_warning_and_an_interrupted_run(tmp_path, capsys, monkeypatch):
    """The log of a run, not quiet, its Transformer interrupted. Defects: the
    "Detokenized" line printed a tf.Tensor repr, and a broken GPU install
    trained on the CPU without a word. An interrupted run keeps only finished
    work and says so in one line."""
    monkeypatch.setattr(backend, "nvidia_gpu_present", lambda: True)
    fit = keras.Model.fit

    def interrupt_transformer(model, *args, **kwargs):
        if model.name.startswith("transformer"):
            raise KeyboardInterrupt
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", interrupt_transformer)
    run_dir = tmp_path / "run"
    argv = [f for f in TINY_FLAGS if f != "--quiet"] + ["--epochs", "1"]
    with pytest.raises(KeyboardInterrupt) as interrupt:
        run_tutorial(*argv, "--output-dir", run_dir)
    captured = capsys.readouterr()
    (line,) = [l for l in captured.out.splitlines() if "detokenized" in l]
    assert "Tensor" not in line and "b'" not in line
    assert line.startswith("The same 20, detokenized: ") and len(line.split()) > 8
    assert 'Model: "fnet_classifier"' in captured.out
    assert 'Model: "transformer_classifier"' in captured.out
    # benchmarks/end_to_end.py finds every stage of the run in its lines.
    lines = [[float(n), text] for n, text in enumerate(captured.out.splitlines())]
    assert (
        list(dict.fromkeys(name for name, _ in stages.STAGE_ENDS))
        == list(stages.stage_seconds(lines, len(lines)))[:-1]
    )
    (warning,) = captured.err.splitlines()
    assert warning.startswith("warning: an NVIDIA GPU is present but the")
    assert "install" in warning
    cli.one_line_errors(interrupt.type, interrupt.value, None)
    error = capsys.readouterr().err
    assert error.startswith("interrupted: no half-written output was left behind;")
    assert "rerun the same command to resume" in error and error.count("\n") == 1
    kept = {".backup", "fnet.keras", "results.json", "vocab.txt", "predictions"}
    assert outputs(run_dir) == kept
    assert not any((run_dir / ".backup").iterdir())  # fnet's was deleted.
    saved = json.loads((run_dir / "results.json").read_text())
    assert saved["complete"] is False and list(saved["models"]) == ["fnet"]


def test_missing_data_is_one_line_without_traceback(tmp_path, capsys):
    """The run stops at its data step, and the tutorial's excepthook
    (`cli.one_line_errors`) says why in one line."""
    argv = TINY_FLAGS + ["--data-dir", tmp_path / "nowhere", "--output-dir", tmp_path]
    with pytest.raises(ValueError) as failed:
        run_tutorial(*argv)
    cli.one_line_errors(failed.type, failed.value, failed.tb)
    error = f"error: data folder {tmp_path / 'nowhere'} does not exist\n"
    assert capsys.readouterr().err == error


def test_debug_shows_the_traceback(monkeypatch):
    shown = []
    monkeypatch.setattr(cli, "arguments", lambda: ["--epochs", "1", "--debug"])
    monkeypatch.setattr(sys, "__excepthook__", lambda *error: shown.append(error))
    error = ValueError("data folder nowhere does not exist")
    cli.one_line_errors(ValueError, error, None)
    assert shown == [(ValueError, error, None)]


def test_prepared_folder_trains_on_jax_without_tensorflow_over_two_devices(
    tiny_prepared, tmp_path
):
    """The training path imports no TensorFlow: here importing it fails (both
    models train so in .ci/run's TensorFlow-free environments). It trains with
    --data-parallel over two devices and batches of 7, so the training split
    ends in a batch of 3 (defect: a last batch of 3 over 2 devices stopped the
    run)."""
    block = (
        "import sys; sys.modules['tensorflow'] = sys.modules['tensorflow_text'] = None"
    )
    flags = TINY_TRAINING_FLAGS + ["--epochs", "1", "--prepared", tiny_prepared]
    flags += ["--data-parallel", "--batch-size", "7", "--models", "fnet"]
    flags += ["--output-dir", tmp_path]
    two_devices = "--xla_force_host_platform_device_count=2"
    env = {"KERAS_BACKEND": "jax", "XLA_FLAGS": two_devices}
    result = run_script(*flags, env=env, prelude=block)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["complete"] and saved["environment"]["keras_backend"] == "jax"
    assert saved["environment"]["data_parallel_devices"] == ["cpu:0", "cpu:1"]
    assert saved["environment"]["processes"] == 1
    assert saved["config"]["max_seq_len"] == 64
    assert saved["data"]["test"]["reviews"] == 100
    assert saved["data"]["train"]["reviews"] % 7 == 3  # Uneven over 2 devices.
    assert len(saved["models"]["fnet"]["runs"][0]["history"]["loss"]) == 1
    assert outputs(tmp_path) == ALL_OUTPUTS - {"transformer.keras"}


def test_prepared_folder_refuses_contradicting_flags(tiny_prepared):
    argv = TINY_TRAINING_FLAGS + ["--prepared", tiny_prepared, "--max-seq-len", "128"]
    with pytest.raises(ValueError, match=r"--max-seq-len 128 \(prepared with 64\)"):
        parse(argv)


@pytest.mark.backend
@pytest.mark.skipif(os.environ["KERAS_BACKEND"] == "jax", reason="tests the refusal")
def test_data_parallel_needs_jax(tmp_path):
    argv = TINY_FLAGS + ["--data-parallel", "--output-dir", tmp_path]
    with pytest.raises(ValueError, match="needs the JAX backend"):
        run_tutorial(*argv)


@pytest.mark.backend
def test_a_killed_run_resumes_where_it_stopped(tmp_path):
    argv = TINY_FLAGS + ["--models", "fnet", "--seeds", "1,2", "--epochs", "2"]
    argv += ["--output-dir", tmp_path / "run"]
    killed = run_script(*argv, prelude=killed_in_second_epoch(2))  # Of seed 2.
    assert killed.returncode == -signal.SIGKILL
    before = json.loads((tmp_path / "run" / "results.json").read_text())
    assert before["complete"] is False
    assert [run["seed"] for run in before["models"]["fnet"]["runs"]] == [1]
    resumed = run_tutorial(*argv)  # The same command again.
    first, second = resumed["models"]["fnet"]["runs"]
    assert resumed["complete"] is True and resumed["resumed"] is True
    assert first == before["models"]["fnet"]["runs"][0]  # Finished: untouched.
    assert second["seed"] == 2 and second["resumed_from_epoch"] == 1
    assert all(len(values) == 2 for values in second["history"].values())
    assert len(second["train_segments"]) == 2
    assert second["train_seconds"] == pytest.approx(sum(second["train_segments"]))
    assert not (tmp_path / "run" / ".backup").exists()
    argv[argv.index(tmp_path / "run")] = tmp_path / "uninterrupted"
    argv[argv.index("1,2")] = "2"  # Each seed trains alone (tested above).
    (uninterrupted,) = run_tutorial(*argv)["models"]["fnet"]["runs"]
    # On TensorFlow on a CPU, a resumed run repeats the uninterrupted one.
    assert second["history"] == uninterrupted["history"]
    assert second["test_accuracy"] == uninterrupted["test_accuracy"]


def test_a_changed_setting_starts_afresh(tiny_run, tmp_path):
    """An interrupted run in the folder (the smoke run's, marked unfinished),
    another setting: the run starts afresh (`rundir.previous_run`)."""
    run_dir, _ = tiny_run
    folder = Path(shutil.copytree(run_dir, tmp_path / "run"))
    results = folder / "results.json"
    results.write_text(
        json.dumps(json.loads(results.read_text()) | {"complete": False})
    )
    argv = ["--smoke", "--quiet", "--models", "fnet", "--epochs", "1"]
    fresh = run_tutorial(*argv, "--output-dir", folder)
    assert fresh["resumed"] is False and fresh["complete"] is True
    assert list(fresh["models"]) == ["fnet"]
    assert len(fresh["models"]["fnet"]["runs"][0]["history"]["loss"]) == 1


def test_a_busy_folder_is_refused_and_left_alone(tmp_path):
    """Another process holds the folder: the run stops before writing there
    (its one line: `cli.one_line_errors`); the lock dies with the holder."""
    folder = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from fnet_imdb import rundir; "
         "held = rundir.lock(sys.argv[1]); print('locked', flush=True); time.sleep(120)",
         str(folder)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "locked\n"
        argv = TINY_FLAGS + ["--models", "fnet", "--epochs", "1"]
        with pytest.raises(ValueError) as refused:
            run_tutorial(*argv, "--output-dir", folder)
        assert str(refused.value) == (
            f"{folder} is in use by another run (process {holder.pid}); "
            "wait for it or pass another --output-dir"
        )
        assert outputs(folder) == set()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with rundir.lock(folder):  # The kill freed the folder.
        assert outputs(folder) == set()


def test_each_default_run_gets_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = TINY_FLAGS + ["--models", "fnet", "--epochs", "1"]
    first = run_tutorial(*argv)
    (folder,) = [p for p in (tmp_path / "runs").iterdir() if p.name != "latest"]
    assert first["complete"] and outputs(folder) == ALL_OUTPUTS - {"transformer.keras"}
    assert rundir.resolve(tmp_path / "runs" / "latest").resolve() == folder
    settings = {"epochs": 1}  # The next run's folder: `rundir.open_run` decides.
    with rundir.open_run(None, settings, tmp_path / "runs") as second:
        assert second.folder != folder and second.previous is None
        assert rundir.resolve(tmp_path / "runs" / "latest") == second.folder
    assert json.loads((folder / "results.json").read_text()) == json.loads(
        json.dumps(first, default=str)
    )
