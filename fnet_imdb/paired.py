"""Paired statistics of FNet against the Transformer on the same test reviews.

Numpy and scipy only (no Keras): scripts/report.py and benchmarks/ use it too.
"""

import numpy as np
from scipy import stats

from fnet_imdb import MODEL_KINDS, predictions

CONFIDENCE = 0.95
RESAMPLES = 10_000
BOOTSTRAP_SEED = 0  # The intervals are reproducible to the digit.
MCNEMAR = (
    "McNemar's exact test: a two-sided binomial test (p = 1/2) on the reviews "
    "exactly one model gets right (scipy.stats.binomtest)"
)
TWO_LEVEL = (
    "two-level (hierarchical) percentile bootstrap, Saravanan et al. 2020: "
    "training seeds resampled with replacement, then each drawn seed's test "
    "reviews resampled in pairs (cf. Agarwal et al. 2021, rliable, on intervals "
    "over training runs; Dror et al. 2018 on paired tests in NLP)"
)
REVIEWS_ONLY = (
    "paired percentile bootstrap over the test reviews (Efron and Tibshirani "
    "1993; one training seed, so the seeds' variation is not in it)"
)
LOG_T = (
    "t-interval on the logarithms of the per-seed ratios, over the seeds both "
    "models trained with"
)


def correct(probabilities, labels):
    """Which reviews a model classifies right: positive means probability > 0.5,
    as Keras's binary_accuracy counts it."""
    return (np.asarray(probabilities, dtype=np.float32) > 0.5) == (
        np.asarray(labels) == 1
    )


def mcnemar(fnet_right, transformer_right):
    """McNemar's exact test on two models' right and wrong reviews."""
    only_fnet = int(np.sum(fnet_right & ~transformer_right))
    only_transformer = int(np.sum(~fnet_right & transformer_right))
    discordant = only_fnet + only_transformer
    p_value = stats.binomtest(only_fnet, discordant, 0.5).pvalue if discordant else 1.0
    return {
        "only_fnet_right": only_fnet,
        "only_transformer_right": only_transformer,
        "p_value": float(p_value),
        "method": MCNEMAR,
    }


