"""Record where a `benchmarks/gpu.sh` run ran: device, software and commit.

    python benchmarks/gpu_environment.py benchmarks/results/gpu/environment.json

Writes one JSON object with the keys device (JAX's device kind, or the CPU),
platform ("gpu", "tpu" or "cpu"), python, jax, jaxlib, cuda (the CUDA runtime
that JAX loaded, or null), keras, keras_hub, commit (the repository's HEAD, or
null) and date (UTC, ISO 8601). The backend is chosen as the tutorial chooses
it (`KERAS_BACKEND` first).
"""

import argparse
import datetime
import json
import platform
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from fnet_imdb import atomic, backend  # noqa: E402
from fnet_imdb.provenance import commit, version  # noqa: E402


def cuda_version():
    """The CUDA runtime version that JAX's CUDA plugin loaded ("13.0"), or None.

    JAX has no public API for it: this reads what JAX's own version check reads.
    """
    try:
        from jax._src.lib import cuda_versions

        number = cuda_versions.cuda_runtime_get_version()
    except (ImportError, AttributeError, RuntimeError):  # No CUDA plugin.
        return None
    return f"{number // 1000}.{number % 1000 // 10}"


def environment():
    """Where training runs here, with the versions that matter for it."""
    backend.choose_backend()
    kind, device = backend.training_device()
    return {
        "device": device,
        "platform": kind,
        "python": platform.python_version(),
        "jax": version("jax"),
        "jaxlib": version("jaxlib"),
        "cuda": cuda_version() if kind == "gpu" else None,
        "keras": version("keras"),
        "keras_hub": version("keras-hub"),
        "commit": commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the JSON file to write")
    args = parser.parse_args(argv)
    record = environment()
    try:
        atomic.write_text(args.output, json.dumps(record, indent=2) + "\n")
    except OSError as error:
        print(
            f"gpu_environment.py: cannot write {args.output}: {error.strerror}",
            file=sys.stderr,
        )
        return 2
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
