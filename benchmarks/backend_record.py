"""Run a benchmark and keep its JSON output as a record of how and where it ran.

    KERAS_BACKEND=torch python benchmarks/backend_record.py \\
        docs/backends/step_times_torch.json /tmp/torch/seq_len_scaling.json \\
        --note "other work shared the CPU" -- \\
        python benchmarks/seq_len_scaling.py --output-dir /tmp/torch

Runs the command after `--` (its leading `python` is this interpreter), then
writes to OUTPUT one JSON object: command (as typed, `KERAS_BACKEND` first),
cpu (the model from /proc/cpuinfo and the core count), versions (this
interpreter's Python and packages), date (UTC), commit (HEAD, "+dirty" when the
work tree differs), note, and result (the JSON file RESULT that it wrote).
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from fnet_imdb import atomic, backend, provenance  # noqa: E402  (light: no Keras)

PACKAGES = ("keras", "keras-hub", "tensorflow", "jax", "jaxlib", "torch", "numpy")


def versions():
    """Python's version and each of `PACKAGES` installed here (None if not)."""
    return {"python": platform.python_version()} | {
        name: provenance.version(name) for name in PACKAGES
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the record to write")
    parser.add_argument("result", type=Path, help="the JSON file the command writes")
    parser.add_argument("--note", default="", help="what else a reader must know")
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    args, command = parser.parse_args(argv[:split]), argv[split + 1 :]
    if not command:
        parser.error("give the benchmark's command after --")
    started = datetime.datetime.now(datetime.timezone.utc)
    run = [sys.executable, *command[1:]] if command[0] == "python" else command
    if subprocess.run(run, cwd=REPO_ROOT).returncode != 0:
        sys.exit(f"backend_record.py: error: the command failed: {shlex.join(command)}")
    chosen = os.environ.get("KERAS_BACKEND")
    typed = ([f"KERAS_BACKEND={chosen}"] if chosen else []) + command
    record = {
        "command": shlex.join(typed),
        "cpu": backend.cpu_name(),
        "versions": versions(),
        "date": started.isoformat(timespec="seconds"),
        "commit": provenance.commit(),
        "note": args.note,
        "result": json.loads((REPO_ROOT / args.result).read_text()),
    }
    atomic.write_text(args.output, json.dumps(record, indent=2) + "\n")
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
