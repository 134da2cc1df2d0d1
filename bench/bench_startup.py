"""Start-up, end to end: the headless commands against bare Python and ripgrep, the TUI's first
frame against a bare five-pane Textual app, and memory (issue 16).

Every command runs as a user runs it (the `cockpit` entry point, a fresh process), interleaved
round by round with its baselines in the same run, so load from other jobs hits both alike.
Figures are medians; the load average at the start and the end is printed, and ratios are the
numbers to compare across runs.

    python bench/bench_startup.py                      # everything, 15 runs per command
    python bench/bench_startup.py --runs 9 --search-runs 3 --skip-gz   # a quicker look

- `python -c pass`, `rg -c PAT tiny.log`, `rg -c` / `rg -z -c` on the corpus: the baselines.
- `cockpit note`, `timeline`, `incidents` on an SQLite store whose config was validated by an
  earlier run (as on any machine after the first start; see cockpit/core/config_file.py).
- `cockpit search PAT PATH --count` on a tiny file (the fixed cost) and on the search
  benchmark's corpus (/tmp/search-bench-1g if it exists, else --corpus, built with
  bench_search.py's generator at --log-mb), every pattern of bench_search.py, plain and .gz.
- `cockpit rollback` and `cockpit triage` on a demo sandbox built at the present time (no
  `--now`: rollback reads the hours before the present), checked once before timing to name a
  rollback candidate, so an empty run is never timed.
- The TUI's first frame in an 80x24 pty against a bare five-pane Textual app; the TUI's RSS
  after it has idled on the demo for a few seconds; the peak RSS of the 1 GB searches.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

TODAY = {
    # The figures issue 16 was filed with (medians, same machine), in ms.
    "python -c pass": "11-16",
    "cockpit search hi tiny.log --count": "244",
    "cockpit note": "194",
    "cockpit timeline": "173",
    "cockpit incidents": "-",
    # The 864 ms timed a demo built at a fixed --now and read at the present time: no
    # logs in rollback's window, nothing printed. Measured on a present-time demo instead:
    "cockpit rollback (demo)": "1560-1850",
    "cockpit triage (demo)": "2100-2200",
    "TUI first frame (80x24 pty)": "420",
}

BASELINE_APP = """
from textual.app import App
from textual.containers import Grid
from textual.widgets import Footer, Header, Static

class Five(App):
    CSS = "Grid { grid-size: 3 2; } Static { border: round $primary; height: 1fr; }"
    def compose(self):
        yield Header()
        with Grid():
            for name in ("Phases", "Logs", "Deploys", "Hypotheses", "Timeline"):
                yield Static(name)
        yield Footer()

Five().run()
"""


# -- one process -------------------------------------------------------------------------------


def run_once(argv: list[str], cwd: Path | None = None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RSS KiB) of one run; output discarded."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    assert proc.stderr is not None
    errors = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)[:200]}: exit {proc.returncode}: {errors[-500:]!r}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def check_names_candidate(argv: list[str]) -> None:
    """Refuse to time a rollback that finds nothing: its output must name a candidate."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or "  1. roll back " not in proc.stdout:
        raise SystemExit(
            f"{' '.join(argv)}: names no rollback candidate (exit {proc.returncode});"
            f" the benchmark would time an empty run: {proc.stdout[-300:]!r} {proc.stderr[-300:]!r}"
        )


class Series:
    """Runs of several commands, interleaved round by round; medians per command."""

    def __init__(self) -> None:
        self.commands: dict[str, tuple[list[str], Path | None]] = {}
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}
        self.rss: dict[str, int] = {}

    def add(self, name: str, argv: list[str], cwd: Path | None = None) -> None:
        self.commands[name] = (argv, cwd)
        self.wall[name], self.cpu[name], self.rss[name] = [], [], 0

    def run(self, runs: int) -> None:
        for argv, cwd in self.commands.values():
            run_once(argv, cwd)  # warm the page cache and bytecode
        for _ in range(runs):
            for name, (argv, cwd) in self.commands.items():
                wall, cpu, rss = run_once(argv, cwd)
                self.wall[name].append(wall)
                self.cpu[name].append(cpu)
                self.rss[name] = max(self.rss[name], rss)

    def ms(self, name: str) -> float:
        return statistics.median(self.wall[name]) * 1000

    def cpu_ms(self, name: str) -> float:
        return statistics.median(self.cpu[name]) * 1000


