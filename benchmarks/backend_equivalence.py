"""Do TensorFlow, JAX and PyTorch train the same model the same way, given the same start?

Builds each model once, saves its initial weights, then trains it for a few
steps on each backend (each in its own process) from those weights, on
the same batches of a prepared folder, in the same order, with dropout off (its
random masks would differ by backend). If the backends compute the same math,
the first batch's gradient agrees to float32 rounding (relative L2 gap to the
first backend's), and
the per-step losses stay close; Adam's first steps move every weight by about
the learning rate whatever the gradient's size, so rounding alone can make
them drift apart. The same seed on two backends draws different initial
weights; starting both from saved weights isolates the math. Example:

    python benchmarks/backend_equivalence.py --prepared runs/prepared --steps 20
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from fnet_imdb import cli  # noqa: E402  (light: no Keras, no TensorFlow)
from fnet_imdb.flags import flag_name  # noqa: E402

BACKENDS = ("tensorflow", "jax", "torch")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--prepared", required=True, help="a prepared folder")
    parser.add_argument(
        "--models", type=cli.listed(cli.model_name), default="fnet,transformer"
    )
    parser.add_argument(
        "--backends",
        type=cli.listed(cli.choice(*BACKENDS)),
        default=",".join(BACKENDS),
        help="the first is the reference",
    )
    parser.add_argument("--steps", type=int, default=20, help="training steps")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=42, help="weights and order")
    parser.add_argument(
        "--output", default="benchmarks/results/backend_equivalence.json"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)  # BACKEND:KIND:WEIGHTS
    return parser.parse_args(argv)


def train_steps(args):
    """In a child: train one model for `args.steps` steps from saved (or new,
    then saved) weights; return the per-step losses and the device."""
    backend, kind, weights = args.child.split(":", 2)
    import tutorial_definitions

    # The tutorial's model, without running its recipe; the backend first (and
    # TensorFlow quietly), before anything imports Keras.
    steps = tutorial_definitions.load("recipe")
    import keras

    from fnet_imdb import backend as backends
    from fnet_imdb import batches, prepared

    _, token_ids, labels, _ = prepared.read(args.prepared)
    settings = prepared.manifest(args.prepared)["settings"]
    config = cli.with_defaults(
        steps.recipe, {**settings, "dropout": 0.0, "fourier": "fast"}
    )
    keras.utils.set_random_seed(args.seed)
    model = tutorial_definitions.build(kind, config)
    tutorial_definitions.compile_model(model, config)
    if not Path(weights).exists():
        model.save_weights(weights)
    train = batches.Batches(
        token_ids["train"],
        labels["train"],
        args.batch_size,
        shuffle=True,
        seed=args.seed,
    )
    # The gradient of the first batch: one step of plain SGD at rate 1.
    model.load_weights(weights)
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss=model.loss)
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(*train[0])
    gradient = np.concatenate(
        [(b - a).ravel() for a, b in zip(model.get_weights(), before)]
    )
    np.save(f"{weights}.{backend}.gradient.npy", gradient)
    model.load_weights(weights)
    tutorial_definitions.compile_model(model, config)
    losses = []
    for step in range(args.steps):
        x, y = train[step % len(train)]
        losses.append(float(model.train_on_batch(x, y)[0]))
    device = backends.training_device()[1]
    return {"backend": backend, "model": kind, "losses": losses, "device": device}


def run_child(backend, kind, weights, args):
    """One backend's run in its own process; its result, or exit with the
    child's last error line."""
    command = [sys.executable, __file__, "--child", f"{backend}:{kind}:{weights}"]
    for flag in ("prepared", "steps", "batch_size", "seed"):
        command += [flag_name(flag), str(getattr(args, flag))]
    environment = {**os.environ, "KERAS_BACKEND": backend}
    child = subprocess.run(command, env=environment, capture_output=True, text=True)
    for line in child.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    last = (child.stderr.strip().splitlines() or ["no output"])[-1]
    sys.exit(f"error: the {backend} run of {kind} failed: {last}")


def compare(kind, args, folder):
    """Every backend from the same saved weights: each one's gradient gap and
    losses against the first backend's."""
    weights = str(Path(folder) / f"{kind}.weights.h5")
    # The first backend saves the initial weights, the others load them.
    runs = {name: run_child(name, kind, weights, args) for name in args.backends}
    reference, *others = args.backends
    gradients = {b: np.load(f"{weights}.{b}.gradient.npy") for b in args.backends}
    gaps, loss_gaps = {}, {}
    for other in others:
        difference = gradients[other] - gradients[reference]
        gaps[other] = float(
            np.linalg.norm(difference) / np.linalg.norm(gradients[reference])
        )
        pairs = zip(runs[reference]["losses"], runs[other]["losses"])
        loss_gaps[other] = [abs(a - b) for a, b in pairs]
        print(f"{kind}: first batch's gradient, {other} vs {reference}: ", end="")
        print(f"relative L2 gap {gaps[other]:.2e}")
    print(f"{kind}: loss per step ({', '.join(args.backends)}; same start and batches)")
    for step, losses in enumerate(zip(*(runs[b]["losses"] for b in args.backends))):
        print(f"  step {step + 1:3d}: " + " ".join(f"{loss:.6f}" for loss in losses))
    return {
        "model": kind,
        "reference": reference,
        "runs": runs,
        "loss_gaps": loss_gaps,
        "first_gradient_relative_error": gaps,
    }


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        print("RESULT " + json.dumps(train_steps(args)), flush=True)
        return
    manifest = Path(args.prepared) / "prepared.json"
    if not manifest.is_file():
        sys.exit(f"error: {args.prepared} is not a prepared folder (no prepared.json)")
    with tempfile.TemporaryDirectory() as folder:
        results = [compare(kind, args, folder) for kind in args.models]
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    settings = {k: v for k, v in vars(args).items() if k not in ("child", "output")}
    settings["prepared_settings"] = json.loads(manifest.read_text())["settings"]
    output.write_text(
        json.dumps({"settings": settings, "results": results}, indent=2) + "\n"
    )
    print(f"Wrote {output}")


if __name__ == "__main__":
    main()
