"""`cockpit serve`: textual-serve on 127.0.0.1, serving `cockpit open` with the same config."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from cockpit.commands import serve
from tests.tui_support import write_config

PROJECT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_main(tmp_path: Path, *argv: str) -> tuple[int, str]:
    from cockpit.cli import main

    config = write_config(tmp_path)
    try:
        code = main(["--config", str(config.source_path), "serve", *argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, ""


def test_a_taken_port_or_foreign_host_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _ = serve_main(tmp_path, "--port", str(port))
        assert code == 2
        assert capsys.readouterr().err == (
            f"cockpit: cannot serve on 127.0.0.1:{port}: Address already in use\n"
        )
    code, _ = serve_main(tmp_path, "--host", "nosuchhost.invalid")
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("cockpit: --host nosuchhost.invalid: cannot resolve it")
    assert err.count("\n") == 1


def test_defaults_bind_localhost() -> None:
    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    assert serve.is_loopback("127.0.0.1") and serve.is_loopback("::1")
    assert serve.is_loopback("localhost")
    assert not serve.is_loopback("0.0.0.0") and not serve.is_loopback("10.0.0.5")


def test_served_command_is_cockpit_open_with_the_same_config_quoted(tmp_path: Path) -> None:
    odd = tmp_path / "it's $(rm -rf ~); a `dir`"
    odd.mkdir()
    config = odd / "cockpit.toml"
    command = serve.served_command(config, "ab12")
    # The shell textual-serve uses splits it back into exactly our argv: nothing is expanded,
    # and `exec` makes the cockpit itself the process textual-serve ends.
    assert shlex.split(command)[0] == "exec"
    assert shlex.split(command)[1:] == [
        sys.executable,
        "-m",
        "cockpit",
        "--config",
        str(config.resolve()),
        "open",
        "--incident",
        "ab12",
    ]
    assert shlex.split(serve.served_command(None))[1:] == [sys.executable, "-m", "cockpit", "open"]


def test_allowed_origins_are_the_page_itself_under_loopback_names() -> None:
    assert serve.allowed_origins("http://127.0.0.1:8000") == {
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://[::1]:8000",
    }
    assert "https://evil.example" not in serve.allowed_origins("http://localhost:9000")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    config = write_config(tmp_path)
    assert config.source_path is not None
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cockpit",
            "--config",
            str(config.source_path),
            "serve",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )
    try:
        yield port, config.source_path
    finally:
        process.send_signal(signal.SIGTERM)  # textual-serve exits gracefully on SIGTERM
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()


def get_when_up(url: str, **kwargs: object) -> httpx.Response:
    """GET `url`, retrying while the server is still starting (bounded: 20 s)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return httpx.get(url, timeout=5, **kwargs)  # type: ignore[arg-type]
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # polling a server that is starting up; nothing to wait on


def test_serves_the_page_on_localhost_and_refuses_foreign_websockets(
    served: tuple[int, Path],
) -> None:
    port, _config = served
    page = get_when_up(f"http://127.0.0.1:{port}/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    html = page.text
    assert "<title>Cockpit</title>" in html or "Cockpit" in html
    assert "textual-terminal" in html  # textual-serve's terminal element
    assert f"ws://127.0.0.1:{port}/ws" in html
    script = httpx.get(f"http://127.0.0.1:{port}/static/js/textual.js", timeout=5)
    assert script.status_code == 200

    foreign = httpx.get(
        f"http://127.0.0.1:{port}/ws", headers={"Origin": "https://evil.example"}, timeout=5
    )
    assert foreign.status_code == 403
    assert "another origin refused" in foreign.text


async def test_a_browser_session_runs_the_cockpit(served: tuple[int, Path]) -> None:
    """The websocket starts `cockpit open` (textual-serve spawns it) and streams its screen."""
    import aiohttp

    port, _config = served
    get_when_up(f"http://127.0.0.1:{port}/")
    received = b""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"ws://127.0.0.1:{port}/ws?width=80&height=24",
            headers={"Origin": f"http://localhost:{port}"},
        ) as websocket,
    ):
        deadline = time.monotonic() + 30
        while b"6 Timeline" not in received:  # the cockpit's tab bar, drawn by `cockpit open`
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no cockpit screen: {received[-500:]!r}"
            message = await websocket.receive(timeout=remaining)
            if message.type == aiohttp.WSMsgType.BINARY:
                received += message.data
            elif message.type == aiohttp.WSMsgType.TEXT:
                received += message.data.encode()
            else:
                raise AssertionError(f"websocket closed: {message!r}")


STUBBORN = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"  # ignores SIGTERM, as the stuck one did
    "sys.stdout.write('__GANGLION__\\n'); sys.stdout.flush()\n"
    "time.sleep(600)\n"  # and never reads the quit request
)


def _pids_with(marker: str) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state not in ("Z", "X"):
            found.add(int(entry))
    return found


async def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    import asyncio

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)  # polling /proc for a process: nothing to wait on


@pytest.mark.parametrize("ended_by", ["websocket closed", "serve stopped"])
async def test_a_tab_process_that_ignores_quit_and_sigterm_is_still_ended(
    ended_by: str, tmp_path: Path
) -> None:
    """The stuck child from the field (alive at 50% CPU, ignoring SIGTERM): quit, SIGTERM,
    then SIGKILL, whether its websocket closes or serve stops."""
    from aiohttp.test_utils import TestClient, TestServer

    marker = f"stubborn-{tmp_path.name}"
    command = shlex.join([sys.executable, "-c", STUBBORN, marker])
    server = serve.make_server("exec " + command, "127.0.0.1", free_port())
    app = await server._make_app()  # textual-serve's aiohttp app, served by the test client
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        websocket = await client.ws_connect("/ws?width=80&height=24")
        await _wait_for(lambda: len(_pids_with(marker)) == 1, "the tab's process started")
        pids = _pids_with(marker)
        if ended_by == "websocket closed":
            await websocket.close()
        else:
            await client.close()
        await _wait_for(lambda: not _pids_with(marker), f"the process ended ({ended_by})")
    finally:
        await client.close()
        for pid in _pids_with(marker):
            os.kill(pid, signal.SIGKILL)
    assert pids
