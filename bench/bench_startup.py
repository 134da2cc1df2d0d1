"""Start-up, end to end: the headless commands against bare Python and ripgrep, the TUI's first
frame against a bare five-pane Textual app, and memory (issue 16).

Every command runs as a user runs it (the `cockpit` entry point, a fresh process), interleaved
round by round with its baselines in the same run, so load from other jobs hits both alike.
Figures are medians; the load average at the start and the end is printed, and ratios are the
numbers to compare across runs.

    python bench/bench_startup.py                      # everything, 15 runs per command
    python bench/bench_startup.py --runs 9 --search-runs 3 --skip-gz   # a quicker look
    python bench/bench_startup.py --before /tmp/old    # also an older checkout, same run
    python bench/bench_startup.py --corpus /tmp/corpus-1g-plain --log-mb 2500  # 1 GB plain

`--before DIR`: a checkout of an earlier commit (`git archive REV cockpit | tar -x -C DIR`)
whose `cockpit` package is run the same way (`PYTHONPATH=DIR`), interleaved with today's, so
the before/after table shares one run's load.

- `python -c pass`, `rg -c PAT tiny.log`, `rg -c` / `rg -z -c` on the corpus: the baselines.
- `cockpit note`, `timeline`, `incidents` on an SQLite store whose config was validated by an
  earlier run (as on any machine after the first start; see cockpit/core/config_file.py).
- `cockpit search PAT PATH --count` on a tiny file (the fixed cost) and on the search
  benchmark's corpus (--corpus if given, else /tmp/search-bench-1g if it exists, else
  /tmp/cockpit-bench-corpus; built with bench_search.py's generator at --log-mb, which is the
  uncompressed size of every log: 2500 gives about 1 GB of plain files), every pattern of
  bench_search.py, plain and .gz.
- `cockpit rollback` and `cockpit triage` on a demo sandbox built at the present time (no
  `--now`: rollback reads the hours before the present), checked once before timing to name a
  rollback candidate, so an empty run is never timed.
- The TUI's first frame in an 80x24 pty against a bare five-pane Textual app: the first paint
  of each, and each one's whole first frame (the cockpit's incident title, Phases checklist and
  footer keys; the bare app's panes and its footer key), the config validated by an earlier
  run. Then the TUI's RSS after it has idled on the demo for a few seconds; the peak RSS of
  the 1 GB searches.
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


def run_once(
    argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RSS KiB) of one run; output discarded."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd, env=env
    )
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
        self.commands: dict[str, tuple[list[str], Path | None, dict[str, str] | None]] = {}
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}
        self.rss: dict[str, int] = {}

    def add(
        self, name: str, argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.commands[name] = (argv, cwd, env)
        self.wall[name], self.cpu[name], self.rss[name] = [], [], 0

    def run(self, runs: int) -> None:
        for argv, cwd, env in self.commands.values():
            run_once(argv, cwd, env)  # warm the page cache and bytecode
        for _ in range(runs):
            for name, (argv, cwd, env) in self.commands.items():
                wall, cpu, rss = run_once(argv, cwd, env)
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


def times_to_markers(argv: list[str], markers: list[bytes], timeout: float = 20.0) -> list[float]:
    """Seconds from spawning `argv` in an 80x24 pty until each of `markers` has appeared."""
    start = time.perf_counter()
    process, leader = spawn_in_pty(argv)
    seen = b""
    found: dict[bytes, float] = {}
    try:
        while len(found) < len(markers) and time.perf_counter() - start < timeout:
            ready, _, _ = select.select([leader], [], [], 0.01)
            if not ready:
                continue
            try:
                seen += os.read(leader, 65536)
            except OSError:
                break
            now = time.perf_counter() - start
            found.update({m: now for m in markers if m not in found and m in seen})
    finally:
        stop(process, leader)
    missing = [m for m in markers if m not in found]
    if missing:
        raise RuntimeError(f"{missing!r} not seen within {timeout} s; last: {seen[-300:]!r}")
    return [found[m] for m in markers]


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
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="search corpus (default: /tmp/search-bench-1g if built, else "
        "/tmp/cockpit-bench-corpus)",
    )
    parser.add_argument(
        "--log-mb",
        type=float,
        default=200,
        help="corpus size when built (uncompressed, all logs; 2500: ~1 GB of plain files)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        metavar="DIR",
        help="an earlier checkout (holding cockpit/) measured in the same run, as `before`",
    )
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
    measured = {
        "cockpit search hi tiny.log --count": [*cockpit, "search", "hi", str(tiny), "--count"],
        "cockpit note": [*with_config, "note", "bench note"],
        "cockpit timeline": [*with_config, "timeline"],
        "cockpit incidents": [*with_config, "incidents"],
        "cockpit rollback (demo)": [*demo_config, "rollback"],
        "cockpit triage (demo)": [*demo_config, "triage"],
    }
    before_env = None
    if args.before is not None:
        # The same entry point, importing the earlier checkout's package first.
        before_env = {**os.environ, "PYTHONPATH": str(args.before.resolve())}
    for name, argv in measured.items():
        startup.add(name, argv)
        if before_env is not None:
            startup.add(f"{name} (before)", argv, env=before_env)
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
        if name.endswith(" (before)"):
            continue
        over = startup.ms(name) - bare
        target, limit = targets.get(name, ("baseline", None))
        verdict = "" if limit is None else ("met" if over <= limit else "MISSED")
        if name in wall_limits:
            verdict = "met" if startup.ms(name) < wall_limits[name] else "MISSED"
        before = f"{name} (before)"
        rows.append(
            [
                name,
                TODAY.get(name, "-"),
                *(
                    [
                        f"{startup.ms(before):.0f} ({startup.ms(before) - bare:+.0f}),"
                        f" CPU {startup.cpu_ms(before):.0f}"
                        if before in startup.commands
                        else "-"
                    ]
                    if before_env is not None
                    else []
                ),
                f"{startup.ms(name):.0f}",
                f"{startup.cpu_ms(name):.0f}",
                f"{over:+.0f}" if name != "python -c pass" else "0",
                target,
                verdict,
            ]
        )
    header = ["Command", "Today (issue), ms"]
    header += ["Before, ms (over python), CPU"] if before_env is not None else []
    header += ["Now, ms", "CPU, ms", "Over python", "Target", ""]
    table(header, rows)

    peak_search_rss = 0
    if not args.skip_search:
        peak_search_rss = corpus_searches(args, cockpit, rg, bare)

    if not args.skip_tui:
        tui(args, work, cockpit, python, with_config, demo)
    if peak_search_rss:
        print(f"\npeak RSS of a cockpit search over the corpus: {peak_search_rss / 1024:.0f} MB")
    print(f"\nload average at the end: {load()}")
    print(
        f"rerun: python bench/bench_startup.py --runs {args.runs} --search-runs {args.search_runs}"
        + (f" --corpus {args.corpus} --log-mb {args.log_mb:g}" if args.corpus else "")
        + (f" --before {args.before}" if args.before else "")
    )
    return 0


def corpus_searches(args: argparse.Namespace, cockpit: list[str], rg: str, bare: float) -> int:
    """`cockpit search --count` against `rg -c` / `rg -z -c` end to end, every pattern.

    `bare`: `python -c pass` (ms) in the same run. "floor" is what no Python command that
    starts rg can beat: Python's own start plus rg's run, over rg's run."""
    from bench_search import build_corpus, corpus_files, find_unique_request_id

    directory = Path("/tmp/search-bench-1g")
    log_mb = 1000.0
    if args.corpus is not None:
        directory, log_mb = args.corpus, args.log_mb
    elif not (directory / "bench-corpus.json").is_file():
        directory, log_mb = Path("/tmp/cockpit-bench-corpus"), args.log_mb
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
        mismatches = 0
        for pattern, flags in queries:
            series = Series()
            series.add("rg", [rg, *zflag, "-c", *flags, "--", pattern, *files])
            search = [*cockpit, "search", *flags, "--count", "--", pattern, *files]
            series.add("cockpit", search)
            if args.before is not None:
                before_env = {**os.environ, "PYTHONPATH": str(args.before.resolve())}
                series.add("before", search, env=before_env)
            series.run(args.search_runs)
            peak = max(peak, series.rss["cockpit"])
            ratio = series.ms("cockpit") / series.ms("rg")
            worst = max(worst, ratio)
            counts = _rg_total([rg, *zflag, "-c", "--no-filename", *flags, "--", pattern, *files])
            as_json = [*cockpit, "search", *flags, "--count", "--json", "--", pattern, *files]
            counted = _cockpit_total(as_json)
            if args.before is not None:  # and what the earlier checkout counted: the same
                before = _cockpit_total(as_json, before_env)
                counted = counted if before == counted else -1
            mismatches += counts != counted
            shown = pattern if pattern != request_id else "<request id, 1 hit>"
            rows.append(
                [
                    f"{' '.join(flags)} {shown}".strip(),
                    f"{series.ms('rg'):.0f}",
                    *([_with_ratio(series, "before")] if args.before is not None else []),
                    f"{series.ms('cockpit'):.0f}",
                    f"{ratio:.2f}x",
                    f"{(bare + series.ms('rg')) / series.ms('rg'):.2f}x",
                    f"{series.cpu_ms('rg'):.0f} / {series.cpu_ms('cockpit'):.0f}",
                    f"{counts}" if counts == counted else f"DIFFER: rg {counts}, cockpit {counted}",
                ]
            )
        rg_name = "rg -z -c" if zflag else "rg -c"
        header = ["Pattern", f"{rg_name}, ms"]
        header += ["before, ms (ratio)"] if args.before is not None else []
        header += ["cockpit, ms", "ratio", "floor", "CPU rg / cockpit, ms", "count (both)"]
        table(header, rows)
        target = "1.00x (no slower)" if zflag else "1.3x"
        print(f"\nworst ratio: {worst:.2f}x (target {target}); counts differing: {mismatches}")
    return peak


