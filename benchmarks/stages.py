"""A process's output lines, each with the seconds since its launch, and the stages of a run read from them."""

import re
import subprocess
import time

# Each stage and what its last line says: a pattern searched after the line
# that ended the previous stage ("{0}": the number that line's pattern caught).
# Keras prints "Epoch 1/N" only for N > 1; a stage whose line never comes joins
# the next. The first line is the program's own, not TensorFlow's native logs.
STAGE_ENDS = [
    ("imports (to the first line)", r"^(?![IWEF]\d{4} |WARNING: All log|To enable )"),
    ("read", r"^train: [\d,]+ reviews"),
    ("vocabulary", r"tokens; tokens 100-110|^Tokens:  \["),
    ("tokenize", r"^A training review, as"),
    ("data steps (to the first model summary)", r'^Model: "fnet_classifier"'),
    ("FNet: build, compile, fit", r"^Epoch 1/(\d+)"),
    ("FNet: build, compile, fit", r"^Epoch {0}/{0}"),
    ("FNet: build, compile, fit", r"val_loss"),
    ("FNet: test", r"^(\d+)/\1 .*accuracy: |test accuracy"),
]


ESCAPES = re.compile(r"\x1b\[[0-9;]*m")  # Terminal colours of Keras's progress bars.


def launch(name, command, env, out, cwd):
    """Run one command, each line of its output logged in DIR/<name>.log with
    the seconds since launch; return its record (exit status, wall time, the
    timed lines, a failed run's log tail)."""
    log, lines = out / f"{name}.log", []
    print(f"{name}: started, log in {log}", flush=True)
    with open(log, "w") as file:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace",
        )  # fmt: skip
        for line in process.stdout:  # Progress bars' "\r" ends a line too.
            lines.append([time.perf_counter() - start, ESCAPES.sub("", line)])
            file.write(f"{lines[-1][0]:9.1f} s | {lines[-1][1]}")
            lines[-1][1] = lines[-1][1].rstrip("\n")
        code = process.wait()
        wall = time.perf_counter() - start
    record = {"variant": name, "command": command, "returncode": code}
    record.update(keras_backend=env.get("KERAS_BACKEND"), wall_seconds=wall)
    record["lines"] = lines
    if code:
        print(f"{name}: FAILED (exit status {code}) after {wall:.1f} s; log ends:")
        print("\n".join("    " + text for _, text in lines[-20:]))
    else:
        print(f"{name}: done in {wall:.1f} s", flush=True)
    return record


def stage_seconds(lines, wall):
    """{stage: seconds} from a process's timed lines (`STAGE_ENDS`): a stage
    whose line never came is left out, and the stages around it join."""
    stages, since, position, caught = {}, 0.0, 0, ""
    for name, pattern in STAGE_ENDS:
        start = position - 1 if "{0}" in pattern else position  # Its own line.
        pattern = re.compile(pattern.replace("{0}", caught))
        indices = range(max(start, 0), len(lines))
        found = next((i for i in indices if pattern.search(lines[i][1])), None)
        if found is None:
            continue
        match = pattern.search(lines[found][1])
        caught = match.group(1) if match.groups() else caught
        stages[name] = stages.get(name, 0.0) + lines[found][0] - since
        since, position = lines[found][0], found + 1
    stages["after the test, to the exit"] = wall - since
    return stages