# -- the TUI in a pty ------------------------------------------------------------------------------


def spawn_in_pty(argv: list[str], cwd: Path | None = None) -> tuple[subprocess.Popen[bytes], int]:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    process = subprocess.Popen(
        argv,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    os.close(follower)
    return process, leader


def wait_for(leader: int, marker: bytes, start: float, timeout: float) -> float:
    seen = b""
    while time.perf_counter() - start < timeout:
        ready, _, _ = select.select([leader], [], [], 0.05)
        if ready:
            try:
                seen += os.read(leader, 65536)
            except OSError:
                break
            if marker in seen:
                return time.perf_counter() - start
    raise RuntimeError(f"marker {marker!r} not seen within {timeout} s; last: {seen[-300:]!r}")


def drain(leader: int, seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.05)
        if ready:
            try:
                os.read(leader, 65536)
            except OSError:
                return


def stop(process: subprocess.Popen[bytes], leader: int) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    os.close(leader)


def time_to_marker(argv: list[str], marker: bytes, timeout: float = 20.0) -> float:
    """Seconds from spawning `argv` in an 80x24 pty until `marker` appears in its output."""
    start = time.perf_counter()
    process, leader = spawn_in_pty(argv)
    try:
        return wait_for(leader, marker, start, timeout)
    finally:
        stop(process, leader)


def idle_rss_mb(argv: list[str], cwd: Path, marker: bytes, idle: float) -> float:
    """RSS (MB) of the TUI after its first frame and `idle` seconds of doing nothing."""
    start = time.perf_counter()
    process, leader = spawn_in_pty(argv, cwd)
    try:
        wait_for(leader, marker, start, 60.0)
        drain(leader, idle)
        status = Path(f"/proc/{process.pid}/status").read_text()
        rss_kb = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
        )
        return rss_kb / 1024
    finally:
        stop(process, leader)


