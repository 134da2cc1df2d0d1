r"""Benchmark: cockpit's log search against ripgrep and grep on a ~1 GB demo corpus.

    python bench/bench_search.py                       # 1 GB corpus, 5 runs per measurement
    python bench/bench_search.py --log-mb 100 --runs 3 # a quick look

The corpus is built once with the demo generator (`cockpit.core.demo.build_sandbox`: plain
files plus hourly rotations gzipped) and cached in --corpus; reruns skip generation.
Every figure is the median of --runs runs with a warm page cache. The cockpit's own searches
run in a child process (so its peak RSS is its own, not the generator's), through the same
engine the Logs pane and `cockpit search` use. Measured:

- count mode (`cockpit search --count`) and first-1000-hits mode, vs `rg -c -j2` / `rg -z -c`
  (and `grep -c` / `zgrep -c` for the first four queries, whose POSIX ERE means the same), on
  plain and .gz files separately, for a broad set of patterns: literals, `\d+` and `.` (many
  matches per line), `^$`, POSIX classes, `\v`, `-i` (ASCII and Unicode), alternation, classes,
  word boundaries, `-F` with regex characters, and rare or never-matching patterns;
- the time from "Enter" (calling run_search over every configured source) to the first hit;
- the UI event loop's worst lateness: an asyncio loop with a 10 ms timer while a search runs in
  a thread and its batches are handed to the loop, as the pane does;
- peak RSS of the cockpit's search process and of rg.

Targets: count within 1.3x of `rg -c` on plain files and within 1.5x of `rg -z -c` on .gz, for
every pattern (issue 13), with the same counts; first hit under 100 ms; peak RSS under 150 MB;
event-loop stalls under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 28, 14, 45, tzinfo=UTC)
"""The demo corpus ends here (fixed, so the corpus is the same on every machine)."""
MARKER = "bench-corpus.json"
FIRST_N = 1000
STALL_PATTERN = r"error|status=5\d\d|Traceback"
"""The stall is measured on a triage-style search: every error-ish line of every source."""


# -- corpus --------------------------------------------------------------------------------------


def build_corpus(directory: Path, log_mb: float, seed: int) -> Path:
    """Build (or reuse) the corpus; returns the config file of its sources."""
    marker = directory / MARKER
    wanted = {"log_mb": log_mb, "seed": seed, "now": NOW.isoformat()}
    if marker.is_file() and json.loads(marker.read_text()).get("spec") == wanted:
        return Path(json.loads(marker.read_text())["config"])
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    print(f"building a {log_mb:g} MB corpus in {directory} (once; reruns reuse it)...", flush=True)
    started = time.perf_counter()
    try:
        from cockpit.core.demo.sandbox import build_sandbox
    except ImportError:  # the demo generator is not there: the search tests' own corpus
        from cockpit.core.search.corpus import build_corpus as own_corpus

        own_corpus(directory / "logs", now=NOW, seed=seed, scale=max(1, int(log_mb / 10)))
        config = directory / "cockpit.toml"
        config.write_text('[[sources]]\nkind = "files"\nname = "all"\npaths = ["logs/*"]\n')
    else:
        config = build_sandbox(directory / "sandbox", seed=seed, now=NOW, log_mb=log_mb).config_path
    marker.write_text(json.dumps({"spec": wanted, "config": str(config)}))
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
    return config


def corpus_files(config: Path) -> tuple[list[str], list[str]]:
    """(plain files, .gz files) of the corpus."""
    files = sorted(str(p) for p in (config.parent / "logs").rglob("*") if p.is_file())
    return [f for f in files if not f.endswith(".gz")], [f for f in files if f.endswith(".gz")]


def find_unique_request_id(plain: list[str], rg: str, everything: list[str]) -> str:
    """A request id that occurs on exactly one line of the corpus."""
    import re

    with open(plain[len(plain) // 2], "rb") as handle:
        handle.seek(os.path.getsize(plain[len(plain) // 2]) // 2)
        chunk = handle.read(1 << 20).decode("utf-8", "replace")
    for candidate in re.findall(r"request_id[=\":]+([0-9a-f]{16})", chunk):
        out = subprocess.run(
            [rg, "-z", "-c", "--no-filename", "-F", candidate, *everything],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        if sum(int(n) for n in out.split()) == 1:
            return candidate
    raise SystemExit("no unique request id found in the corpus")


# -- external tools --------------------------------------------------------------------------------


def run_tool(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, float]:
    """(seconds, peak RSS in KiB, summed count from the output, CPU seconds) of one run."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _pid, _status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = 0
    total = 0
    for line in output.decode().split():
        value = line.rsplit(":", 1)[-1]
        if value.isdigit():
            total += int(value)
    return elapsed, usage.ru_maxrss, total, usage.ru_utime + usage.ru_stime


