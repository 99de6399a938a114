"""The whole run, one process per variant, stage by stage: the keras-io example beside the program, by default or with its speed-ups off or opt-in.

The variants (benchmarks/README.md): keras-io (the published example itself,
from --keras-io-example FILE, run in DIR/keras-io/ with `aclImdb` leading to
the --data-dir among the arguments, its EPOCHS set to --epochs and, with
--models fnet, stopped after FNet's test), reference (the program with every
speed-up off, on --reference-backend), default, prepared (trained from a folder
that `python -m fnet_imdb.prepare --no-cache` writes once, timed) and the
opt-in ones on that folder. Each runs in its own process, one after the other.

Every line a process prints goes to DIR/<variant>.log with the seconds since
its launch, and the stages come from those times, alike for the example and
the program (`STAGE_ENDS`). Everything measured goes to DIR/end_to_end.json.

    python benchmarks/end_to_end.py --output-dir DIR --variants keras-io,default \\
        --keras-io-example fnet_classification_with_keras_hub.py -- \\
        --data-dir DIR/aclImdb --epochs 1 --models fnet
"""

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from fnet_imdb import cli  # noqa: E402  (light: no Keras, no TensorFlow)
from fnet_imdb.flags import flag_name  # noqa: E402
from fnet_imdb.plots import test_split  # noqa: E402
from fnet_imdb.atomic import write_text  # noqa: E402

import keras_io_example  # noqa: E402
from stages import STAGE_ENDS, launch, stage_seconds  # noqa: E402

OPT_IN = {
    "bucketed": ["--bucket-by-length"],
    "mixed-precision": ["--mixed-precision"],
    "all-opt-in": ["--bucket-by-length", "--mixed-precision"],
}
ON_PREPARED = ("prepared", *OPT_IN)
VARIANTS = ("keras-io", "reference", "default", *ON_PREPARED)
RATIOS = {"default / keras-io": ("default", "keras-io")}
RATIOS["reference / default"] = ("reference", "default")
PREPARED_DATA = "prepared-data"  # Not "prepared": that is a run folder.


# The flags of the prepare command, those that take no value, and those that
# both commands take.
DATA_FLAGS = {flag_name(name) for name in cli.DATA_RECIPE}
DATA_FLAGS |= {flag_name(option.name) for option in cli.OPTIONS if option.data}
SWITCHES = {flag_name(option.name) for option in cli.OPTIONS if option.parse is bool}
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


def value_of(extra, name, default=None):
    """The value of flag `name` among `extra` (`--name V` or `--name=V`)."""
    for i, argument in enumerate(extra):
        if argument == name and i + 1 < len(extra):
            return extra[i + 1]
        if argument.startswith(name + "="):
            return argument.split("=", 1)[1]
    return default


def environment(name, reference_backend):
    """The environment of a variant's processes."""
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["PYTHONUNBUFFERED"] = "1"  # Each line is logged when it is printed.
    if name == "reference":
        env["KERAS_BACKEND"] = reference_backend
    return env


def prepare(data_args, out):
    """Write DIR/prepared-data from scratch (no cache); return the command's record."""
    shutil.rmtree(out / PREPARED_DATA, ignore_errors=True)  # Never a stale one.
    command = [sys.executable, "-m", "fnet_imdb.prepare", *data_args, "--no-cache"]
    command += ["--output-dir", str(out / PREPARED_DATA)]
    record = launch("prepare", command, environment("prepare", None), out, REPO_ROOT)
    if not record["returncode"]:
        manifest = json.loads((out / PREPARED_DATA / "prepared.json").read_text())
        record["timings"] = manifest["timings"]
    return record


def run(name, args, extra, out):
    """Run one variant; return its record, with its results.json if it has one."""
    env = environment(name, args.reference_backend)
    if name == "keras-io":
        data_dir = value_of(extra, "--data-dir")
        if data_dir is None:
            raise SystemExit("the keras-io variant needs -- --data-dir DIR (aclImdb)")
        fnet_only = value_of(extra, "--models") == "fnet"
        command = keras_io_example.workdir(
            args.keras_io_example, data_dir, value_of(extra, "--epochs", 3),
            fnet_only, out / name,
        )  # fmt: skip
        return launch(name, command, env, out, cwd=out / name)
    if name in ON_PREPARED:
        flags = split_arguments(extra)[1] + ["--prepared", str(out / PREPARED_DATA)]
        flags += OPT_IN.get(name, [])
    elif name == "reference":
        flags = [*extra, "--vocab-trainer=keras", "--fourier=keras"]
    else:
        flags = list(extra)
    flags = [f for f in flags if f != "--quiet"]  # The stages need its lines.
    run_dir = out / name
    command = [sys.executable, "fnet_classification.py", *flags]
    command += ["--output-dir", str(run_dir)]
    (run_dir / "results.json").unlink(missing_ok=True)  # Never read a stale one.
    record = launch(name, command, env, out, REPO_ROOT)
    if record["returncode"]:
        return record
    return {**record, "results": json.loads((run_dir / "results.json").read_text())}


