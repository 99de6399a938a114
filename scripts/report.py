"""Make the measurement tables of README.md and docs/*.md from the JSON records in docs/.

A page marks each generated table with `<!-- table:NAME -->` ... `<!-- end -->`;
the prose around it is written by hand. Every table names where its figures ran
(docs/provenance.json) and links its records.

    python scripts/report.py           # rewrite the generated tables
    python scripts/report.py --check   # exit 1, one line per stale page
"""

import argparse
import json
import os
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, neither the project nor benchmarks/ is on the import path.
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import gpu_summary  # noqa: E402  (the step tables, shared)
from fnet_imdb.comparison import milliseconds, percent, seconds, spread  # noqa: E402
from fnet_imdb import MODEL_NAMES  # noqa: E402
from fnet_imdb.cache import write_text  # noqa: E402

REGION = re.compile(r"<!-- table:([a-z0-9_]+) -->\n.*?<!-- end -->", re.S)
OPENING = re.compile(r"<!-- table:")
BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
H100_TRAINING = ("h100/train42.json", "h100/train_seeds.json")
H100_OTHER = ("h100/spe1.json", "h100/spe32.json", "h100/torch.json")
CPU_OFFICIAL = {
    "fnet": "cpu_official_test/fnet_results.json",
    "transformer": "cpu_official_test/transformer_results.json",
}
FNET_SEEDS = [
    f"fnet_seeds/{mixing}_{seed}.json"
    for mixing in ("fast", "keras")
    for seed in (42, 1, 7)
]
KEEP_BEST = "cpu_128_tokens/fnet_keep_best_tensorflow.json"
KEEP_BEST_TRANSFORMER = "cpu_128_tokens/transformer_keep_best_tensorflow_seed42.json"
JAX_EPOCH = "cpu_128_tokens/fnet_1_epoch_jax.json"
CPU_STEPS = "cpu_official_test/step_times.json"
H100_STEPS = "h100/seq_len_scaling_batch64.json"


class Records:
    """The JSON records under a docs/ folder and their provenance."""

    def __init__(self, docs):
        self.docs, self.loaded = docs, {}
        self.provenance = self.load("provenance.json")

    def load(self, name):
        if name not in self.loaded:
            path = self.docs / name
            try:
                self.loaded[name] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise ValueError(f"unreadable record {path} ({error})") from None
        return self.loaded[name]

    def source(self, name):
        """Where and with what a record was measured (docs/provenance.json)."""
        entry = self.provenance["records"].get(name)
        if entry is None:
            raise ValueError(f"docs/{name} has no entry in docs/provenance.json")
        return {**entry, "machine": self.provenance["machines"][entry["machine"]]}


def software(environment):
    """A results.json environment's versions, in one phrase."""
    hub = environment.get("keras-hub", environment.get("keras_hub"))
    named = [f"Python {environment['python']}", f"Keras {environment['keras']}"]
    named.append(f"keras-hub {hub}")
    for key in ("tensorflow", "jax", "torch"):
        if environment.get(key):
            named.append(f"{BACKEND_NAMES[key]} {environment[key]}")
    return ", ".join(named)


def backend(environment):
    """The Keras backend that trained, with its version."""
    name = environment["keras_backend"]
    return f"{BACKEND_NAMES[name]} {environment.get(name) or ''}".strip()


def sources(records, names, link, environments=None):
    """One line per machine and commit: where the table's figures ran, with
    which software, and links to their records."""
    groups = {}
    for name in names:
        source = records.source(name)
        environment = (environments or {}).get(name)
        what = software(environment) if environment else source.get("software", "")
        key = (
            source["machine"]["long"],
            what,
            source.get("commit"),
            source.get("date"),
        )
        groups.setdefault(key, []).append(name)
    lines = []
    for (machine, what, commit, date), group in groups.items():
        parts = [machine, what]
        parts += [f"commit {commit}" if commit else "", date or ""]
        notes = [records.source(n).get("note", "") for n in group]
        parts += dict.fromkeys(part for note in notes for part in note.split("; "))
        links = ", ".join(f"[{name}]({link(name)})" for name in group)
        lines.append("- " + "; ".join(p for p in parts if p) + f": {links}")
    return "\n".join(["", "Measured on:", ""] + lines)


