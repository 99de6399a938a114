"""The comparison of the two models: figure formats, per-seed summaries, the
paired statistics' tables, and `results.md`.

No Keras here: scripts/report.py and benchmarks/gpu_summary.py use it too."""

import statistics

from fnet_imdb import MODEL_NAMES
from fnet_imdb.plots import test_label
from fnet_imdb.verdicts import spread_verdict, verdict

SUMMARISED = ("train_seconds", "val_accuracy", "test_accuracy")
BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}


def seconds(value):
    """A duration: as given if whole, whole seconds from 100 s up, else one decimal."""
    if isinstance(value, int) or value >= 100:
        return f"{value:,.0f} s"
    return f"{value:.1f} s"


def milliseconds(value):
    return f"{value * 1e3:.1f} ms"


def percent(value):
    """A fraction as a percentage with two decimals."""
    return f"{value:.2%}"


def spread(mean, std, unit):
    """`mean ± std` in one unit: "%" (of fractions), "s" or "ms" (of seconds)."""
    if unit == "%":
        return f"{mean * 100:.2f} ± {std * 100:.2f}%"
    if unit == "ms":
        return f"{mean * 1e3:.1f} ± {std * 1e3:.1f} ms"
    if mean >= 100:
        return f"{mean:,.0f} ± {std:,.0f} s"
    return f"{mean:.1f} ± {std:.1f} s"


def mean_sd(values, unit, listed=False):
    """Mean ± sample standard deviation, then each value if `listed`; one value
    alone as it is."""
    if len(values) == 1:
        return {"%": percent, "s": seconds, "ms": milliseconds}[unit](values[0])
    text = spread(statistics.fmean(values), statistics.stdev(values), unit)
    if listed:
        scale = 100 if unit == "%" else 1
        text += " (" + ", ".join(f"{v * scale:.2f}" for v in values) + ")"
    return text


def backend(environment):
    """The Keras backend of a results.json environment, with its version."""
    name = environment["keras_backend"]
    return f"{BACKEND_NAMES[name]} {environment.get(name) or ''}".strip()


def software(env):
    """A results.json environment's versions, in one phrase."""
    named = [f"Python {env['python']}", f"Keras {env['keras']}"]
    named.append(f"keras-hub {env.get('keras-hub', env.get('keras_hub'))}")
    named += [f"{BACKEND_NAMES[k]} {env[k]}" for k in BACKEND_NAMES if env.get(k)]
    return ", ".join(named)


def step_ratios(rows):
    """{sequence length: the Transformer's step time over FNet's} of rows of
    step times (`model`, `seq_len`, `step_seconds`), where both have one."""
    times = {
        (row["model"], row.get("seq_len")): row.get("step_seconds") for row in rows
    }
    return {
        length: times[("transformer", length)] / seconds
        for (kind, length), seconds in times.items()
        if kind == "fnet" and seconds and times.get(("transformer", length))
    }


def summarise(runs):
    """Mean, standard deviation (0 for one run), minimum and maximum over runs
    of the training time and the last epoch's validation and test accuracy."""
    summary = {}
    for key in SUMMARISED:
        values = [run_value(seed_result, key) for seed_result in runs]
        summary[key] = {
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values),
            "max": max(values),
            "n": len(values),
        }
    return summary


def run_value(seed_result, key):
    """One run's figure: its time, its test accuracy, or the validation
    accuracy of the weights it ended with (the kept epoch's with --keep-best)."""
    if key == "val_accuracy":
        return seed_result["history"]["val_accuracy"][
            seed_result.get("kept_epoch", 0) - 1
        ]
    return seed_result[key]


def comparison_table(results):
    """The keras-io example's table, measured; mean ± std over several seeds."""
    models = results["models"]
    rows = [
        ("Training time", "train_seconds", "s"),
        ("Train accuracy", "accuracy", "%"),
        ("Validation accuracy", "val_accuracy", "%"),
        (test_label(results), "test_accuracy", "%"),
    ]
    lines = [
        "| | " + " | ".join(f"**{MODEL_NAMES[k]} Classifier**" for k in models) + " |",
        "|:--|" + "--:|" * len(models),
    ]
    for label, key, unit in rows:
        cells = [cell(model["runs"], key, unit) for model in models.values()]
        lines.append(f"| **{label}** | " + " | ".join(cells) + " |")
    params = " | ".join(f"{model['params']:,}" for model in models.values())
    lines.append(f"| **#Params** | {params} |")
    return "\n".join(lines)


