"""The full default run against the same run with every speed-up off, stage by stage.

Runs `fnet_classification.py` once per variant, each in its own process from the
repository root, one after the other:

  reference       every speed-up off: KERAS_BACKEND=jax (the original example's
                  backend), --vocab-trainer keras --fourier keras
  default         the defaults (the script picks the backend)
  prepared        the rerun that skips the data steps: `python -m
                  fnet_imdb.prepare --no-cache` writes DIR/prepared-data once (timed,
                  in its own process), then the defaults train with --prepared
  bucketed        prepared plus --bucket-by-length (opt-in; changes the math)
  mixed-precision prepared plus --mixed-precision (opt-in; changes the math)
  all-opt-in      prepared plus both opt-in flags

and prints a table from each run's results.json: the prepare command's wall
time (for the variants that train from its folder), the seconds from the run's
start (imports done) to the end of its data steps and to its first training
step, each model's training time and accuracies (means over its seeds), and
the process's total wall time, with the reference/default ratio. Arguments
after `--` go to every run, their paths relative to the repository root; the
prepare command gets only the data flags among them (and --quiet, --debug),
and the runs on its folder get the others. Each run writes DIR/<variant>/ and
its output to DIR/<variant>.log (DIR/prepare.log for the prepare command);
everything measured goes to DIR/end_to_end.json.

    python benchmarks/end_to_end.py --output-dir DIR -- \\
        --archive ../shared/imdb/aclImdb_train.tar.gz --holdout-test 0.2 --epochs 1
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from fnet_imdb import cli  # noqa: E402  (light: no Keras, no TensorFlow)

OPT_IN = {
    "bucketed": ["--bucket-by-length"],
    "mixed-precision": ["--mixed-precision"],
    "all-opt-in": ["--bucket-by-length", "--mixed-precision"],
}
ON_PREPARED = ("prepared", *OPT_IN)
VARIANTS = ("reference", "default", *ON_PREPARED)
SPEEDUP = "reference/default"
PREPARE_ROW = "prepare, once (own process)"
PREPARED_DATA = "prepared-data"  # Not "prepared": that is a run folder.


def flag(name):
    return "--" + name.replace("_", "-")


# The flags of the prepare command, those that take no value, and those that
# both commands take.
DATA_FLAGS = {flag(name) for name in cli.DATA_RECIPE}
DATA_FLAGS |= {flag(option.name) for option in cli.OPTIONS if option.data}
SWITCHES = {flag(option.name) for option in cli.OPTIONS if option.parse is bool}
SWITCHES.add("--debug")
SHARED_FLAGS = {"--quiet", "--debug"}


def split_arguments(extra):
    """(the prepare command's arguments, the others) of `extra`: each flag
    with its value, --quiet and --debug in both."""
    data, other, i = [], [], 0
    while i < len(extra):
        name = extra[i].split("=", 1)[0]
        takes_value = name not in SWITCHES and "=" not in extra[i]
        group = extra[i : i + 1 + takes_value]
        if name in DATA_FLAGS or name in SHARED_FLAGS:
            data += group
        if name not in DATA_FLAGS:
            other += group
        i += len(group)
    return data, other


def environment(name):
    """The environment of a variant's processes."""
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["PYTHONUNBUFFERED"] = "1"  # The log follows the run as it goes.
    return {**env, "KERAS_BACKEND": "jax"} if name == "reference" else env


def launch(name, command, env, out):
    """Run one command from the repository root, its output in DIR/<name>.log;
    return its record (exit status, wall time, a failed run's log tail)."""
    log = out / f"{name}.log"
    print(f"{name}: started, log in {log}", flush=True)
    with open(log, "w") as file:
        start = time.perf_counter()
        code = subprocess.run(
            command, cwd=REPO_ROOT, env=env, stdout=file, stderr=subprocess.STDOUT
        ).returncode
        wall = time.perf_counter() - start
    record = {"variant": name, "command": command, "returncode": code}
    record.update(keras_backend=env.get("KERAS_BACKEND"), wall_seconds=wall)
    if code:
        tail = log.read_text(errors="replace").splitlines()[-20:]
        print(f"{name}: FAILED (exit status {code}) after {wall:.1f} s; log ends:")
        print("\n".join("    " + line for line in tail))
        return {**record, "log_tail": tail}
    print(f"{name}: done in {wall:.1f} s", flush=True)
    return record


def prepare(data_args, out):
    """Write DIR/prepared-data from scratch (no cache); return the command's record."""
    # Never train on a stale folder.
    shutil.rmtree(out / PREPARED_DATA, ignore_errors=True)
    command = [sys.executable, "-m", "fnet_imdb.prepare", *data_args, "--no-cache"]
    command += ["--output-dir", str(out / PREPARED_DATA)]
    return launch("prepare", command, environment("prepare"), out)


def run(name, extra, out):
    """Run one variant; return its record, with its results.json if it succeeded."""
    if name in ON_PREPARED:
        flags = split_arguments(extra)[1] + ["--prepared", str(out / PREPARED_DATA)]
        flags += OPT_IN.get(name, [])
    elif name == "reference":
        flags = [*extra, "--vocab-trainer=keras", "--fourier=keras"]
    else:
        flags = list(extra)
    run_dir = out / name
    command = [sys.executable, "fnet_classification.py", *flags]
    command += ["--output-dir", str(run_dir)]
    (run_dir / "results.json").unlink(missing_ok=True)  # Never read a stale one.
    record = launch(name, command, environment(name), out)
    if record["returncode"]:
        return record
    return {**record, "results": json.loads((run_dir / "results.json").read_text())}


def stages(record, prepared):
    """{row label: value} for one variant: seconds, accuracies, or text."""
    values = {PREPARE_ROW: None}
    if record["variant"] in ON_PREPARED:
        failed = f"failed (exit status {prepared['returncode']})"
        values[PREPARE_ROW] = (
            failed if prepared["returncode"] else prepared["wall_seconds"]
        )
    results = record.get("results")
    if results is None:
        return {**values, "total wall": f"failed (exit status {record['returncode']})"}
    timings, models = results["timings"], results["models"]
    values["data (from run start)"] = timings.get("data")
    values["to first step (from run start)"] = timings.get("to_first_step")
    test = "stand-in test" if results["config"]["holdout_test"] else "test"
    for key, label in [
        ("train_seconds", "train"),
        ("val_accuracy", "val accuracy"),
        ("test_accuracy", f"{test} accuracy"),
    ]:
        for kind, model in models.items():
            summary = model["summary"][key]
            seeds = f" (mean of {summary['n']} seeds)" if summary["n"] > 1 else ""
            values[f"{label} {kind}{seeds}"] = summary["mean"]
    return {**values, "total wall": record["wall_seconds"]}


def comparison(records, prepared):
    """{row label: {variant: value}}, with the reference/default time ratio."""
    table = {}
    for record in records:
        for label, value in stages(record, prepared).items():
            table.setdefault(label, {})[record["variant"]] = value
    table["total wall"] = table.pop("total wall")  # Last, even if a run failed.
    table = {k: v for k, v in table.items() if any(x is not None for x in v.values())}
    for label, values in table.items():
        ref, default = values.get("reference"), values.get("default")
        if "accuracy" not in label and isinstance(ref, float) and default:
            values[SPEEDUP] = ref / default
    return table


def cell(label, column, value):
    if value is None or isinstance(value, str):
        return value or "-"
    if column == SPEEDUP:
        return f"{value:.2f}x"
    return f"{value:.2%}" if "accuracy" in label else f"{value:.1f} s"


def print_table(table, columns):
    print()
    lines = [["", *columns]]
    for label, values in table.items():
        lines.append([label, *(cell(label, c, values.get(c)) for c in columns)])
    widths = [max(len(line[i]) for line in lines) + 3 for i in range(len(lines[0]))]
    for line in lines:
        print(line[0].ljust(widths[0]), *map(str.rjust, line[1:], widths[1:]), sep="")


def write_json(path, data):
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(partial, path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        usage="%(prog)s [--output-dir DIR] [--variants V,V] [-- ARGUMENTS ...]",
        epilog="Arguments after -- are passed to fnet_classification.py (the data "
        "flags among them to python -m fnet_imdb.prepare).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    default_dir = REPO_ROOT / "benchmarks" / "results" / "end_to_end"
    parser.add_argument(
        "--output-dir", type=Path, default=default_dir, metavar="DIR", help="runs, logs"
    )
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), metavar="V,V", help="a subset"
    )
    args = parser.parse_args(argv[:split])
    extra, chosen = argv[split + 1 :], args.variants.split(",")
    if set(chosen) - set(VARIANTS):
        parser.error(f"--variants: choose from {','.join(VARIANTS)}")
    out = args.output_dir.resolve()  # The runs start in the repository root.
    out.mkdir(parents=True, exist_ok=True)
    data_args, train_args = split_arguments(extra)
    summary = {"argv": argv, "extra_args": extra, "prepare_args": data_args}
    summary["args_on_prepared"] = train_args
    records, prepared = [], None
    for name in (n for n in VARIANTS if n in chosen):
        if name in ON_PREPARED and prepared is None:  # Once, before its first use.
            prepared = prepare(data_args, out)
        records.append(run(name, extra, out))
        table = comparison(records, prepared)
        result = {**summary, "table": table, "prepare": prepared, "variants": records}
        write_json(out / "end_to_end.json", result)
    ratio = [SPEEDUP] if any(SPEEDUP in values for values in table.values()) else []
    print_table(table, [r["variant"] for r in records] + ratio)
    print(f"\nWrote {out / 'end_to_end.json'}")
    failed = [r for r in [prepared, *records] if r and r["returncode"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