def runs(results, kind):
    """A results.json's runs of one model (one per seed; older records hold
    their single run in the model's entry)."""
    model = results["models"][kind]
    return model.get("runs") or [{"seed": results["config"]["seed"], **model}]


def h100_runs(records, names):
    """(record, run, variant meaning) for every training run of H100 records."""
    found = []
    for name in names:
        meaning = records.source(name)["variants"]
        for run in records.load(name):
            found.append((name, run, meaning[run["variant"]]))
    return found


def mean_sd(values, unit, listed=None):
    """Mean ± standard deviation, then each value if asked; one value alone."""
    if len(values) == 1:
        return percent(values[0]) if unit == "%" else seconds(values[0])
    text = spread(statistics.fmean(values), statistics.stdev(values), unit)
    if listed:
        text += " (" + ", ".join(listed(v) for v in values) + ")"
    return text


def pct(value):
    """A percentage without its sign, for lists beside a mean."""
    return f"{value * 100:.2f}"


def gap(fnet, transformer):
    """The gap between two models' mean accuracy against the seeds' spread, by
    the rule of `results.md` (fnet_imdb.results.verdict, which imports Keras)."""
    difference = statistics.fmean(fnet) - statistics.fmean(transformer)
    std = max(statistics.stdev(fnet), statistics.stdev(transformer))
    where = "outside" if abs(difference) > std else "within"
    return (
        f"{difference * 100:+.2f} against {std * 100:.2f} points ({where} the "
        "spread between seeds)"
    )


def seeds_cell(seeds):
    """The seeds of a row, and how many."""
    return ", ".join(str(seed) for seed in seeds) + f" ({len(seeds)})"