def cell(runs, key, unit):
    """One figure, or mean ± std (n runs) over several seeds."""
    if key == "accuracy":
        values = [
            seed_result["history"]["accuracy"][seed_result.get("kept_epoch", 0) - 1]
            for seed_result in runs
        ]
    else:
        values = [run_value(seed_result, key) for seed_result in runs]
    text = mean_sd(values, unit)
    return text if len(values) == 1 else f"{text} ({len(values)} runs)"


def seeds_table(results):
    """Each seed's training time, validation and test accuracy, per model."""
    lines = ["| model | seed | training time | validation accuracy | test accuracy |"]
    lines.append("|:--|--:|--:|--:|--:|")
    for kind, model in results["models"].items():
        for seed_result in model["runs"]:
            lines.append(
                f"| {MODEL_NAMES[kind]} | {seed_result['seed']} | {seconds(seed_result['train_seconds'])} "
                f"| {percent(run_value(seed_result, 'val_accuracy'))} "
                f"| {percent(seed_result['test_accuracy'])} |"
            )
    return "\n".join(lines)


def paired_markdown(comparison):
    """The paired comparison as Markdown: McNemar per seed, the intervals with
    their methods, the verdict and where the models disagree."""
    lines = [
        "| seed | FNet | Transformer | only FNet right | only Transformer right "
        "| McNemar p |",
        "|--:|--:|--:|--:|--:|--:|",
    ]
    for seed in comparison["per_seed"]:
        lines.append(
            f"| {seed['seed']} | {percent(seed['fnet_accuracy'])} "
            f"| {percent(seed['transformer_accuracy'])} | {seed['only_fnet_right']:,} "
            f"| {seed['only_transformer_right']:,} | {seed['p_value']:.2g} |"
        )
    difference, ratio = comparison["accuracy_difference"], comparison["time_ratio"]
    notes = [
        f"Per seed: {comparison['per_seed'][0]['method']}.",
        f"FNet − Transformer accuracy: {difference['method']}; "
        f"{difference['resamples']:,} resamples, {difference['reviews']:,} reviews "
        "per seed.",
    ]
    if ratio:
        notes.append(f"Training time, Transformer / FNet: {ratio['method']}.")
    parts = ["\n".join(lines), "\n".join(f"- {note}" for note in notes)]
    parts += [verdict(comparison), disagreement_table(comparison)]
    return "\n\n".join(parts)


def disagreement_table(comparison):
    """The reviews one model gets right and the other wrong, most apart first."""
    found = comparison["disagreements"]
    lines = [
        f"Where the models disagree (seed {comparison['disagreements_seed']}, the "
        f"{len(found)} reviews with the largest gap between their probabilities"
        + ("" if comparison["texts"] else "; texts omitted: none were given")
        + "):",
        "",
        "| review | label | FNet | Transformer | text |",
        "|--:|--:|--:|--:|:--|",
    ]
    for entry in found:
        text = entry.get("text", "").replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {entry['index']} | {entry['label']} | {entry['fnet']:.3f} "
            f"| {entry['transformer']:.3f} | {text} |"
        )
    return "\n".join(lines)


def results_markdown(results, paired=None):
    """`results.md`: the table, the per-seed values, the paired comparison
    (`paired_comparison`'s, or mean ± std without one), the settings, the plots."""
    env, config = results["environment"], results["config"]
    runs = max(len(model["runs"]) for model in results["models"].values())
    parts = ["# FNet vs Transformer on IMDb", comparison_table(results)]
    if runs > 1:
        parts.append(seeds_table(results))
    if paired:
        parts += ["## Paired comparison", paired_markdown(paired)]
    else:
        parts.append(spread_verdict(results) or "")
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
