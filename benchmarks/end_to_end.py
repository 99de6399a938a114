"""The full default run against the same run with every speed-up off, stage by stage.

Runs `fnet_classification.py` once per variant, each in its own process from the
repository root, one after the other:

  reference       every speed-up off: KERAS_BACKEND=jax (the original example's
                  backend), --vocab-trainer keras --fourier keras --no-cache
  default-cold    the defaults (the script picks the backend), with an empty
                  --cache-dir DIR/cache
  default-cached  the same command again, on the warm cache: the cached rerun
  bucketed        default-cached plus --bucket-by-length (opt-in; changes the math)
  mixed-precision default-cached plus --mixed-precision (opt-in; changes the math)
  all-opt-in      default-cached plus both opt-in flags

and prints a table of stage timings (from each run's results.json), the time
from launch to the first training step (Python start-up and imports included),
training times, accuracies and total wall time, with the reference/default-cold
speed-up. Arguments after `--` go to every run; their paths are relative to the
repository root. Each run writes DIR/<variant>/ and its output to
DIR/<variant>.log; everything measured goes to DIR/end_to_end.json.

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
OPT_IN = {
    "bucketed": ["--bucket-by-length"],
    "mixed-precision": ["--mixed-precision"],
    "all-opt-in": ["--bucket-by-length", "--mixed-precision"],
}
VARIANTS = ("reference", "default-cold", "default-cached", *OPT_IN)
SPEEDUP = "reference/default-cold"


def variant(name, out):
    """The environment and the flags that make a variant."""
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["PYTHONUNBUFFERED"] = "1"  # The log follows the run as it goes.
    if name == "reference":
        flags = ["--vocab-trainer=keras", "--fourier=keras", "--no-cache"]
        return {**env, "KERAS_BACKEND": "jax"}, flags
    flags = ["--cache-dir", str(out / "cache")]
    return env, flags + OPT_IN.get(name, [])


def run(name, extra, out):
    """Run one variant; return what it measured."""
    env, flags = variant(name, out)
    run_dir, log = out / name, out / f"{name}.log"
    command = [sys.executable, "fnet_classification.py", *extra, *flags]
    command += ["--output-dir", str(run_dir)]
    if name == "default-cold":
        shutil.rmtree(out / "cache", ignore_errors=True)
    (run_dir / "results.json").unlink(missing_ok=True)  # Never read a stale one.
    print(f"{name}: started, log in {log}", flush=True)
    with open(log, "w") as file:
        launched, start = time.time(), time.perf_counter()
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
    results = json.loads((run_dir / "results.json").read_text())
    first_step = results.get("first_step_unix_time")  # None if nothing trained.
    if first_step is not None:
        record["seconds_to_first_step"] = first_step - launched
    print(f"{name}: done in {wall:.1f} s", flush=True)
    return {**record, "results": results}


def stages(record):
    """{row label: value} for one variant: seconds, accuracies, or text."""
    results = record.get("results")
    if results is None:
        return {"total wall": f"failed (exit status {record['returncode']})"}
    timings, models = results["timings"], results["models"]
    values = {stage: timings.get(stage) for stage in ("data", "vocab", "tokenize")}
    cache = results["cache"]
    values["cache (vocab, tokens)"] = f"{cache.get('vocab')}, {cache.get('tokens')}"
    values["to first step (from launch)"] = record.get("seconds_to_first_step")
    test = "stand-in test" if results["config"]["holdout_test"] else "test"
    for kind, metrics in models.items():
        values[f"train {kind}"] = metrics["train_seconds"]
    for kind, metrics in models.items():
        values[f"val accuracy {kind}"] = metrics["history"]["val_accuracy"][-1]
    for kind, metrics in models.items():
        values[f"{test} accuracy {kind}"] = metrics["test_accuracy"]
    return {**values, "total wall": record["wall_seconds"]}


def comparison(records):
    """{row label: {variant: value}}, with the reference/default-cold time ratio."""
    table = {}
    for record in records:
        for label, value in stages(record).items():
            table.setdefault(label, {})[record["variant"]] = value
    table["total wall"] = table.pop("total wall")  # Last, even if a run failed.
    for label, values in table.items():
        ref, cold = values.get("reference"), values.get("default-cold")
        if "accuracy" not in label and isinstance(ref, float) and cold:
            values[SPEEDUP] = ref / cold
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
        epilog="Arguments after -- are passed to fnet_classification.py.",
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
    records = []
    for name in (n for n in VARIANTS if n in chosen):  # Cold before cached.
        records.append(run(name, extra, out))
        table = comparison(records)
        summary = {"argv": argv, "extra_args": extra, "table": table}
        write_json(out / "end_to_end.json", {**summary, "variants": records})
    print_table(table, [r["variant"] for r in records] + [SPEEDUP])
    print(f"\nWrote {out / 'end_to_end.json'}")
    return 1 if any(r["returncode"] for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