def table(header, rows):
    """A Markdown table; a header name that starts with a space heads a column
    of figures, aligned right."""
    align = ["--:" if name.startswith(" ") else ":--" for name in header]
    lines = ["| " + " | ".join(name.strip() for name in header) + " |"]
    lines.append("|" + "|".join(align) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def step_at(records, name, kind, length=512, batch=64):
    """A step-time record's median step of one model at one shape."""
    found = [
        row["step_seconds"]
        for row in records.load(name)
        if (row["model"], row["seq_len"], row["batch_size"]) == (kind, length, batch)
    ]
    if len(found) != 1:
        raise ValueError(f"docs/{name} has no single {kind} step at {batch} x {length}")
    return found[0]


def variant(records, name, wanted):
    """One variant of an end_to_end.py record: its table column and results."""
    record = records.load(name)
    found = [v["results"] for v in record["variants"] if v["variant"] == wanted]
    if len(found) != 1:
        raise ValueError(f"docs/{name} has no single variant {wanted!r}")
    return record["table"], found[0]


def headline(records, link):
    """FNet against the Transformer: each platform's 3-epoch fit, warm step
    and official test accuracy over seeds."""
    header = ["model", "hardware, backend", " seeds (n)", " 3 epochs of `fit`"]
    header += [" one training step, 64 x 512 tokens", " official IMDb test accuracy"]
    rows, gaps = [], []
    for kind, name in CPU_OFFICIAL.items():
        results = records.load(name)
        done = runs(results, kind)
        gaps.append([r["test_accuracy"] for r in done])
        fit = mean_sd([r["train_seconds"] for r in done], "s")
        if records.source(name).get("shared_seeds"):
            fit += " ¹"
        rows.append(
            [
                MODEL_NAMES[kind],
                f"{records.source(name)['machine']['short']}, "
                f"{backend(results['environment'])}",
                seeds_cell([r["seed"] for r in done]),
                fit,
                f"{step_at(records, CPU_STEPS, kind):.3f} s",
                mean_sd([r["test_accuracy"] for r in done], "%"),
            ]
        )
    trained = h100_runs(records, H100_TRAINING)
    for kind in MODEL_NAMES:
        done = [
            run
            for _, run, meaning in trained
            if meaning["model"] == kind and meaning.get("fourier") != "keras"
        ]
        environment = done[0]["environment"]
        gaps.append([r["test_accuracy"] for r in done])
        rows.append(
            [
                MODEL_NAMES[kind],
                f"{records.source(H100_TRAINING[0])['machine']['short']}, "
                f"{backend(environment)}",
                seeds_cell([r["seed"] for r in done]),
                mean_sd([r["train_seconds"] for r in done], "s") + " ²",
                milliseconds(step_at(records, H100_STEPS, kind)),
                mean_sd([r["test_accuracy"] for r in done], "%"),
            ]
        )
    warm = records.load(H100_STEPS)[0]
    notes = [
        "",
        "",
        "¹ Not clean: other work shared the two CPU cores during these fits. "
        "The step times beside them were measured alone on the same machine.",
        "",
        "² Includes validation and XLA compilation. The step time beside it is warm "
        f"(median of {warm['steps']} steps after {warm['warmup']} warm-up steps).",
        "",
        "FNet's mean test accuracy minus the Transformer's, against the larger of "
        f"their standard deviations: CPU {gap(*gaps[:2])}, H100 {gap(*gaps[2:])}.",
    ]
    environments = {
        name: records.load(name)["environment"] for name in CPU_OFFICIAL.values()
    }
    environments.update(
        {name: records.load(name)[0]["environment"] for name in H100_TRAINING}
    )
    names = list(CPU_OFFICIAL.values()) + [CPU_STEPS, *H100_TRAINING, H100_STEPS]
    return (
        table(header, rows)
        + "\n".join(notes)
        + "\n"
        + sources(records, names, link, environments)
    )


def cpu_official_test(records, link):
    """Each seed of the CPU runs scored on the official test split."""
    header = ["model", " seed", " `fit`, 3 epochs (cores shared)"]
    header += [" validation accuracy, epoch 3", " official test accuracy"]
    rows = []
    for kind, name in CPU_OFFICIAL.items():
        done = runs(records.load(name), kind)
        for run in done:
            rows.append(
                [
                    MODEL_NAMES[kind],
                    str(run["seed"]),
                    seconds(run["train_seconds"]),
                    percent(run["history"]["val_accuracy"][-1]),
                    percent(run["test_accuracy"]),
                ]
            )
        rows.append(
            [
                f"**{MODEL_NAMES[kind]}, mean ± sd**",
                f"n = {len(done)}",
                mean_sd([r["train_seconds"] for r in done], "s"),
                mean_sd([r["history"]["val_accuracy"][-1] for r in done], "%"),
                mean_sd([r["test_accuracy"] for r in done], "%"),
            ]
        )
    environments = {
        name: records.load(name)["environment"] for name in CPU_OFFICIAL.values()
    }
    return (
        table(header, rows)
        + "\n"
        + sources(records, list(CPU_OFFICIAL.values()), link, environments)
    )


def h100_training(records, link):
    """Every training run on the H100s, in the order they ran."""
    header = ["record", "backend", "model", "FNet mixing", " seed", " `fit`, 3 epochs"]
    header += [" validation accuracy per epoch", " official test accuracy"]
    rows = []
    names = list(H100_TRAINING + H100_OTHER)
    for name, run, meaning in h100_runs(records, names):
        label = f"[{Path(name).name}]({link(name)})"
        if run.get("steps_per_execution", 1) != 1:
            label += f", steps_per_execution={run['steps_per_execution']}"
        rows.append(
            [
                label,
                backend(run["environment"]),
                MODEL_NAMES[meaning["model"]],
                meaning.get("fourier", ""),
                str(run["seed"]),
                seconds(run["train_seconds"]),
                " / ".join(percent(v) for v in run["history"]["val_accuracy"]),
                percent(run["test_accuracy"]),
            ]
        )
    environments = {name: records.load(name)[0]["environment"] for name in names}
    return table(header, rows) + "\n" + sources(records, names, link, environments)


def mixing(records, link):
    """FNet's two Fourier mixings over seeds: on the H100 and on a CPU."""
    header = ["hardware, backend", "FNet mixing", " seeds (n)", " `fit`, 3 epochs"]
    header += [" validation accuracy, epoch 3", "test split", " test accuracy"]
    groups = {}
    for name, run, meaning in h100_runs(records, H100_TRAINING):
        if meaning["model"] == "fnet":
            key = (H100_TRAINING[0], meaning["fourier"], "official")
            groups.setdefault(key, []).append(run)
    for name in FNET_SEEDS:
        results = records.load(name)
        fourier = results["config"].get("fourier")
        fourier = fourier or records.source(name)["settings"]["fourier"]
        key = (FNET_SEEDS[0], fourier, "stand-in")
        groups.setdefault(key, []).extend(runs(results, "fnet"))
    rows = []
    for (name, fourier, split), done in groups.items():
        environment = done[0].get("environment") or records.load(name)["environment"]
        rows.append(
            [
                f"{records.source(name)['machine']['short']}, {backend(environment)}",
                fourier,
                seeds_cell([r["seed"] for r in done]),
                mean_sd([r["train_seconds"] for r in done], "s"),
                mean_sd([r["history"]["val_accuracy"][-1] for r in done], "%", pct),
                split,
                mean_sd([r["test_accuracy"] for r in done], "%", pct),
            ]
        )
    environments = {
        name: records.load(name)[0]["environment"] for name in H100_TRAINING
    }
    environments.update(
        {name: records.load(name)["environment"] for name in FNET_SEEDS}
    )
    names = list(H100_TRAINING) + FNET_SEEDS
    return table(header, rows) + "\n" + sources(records, names, link, environments)


def keras_io(records, link):
    """The keras-io example's own published table (one run per model)."""
    name = "keras_io/published.json"
    published = records.load(name)["models"]
    shown = [
        ("training time", "train_seconds", seconds),
        ("train accuracy", "train_accuracy", percent),
        ("validation accuracy", "val_accuracy", percent),
        ("official test accuracy", "test_accuracy", percent),
    ]
    rows = [
        [label] + [show(published[kind][key]) for kind in MODEL_NAMES]
        for label, key, show in shown
    ]
    header = ["keras-io, one run each"] + [f" {MODEL_NAMES[k]}" for k in MODEL_NAMES]
    source = records.load(name)["source"]
    return (
        table(header, rows)
        + f"\n\nPublished by [the keras-io example]({source}), "
        + f"{records.source(name)['machine']['long']}: [{name}]({link(name)})"
    )


def backend_gradients(records, link):
    """TensorFlow against JAX from the same initial weights and batches."""
    name = "backend_equivalence_cpu.json"
    record = records.load(name)
    header = ["model", " first gradient: relative L2 gap", " first loss: gap"]
    header += [" largest loss gap, next steps", " losses, TensorFlow", " losses, JAX"]
    rows = []
    for result in record["results"]:
        gaps = result["loss_gaps"]
        tf_losses = result["runs"]["tensorflow"]["losses"]
        jax_losses = result["runs"]["jax"]["losses"]
        rows.append(
            [
                MODEL_NAMES[result["model"]],
                f"{result['first_gradient_relative_error']:.1e}",
                f"{gaps[0]:.0e}" if gaps[0] else "0",
                f"{max(gaps[1:]):.2g} (steps 2-{len(gaps)})",
                f"{min(tf_losses):.2f} to {max(tf_losses):.2f}",
                f"{min(jax_losses):.2f} to {max(jax_losses):.2f}",
            ]
        )
    settings = record["settings"]
    lead = (
        f"Batch {settings['batch_size']}, {settings['steps']} Adam steps, seed "
        f"{settings['seed']}, dropout off.\n"
    )
    return lead + "\n" + table(header, rows) + "\n" + sources(records, [name], link)


def backend_seeds(records, link):
    """One epoch of FNet per backend over the same seeds, at 128 tokens."""
    header = ["backend", " seeds (n)", " validation accuracy after epoch 1"]
    header += [" stand-in test accuracy after epoch 1"]
    tensorflow = records.load(KEEP_BEST)
    jax = records.load(JAX_EPOCH)
    rows = []
    for results, tested in ((tensorflow, False), (jax, True)):
        done = runs(results, "fnet")
        first = [r["history"]["val_accuracy"][0] for r in done]
        test = [r["test_accuracy"] for r in done]
        rows.append(
            [
                backend(results["environment"]),
                seeds_cell([r["seed"] for r in done]),
                mean_sd(first, "%", pct),
                mean_sd(test, "%", pct) if tested else "(not measured after epoch 1)",
            ]
        )
    environments = {n: records.load(n)["environment"] for n in (KEEP_BEST, JAX_EPOCH)}
    return (
        table(header, rows)
        + "\n"
        + sources(records, [KEEP_BEST, JAX_EPOCH], link, environments)
    )


def keep_best(records, link):
    """--keep-best against the last epoch, from the same training (128 tokens)."""
    header = ["128 tokens", " seeds (n)", " kept epochs", " validation accuracy"]
    header += [" stand-in test accuracy"]
    rows = []
    for name, kind in ((KEEP_BEST, "fnet"), (KEEP_BEST_TRANSFORMER, "transformer")):
        done = runs(records.load(name), kind)
        last_val = [r["history"]["val_accuracy"][-1] for r in done]
        kept_val = [r["history"]["val_accuracy"][r["kept_epoch"] - 1] for r in done]
        last_test = [r["last_epoch_test_accuracy"] for r in done]
        kept_test = [r["test_accuracy"] for r in done]
        kept = ", ".join(str(r["kept_epoch"]) for r in done)
        seeds = seeds_cell([r["seed"] for r in done])
        rows.append(
            [
                f"{MODEL_NAMES[kind]}, last epoch (the default)",
                seeds,
                "",
                mean_sd(last_val, "%", pct),
                mean_sd(last_test, "%", pct),
            ]
        )
        rows.append(
            [
                f"{MODEL_NAMES[kind]}, `--keep-best`",
                seeds,
                kept,
                mean_sd(kept_val, "%", pct),
                mean_sd(kept_test, "%", pct),
            ]
        )
    names = [KEEP_BEST, KEEP_BEST_TRANSFORMER]
    environments = {n: records.load(n)["environment"] for n in names}
    return table(header, rows) + "\n" + sources(records, names, link, environments)


def end_to_end(records, link):
    """The whole program against the original pipeline, stage by stage."""
    columns = [
        ("end_to_end_reference_1_epoch.json", "reference"),
        ("end_to_end_3_epochs.json", "default-cold"),
        ("end_to_end_3_epochs.json", "all-opt-in"),
    ]
    found = [(*variant(records, name, wanted), wanted) for name, wanted in columns]
    header = [""]
    for _, results, wanted in found:
        epochs = results["config"]["epochs"]
        header.append(f" `{wanted}`, {epochs} epoch{'s' if epochs > 1 else ''}")

    def row(label, show):
        return [label] + [show(t, r, v) for t, r, v in found]

    def timed(key):
        return lambda t, r, v: seconds(t[key][v])

    rows = [
        row("backend", lambda t, r, v: backend(r["environment"])),
        row("FNet mixing", lambda t, r, v: r["config"].get("fourier") or "keras"),
        row("data", timed("data")),
        row("vocabulary", timed("vocab")),
        row("tokenize", timed("tokenize")),
        row(
            "cache (vocabulary, tokens)", lambda t, r, v: t["cache (vocab, tokens)"][v]
        ),
        row("launch to first training step", timed("to first step (from launch)")),
    ]
    for kind, model in MODEL_NAMES.items():
        rows.append(
            row(
                f"`fit` {model} (per epoch)",
                lambda t, r, v, k=kind: f"{seconds(t[f'train {k}'][v])} "
                f"({seconds(t[f'train {k}'][v] / r['config']['epochs'])})",
            )
        )
    for label in ("val accuracy", "stand-in test accuracy"):
        for kind, model in MODEL_NAMES.items():
            shown = label.replace("val ", "validation ")
            rows.append(
                row(
                    f"{shown} {model}",
                    lambda t, r, v, key=f"{label} {kind}": percent(t[key][v]),
                )
            )
    rows.append(row("**total wall time**", timed("total wall")))
    names = list(dict.fromkeys(name for name, _ in columns))
    environments = {
        name: r["environment"] for (name, _), (_, r, _) in zip(columns, found)
    }
    return table(header, rows) + "\n" + sources(records, names, link, environments)


def steps_512(records, link):
    """One training step at batch 64 x 512 on the AVX-512 CPU, per setting."""
    names = [
        "seq_len_scaling_cpu.json",
        "seq_len_scaling_cpu_fourier_512.json",
        "seq_len_scaling_cpu_bf16_512.json",
        "seq_len_scaling_cpu_jax_512.json",
    ]
    header = ["backend", "precision", "FNet mixing", " median of", " FNet"]
    header += [" Transformer", " ratio", "record"]
    rows = []
    for name in names:
        implicit = records.source(name).get("settings", {})
        points = {}
        for r in records.load(name):
            if (r["seq_len"], r["batch_size"]) == (512, 64):
                fourier = r.get("fourier") or implicit["fourier"]
                key = (r["backend"], r["precision"], fourier, r["steps"])
                points.setdefault(key, {})[r["model"]] = r["step_seconds"]
        for (name_backend, precision, fourier, steps), step in points.items():
            fnet, transformer = step.get("fnet"), step.get("transformer")
            rows.append(
                [
                    BACKEND_NAMES[name_backend],
                    precision,
                    fourier,
                    f"{steps} steps",
                    f"{fnet:.3f} s" if fnet else "-",
                    f"{transformer:.3f} s" if transformer else "-",
                    f"{transformer / fnet:.2f}x" if fnet and transformer else "-",
                    f"[{name}]({link(name)})",
                ]
            )
    return table(header, rows) + "\n" + sources(records, names, link)


def seq_len_cpu(records, link):
    """Step time against sequence length on the AVX-512 CPU."""
    names = ["seq_len_scaling_cpu.json", "seq_len_scaling_cpu_batch8.json"]
    lines = gpu_summary.step_table([records.load(name) for name in names])
    return "\n".join(lines) + "\n" + sources(records, names, link)


def seq_len_h100(records, link):
    """Step time against sequence length on the H100."""
    names = ["h100/seq_len_scaling_batch64.json", "h100/seq_len_scaling_batch8.json"]
    lines = gpu_summary.step_table([records.load(name) for name in names])
    return "\n".join(lines) + "\n" + sources(records, names, link)


def backend_epochs(records, link):
    """FNet's epoch time per backend on the CPU without AVX-512 (128 tokens)."""
    header = ["backend", " seed", " epochs", " `fit`", " per epoch", "CPU"]
    rows = []
    for name in (KEEP_BEST, JAX_EPOCH):
        results = records.load(name)
        shared = records.source(name).get("shared_seeds", [])
        for run in runs(results, "fnet"):
            epochs = len(run["history"]["val_accuracy"])
            rows.append(
                [
                    backend(results["environment"]),
                    str(run["seed"]),
                    str(epochs),
                    seconds(run["train_seconds"]),
                    seconds(run["train_seconds"] / epochs),
                    "shared with other work" if run["seed"] in shared else "alone",
                ]
            )
    names = [KEEP_BEST, JAX_EPOCH]
    environments = {n: records.load(n)["environment"] for n in names}
    return table(header, rows) + "\n" + sources(records, names, link, environments)


TABLES = {
    "headline": headline,
    "cpu_official_test": cpu_official_test,
    "h100_training": h100_training,
    "mixing": mixing,
    "keras_io": keras_io,
    "backend_gradients": backend_gradients,
    "backend_seeds": backend_seeds,
    "keep_best": keep_best,
    "end_to_end": end_to_end,
    "steps_512": steps_512,
    "seq_len_cpu": seq_len_cpu,
    "seq_len_h100": seq_len_h100,
    "backend_epochs": backend_epochs,
}


def pages(root):
    """The pages with generated tables: README.md and docs/*.md."""
    return [root / "README.md"] + sorted((root / "docs").glob("*.md"))


def render(page, records):
    """The page's text with every generated table made anew, and the names
    of the tables that changed."""
    label = page.relative_to(records.docs.parent).as_posix()
    text = page.read_text(encoding="utf-8")
    if len(OPENING.findall(text)) != len(REGION.findall(text)):
        raise ValueError(f"{label}: a `<!-- table:NAME -->` has no `<!-- end -->`")
    changed = []

    def link(name):
        return Path(os.path.relpath(records.docs / name, page.parent)).as_posix()

    def replace(match):
        name = match.group(1)
        if name not in TABLES:
            raise ValueError(f"{label}: unknown table {name!r}")
        made = f"<!-- table:{name} -->\n{TABLES[name](records, link)}\n<!-- end -->"
        if made != match.group(0):
            changed.append(name)
        return made

    return REGION.sub(replace, text), changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a page is stale"
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the checkout (default: this one)"
    )
    args = parser.parse_args(argv)
    try:
        args.root = args.root.resolve()
        records = Records(args.root / "docs")
        made = {page: render(page, records) for page in pages(args.root)}
    except (OSError, ValueError) as error:
        print(f"report.py: error: {error}", file=sys.stderr)
        return 1
    except KeyError as error:
        print(f"report.py: error: a record lacks the field {error}", file=sys.stderr)
        return 1
    stale = False
    for page, (text, changed) in made.items():
        label = page.relative_to(args.root).as_posix()
        if changed and args.check:
            stale = True
            print(
                f"{label}: stale tables {', '.join(changed)} (run python scripts/report.py)"
            )
        elif changed:
            write_text(page, text)
            print(f"rewrote {label} ({', '.join(changed)})")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
