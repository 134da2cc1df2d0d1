"""`cockpit serve` with a real browser: Debian's Chromium, headless, driven by Playwright.

A browser tab's cockpit process must end with its websocket (the tab closes, the browser goes
away) and with serve (SIGTERM, or even SIGKILL): once, one lived on at 50% CPU holding the
store open. Process trees are read from /proc; every wait is a bounded poll (a liveness
bound), never a sleep standing in for work.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_serve import PROJECT, free_port, get_when_up
from tests.tui_support import write_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--no-first-run",
    "--mute-audio",
]
DEADLINE = 30.0
"""Seconds any one thing may take (liveness bound)."""

if not CHROMIUM.exists():
    pytest.skip(
        "needs Debian's chromium package (/usr/bin/chromium; apt-get install chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="needs the playwright Python package (pip install -e '.[test]')"
)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a live process, or None when it is gone (or a zombie)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else (fields[0], int(fields[1]))


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def descendants(root: int) -> set[int]:
    """Every live process below `root`."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _stat(int(entry))) is not None:
            parents[int(entry)] = info[1]
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def cockpit_tabs(serve_pid: int) -> set[int]:
    """The `cockpit open` processes serve started for browser tabs."""
    return {
        pid
        for pid in descendants(serve_pid)
        if "cockpit" in _cmdline(pid) and "open" in _cmdline(pid)
    }


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)  # polling /proc for a process to end: there is nothing to wait on


def gone(pids: set[int]) -> Callable[[], bool]:
    return lambda: all(_stat(pid) is None for pid in pids)


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    config = write_config(tmp_path)
    assert config.source_path is not None
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "--config", str(config.source_path), "serve",
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )  # fmt: skip
    try:
        get_when_up(f"http://127.0.0.1:{port}/")
        yield process, port
    finally:
        leftovers = descendants(process.pid)
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in leftovers:  # never leave a stray process behind, whatever the outcome
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def open_cockpit_tab(playwright: Any, port: int) -> tuple[Any, Any]:
    """Launch Chromium (fresh profile), open the served page, wait until the cockpit draws."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    page = browser.new_context().new_page()
    screen = bytearray()

    def drawn(payload: bytes | str) -> bool:
        screen.extend(payload if isinstance(payload, bytes) else payload.encode())
        # A pane title, drawn at any width: a wide page has no tab bar (the first frame is laid
        # out for its width, not first drawn at 80 columns).
        return b"Hypotheses" in screen

    with page.expect_websocket(timeout=DEADLINE * 1000) as opened:
        page.goto(f"http://127.0.0.1:{port}/")
    opened.value.wait_for_event("framereceived", predicate=drawn, timeout=DEADLINE * 1000)
    assert page.locator(".textual-terminal").count() == 1  # the page hosts the terminal
    return browser, page


def test_closing_the_tab_ends_its_cockpit_process(serve_process) -> None:
    serve, port = serve_process
    me = os.getpid()
    # Servers other tests left running in this worker (session fixtures) are ours too.
    before = descendants(me)
    with sync_api.sync_playwright() as playwright:
        browser, page = open_cockpit_tab(playwright, port)
        tabs = cockpit_tabs(serve.pid)
        assert len(tabs) == 1, tabs
        chromium = descendants(me) - before - descendants(serve.pid) - {serve.pid}
        assert chromium, "Chromium runs as our child"
        page.close()
        wait_until(gone(tabs), "the tab's cockpit process ended")
        browser.close()
    wait_until(gone(chromium), "every Chromium process ended")
    assert serve.poll() is None and cockpit_tabs(serve.pid) == set()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_stopping_serve_ends_every_tab(serve_process, how: signal.Signals) -> None:
    serve, port = serve_process
    with sync_api.sync_playwright() as playwright:
        first, _page = open_cockpit_tab(playwright, port)
        second, _other = open_cockpit_tab(playwright, port)
        tabs = cockpit_tabs(serve.pid)
        assert len(tabs) == 2, tabs
        serve.send_signal(how)
        serve.wait(timeout=DEADLINE)
        wait_until(gone(tabs), f"both tabs ended after {how.name} to serve")
        first.close()
        second.close()
