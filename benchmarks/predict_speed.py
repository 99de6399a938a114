"""predict's wall time and peak memory: one text, and many reviews on stdin.

    python benchmarks/predict_speed.py --run-dir RUN \\
        --python .venv/bin/python --python .venv-torch/bin/python

For each interpreter, `--repeats` times in turn, each in a fresh process as a
user runs it: `python -m fnet_imdb.predict --run-dir RUN TEXT` with one text,
then `--lines` reviews on stdin with `--json` (checked: one output line per
input, in order). The backend is predict's own choice, or `KERAS_BACKEND`.
Prints a table and writes a JSON record: every figure, the targets, the CPU,
the load before and after, each interpreter's versions and backend, the run's
settings, the commit and the date.
"""

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from fnet_imdb import atomic, backend, cli  # noqa: E402  (light: no Keras)
from fnet_imdb.provenance import commit  # noqa: E402

TEXT = "A wonderful film: moving, funny, and the actors are superb."
# Targets: one text within 5 s and 500 MB, 1,000 reviews within 20 s.
TARGETS = {"one_text_s": 5.0, "one_text_mb": 500, "lines_s": 20.0}
# Run by each interpreter: its versions and the backend predict takes there.
ABOUT = """
import json, platform
from fnet_imdb import backend, provenance
names = ("keras", "keras-hub", "jax", "jaxlib", "torch", "tensorflow", "numpy")
found = {name: provenance.version(name) for name in names}
found = {name: version for name, version in found.items() if version}
chosen = backend.choose_backend(predicting=True)
print(json.dumps({"python": platform.python_version(), "backend": chosen, **found}))
"""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", required=True, help="a finished training run")
    parser.add_argument(
        "--python", action="append", help="an interpreter to run predict with "
        "(repeatable; default: this one)",
    )  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lines", type=int, default=1000, help="reviews on stdin")
    parser.add_argument(
        "--archive", help="aclImdb_train.tar.gz: its first reviews go on stdin "
        "(default: the fixture's reviews, joined into lines of --words words)",
    )  # fmt: skip
    parser.add_argument("--words", type=int, default=230)
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "benchmarks/results/predict.json"
    )
    parser.add_argument("--note", default="", help="what else a reader must know")
    return parser.parse_args(argv)


def archive_reviews(path, count):
    """The first `count` reviews of train/pos and train/neg in the archive, each
    on one line."""
    reviews = []
    with tarfile.open(path) as archive:
        for member in archive:
            parts = Path(member.name).parts
            if member.isfile() and parts[-3:-1] in (("train", "pos"), ("train", "neg")):
                text = archive.extractfile(member).read().decode("utf-8", "replace")
                reviews.append(" ".join(text.split("\n")))
                if len(reviews) == count:
                    return reviews
    raise ValueError(f"{path} holds fewer than {count} training reviews")


def fixture_lines(count, words):
    """`count` lines of `words` words each, from the fixture's reviews in turn."""
    folders = [cli.TINY_IMDB / "train" / label for label in ("pos", "neg")]
    texts = [f.read_text() for folder in folders for f in sorted(folder.iterdir())]
    pool = " ".join(texts).split()
    start = 0
    lines = []
    for _ in range(count):
        lines.append(" ".join(pool[(start + i) % len(pool)] for i in range(words)))
        start += words
    return lines


def measure(python, args, stdin_text=""):
    """Wall seconds, peak RSS (MB) and stdout of one predict process."""
    command = [python, "-m", "fnet_imdb.predict", *args]
    with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as out:
        stdin.write(stdin_text.encode())
        stdin.seek(0)
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdin=stdin, stdout=out, stderr=subprocess.PIPE, cwd=REPO_ROOT
        )
        errors = process.stderr.read()
        # os.wait4 gives this child's own peak RSS (Popen.wait would discard it).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode()
    if process.returncode:
        raise RuntimeError(f"{' '.join(command[:3])} failed: {errors.decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, output


def about(python):
    """An interpreter's versions and the backend predict takes there."""
    found = subprocess.run(
        [python, "-c", ABOUT], capture_output=True, text=True, cwd=REPO_ROOT
    )
    if found.returncode:
        raise RuntimeError(f"{python}: {found.stderr[-2000:]}")
    return json.loads(found.stdout.splitlines()[-1])


def check_lines(output, lines):
    """One JSON line per input line, in order."""
    rows = [json.loads(line) for line in output.split("\n")[:-1]]
    if [row["text"] for row in rows] != lines:
        raise RuntimeError("predict's output lines do not match its input lines")


def measure_all(args, pythons, lines):
    """Every interpreter's figures, `--repeats` rounds, interpreters in turn."""
    figures = {python: {"one_text": [], "lines": []} for python in pythons}
    run = ["--run-dir", args.run_dir]
    for round_number in range(args.repeats):
        for python in pythons:
            seconds, mb, _ = measure(python, run + [TEXT])
            figures[python]["one_text"].append({"s": seconds, "peak_rss_mb": mb})
            seconds, mb, output = measure(python, run + ["--json"], "\n".join(lines))
            check_lines(output, lines)
            figures[python]["lines"].append({"s": seconds, "peak_rss_mb": mb})
            print(f"round {round_number + 1}, {python}: done", flush=True)
    return figures


def print_table(record):
    print(f"\n{record['cpu']}; load {record['load_before']} -> {record['load_after']}")
    print(f"| interpreter | backend | one text: s | MB | {record['lines']} lines: s |")
    print("|:--|:--|--:|--:|--:|")
    for python, entry in record["interpreters"].items():
        one = ", ".join(f"{f['s']:.2f}" for f in entry["one_text"])
        mb = ", ".join(f"{f['peak_rss_mb']:.0f}" for f in entry["one_text"])
        many = ", ".join(f"{f['s']:.1f}" for f in entry["lines"])
        name = f"{entry['about']['backend']} (Python {entry['about']['python']})"
        print(f"| {python} | {name} | {one} | {mb} | {many} |")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    pythons = args.python or [sys.executable]
    if args.archive:
        lines = archive_reviews(args.archive, args.lines)
    else:
        lines = fixture_lines(args.lines, args.words)
    config = json.loads((Path(args.run_dir) / "results.json").read_text())["config"]
    record = {
        "cpu": backend.cpu_name(),
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat("T", "seconds"),
        "commit": commit(),
        "command": shlex.join(["python", *sys.argv]),
        "note": args.note,
        "targets": TARGETS,
        "lines": len(lines),
        "words_per_line": sum(len(line.split()) for line in lines) / len(lines),
        "stdin": args.archive or f"the fixture's reviews, {args.words} words a line",
        "run": {k: config.get(k) for k in ("max_seq_len", "vocab_size", "embed_dim")},
        "interpreters": {python: {"about": about(python)} for python in pythons},
    }
    for python, figures in measure_all(args, pythons, lines).items():
        record["interpreters"][python].update(figures)
    record["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    atomic.write_text(args.output, json.dumps(record, indent=2) + "\n")
    print_table(record)
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
