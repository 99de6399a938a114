"""Summarise a `benchmarks/gpu.sh` output folder as the README's GPU tables.

Reads `train/results.json` and `scaling_batch*/seq_len_scaling.json`, prints
Markdown and writes it to `summary.md` in the same folder:

    python benchmarks/gpu_summary.py benchmarks/results/gpu
"""

import json
import sys
from pathlib import Path


def training_table(results):
    """Per-seed fit time and test accuracy of each model, and the mean ± std."""
    environment, config = results["environment"], results["config"]
    test = "stand-in test" if config["holdout_test"] else "test"
    lines = [
        f"Training: {environment['keras_backend']} on {environment['device']}, "
        f"keras {environment['keras']}, keras-hub {environment['keras-hub']}, "
        f"jax {environment['jax']}; {config['epochs']} epochs, batch "
        f"{config['batch_size']}, {config['max_seq_len']} tokens, FNet mixing "
        f"{config['fourier']}. Fit seconds include validation and the first "
        "seed's compilation.",
        "",
        f"| model | fit (s) per seed | {test} accuracy per seed | {test} accuracy |",
        "|:--|--:|--:|--:|",
    ]
    for kind, model in results["models"].items():
        runs = model["runs"]
        fits = ", ".join(f"{r['seed']}: {r['train_seconds']:.1f}" for r in runs)
        accuracies = ", ".join(f"{r['test_accuracy']:.2%}" for r in runs)
        test = model["summary"]["test_accuracy"]  # As the run summarised it.
        mean = f"{test['mean'] * 100:.2f} ± {test['std'] * 100:.2f}% ({test['n']} runs)"
        lines.append(f"| {kind} | {fits} | {accuracies} | {mean} |")
    if not results.get("complete"):
        lines.append("(the training run did not finish: partial results)")
    return lines


def step_rows(rows):
    """One table row per length: both models' median step, ratio and memory."""

    def milliseconds(row):
        seconds = row.get("step_seconds")
        return f"{seconds * 1e3:.1f} ms" if seconds else "failed"

    def mebibytes(row):
        peak = row.get("peak_memory_bytes")
        return f"{peak / 2**20:,.0f}" if peak else "-"

    by_point = {(row["model"], row["seq_len"]): row for row in rows}
    lines = []
    for length in sorted({row["seq_len"] for row in rows}):
        fnet = by_point.get(("fnet", length), {})
        transformer = by_point.get(("transformer", length), {})
        ratio = "-"
        if fnet.get("step_seconds") and transformer.get("step_seconds"):
            ratio = f"{transformer['step_seconds'] / fnet['step_seconds']:.2f}x"
        lines.append(
            f"| {rows[0]['batch_size']} x {length} | {milliseconds(fnet)} "
            f"| {milliseconds(transformer)} | {ratio} "
            f"| {mebibytes(fnet)} / {mebibytes(transformer)} MiB |"
        )
    return lines


def summary(folder):
    """The Markdown summary of a gpu.sh output folder; missing parts say so."""
    lines = []
    try:
        results = json.loads((folder / "train" / "results.json").read_text())
        lines += training_table(results)
    except (OSError, ValueError, KeyError) as error:
        lines.append(f"Training: no results ({error})")
    header = True
    for path in sorted(folder.glob("scaling_batch*/seq_len_scaling.json")):
        try:
            rows = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            lines.append(f"\nStep time, {path.parent.name}: no results ({error})")
            continue
        if not rows:
            continue
        if header:
            header = False
            first = rows[0]
            lines += [
                "",
                f"Training step ({first['backend']} on {first['device']}, "
                f"{first['precision']}, median of {first['steps']} steps); memory: "
                "device peak if known, else process peak RSS",
                "",
                "| batch x tokens | FNet | Transformer | ratio | memory FNet / "
                "Transformer |",
                "|:--|--:|--:|--:|--:|",
            ]
        lines += step_rows(rows)
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
