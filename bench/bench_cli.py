"""Benchmark: how fast `cockpit --help` answers (the target is well under half a second).

Runs each command RUNS times in a fresh interpreter and prints the median wall time, next to
`python -c pass` as the floor that no Python CLI can beat on this machine. It measures twice:
with a bytecode cache, as after `pip install` (the cache goes to a temporary folder via
PYTHONPYCACHEPREFIX, not into the tree), and without one, as when PYTHONDONTWRITEBYTECODE=1
makes every run compile the sources again.

Rerun: python bench/bench_cli.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 500.0
HEAVY = ("textual", "pydantic", "rich", "git", "httpx")
"""Packages `cockpit --help` should not need; each costs tens to hundreds of ms to import."""

_WHO_IMPORTS = """
import sys
from cockpit.cli import build_parser
build_parser()
print(" ".join(name for name in sys.argv[1:] if name in sys.modules))
"""


def _env(pycache: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def median_ms(argv: list[str], runs: int, env: dict[str, str]) -> float:
    """Median wall time of `argv` over `runs` fresh processes, in milliseconds."""
    subprocess.run(argv, env=env, capture_output=True, check=True)  # warm caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def heavy_imports(env: dict[str, str]) -> str:
    """The heavy packages that building the `--help` parser imported."""
    result = subprocess.run(
        [sys.executable, "-c", _WHO_IMPORTS, *HEAVY],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip() or "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (default 15)")
    args = parser.parse_args()
    baseline_argv = [sys.executable, "-c", "pass"]
    help_argv = [sys.executable, "-m", "cockpit", "--help"]
    with tempfile.TemporaryDirectory(prefix="cockpit-bench-pycache-") as pycache:
        cached = _env(Path(pycache))
        baseline = median_ms(baseline_argv, args.runs, cached)
        help_cached = median_ms(help_argv, args.runs, cached)
    help_compiling = median_ms(help_argv, args.runs, _env(None))
    print(f"python -c pass                    median {baseline:6.1f} ms  ({args.runs} runs)")
    target = f"(target < {TARGET_MS:.0f})"
    print(f"cockpit --help (bytecode cached)  median {help_cached:6.1f} ms  {target}")
    print(f"cockpit --help (no bytecode)      median {help_compiling:6.1f} ms")
    print(f"heavy imports in --help: {heavy_imports(_env(None))}  (python -X importtime shows who)")
    print(f"rerun: {Path(sys.executable).name} bench/bench_cli.py --runs {args.runs}")
    return 0 if help_cached < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