def _rg_total(argv: list[str]) -> int:
    """The matching lines rg counts over every file (`--no-filename`: one count per line)."""
    out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    return sum(int(line) for line in out.split())


def _cockpit_total(argv: list[str], env: dict[str, str] | None = None) -> int:
    """The total of `cockpit search --count --json`."""
    import json

    out = subprocess.run(argv, capture_output=True, text=True, check=False, env=env).stdout
    return int(json.loads(out)["total"])


def _with_ratio(series: Series, name: str) -> str:
    return f"{series.ms(name):.0f} ({series.ms(name) / series.ms('rg'):.2f}x)"


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
    # The whole first frame: the incident's title in the header, the Phases pane's checklist,
    # the footer's keys. The bare app's whole frame is its five panes and its footer's key.
    cockpit_argv = [*with_config, "open", "--new", "first-frame-probe"]
    cockpit_markers = [b"Phases", b"first-frame-probe", b"Assess 0/", b"Help"]
    help_argv = [*cockpit, "--help"]
    results: dict[str, list[float]] = {
        "cockpit: first paint": [],
        "cockpit: whole first frame (incident, checklist, footer keys)": [],
        "textual five-pane: first paint": [],
        "textual five-pane: with its footer key": [],
        "cockpit --help": [],
    }
    names = list(results)

    def cockpit_once() -> None:
        times = times_to_markers(cockpit_argv, cockpit_markers)
        results[names[0]].append(times[0])
        results[names[1]].append(max(times))

    def bare_once() -> None:
        times = times_to_markers([python, str(baseline)], [b"Hypotheses", b"palette"])
        results[names[2]].append(times[0])
        results[names[3]].append(max(times))

    def help_once() -> None:
        results[names[4]].append(time_to_marker(help_argv, b"usage:"))

    measures: list[Callable[[], None]] = [cockpit_once, bare_once, help_once]
    for measure_one in measures:
        measure_one()  # warm
    for values in results.values():
        values.clear()
    for _ in range(args.tui_runs):
        for measure_one in measures:
            measure_one()
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

    def ratio(mine: str, bare: str) -> float:
        return statistics.median(results[mine]) / statistics.median(results[bare])

    print(
        f"\ncockpit whole first frame / bare app with its footer: {ratio(names[1], names[3]):.2f}x"
        f" (target 1.3x)\ncockpit first paint / bare first paint: {ratio(names[0], names[2]):.2f}x"
        " (the issue measured 0.42 s / 0.20 s = 2.0x this way)"
    )
    demo_argv = [*cockpit, "demo", "--dir", str(demo), "--now", "2026-11-28T14:45Z"]
    rss = idle_rss_mb(demo_argv, work, b"Phases", idle=5.0)
    print(f"TUI RSS on the demo after its first frame and 5 s idle: {rss:.0f} MB (target < 150)")


if __name__ == "__main__":
    raise SystemExit(main())
