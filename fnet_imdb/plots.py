"""The run's pictures: learning curves, and time and accuracy per model."""

import statistics

from matplotlib.figure import Figure

from fnet_imdb.atomic import atomic_path
from fnet_imdb.cli import in_notebook

COLORS = {"fnet": "C0", "transformer": "C1"}


def save_plots(results, output_dir):
    """Write `learning_curves.png` and `comparison.png` in `output_dir`; return
    their paths."""
    paths = [output_dir / "learning_curves.png", output_dir / "comparison.png"]
    save_figure(learning_curves(results["models"]), paths[0])
    save_figure(comparison(results), paths[1])
    return paths


def show_in_notebook(paths):
    """Show saved pictures below the cell, in a notebook only."""
    if in_notebook():
        from IPython.display import Image, display

        for path in paths:
            display(Image(filename=str(path)))


def learning_curves(models):
    """Accuracy and loss per epoch, train and validation, one line per seed."""
    figure = Figure(figsize=(10, 4), dpi=100)  # No pyplot: no display backend.
    axes = figure.subplots(1, 2)
    for kind, model in models.items():
        for number, seed_result in enumerate(model["runs"]):
            history = seed_result["history"]
            epochs = range(1, len(history["loss"]) + 1)
            for axis, metric in zip(axes, ("accuracy", "loss")):
                for key, style, split in (
                    (metric, "o-", "train"),
                    (f"val_{metric}", "s--", "validation"),
                ):
                    axis.plot(
                        epochs,
                        history[key],
                        style,
                        c=COLORS[kind],
                        alpha=1 if len(model["runs"]) == 1 else 0.6,
                        label=f"{kind} {split}" if number == 0 else None,
                    )
    for axis, metric in zip(axes, ("Accuracy", "Loss")):
        axis.set(title=metric, xlabel="epoch", ylabel=metric.lower())
        axis.set_xticks(epochs)
        axis.legend()
    return figure


def comparison(results):
    """Training time and test accuracy per model: the mean as a bar, and each
    seed as a point beside it when there are several."""
    models = results["models"]
    names = list(models)
    figure = Figure(figsize=(10, 4), dpi=100)  # No pyplot: no display backend.
    axes = figure.subplots(1, 2)
    for axis, key, fmt in (
        (axes[0], "train_seconds", "{:.0f} s"),
        (axes[1], "test_accuracy", "{:.1%}"),
    ):
        values = [
            [seed_result[key] for seed_result in models[k]["runs"]] for k in names
        ]
        means = [statistics.fmean(v) for v in values]
        bars = axis.bar(names, means, color=[COLORS[k] for k in names], alpha=0.8)
        axis.bar_label(bars, labels=[fmt.format(m) for m in means])
        for position, seeds in enumerate(values):
            if len(seeds) > 1:
                axis.plot(
                    [position + 0.25] * len(seeds),
                    seeds,
                    "k.",
                    label="seeds" if position == 0 else None,
                )
    axes[0].set(title="Training time", ylabel="seconds")
    axes[1].set(title=test_label(results), ylabel="accuracy", ylim=(0, 1))
    if any(len(models[k]["runs"]) > 1 for k in names):
        axes[1].legend(loc="lower right")
    return figure


def test_split(config):
    """The test split's name: a stand-in one when carved from train/."""
    return "Stand-in test" if config["holdout_test"] else "Test"


def test_label(results):
    """The test split's name and size, as the table and the plot show it."""
    reviews = results["data"]["test"]["reviews"]
    return f"{test_split(results['config'])} accuracy ({reviews:,} reviews)"


def save_figure(figure, path):
    figure.tight_layout()
    with atomic_path(path) as partial:
        figure.savefig(partial, format="png")