def accuracy_difference(pairs, resamples=RESAMPLES, seed=BOOTSTRAP_SEED):
    """FNet's accuracy minus the Transformer's, averaged over training seeds,
    with its 95% bootstrap interval; `pairs` holds one (fnet_right,
    transformer_right) pair of boolean arrays per seed.

    scipy.stats.bootstrap resamples one level only, so the two levels are
    drawn here. Resampling a seed's reviews in pairs only changes how many
    reviews fall in each of three cells (only FNet right, only the Transformer
    right, both or neither), so the resample is drawn exactly as multinomial
    counts of those cells: no array of review indices is needed."""
    cells = np.array(
        [[np.sum(f & ~t), np.sum(~f & t), np.sum(f == t)] for f, t in pairs]
    )
    reviews = cells.sum(axis=1)
    differences = (cells[:, 0] - cells[:, 1]) / reviews
    rng = np.random.default_rng(seed)
    drawn_seeds = rng.integers(len(pairs), size=(resamples, len(pairs)))
    n = reviews[drawn_seeds]
    counts = rng.multinomial(n, cells[drawn_seeds] / n[..., None])
    means = ((counts[..., 0] - counts[..., 1]) / n).mean(axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return {
        "difference": float(differences.mean()),
        "ci_low": float(low),
        "ci_high": float(high),
        "confidence": CONFIDENCE,
        "seeds": len(pairs),
        "reviews": int(reviews[0]),
        "resamples": resamples,
        "bootstrap_seed": seed,
        "covers": (
            "training seeds and test reviews" if len(pairs) > 1 else "test reviews"
        ),
        "method": TWO_LEVEL if len(pairs) > 1 else REVIEWS_ONLY,
    }


def time_ratio(fnet_seconds, transformer_seconds):
    """The Transformer's training time over FNet's, the geometric mean of the
    seeds' ratios, with a 95% interval from two seeds up."""
    logs = np.log(np.asarray(transformer_seconds) / np.asarray(fnet_seconds))
    ratio = {"ratio": float(np.exp(logs.mean())), "seeds": len(logs)}
    ratio.update(ci_low=None, ci_high=None, confidence=CONFIDENCE, method=LOG_T)
    if len(logs) > 1:
        sem = stats.sem(logs)
        low, high = stats.t.interval(CONFIDENCE, len(logs) - 1, logs.mean(), sem)
        ratio.update(ci_low=float(np.exp(low)), ci_high=float(np.exp(high)))
    return ratio


def disagreements(fnet, transformer, labels, texts=None, count=5):
    """The `count` reviews one model gets right and the other wrong with the
    largest gap between their probabilities; the first 200 characters of
    each text when the texts are given."""
    fnet = np.asarray(fnet, dtype=np.float32)
    transformer = np.asarray(transformer, dtype=np.float32)
    differ = np.flatnonzero(correct(fnet, labels) != correct(transformer, labels))
    gaps = np.abs(fnet[differ] - transformer[differ])
    found = []
    for index in differ[np.argsort(-gaps, kind="stable")[:count]]:
        entry = {"index": int(index), "label": int(labels[index])}
        entry.update(fnet=float(fnet[index]), transformer=float(transformer[index]))
        if texts is not None:
            text = texts[index]
            text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
            entry["text"] = text[:200]
        found.append(entry)
    return found


def compare(labels, probabilities, seconds, texts=None, step_seconds=None):
    """The paired comparison as a JSON-able dict.

    labels: the test labels; probabilities: {seed: (fnet, transformer)} test
    probabilities in the labels' order; seconds: {seed: (fnet, transformer)}
    training times; texts: the test reviews, optional; step_seconds:
    (fnet, transformer) seconds of one training step, if measured."""
    seeds = list(probabilities)
    rights = {
        seed: tuple(correct(p, labels) for p in probabilities[seed]) for seed in seeds
    }
    per_seed = []
    for seed in seeds:
        fnet_right, transformer_right = rights[seed]
        entry = {"seed": seed, "reviews": len(labels)}
        entry.update(fnet_accuracy=float(fnet_right.mean()))
        entry.update(transformer_accuracy=float(transformer_right.mean()))
        per_seed.append({**entry, **mcnemar(fnet_right, transformer_right)})
    timed = [seed for seed in seeds if seed in seconds]
    return {
        "per_seed": per_seed,
        "accuracy_difference": accuracy_difference([rights[s] for s in seeds]),
        "time_ratio": time_ratio(*zip(*(seconds[s] for s in timed))) if timed else None,
        "step_ratio": step_seconds[1] / step_seconds[0] if step_seconds else None,
        "disagreements": disagreements(*probabilities[seeds[0]], labels, texts),
        "disagreements_seed": seeds[0],
        "texts": texts is not None,
    }


def paired_comparison(results, output_dir, texts=None, step_seconds=None):
    """The paired statistics of a run whose results.json names its per-review
    predictions (`models.<kind>.runs[i].predictions`, `test_labels`), or
    None. texts: the test reviews in the labels' order, optional;
    step_seconds: (FNet, Transformer) seconds of one training step, if known."""
    labels = results.get("test_labels")
    if not labels or set(results["models"]) != set(MODEL_KINDS):
        return None
    runs = {
        kind: {
            r["seed"]: r for r in results["models"][kind]["runs"] if "predictions" in r
        }
        for kind in MODEL_KINDS
    }
    seeds = [seed for seed in runs["fnet"] if seed in runs["transformer"]]
    if not seeds:
        return None
    probabilities, times = {}, {}
    for seed in seeds:
        both = [runs[kind][seed] for kind in MODEL_KINDS]
        probabilities[seed] = [
            predictions.load(output_dir, r["predictions"]) for r in both
        ]
        times[seed] = [r["train_seconds"] for r in both]
    labels = predictions.load(output_dir, labels)
    return compare(labels, probabilities, times, texts, step_seconds)


def from_records(runs):
    """`compare` for recorded runs, each a (results.json, arrays) pair: one seed
    per results.json, its arrays `fnet`, `transformer` and `labels` (an .npz)."""
    probabilities, seconds, labels = {}, {}, None
    for results, arrays in runs:
        if labels is not None and not np.array_equal(labels, arrays["labels"]):
            raise ValueError("recorded runs on different test splits")
        labels = arrays["labels"]
        both = [results["models"][kind]["runs"][0] for kind in MODEL_KINDS]
        probabilities[both[0]["seed"]] = [arrays[kind] for kind in MODEL_KINDS]
        seconds[both[0]["seed"]] = [
            seed_result["train_seconds"] for seed_result in both
        ]
    return compare(labels, probabilities, seconds)
