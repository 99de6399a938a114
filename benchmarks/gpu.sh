#!/usr/bin/env bash
# Reproduce the H100 rows of the README's headline table on any machine where JAX
# has an accelerator (a GPU or a TPU), from a folder written by
# `python -m fnet_imdb.prepare`. Needs no TensorFlow: keras, keras-hub
# (--no-deps), jax and matplotlib are enough (requirements-train.txt). See
# benchmarks/README.md, section "gpu.sh".
#
#   bash benchmarks/gpu.sh PREPARED_DIR [OUTPUT_DIR]   # default benchmarks/results/gpu
#
# 0. device, platform, versions and commit -> OUTPUT_DIR/environment.json
# 1. both models, 3 seeds (42, 1, 7), from the prepared folder, with the
#    accelerator default --fourier auto (keras-hub's mixing; the README's H100
#    rows used --fourier fast: TRAIN_FLAGS="--fourier fast") -> OUTPUT_DIR/train/
# 2. seq_len_scaling.py, median of 20 steps: batch 8 at 1,024-8,192 tokens and
#    batch 64 at 128-1,024 -> OUTPUT_DIR/scaling_batch8/, scaling_batch64/
# 3. a summary of both (benchmarks/gpu_summary.py) -> printed and OUTPUT_DIR/summary.md
#
# Environment: PYTHON (default python3); KERAS_BACKEND (default jax);
# TRAIN_FLAGS, extra flags for fnet_classification.py; SCALING_FLAGS, extra
# flags for both seq_len_scaling.py runs. Both are split on whitespace and come
# last, so they override this script's own flags (for example a tiny smoke test).
# A failed step does not stop the others; the exit status is 1 if any failed.
set -euo pipefail

die() { echo "gpu.sh: $*" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || die "usage: bash benchmarks/gpu.sh PREPARED_DIR [OUTPUT_DIR]"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Paths are taken relative to the caller's directory; the steps run in $repo.
[[ -f $1/prepared.json ]] || die "$1 is not a prepared folder (no prepared.json); make one with: python -m fnet_imdb.prepare --output-dir DIR"
prepared=$(cd "$1" && pwd)
out=${2:-$repo/benchmarks/results/gpu}
mkdir -p "$out"
out=$(cd "$out" && pwd)
PYTHON=${PYTHON:-python3}
if [[ $PYTHON == */* ]]; then  # A relative path to an interpreter, made absolute.
  PYTHON=$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")
fi
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1
read -r -a train_flags <<<"${TRAIN_FLAGS:-}"
read -r -a scaling_flags <<<"${SCALING_FLAGS:-}"
cd "$repo"

failed=()
step() {  # step NAME LOG COMMAND...: run, show and log it; note a failure.
  local name=$1 log=$2 start=$SECONDS status
  shift 2
  echo "== $name: started $(date +%T), log in $log"
  set +e
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  if ((status)); then
    echo "== $name: FAILED (exit status $status) after $((SECONDS - start)) s"
    failed+=("$name")
  else
    echo "== $name: done in $((SECONDS - start)) s"
  fi
}

echo "KERAS_BACKEND=$KERAS_BACKEND, $("$PYTHON" --version 2>&1), output in $out"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
    | tee "$out/nvidia-smi.txt" || true
fi

step "environment" "$out/environment.log" \
  "$PYTHON" benchmarks/gpu_environment.py "$out/environment.json"

step "train" "$out/train.log" "$PYTHON" fnet_classification.py \
  --prepared "$prepared" --seeds 42,1,7 --output-dir "$out/train" \
  ${train_flags[@]+"${train_flags[@]}"}

for batch in 8 64; do
  lengths=$([[ $batch == 8 ]] && echo 1024,4096,8192 || echo 128,256,512,1024)
  step "step time, batch $batch" "$out/scaling_batch$batch.log" \
    "$PYTHON" benchmarks/seq_len_scaling.py --batch-size "$batch" \
    --seq-lens "$lengths" --steps 20 --timeout 600 \
    --output-dir "$out/scaling_batch$batch" \
    ${scaling_flags[@]+"${scaling_flags[@]}"}
done

echo "== summary"
"$PYTHON" benchmarks/gpu_summary.py "$out" || failed+=("summary")

if ((${#failed[@]})); then
  echo "gpu.sh: failed: ${failed[*]} (see their logs in $out)" >&2
  exit 1
fi
echo "gpu.sh: all done; results in $out (summary.md, environment.json, train/, scaling_batch8/, scaling_batch64/)"
