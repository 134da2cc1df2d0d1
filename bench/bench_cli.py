"""Benchmark: how fast `cockpit --help` answers (the target is well under half a second).

Runs each command RUNS times in a fresh interpreter and prints the median wall time, next to
`python -c pass` as the floor that no Python CLI can beat on this machine.

Rerun: python bench/bench_cli.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 500.0


def median_ms(argv: list[str], runs: int) -> float:
    """Median wall time of `argv` over `runs` fresh processes, in milliseconds."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    subprocess.run(argv, env=env, capture_output=True, check=True)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (default 15)")
    args = parser.parse_args()
    baseline = median_ms([sys.executable, "-c", "pass"], args.runs)
    help_ms = median_ms([sys.executable, "-m", "cockpit", "--help"], args.runs)
    print(f"python -c pass   median {baseline:6.1f} ms  ({args.runs} runs)")
    print(
        f"cockpit --help   median {help_ms:6.1f} ms  ({args.runs} runs; target < {TARGET_MS:.0f})"
    )
    print(f"cockpit's own share     {help_ms - baseline:6.1f} ms")
    print(f"rerun: {Path(sys.executable).name} bench/bench_cli.py --runs {args.runs}")
    return 0 if help_ms < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