# -- report ----------------------------------------------------------------------------------------


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(row(header, widths))
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for cells in rows:
        print(row(cells, widths))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per start-up figure")
    parser.add_argument("--search-runs", type=int, default=3, help="runs per corpus search")
    parser.add_argument("--tui-runs", type=int, default=9)
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/cockpit-bench-corpus"))
    parser.add_argument("--log-mb", type=float, default=200, help="corpus size when built")
    parser.add_argument("--skip-gz", action="store_true", help="plain files only")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--skip-tui", action="store_true")
    args = parser.parse_args()

    # `pip install` leaves compiled bytecode; a checkout under PYTHONDONTWRITEBYTECODE would
    # recompile every edited module on every start and measure the compiler, not the cockpit.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "cockpit")], check=True)
    python = sys.executable
    cockpit = [python, str(Path(python).with_name("cockpit"))]
    if not Path(cockpit[1]).exists():
        cockpit = [python, "-m", "cockpit"]
    from cockpit.core.search.paths import find_rg

    rg = find_rg()
    if rg is None:
        raise SystemExit("ripgrep (rg) is needed for the baselines")
    print(f"load average at start: {load()}  (2 cores, shared)")

    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        return measure(args, work, cockpit, python, rg)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(args: argparse.Namespace, work: Path, cockpit: list[str], python: str, rg: str) -> int:
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # verdicts of this run only
    os.environ["XDG_DATA_HOME"] = str(work / "data")
    config = work / "cockpit.toml"
    config.write_text('[cockpit]\nstore = "incidents.db"\nauthor = "bench"\n')
    tiny = work / "tiny.log"
    tiny.write_text("hi there\nnothing\n")
    with_config = [*cockpit, "--config", str(config)]
    # The first start validates the config in full and remembers the verdict; every later
    # start (what is measured) reads it without pydantic.
    run_once([*with_config, "incidents", "--new", "bench incident"])
    demo = work / "demo"
    run_once([*cockpit, "demo", "--dir", str(demo), "--build-only", "--now", "2026-11-28T14:45Z"])
    # Rollback and triage read the hours before the present: their demo is built now.
    demo_now = work / "demo-now"
    run_once([*cockpit, "demo", "--dir", str(demo_now), "--build-only"])
    demo_config = [*cockpit, "--config", str(demo_now / "cockpit.toml")]
    check_names_candidate([*demo_config, "rollback"])

    startup = Series()
    startup.add("python -c pass", [python, "-c", "pass"])
    startup.add("rg -c hi tiny.log", [rg, "-c", "hi", str(tiny)])
    startup.add(
        "cockpit search hi tiny.log --count", [*cockpit, "search", "hi", str(tiny), "--count"]
    )
    startup.add("cockpit note", [*with_config, "note", "bench note"])
    startup.add("cockpit timeline", [*with_config, "timeline"])
    startup.add("cockpit incidents", [*with_config, "incidents"])
    startup.add("cockpit rollback (demo)", [*demo_config, "rollback"])
    startup.add("cockpit triage (demo)", [*demo_config, "triage"])
    startup.run(args.runs)
    bare = startup.ms("python -c pass")

    print(f"\n## Start-up ({args.runs} runs each, interleaved; medians)\n")
    targets = {
        "cockpit search hi tiny.log --count": ("fixed cost <= 40 ms over python", 40),
        "cockpit note": ("<= 50 ms over python", 50),
        "cockpit timeline": ("<= 50 ms over python", 50),
        "cockpit incidents": ("<= 50 ms over python", 50),
        "cockpit rollback (demo)": ("< 300 ms wall", None),
        "cockpit triage (demo)": ("< 300 ms wall", None),
    }
    wall_limits = {"cockpit rollback (demo)": 300, "cockpit triage (demo)": 300}
    rows = []
    for name in startup.commands:
        over = startup.ms(name) - bare
        target, limit = targets.get(name, ("baseline", None))
        verdict = "" if limit is None else ("met" if over <= limit else "MISSED")
        if name in wall_limits:
            verdict = "met" if startup.ms(name) < wall_limits[name] else "MISSED"
        rows.append(
            [
                name,
                TODAY.get(name, "-"),
                f"{startup.ms(name):.0f}",
                f"{startup.cpu_ms(name):.0f}",
                f"{over:+.0f}" if name != "python -c pass" else "0",
                target,
                verdict,
            ]
        )
    table(["Command", "Today (issue), ms", "Now, ms", "CPU, ms", "Over python", "Target", ""], rows)

    peak_search_rss = 0
    if not args.skip_search:
        peak_search_rss = corpus_searches(args, cockpit, rg)

    if not args.skip_tui:
        tui(args, work, cockpit, python, with_config, demo)
    if peak_search_rss:
        print(f"\npeak RSS of a cockpit search over the corpus: {peak_search_rss / 1024:.0f} MB")
    print(f"\nload average at the end: {load()}")
    print(
        f"rerun: python bench/bench_startup.py --runs {args.runs} --search-runs {args.search_runs}"
    )
    return 0


