"""Summarise a `benchmarks/gpu.sh` output folder as Markdown tables.

Reads `environment.json` (when gpu.sh wrote one), `train/results.json` and
`scaling_batch*/seq_len_scaling.json`, prints Markdown and writes it to
`summary.md` in the same folder:

    python benchmarks/gpu_summary.py benchmarks/results/gpu

With per-review predictions in the training run, the paired comparison
follows its table. The figure formats and the statistics are the run's own
(fnet_imdb.comparison, fnet_imdb.paired); the step-time table is shared with
scripts/report.py, which makes the tables of README.md and docs/.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fnet_imdb.comparison import milliseconds, paired_markdown  # noqa: E402
from fnet_imdb.comparison import percent, software, spread, step_ratios  # noqa: E402
from fnet_imdb.paired import paired_comparison  # noqa: E402
from fnet_imdb.plots import test_split  # noqa: E402

ENVIRONMENT_KEYS = ("device", "platform", "python", "jax", "jaxlib", "cuda")
ENVIRONMENT_KEYS += ("keras", "keras_hub", "commit", "date")


def environment_line(environment):
    """The software and machine a gpu.sh folder was measured with, in one line."""
    named = [
        f"{key} {environment[key]}" for key in ENVIRONMENT_KEYS if environment.get(key)
    ]
    return "Environment: " + ", ".join(named) + "." if named else ""


def training_table(results):
    """Per-seed fit time and test accuracy of each model, and the mean ± std."""
    environment, config = results["environment"], results["config"]
    test = test_split(config).lower()
    lines = [
        f"Training: {environment['keras_backend']} on {environment['device']}, "
        f"{software(environment)}; {config['epochs']} epochs, batch "
        f"{config['batch_size']}, {config['max_seq_len']} tokens, FNet mixing "
        f"{config['fourier']}. Fit seconds include validation and compilation.",
        "",
        f"| model | fit (s) per seed | {test} accuracy per seed | {test} accuracy |",
        "|:--|--:|--:|--:|",
    ]
    for kind, model in results["models"].items():
        runs = model["runs"]
        fits = ", ".join(f"{r['seed']}: {r['train_seconds']:.1f}" for r in runs)
        accuracies = ", ".join(percent(r["test_accuracy"]) for r in runs)
        test = model["summary"]["test_accuracy"]  # As the run summarised it.
        mean = f"{spread(test['mean'], test['std'], '%')} ({test['n']} runs)"
        lines.append(f"| {kind} | {fits} | {accuracies} | {mean} |")
    if not results.get("complete"):
        lines.append("(the training run did not finish: partial results)")
    return lines


def step_rows(rows):
    """One table row per length: both models' median step, ratio and memory."""

    def step(row):
        value = row.get("step_seconds")
        return milliseconds(value) if value else "failed"

    def mebibytes(row):
        peak = row.get("peak_memory_bytes")
        return f"{peak / 2**20:,.0f}" if peak else "-"

    by_point = {(row["model"], row["seq_len"]): row for row in rows}
    ratios, lines = step_ratios(rows), []
    for length in sorted({row["seq_len"] for row in rows}):
        fnet = by_point.get(("fnet", length), {})
        transformer = by_point.get(("transformer", length), {})
        ratio = f"{ratios[length]:.2f}x" if length in ratios else "-"
        lines.append(
            f"| {rows[0]['batch_size']} x {length} | {step(fnet)} "
            f"| {step(transformer)} | {ratio} "
            f"| {mebibytes(fnet)} / {mebibytes(transformer)} MiB |"
        )
    return lines


def step_table(row_lists):
    """The step-time table of one or more `seq_len_scaling.json` files, each a
    list of rows, under one header naming the first row's backend and device."""
    first = row_lists[0][0]
    lines = [
        f"Training step ({first['backend']} on {first['device']}, "
        f"{first['precision']}, median of {first['steps']} steps); memory: "
        "device peak if known, else process peak RSS",
        "",
        "| batch x tokens | FNet | Transformer | ratio | memory FNet / Transformer |",
        "|:--|--:|--:|--:|--:|",
    ]
    for rows in row_lists:
        lines += step_rows(rows)
    return lines


def summary(folder):
    """The Markdown summary of a gpu.sh output folder; missing parts say so."""
    lines = []
    try:
        results = json.loads((folder / "train" / "results.json").read_text())
        lines += training_table(results)
        comparison = paired_comparison(results, folder / "train")
        if comparison:
            lines += ["", paired_markdown(comparison)]
    except (OSError, ValueError, KeyError) as error:
        lines.append(f"Training: no results ({error})")
    row_lists = []
    for path in sorted(folder.glob("scaling_batch*/seq_len_scaling.json")):
        try:
            rows = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            lines.append(f"\nStep time, {path.parent.name}: no results ({error})")
            continue
        if rows:
            row_lists.append(rows)
    if row_lists:
        lines += [""] + step_table(row_lists)
    try:
        environment = json.loads((folder / "environment.json").read_text())
    except FileNotFoundError:
        environment = {}
    except (OSError, ValueError) as error:
        lines.append(f"\nEnvironment: unreadable environment.json ({error})")
        environment = {}
    if environment_line(environment):
        lines += ["", environment_line(environment)]
    return "\n".join(lines) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python benchmarks/gpu_summary.py GPU_OUTPUT_DIR", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    text = summary(folder)
    print(text, end="")
    (folder / "summary.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
