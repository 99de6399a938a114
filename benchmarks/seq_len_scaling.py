"""Step time and peak memory of FNet and the Transformer against sequence length.

Times `train_on_batch` of the tutorial's classifiers on random token ids, each
point (model, length) in a fresh subprocess: this script with the hidden
`--one MODEL:LEN`. See benchmarks/README.md. A quick check:

    python benchmarks/seq_len_scaling.py --seq-lens 32,64 --steps 2 \\
        --batch-size 4 --embed-dim 16 --intermediate-dim 32
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The parent imports neither Keras, TensorFlow nor NumPy: on Linux a child's
# peak RSS starts from its parent's RSS at the fork (`execve` keeps the
# high-water mark), so a heavy parent would inflate every measurement.

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
import tutorial_definitions  # noqa: E402  (its recipe() imports nothing)
from fnet_imdb.atomic import atomic_path, write_text  # noqa: E402  (light)
from fnet_imdb.flags import flag_name  # noqa: E402  (light: argparse alone)

RECIPE = tutorial_definitions.recipe()
RESULTS = REPO_ROOT / "benchmarks" / "results"
MODELS = ("fnet", "transformer")
MARKER = "SEQ_LEN_SCALING_RESULT "
DIMS = ("batch_size", "embed_dim", "intermediate_dim")
SHARED = ("steps", "warmup", "precision", "fourier") + DIMS  # A child gets these flags.


def lengths(text):
    return sorted({int(part) for part in text.split(",")})


def names(text):
    return list(dict.fromkeys(text.split(",")))


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--seq-lens", type=lengths, default="128,256,512,1024,2048", help="N,N,...")
    add("--steps", type=int, default=5, help="timed steps per point")
    add("--warmup", type=int, default=1, help="untimed steps first")
    # The tutorial's recipe (its source read, not run):
    add("--batch-size", type=int, default=RECIPE["batch_size"], help="per step")
    add("--embed-dim", type=int, default=RECIPE["embed_dim"], help="embedding size")
    add("--intermediate-dim", type=int, default=RECIPE["intermediate_dim"])
    add(
        "--precision",
        choices=("float32", "mixed_bfloat16"),
        default="float32",
        help="the tutorial's default, or its --mixed-precision",
    )
    add(
        "--fourier",
        choices=("fast", "keras"),
        default="fast",
        help="FNet's mixing: the tutorial's default, or its --fourier keras",
    )
    add("--models", type=names, default="fnet,transformer", help="comma-separated")
    add("--output-dir", type=Path, default=RESULTS, help="for the .json and .png")
    add("--timeout", type=float, help="seconds before a point is given up")
    add("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = (args.steps, args.batch_size, args.embed_dim, args.intermediate_dim)
    if min(*args.seq_lens, *sizes) < 1 or args.warmup < 0:
        parser.error("lengths, sizes and --steps must be positive; --warmup >= 0")
    if set(args.models) - set(MODELS):
        parser.error(f"--models: choose from {','.join(MODELS)}")
    if "transformer" in args.models and args.embed_dim % RECIPE["num_heads"]:
        parser.error(f"--embed-dim must be a multiple of {RECIPE['num_heads']} (heads)")
    return args


def measure(spec, args):
    """In a child: build, compile and time one classifier (or just load)."""
    sys.path.insert(0, str(REPO_ROOT))
    from fnet_imdb import backend, cli

    # The tutorial's model, without running its recipe; the backend first.
    steps = tutorial_definitions.load("recipe")
    import keras
    import numpy as np

    result = {"backend": keras.backend.backend()}
    if spec != "baseline":
        kind, _, seq_len = spec.partition(":")
        # max_seq_len sizes the position embedding, so it must cover the length.
        dims = {name: getattr(args, name) for name in DIMS}
        settings = dict(max_seq_len=int(seq_len), fourier=args.fourier, **dims)
        settings["mixed_precision"] = args.precision != "float32"
        config = cli.with_defaults(steps.recipe, settings)
        keras.utils.set_random_seed(config.seed)
        model = tutorial_definitions.build(kind, config)
        tutorial_definitions.compile_model(model, config)
        rng = np.random.default_rng(config.seed)
        ids = rng.integers(1, config.vocab_size, (config.batch_size, int(seq_len)))
        labels = rng.integers(0, 2, config.batch_size)
        ids, labels = ids.astype("int32"), labels.astype("int32")
        # train_on_batch returns Python floats, so each call waits for the
        # device: asynchronous dispatch cannot make a step look shorter.
        times = []
        for _ in range(args.warmup + args.steps):
            start = time.perf_counter()
            model.train_on_batch(ids, labels)
            times.append(time.perf_counter() - start)
        times = times[args.warmup :]
        result.update(step_seconds=statistics.median(times), step_seconds_all=times)
        result["params"] = model.count_params()
    device = backend.training_device()[1]
    peak = device_peak_bytes(result["backend"])
    return {**result, "device": device, "device_peak_bytes": peak}


def device_peak_bytes(backend):
    """Peak GPU bytes in use since this process started (JAX, TensorFlow), or None."""
    if backend == "jax":
        import jax

        return (jax.devices()[0].memory_stats() or {}).get("peak_bytes_in_use")
    if backend != "tensorflow":
        return None
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return tf.config.experimental.get_memory_info("GPU:0")["peak"]


def run_child(spec, args):
    """Run one point in a fresh process; return its result and its peak RSS."""
    command = [sys.executable, __file__, "--one", spec]
    command += [f"{flag_name(name)}={getattr(args, name)}" for name in SHARED]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, cwd=REPO_ROOT)
        deadline = time.monotonic() + (args.timeout or float("inf"))
        timed_out = False
        # os.wait4 gives this child's own peak RSS (Popen.wait would discard
        # it; RUSAGE_CHILDREN is a max over all children). Poll, so a timeout
        # only ever kills a child not yet reaped.
        while not (reaped := os.wait4(process.pid, os.WNOHANG))[0]:
            if not timed_out and time.monotonic() > deadline:
                os.kill(process.pid, signal.SIGKILL)
                timed_out = True
            time.sleep(0.05)
        log.seek(0)
        lines = log.read().decode("utf-8", "replace").splitlines()
    _, status, usage = reaped
    peak_rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    code = process.returncode = os.waitstatus_to_exitcode(status)
    marked = [line[len(MARKER) :] for line in lines if line.startswith(MARKER)]
    if marked:
        return json.loads(marked[-1]), peak_rss
    if timed_out:
        return {"error": f"timed out after {args.timeout:g} s (--timeout)"}, peak_rss
    if code < 0:
        hint = " (out of memory?)" if code == -signal.SIGKILL else ""
        return {"error": f"killed by {signal.Signals(-code).name}{hint}"}, peak_rss
    last = next((line for line in reversed(lines) if line.strip()), "no output")
    return {"error": f"exit status {code}: {last.strip()[:500]}"}, peak_rss


def save_plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    for model, marker in zip(MODELS, "os"):
        mine = [r for r in rows if r["model"] == model]
        ok = [r for r in mine if r["step_seconds"] is not None]
        failed = [str(r["seq_len"]) for r in mine if r not in ok]
        label = model + (f" (failed at {','.join(failed)})" if failed else "")
        x, y = [r["seq_len"] for r in ok], [r["step_seconds"] for r in ok]
        left.plot(x, y, marker=marker, label=label)
    left.set(title="Training step time", ylabel="seconds per step (median)")
    left.set_yscale("log" if any(r["step_seconds"] for r in rows) else "linear")
    left.legend()
    from fnet_imdb import comparison

    ratio = comparison.step_ratios(rows)
    right.plot(list(ratio), list(ratio.values()), "D-", color="C2")
    for n, value in ratio.items():
        right.annotate(f"{value:.2f}x", (n, value), ha="center", va="bottom")
    right.axhline(1, color="grey", linewidth=0.8)
    right.margins(y=0.15)
    right.set(title="Transformer / FNet step time", ylabel="ratio (>1: FNet faster)")
    seq_lens = sorted({r["seq_len"] for r in rows})
    for axis in (left, right):
        axis.set(xscale="log", xlabel="sequence length (tokens)")
        axis.set_xticks(seq_lens, [str(n) for n in seq_lens])
        axis.set_xticks([], minor=True)
        axis.set_xlim(seq_lens[0] / 1.3, seq_lens[-1] * 1.3)
        axis.grid(True, alpha=0.3)
    dims = ", ".join(
        f"{name} {rows[0][name]}" for name in DIMS + ("precision", "fourier")
    )
    figure.suptitle(f"{rows[0]['backend']} on {rows[0]['device']}; {dims}")
    figure.tight_layout()
    with atomic_path(path) as partial:
        figure.savefig(partial, format="png")
    plt.close(figure)


def mib(count, sign=""):
    return "-" if count is None else f"{count / 2**20:{sign}.0f} MiB"


def main(argv=None):
    args = parse_args(argv)
    if args.one:  # A child: print the result on a marked line for the parent.
        try:
            result, status = measure(args.one, args), 0
        except Exception as error:  # Out of memory, most likely: report it.
            message = " ".join(str(error).split())[:500]
            result, status = {"error": f"{type(error).__name__}: {message}"}, 1
        print("\n" + MARKER + json.dumps(result), flush=True)
        return status

    baseline, baseline_rss = run_child("baseline", args)  # Libraries, no model.
    if "error" in baseline:
        sys.exit(f"error: the baseline process failed: {baseline['error']}")
    on_device = baseline["device_peak_bytes"] is not None
    memory_kind = "device_peak_bytes_in_use" if on_device else "process_peak_rss"
    memory_label = "device peak" if on_device else "peak RSS"
    where = f"{baseline['backend']} on {baseline['device']}"
    print(f"{where}; baseline process peak RSS {mib(baseline_rss)}")
    json_path = args.output_dir / "seq_len_scaling.json"
    rows = []
    print(f"\n{'model':<12} {'length':>7} {'step s':>9} {memory_label:>12}  over base")
    # Both models of a length run back to back, so a slow drift of the
    # machine's speed barely touches their ratio.
    for seq_len in args.seq_lens:
        for model in args.models:
            print(f"{model:<12} {seq_len:>7}", end=" ", flush=True)
            result, rss = run_child(f"{model}:{seq_len}", args)
            ok = "error" not in result
            row = {"model": model, "seq_len": seq_len, "step_seconds": None}
            row.update({name: getattr(args, name) for name in SHARED})
            row.update(backend=baseline["backend"], device=baseline["device"])
            row.update(result, memory_kind=memory_kind, process_peak_rss_bytes=rss)
            peak = result.get("device_peak_bytes") if on_device else rss
            row["peak_memory_bytes"] = peak if ok else None
            row["rss_increase_bytes"] = rss - baseline_rss if ok else None
            rows.append(row)
            if ok:
                over = mib(row["rss_increase_bytes"], "+")
                print(f"{row['step_seconds']:>9.4f} {mib(peak):>12}  {over}")
            else:
                print(f"failed: {row['error']}")
            text = json.dumps(rows, indent=2) + "\n"  # Kept after each point.
            write_text(json_path, text)
    from fnet_imdb import comparison  # Heavy (numpy): once the children are done.

    print(f"\n{'length':>7}  Transformer/FNet step time")
    for n, value in comparison.step_ratios(rows).items():
        print(f"{n:>7}  {value:.2f}x")
    save_plot(rows, args.output_dir / "seq_len_scaling.png")
    print(f"\nWrote {json_path} and seq_len_scaling.png")
    return 0 if any(r["step_seconds"] is not None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
