"""Time from process start to the TUI's first frame, against a bare five-pane Textual app.

Each run starts the program in a fresh pseudo-terminal (80x24) and stops the clock when the
first frame's marker text arrives on the terminal. Medians over several runs, because this
machine is shared and noisy.

    python bench/bench_startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

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


def time_to_marker(argv: list[str], marker: bytes, timeout: float = 10.0) -> float:
    """Seconds from spawning `argv` in an 80x24 pty until `marker` appears in its output."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, stdin=follower, stdout=follower, stderr=follower, env=env, start_new_session=True
    )
    os.close(follower)
    seen = b""
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([leader], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(leader, 65536)
                except OSError:
                    break
                if marker in seen:
                    return time.perf_counter() - start
        raise RuntimeError(f"{argv[0]}: marker {marker!r} not seen within {timeout} s")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        os.close(leader)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    # `pip install` leaves compiled bytecode; a checkout under PYTHONDONTWRITEBYTECODE would
    # recompile every module on every start and measure the compiler, not the cockpit.
    import cockpit

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(cockpit.__file__).parent)], check=True
    )
    with tempfile.TemporaryDirectory() as directory:
        config = Path(directory) / "cockpit.toml"
        config.write_text('[cockpit]\nstore = "incidents.db"\nauthor = "bench"\n')
        baseline = Path(directory) / "five.py"
        baseline.write_text(BASELINE_APP)
        cockpit_argv = [
            sys.executable,
            "-m",
            "cockpit",
            "--config",
            str(config),
            "open",
            "--new",
            "bench",
        ]
        help_argv = [sys.executable, "-m", "cockpit", "--help"]
        results: dict[str, list[float]] = {
            "cockpit first frame": [],
            "textual five-pane": [],
            "cockpit --help": [],
        }
        time_to_marker(cockpit_argv, b"Phases")  # warm the file cache and bytecode
        for _ in range(args.runs):
            results["cockpit first frame"].append(time_to_marker(cockpit_argv, b"Phases"))
            results["textual five-pane"].append(
                time_to_marker([sys.executable, str(baseline)], b"Hypotheses")
            )
            results["cockpit --help"].append(time_to_marker(help_argv, b"usage:"))

    medians = {name: statistics.median(times) for name, times in results.items()}
    print(f"{'what':<22}{'median':>10}{'min':>10}{'max':>10}")
    for name, times in results.items():
        print(
            f"{name:<22}{medians[name] * 1000:>8.0f}ms{min(times) * 1000:>8.0f}ms"
            f"{max(times) * 1000:>8.0f}ms"
        )
    ratio = medians["cockpit first frame"] / medians["textual five-pane"]
    print(
        f"\ncockpit first frame / bare Textual five-pane app: {ratio:.2f}x "
        f"(target: first frame under 600 ms)"
    )
    print(f"rerun: python bench/bench_startup.py --runs {args.runs}")


if __name__ == "__main__":
    main()
