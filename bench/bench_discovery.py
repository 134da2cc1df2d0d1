"""Discovery and container-log search: what a config-less start costs.

1. `discover()` on this host (root `/`, this checkout as the folder), uncached, every probe
   included (journal, /var/log, containers, git, the three localhost servers): median and
   worst of several runs against the 1 s budget.
2. Time to the first frame with no config file (discovery runs in a worker) against the same
   start with a config file, in an 80x24 pseudo-terminal: the first frame must not wait.
3. Searching Docker json-file logs as decoded text against `rg -c` over the raw envelopes
   (the reference: what a search of the file as written costs), same run, same file.

    python bench/bench_discovery.py [--runs 9] [--docker-mb 100]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_startup import time_to_marker


def bench_discover(runs: int) -> list[float]:
    from cockpit.core.discovery import discover

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        found = discover(refresh=True)
        times.append(time.perf_counter() - started)
    print(f"discover(): {found.summary()}")
    return times


def bench_first_frame(runs: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"first frame, config file": [], "first frame, no config": []}
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        config = home / "cockpit.toml"
        config.write_text('[cockpit]\nstore = "incidents.db"\nauthor = "bench"\n')
        env_home = {"HOME": str(home / "home"), "XDG_CONFIG_HOME": str(home / "xdg")}
        os.environ.update(env_home)
        with_config = [sys.executable, "-m", "cockpit", "--config", str(config), "open"]
        no_config = [sys.executable, "-m", "cockpit", "open", "--new", "bench"]
        time_to_marker(no_config, b"Phases")  # warm caches
        for _ in range(runs):
            results["first frame, config file"].append(time_to_marker(with_config, b"Phases"))
            results["first frame, no config"].append(time_to_marker(no_config, b"Phases"))
    return results


def docker_corpus(path: Path, megabytes: float) -> None:
    rnd = random.Random(7)
    with path.open("w") as handle:
        size, i = 0, 0
        while size < megabytes * 1e6:
            code = 500 if rnd.random() < 0.01 else 200
            line = json.dumps(
                {
                    "log": f'10.0.0.{i % 255} "GET /api/cart/{i}" status={code} '
                    f"dur={rnd.random():.3f}\n",
                    "stream": "stdout",
                    "time": f"2026-11-28T14:{(i // 6000) % 60:02d}:{(i // 100) % 60:02d}."
                    f"{i % 10**9:09d}Z",
                },
                separators=(",", ":"),  # as Docker writes it
            )
            handle.write(line + "\n")
            size += len(line) + 1
            i += 1


def bench_docker(megabytes: float, runs: int) -> dict[str, list[float]]:
    from cockpit.core.search.containers import ContainerLogSource
    from cockpit.core.search.engine import run_search
    from cockpit.core.search.files import find_rg
    from cockpit.core.search.model import Query

    rg = find_rg()
    results: dict[str, list[float]] = {"cockpit, decoded": [], "rg -c, raw envelope": []}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "c-json.log"
        docker_corpus(path, megabytes)
        source = ContainerLogSource("bench", [str(path)], fmt="docker")
        for _ in range(runs):
            started = time.perf_counter()
            result = run_search([source], Query("status=500"), max_hits=1000)
            results["cockpit, decoded"].append(time.perf_counter() - started)
            if rg is not None:
                started = time.perf_counter()
                out = subprocess.run(
                    [rg, "-c", "status=500", str(path)], capture_output=True, check=False
                )
                results["rg -c, raw envelope"].append(time.perf_counter() - started)
                assert int(out.stdout) == result.total, (out.stdout, result.total)
        print(
            f"docker json-file corpus: {path.stat().st_size / 1e6:.0f} MB, "
            f"{result.total} matching lines (rg agrees)"
        )
    return results


def show(results: dict[str, list[float]]) -> None:
    for name, times in results.items():
        if times:
            print(
                f"  {name:<28}{statistics.median(times) * 1000:>8.0f} ms median"
                f"{max(times) * 1000:>8.0f} ms worst"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--docker-mb", type=float, default=100)
    args = parser.parse_args()

    times = bench_discover(args.runs)
    print(f"discovery on this host ({args.runs} runs, uncached), budget 1000 ms:")
    show({"discover()": times})
    frames = bench_first_frame(args.runs)
    print("time to the first frame (80x24 pty):")
    show(frames)
    ratio = statistics.median(frames["first frame, no config"]) / statistics.median(
        frames["first frame, config file"]
    )
    print(f"  no config / config file: {ratio:.2f}x (discovery runs after the first frame)")
    docker = bench_docker(args.docker_mb, max(3, args.runs // 3))
    print("search Docker json-file logs for status=500:")
    show(docker)
    if docker["rg -c, raw envelope"]:
        ratio = statistics.median(docker["cockpit, decoded"]) / statistics.median(
            docker["rg -c, raw envelope"]
        )
        print(f"  cockpit (decodes every record) / rg on the raw file: {ratio:.1f}x")
    print(
        f"rerun: python bench/bench_discovery.py --runs {args.runs} --docker-mb {args.docker_mb:g}"
    )


if __name__ == "__main__":
    main()
