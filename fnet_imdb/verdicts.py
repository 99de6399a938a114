"""The answer in words: sentences from the paired statistics (`paired.compare`), or from the spread between seeds without them.

No Keras here: scripts/report.py uses it too."""

from fnet_imdb import MODEL_NAMES

FEW_SEEDS = 5  # Below this, a bootstrap over seeds is coarse (said in the verdict).


def spread_verdict(results):
    """For runs without per-review predictions: whether the models' mean
    test-accuracy gap exceeds the spread between seeds, or None with fewer than
    two models or two seeds."""
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
        "Without per-review predictions there is no paired test and no interval, "
        f"only mean ± std: the mean test accuracy of {names[0]} minus {names[1]} is "
        f"{gap * 100:+.2f} points, {larger} than the spread between seeds (the "
        f"larger standard deviation, {spread * 100:.2f} points)."
    )


def verdict(comparison):
    """The answer in a sentence or two, from the intervals of `paired.compare`."""
    difference = comparison["accuracy_difference"]
    points, low, high = (
        difference[k] * 100 for k in ("difference", "ci_low", "ci_high")
    )
    seeds = [str(seed["seed"]) for seed in comparison["per_seed"]]
    text = (
        f"At training seed{'s' * (len(seeds) > 1)} {', '.join(seeds)}, FNet is "
        f"{abs(points):.2f} points {'less' if points < 0 else 'more'} accurate than "
        f"the Transformer (95% CI {low:+.2f} to {high:+.2f}, {high - low:.2f} points "
    )
    if len(seeds) == 1:
        text += (
            "wide, over the test reviews only). With one training seed the interval "
            "leaves out the variation between training runs: it understates the "
            "uncertainty and cannot settle whether the models differ."
        )
    else:
        text += f"wide, over {len(seeds)} training seeds and the test reviews): "
        text += "a difference." if low > 0 or high < 0 else "no difference shown."
        if len(seeds) < FEW_SEEDS:
            text += (
                f" With {len(seeds)} seeds the bootstrap has few seeds to draw from, "
                "so the interval is rough and likely too narrow."
            )
    return text + " " + speed(comparison)


def seed_by_seed(comparisons, commits, clean):
    """The answer from one-seed records that cannot be pooled (each has its
    own order of the test reviews): each seed's difference, interval and
    McNemar p, whether their signs agree, and the speed where a record's
    times are `clean`."""
    parts, signs = [], set()
    for comparison, commit in zip(comparisons, commits):
        (seed,), difference = comparison["per_seed"], comparison["accuracy_difference"]
        points, low, high = (
            difference[k] * 100 for k in ("difference", "ci_low", "ci_high")
        )
        signs.add(points > 0)
        parts.append(
            f"at seed {seed['seed']} (commit {commit}), {'FNet' if not parts else 'it'} "
            f"is {abs(points):.2f} points {'less' if points < 0 else 'more'} accurate"
            f"{' than the Transformer' if not parts else ''} (95% CI {low:+.2f} to "
            f"{high:+.2f} over the test reviews; McNemar p = {seed['p_value']:.2g})"
        )
    text = f"Each official paired record has one training seed. {'; '.join(parts)}."
    text = text.replace(". at", ". At", 1)
    if len(signs) > 1:
        text += (
            " The differences have opposite signs, each with a small McNemar p: each "
            "lies far outside what the test reviews alone explain, so the variation "
            "between training runs is larger than any one-seed interval shows, and "
            "these records cannot say whether the models differ."
        )
    for comparison, ok in zip(comparisons, clean):
        if ok:
            text += f" At seed {comparison['per_seed'][0]['seed']}, {speed(comparison)}"
    return text


def speed(comparison):
    """The training-time ratio (the Transformer's over FNet's) in a sentence,
    with its interval when it has one."""
    ratio = comparison["time_ratio"]
    if ratio is None:
        return ""
    figures = [ratio[key] for key in ("ratio", "ci_low", "ci_high")]
    faster = ratio["ratio"] >= 1
    if not faster:  # Then by how much slower: FNet's time over the Transformer's.
        figures = [1 / figure if figure else None for figure in figures]
    text = f"FNet trains {figures[0]:.2f}x {'faster' if faster else 'slower'} ("
    if ratio["ci_low"] is None:
        text += "one seed: no interval"
    else:
        low, high = sorted(figures[1:])
        text += f"95% CI {low:.2f}x to {high:.2f}x, {ratio['seeds']} seeds"
    if comparison["step_ratio"]:
        text += f"; one training step, {comparison['step_ratio']:.2f}x"
    return text + ")."