def corpus_searches(args: argparse.Namespace, cockpit: list[str], rg: str) -> int:
    """`cockpit search --count` against `rg -c` / `rg -z -c` end to end, every pattern."""
    from bench_search import build_corpus, corpus_files, find_unique_request_id

    directory = Path("/tmp/search-bench-1g")
    log_mb = 1000.0
    if not (directory / "bench-corpus.json").is_file():
        directory, log_mb = args.corpus, args.log_mb
    corpus_config = build_corpus(directory, log_mb, 7)
    plain, gz = corpus_files(corpus_config)
    size = {
        "plain": sum(os.path.getsize(f) for f in plain) / 1e6,
        "gz": sum(os.path.getsize(f) for f in gz) / 1e6,
    }
    request_id = find_unique_request_id(plain, rg, plain + gz)
    queries = [
        ("level=error", ["-F"]),
        (r"status=5\d\d", []),
        ("timeout", ["-i"]),
        (request_id, ["-F"]),
        (r"\d+", []),
        (".", []),
        ("^$", []),
        ("a[[:space:]]+b", []),
        (r"\v", []),
        ("error|warn|fatal", []),
        ("[A-Z][a-z]+Error", []),
        (r"\w+=\w+", []),
        (r"\bpayment\b", []),
        ("ünïcödé", ["-i"]),
        (r"status=5\d\d", ["-F"]),
        ("zzz[0-9]{9}qqq", []),
    ]
    kinds = [("plain", plain, [])] + ([] if args.skip_gz else [("gz", gz, ["-z"])])
    peak = 0
    for kind, files, zflag in kinds:
        print(
            f"\n## cockpit search --count vs rg -c{' -z' if zflag else ''}: {len(files)} {kind}"
            f" files, {size[kind]:.0f} MB on disk ({directory}); {args.search_runs} runs,"
            f" medians, load {load()}\n"
        )
        rows = []
        worst = 0.0
        for pattern, flags in queries:
            series = Series()
            series.add("rg", [rg, *zflag, "-c", *flags, "--", pattern, *files])
            series.add("cockpit", [*cockpit, "search", *flags, "--count", "--", pattern, *files])
            series.run(args.search_runs)
            peak = max(peak, series.rss["cockpit"])
            ratio = series.ms("cockpit") / series.ms("rg")
            worst = max(worst, ratio)
            shown = pattern if pattern != request_id else "<request id, 1 hit>"
            rows.append(
                [
                    f"{' '.join(flags)} {shown}".strip(),
                    f"{series.ms('rg'):.0f}",
                    f"{series.ms('cockpit'):.0f}",
                    f"{ratio:.2f}x",
                    f"{series.cpu_ms('rg'):.0f} / {series.cpu_ms('cockpit'):.0f}",
                ]
            )
        rg_name = "rg -z -c" if zflag else "rg -c"
        table(["Pattern", f"{rg_name}, ms", "cockpit, ms", "ratio", "CPU rg / cockpit, ms"], rows)
        target = "1.00x (no slower)" if zflag else "1.3x"
        print(f"\nworst ratio: {worst:.2f}x (target {target})")
    return peak


def tui(
    args: argparse.Namespace,
    work: Path,
    cockpit: list[str],
    python: str,
    with_config: list[str],
    demo: Path,
) -> None:
    baseline = work / "five.py"
    baseline.write_text(BASELINE_APP)
    cockpit_argv = [*with_config, "open", "--new", "bench"]
    help_argv = [*cockpit, "--help"]
    results: dict[str, list[float]] = {
        "cockpit first frame": [],
        "textual five-pane": [],
        "cockpit --help": [],
    }
    measures: dict[str, Callable[[], float]] = {
        "cockpit first frame": lambda: time_to_marker(cockpit_argv, b"Phases"),
        "textual five-pane": lambda: time_to_marker([python, str(baseline)], b"Hypotheses"),
        "cockpit --help": lambda: time_to_marker(help_argv, b"usage:"),
    }
    for measure_one in measures.values():
        measure_one()  # warm
    for _ in range(args.tui_runs):
        for name, measure_one in measures.items():
            results[name].append(measure_one())
    print(f"\n## TUI in an 80x24 pty ({args.tui_runs} runs each, interleaved; medians)\n")
    rows = [
        [
            name,
            f"{statistics.median(times) * 1000:.0f}",
            f"{min(times) * 1000:.0f}",
            f"{max(times) * 1000:.0f}",
        ]
        for name, times in results.items()
    ]
    table(["What", "median, ms", "min, ms", "max, ms"], rows)
    ratio = statistics.median(results["cockpit first frame"]) / statistics.median(
        results["textual five-pane"]
    )
    print(
        f"\ncockpit first frame / bare five-pane Textual app: {ratio:.2f}x (target 1.3x; "
        f"the issue measured 0.42 s / 0.20 s = 2.0x)"
    )
    demo_argv = [*cockpit, "demo", "--dir", str(demo), "--now", "2026-11-28T14:45Z"]
    rss = idle_rss_mb(demo_argv, work, b"Phases", idle=5.0)
    print(f"TUI RSS on the demo after its first frame and 5 s idle: {rss:.0f} MB (target < 150)")


if __name__ == "__main__":
    raise SystemExit(main())