def stages(record, prepared):
    """{row label: value} for one variant: seconds, accuracies, or text."""
    if record["returncode"]:
        return {"total wall": f"failed (exit status {record['returncode']})"}
    values = {}
    if record["variant"] in ON_PREPARED:
        for step, seconds in (prepared.get("timings") or {}).items():
            values[f"prepare command: {step}"] = seconds
    values |= stage_seconds(record["lines"], record["wall_seconds"])
    results = record.get("results")
    if results is None:  # The keras-io example: its evaluate() line.
        scores = [re.search(r"accuracy: ([\d.]+)", t) for _, t in record["lines"]]
        scores = [float(score[1]) for score in scores if score]
        values["test accuracy fnet"] = scores[-1] if scores else None
    for kind, model in (results or {}).get("models", {}).items():
        summary = model["summary"]
        seeds = f" (mean of {summary['test_accuracy']['n']} seeds)"
        seeds = seeds if summary["test_accuracy"]["n"] > 1 else ""
        values[f"train {kind}{seeds}"] = summary["train_seconds"]["mean"]
        test = test_split(results["config"]).lower()
        values[f"{test} accuracy {kind}{seeds}"] = summary["test_accuracy"]["mean"]
    return {**values, "total wall": record["wall_seconds"]}


def comparison(records, prepared):
    """{row label: {variant: value}}, with each ratio that its variants allow."""
    table = {}
    for record in records:
        for label, value in stages(record, prepared).items():
            table.setdefault(label, {})[record["variant"]] = value
    order = [name for name, _ in STAGE_ENDS] + ["after the test, to the exit"]
    table = {
        k: table[k]
        for k in sorted(
            table, key=lambda k: (k not in order, order.index(k) if k in order else 0)
        )
    }
    table["total wall"] = table.pop("total wall")  # Last, even if a run failed.
    for label, values in table.items():
        if "accuracy" in label:
            continue
        for column, (top, base) in RATIOS.items():
            a, b = values.get(top), values.get(base)
            if isinstance(a, float) and isinstance(b, float) and b:
                values[column] = a / b
    return table


def cell(label, column, value):
    if value is None or isinstance(value, str):
        return value or "-"
    if "/" in column:
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
        "--variants", default="reference,default", metavar="V,V", help="of: "
        + ",".join(VARIANTS),
    )  # fmt: skip
    parser.add_argument("--keras-io-example", metavar="FILE", help="for keras-io")
    parser.add_argument("--reference-backend", default="jax", metavar="NAME")
    args = parser.parse_args(argv[:split])
    extra, chosen = argv[split + 1 :], args.variants.split(",")
    if set(chosen) - set(VARIANTS):
        parser.error(f"--variants: choose from {','.join(VARIANTS)}")
    if "keras-io" in chosen and not args.keras_io_example:
        parser.error("the keras-io variant needs --keras-io-example FILE")
    out = args.output_dir.resolve()  # The runs start in the repository root.
    out.mkdir(parents=True, exist_ok=True)
    data_args, train_args = split_arguments(extra)
    summary = {"argv": argv, "extra_args": extra, "prepare_args": data_args}
    summary["args_on_prepared"] = train_args
    records, prepared = [], None
    for name in (n for n in VARIANTS if n in chosen):
        if name in ON_PREPARED and prepared is None:  # Once, before its first use.
            prepared = prepare(data_args, out)
        records.append(run(name, args, extra, out))
        table = comparison(records, prepared)
        result = {**summary, "table": table, "prepare": prepared, "variants": records}
        write_text(out / "end_to_end.json", json.dumps(result, indent=2) + "\n")
    columns = [r["variant"] for r in records]
    columns += [c for c in RATIOS if any(c in values for values in table.values())]
    print_table(table, columns)
    print(f"\nWrote {out / 'end_to_end.json'}")
    failed = [r for r in [prepared, *records] if r and r["returncode"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
