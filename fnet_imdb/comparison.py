"""The comparison of the two models: per-seed summaries, the tables and the verdict of `results.md`."""

import statistics

from fnet_imdb import MODEL_NAMES
from fnet_imdb.plots import test_label

SUMMARISED = ("train_seconds", "val_accuracy", "test_accuracy")


def summarise(runs):
    """Mean, standard deviation (0 for one run), minimum and maximum over runs
    of the training time and the last epoch's validation and test accuracy."""
    summary = {}
    for key in SUMMARISED:
        values = [run_value(run, key) for run in runs]
        summary[key] = {
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values),
            "max": max(values),
            "n": len(values),
        }
    return summary


def run_value(run, key):
    """One run's figure: its time, its test accuracy, or the validation
    accuracy of the weights it ended with (the kept epoch's with --keep-best)."""
    if key == "val_accuracy":
        return run["history"]["val_accuracy"][run.get("kept_epoch", 0) - 1]
    return run[key]


def comparison_table(results):
    """The keras-io example's table, measured; mean ± std over several seeds."""
    models = results["models"]
    rows = [
        ("Training time", "train_seconds", lambda v: f"{v:,.0f} seconds"),
        ("Train accuracy", "accuracy", lambda v: f"{v:.2%}"),
        ("Validation accuracy", "val_accuracy", lambda v: f"{v:.2%}"),
        (test_label(results), "test_accuracy", lambda v: f"{v:.2%}"),
    ]
    lines = [
        "| | " + " | ".join(f"**{MODEL_NAMES[k]} Classifier**" for k in models) + " |",
        "|:--|" + "--:|" * len(models),
    ]
    for label, key, show in rows:
        cells = [cell(model["runs"], key, show) for model in models.values()]
        lines.append(f"| **{label}** | " + " | ".join(cells) + " |")
    params = " | ".join(f"{model['params']:,}" for model in models.values())
    lines.append(f"| **#Params** | {params} |")
    return "\n".join(lines)


def cell(runs, key, show):
    """One figure, or mean ± std (n runs) over several seeds."""
    if key == "accuracy":
        values = [
            run["history"]["accuracy"][run.get("kept_epoch", 0) - 1] for run in runs
        ]
    else:
        values = [run_value(run, key) for run in runs]
    if len(values) == 1:
        return show(values[0])
    spread = statistics.stdev(values)
    if key == "train_seconds":
        return f"{show(statistics.fmean(values))} ± {spread:,.0f} ({len(values)} runs)"
    return f"{show(statistics.fmean(values))} ± {spread:.2%} ({len(values)} runs)"


def seeds_table(results):
    """Each seed's training time, validation and test accuracy, per model."""
    lines = ["| model | seed | training time | validation accuracy | test accuracy |"]
    lines.append("|:--|--:|--:|--:|--:|")
    for kind, model in results["models"].items():
        for run in model["runs"]:
            lines.append(
                f"| {MODEL_NAMES[kind]} | {run['seed']} | {run['train_seconds']:,.0f} s "
                f"| {run_value(run, 'val_accuracy'):.2%} | {run['test_accuracy']:.2%} |"
            )
    return "\n".join(lines)


def verdict(results):
    """Whether the models' test-accuracy gap exceeds the spread between seeds,
    or None with fewer than two models or two seeds."""
    summaries = [
        model["summary"]["test_accuracy"] for model in results["models"].values()
    ]
    if len(summaries) != 2 or min(s["n"] for s in summaries) < 2:
        return None
    names = [MODEL_NAMES[k] for k in results["models"]]
    gap = summaries[0]["mean"] - summaries[1]["mean"]
    spread = max(s["std"] for s in summaries)
    larger = "larger" if abs(gap) > spread else "not larger"
    return (
        f"The mean test accuracy of {names[0]} minus {names[1]} is "
        f"{gap * 100:+.2f} points, {larger} than the spread between seeds (the "
        f"larger standard deviation, {spread * 100:.2f} points)."
    )


def results_markdown(results):
    """`results.md`: the table, the per-seed values, the settings and the plots."""
    env, config = results["environment"], results["config"]
    runs = max(len(model["runs"]) for model in results["models"].values())
    parts = ["# FNet vs Transformer on IMDb", comparison_table(results)]
    if runs > 1:
        parts += [seeds_table(results), verdict(results) or ""]
    kept = (
        ", weights of the epoch with the lowest validation loss"
        if config["keep_best"]
        else ""
    )
    parts.append(
        f"Backend `{env['keras_backend']}` on `{env['device']}` "
        f"({env['cpu_count']} CPUs), {config['epochs']} epochs, batch "
        f"{config['batch_size']}, sequence length {config['max_seq_len']}"
        f"{', bucketed by length' if config['bucket_by_length'] else ''}{kept}."
    )
    parts += [
        "![Learning curves](learning_curves.png)",
        "![Comparison](comparison.png)",
    ]
    return "\n\n".join(part for part in parts if part) + "\n"