def median_tool(argv: list[str], runs: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    results = [run_tool(argv, env) for _ in range(runs + 1)][1:]  # first run warms the cache
    return {
        "seconds": statistics.median(r[0] for r in results),
        "cpu": statistics.median(r[3] for r in results),
        "rss_kb": max(r[1] for r in results),
        "count": results[0][2],
    }


# -- the cockpit, measured in a child process ------------------------------------------------------


def worker(task: dict[str, Any]) -> dict[str, Any]:
    """Run one cockpit measurement in this (child) process; returns medians and peak RSS."""
    import asyncio
    import resource
    import threading

    from cockpit.core.config import load_config_file
    from cockpit.core.patterns import PatternIndex
    from cockpit.core.search.engine import HitsFound, make_sources, run_search
    from cockpit.core.search.files import FileLogSource
    from cockpit.core.search.model import Query

    query = Query(task["pattern"], regex=task["regex"], ignore_case=task["ignore_case"])
    runs = task["runs"]
    kind = task["kind"]
    times: list[float] = []
    total = 0

    def sources() -> list[Any]:
        if task.get("config"):
            return make_sources(load_config_file(Path(task["config"])))
        return [FileLogSource("bench", task["files"])]

    cpus: list[float] = []

    def cpu_seconds() -> float:  # this process and the rg processes it has waited for
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    for attempt in range(runs + 1):  # the first run warms the cache and is not counted
        cancel = threading.Event()
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        mark: list[float] = []
        if kind == "count":
            result = run_search(sources(), query, count_only=True)
            elapsed = time.perf_counter() - started
            total = result.total
        elif kind == "first":
            received = 0

            def on_event(event: Any, cancel: threading.Event = cancel, mark: list = mark) -> None:
                nonlocal received
                if isinstance(event, HitsFound):
                    if received == 0 and event.hits:
                        mark.append(time.perf_counter())
                    received += len(event.hits)
                    if received >= task["first_n"] and len(mark) < 2:
                        mark.append(time.perf_counter())
                        cancel.set()

            result = run_search(sources(), query, on_event, cancel, max_hits=task["first_n"])
            end = time.perf_counter()
            total = received
            # Time to the Nth hit, or to the end when there are fewer.
            elapsed = (mark[-1] if len(mark) == 2 else end) - started
            if task.get("first_hit"):
                elapsed = (mark[0] if mark else end) - started
        elif kind == "stall":
            elapsed = asyncio.run(_stall(sources(), query))
        else:
            raise SystemExit(f"unknown task {kind}")
        if attempt:
            times.append(elapsed)
            cpus.append(cpu_seconds() - cpu_before)
    del PatternIndex
    return {
        "seconds": statistics.median(times),
        "cpu": statistics.median(cpus),
        "max": max(times),
        "count": total,
        "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


async def _stall(sources: list[Any], query: Any) -> float:
    """Worst lateness of a 10 ms timer while a search streams into this loop, pane-style."""
    import asyncio

    from cockpit.core.search.pool import SWITCH_INTERVAL
    from cockpit.tui.panes.log_stream import PATTERN_LINE_LIMIT

    sys.setswitchinterval(SWITCH_INTERVAL)  # as making the search pool does, once per process

    from cockpit.core.patterns import PatternIndex
    from cockpit.core.search.engine import HitsFound, run_search

    loop = asyncio.get_running_loop()
    index = PatternIndex()
    shown: list[Any] = []

    def deliver(hits: tuple[Any, ...]) -> None:  # what the pane does with a batch, on the loop
        shown.extend(hits[-5000:])
        del shown[:-5000]

    def on_event(event: Any) -> None:
        if isinstance(event, HitsFound):
            room = PATTERN_LINE_LIMIT - index.total  # the pane clusters in its worker thread
            if room > 0:
                index.add_many(event.hits[:room])
            loop.call_soon_threadsafe(deliver, event.hits)

    search = loop.run_in_executor(None, lambda: run_search(sources, query, on_event, max_hits=5000))
    worst = 0.0
    while not search.done():
        expected = time.perf_counter() + 0.010
        await asyncio.sleep(0.010)
        worst = max(worst, time.perf_counter() - expected)
    await search
    return worst


def run_worker(task: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(task)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout)


# -- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/cockpit-bench-corpus"))
    parser.add_argument("--log-mb", type=float, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0

    from cockpit.core.search.paths import find_rg

    rg = find_rg()
    if rg is None:
        raise SystemExit("ripgrep (rg) is needed for the comparison")
    config = build_corpus(args.corpus, args.log_mb, args.seed)
    plain, gz = corpus_files(config)
    plain_mb = sum(os.path.getsize(f) for f in plain) / 1e6
    gz_mb = sum(os.path.getsize(f) for f in gz) / 1e6
    request_id = find_unique_request_id(plain, rg, plain + gz)
    # (label, pattern, regex, ignore_case); GNU grep runs for the first four only: it has no
    # `\d`, and its `\v`, `\w`, `\b`, `.` and `-i` are not Unicode-aware like rg's.
    queries = [
        ("literal level=error", "level=error", False, False),
        (r"regex status=5\d\d", r"status=5\d\d", True, False),
        ("-i word timeout", "timeout", True, True),
        ("request id (1 hit)", request_id, False, False),
        (r"\d+ (dense)", r"\d+", True, False),
        (". (every line)", ".", True, False),
        ("^$ (empty lines)", "^$", True, False),
        ("a[[:space:]]+b", "a[[:space:]]+b", True, False),
        (r"\v (vertical tab)", r"\v", True, False),
        ("error|warn|fatal", "error|warn|fatal", True, False),
        ("[A-Z][a-z]+Error", "[A-Z][a-z]+Error", True, False),
        (r"\w+=\w+ (dense)", r"\w+=\w+", True, False),
        (r"\bpayment\b", r"\bpayment\b", True, False),
        ("-i unicode (none)", "ünïcödé", True, True),
        (r"-F status=5\d\d (none)", r"status=5\d\d", False, False),
        ("never zzz[0-9]{9}", "zzz[0-9]{9}qqq", True, False),
    ]
    with_grep = {label for label, *_rest in queries[:4]}
    c_env = dict(os.environ, LC_ALL="C")
    rows = []
    peak_rss = 0
    rg_rss = 0
    for label, pattern, regex, ignore_case in queries:
        flags = (["-i"] if ignore_case else []) + ([] if regex else ["-F"])
        # GNU grep has no `\d`: the same regex in POSIX ERE.
        grep_flags = (["-i"] if ignore_case else []) + (["-E"] if regex else ["-F"])
        grep_pattern = pattern.replace("\\d", "[0-9]") if regex else pattern
        for kind, files in (("plain", plain), ("gz", gz)):
            base = {
                "pattern": pattern,
                "regex": regex,
                "ignore_case": ignore_case,
                "runs": args.runs,
                "files": files,
                "first_n": FIRST_N,
            }
            count = run_worker({**base, "kind": "count"})
            first = run_worker({**base, "kind": "first"})
            zip_flag = [] if kind == "plain" else ["-z"]
            rg_run = median_tool(
                [rg, "--no-config", *zip_flag, "-c", "-j2", *flags, "-e", pattern, "--", *files],
                args.runs,
            )
            grep_run: dict[str, Any] | None = None
            if label in with_grep:
                grep = "grep" if kind == "plain" else "zgrep"
                grep_run = median_tool(
                    [grep, "-c", *grep_flags, "-e", grep_pattern, "--", *files], args.runs, c_env
                )
            peak_rss = max(peak_rss, count["rss_kb"], first["rss_kb"])
            rg_rss = max(rg_rss, rg_run["rss_kb"])
            rows.append((label, kind, count, first, rg_run, grep_run))

    everything = {
        "config": str(config),
        "runs": args.runs,
        "first_n": FIRST_N,
        "regex": True,
        "ignore_case": False,
    }
    first_hit = run_worker(
        {**everything, "kind": "first", "pattern": r"status=5\d\d", "first_hit": True}
    )
    stall = run_worker({**everything, "kind": "stall", "pattern": STALL_PATTERN})
    peak_rss = max(peak_rss, first_hit["rss_kb"], stall["rss_kb"])

    print()
    print(
        f"corpus: {args.corpus} ({len(plain)} plain files, {plain_mb:.0f} MB; "
        f"{len(gz)} .gz files, {gz_mb:.0f} MB compressed); median of {args.runs} warm runs"
    )
    header = (
        f"{'query':<24} {'files':<5} {'hits':>9} {'cockpit -c':>10} {'rg -c':>8} "
        f"{'grep -c':>8} {'vs rg':>6} {'cpu vs rg':>9} {'first 1000':>10} {'counts':>6}"
    )
    print(header)
    print("-" * len(header))
    worst = {"plain": 0.0, "gz": 0.0}
    differ = 0
    for label, kind, count, first, rg_run, grep_run in rows:
        agree = count["count"] == rg_run["count"] and (
            grep_run is None or grep_run["count"] == rg_run["count"]
        )
        differ += not agree
        ratio = count["seconds"] / rg_run["seconds"]
        worst[kind] = max(worst[kind], ratio)
        grep_time = f"{grep_run['seconds']:>7.3f}s" if grep_run else f"{'-':>8}"
        print(
            f"{label:<24} {kind:<5} {count['count']:>9} {count['seconds']:>9.3f}s "
            f"{rg_run['seconds']:>7.3f}s {grep_time} "
            f"{ratio:>5.2f}x {count['cpu'] / max(rg_run['cpu'], 1e-6):>8.2f}x "
            f"{first['seconds']:>9.3f}s {'same' if agree else 'DIFF':>6}"
        )
    print()
    print(
        f"worst count ratio vs rg: plain {worst['plain']:.2f}x (target 1.3x), "
        f".gz {worst['gz']:.2f}x (target 1.5x); counts that differ from rg: {differ}"
    )
    print(
        f"first hit after Enter (all sources, status=5\\d\\d): "
        f"{first_hit['seconds'] * 1000:.0f} ms median, {first_hit['max'] * 1000:.0f} ms worst"
    )
    print(
        f"event-loop stall during a search ({STALL_PATTERN}, all sources): "
        f"{stall['seconds'] * 1000:.0f} ms median of worst, {stall['max'] * 1000:.0f} ms max"
    )
    print(
        f"peak RSS: cockpit search process {peak_rss / 1024:.0f} MB "
        f"(includes the Python interpreter); rg {rg_rss / 1024:.0f} MB"
    )
    print("(grep runs with LC_ALL=C; .gz rows compare with rg -z -c and zgrep -c)")
    print(
        "(cpu vs rg: CPU seconds, user + system, of the cockpit's process and its rg processes "
        "against rg's and its gzip processes'; steadier than wall time on a loaded machine)"
    )
    print()
    print(
        f"rerun: python bench/bench_search.py --corpus {args.corpus} --log-mb {args.log_mb:g} "
        f"--runs {args.runs}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
