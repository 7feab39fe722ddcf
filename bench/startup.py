"""Benchmark: how long ``newsbot --help`` and ``newsbot search --help`` take to start.

    python -m bench.startup [--runs 15]

The baseline, measured in the same run on the same interpreter, is ``python -c pass``: the
interpreter's own start. Runs are interleaved (baseline, --help, search --help, again) so
a busy machine slows all three alike. Prints the median wall time of each, and each
command's difference from and ratio to the baseline; the goal is a difference under 0.3 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "newsbot --help": [sys.executable, "-m", "bot.cli", "--help"],
    "newsbot search --help": [sys.executable, "-m", "bot.cli", "search", "--help"],
}
GOAL_S = 0.3


def wall_time_s(command: list[str]) -> float:
    """One run of the command to its end, in seconds (its output discarded)."""
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def measure(runs: int) -> dict[str, float]:
    """Median wall time of each command over ``runs`` interleaved rounds (one warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():
        wall_time_s(command)  # warm the file cache and the bytecode
    for _ in range(runs):
        for name, command in COMMANDS.items():
            times[name].append(wall_time_s(command))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="rounds (default 15)")
    args = parser.parse_args()
    medians = measure(max(1, args.runs))
    baseline = medians["python -c pass"]
    print(f"{'python -c pass':24} {baseline * 1000:7.1f} ms (baseline)")
    worst = 0.0
    for name, median in medians.items():
        if name == "python -c pass":
            continue
        extra = median - baseline
        worst = max(worst, extra)
        print(
            f"{name:24} {median * 1000:7.1f} ms  +{extra * 1000:6.1f} ms over the baseline, "
            f"{median / baseline:4.2f}x"
        )
    verdict = "within" if worst < GOAL_S else "OVER"
    print(f"slowest start {worst * 1000:.0f} ms over python -c pass: {verdict} {GOAL_S:g} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
