"""`cockpit serve`: the cockpit in a browser, for someone watching, through textual-serve.

Binds to 127.0.0.1 by default; reach it from your own machine through an SSH tunnel
(`ssh -L 8000:127.0.0.1:8000 bastion`). Each browser tab gets its own `cockpit open` process,
started by textual-serve with this same `--config`: a fixed command line built here from our own
interpreter path and the config path, never from a suggestion, AI reply or template. This
module itself starts no process.

Every tab's process ends with its websocket and with serve, whatever ends them: when the
websocket closes it is asked to quit, then terminated, then killed (`CHILD_GRACE_SECONDS`
each); when serve stops (Ctrl+C, SIGTERM) every remaining one is ended the same way; and if
serve itself is killed, each child dies with it (`open` asks the kernel for that, see
`die_with_parent`). A child whose output nobody reads any more can no longer linger.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
CHILD_GRACE_SECONDS = 3.0
"""How long a tab's process gets to quit, then to exit after SIGTERM, before SIGKILL."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--host`, `--port`, `--public-url`, `--incident`."""
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default {DEFAULT_HOST}: only this host; use an SSH tunnel)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the address the browser uses, when it differs (e.g. a tunnel to another local port:"
        " http://localhost:9000)",
    )
    parser.add_argument(
        "--incident", metavar="ID", help="open this incident instead of the current one"
    )


def served_command(config_path: Path | None, incident: str | None = None) -> str:
    """The command textual-serve runs per browser tab: `cockpit open` with the same config.

    textual-serve hands it to a shell, so every part is quoted; nothing in it comes from
    incident data. `exec` makes the process textual-serve knows the cockpit itself (not a
    shell in front of it), so ending it ends the cockpit.
    """
    argv = [sys.executable, "-m", "cockpit"]
    if config_path is not None:
        argv += ["--config", str(config_path.resolve())]
    argv.append("open")
    if incident:
        argv += ["--incident", incident]
    return "exec " + shlex.join(argv)


def allowed_origins(public_url: str) -> set[str]:
    """Browser origins that may open the websocket: the page's own, under any loopback name."""
    parts = urlsplit(public_url)
    origins = {f"{parts.scheme}://{parts.netloc}"}
    if parts.port is not None:
        for name in ("localhost", "127.0.0.1", "[::1]"):
            origins.add(f"{parts.scheme}://{name}:{parts.port}")
    return origins


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def end_process(process: Any, grace: float = CHILD_GRACE_SECONDS) -> None:
    """End an asyncio subprocess for sure: SIGTERM, then SIGKILL after `grace` seconds."""
    import asyncio
    import contextlib

    if process is None or process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


def make_server(command: str, host: str, port: int, public_url: str | None = None) -> Any:
    """A textual-serve `Server` whose websocket refuses other web sites' pages, and whose
    tab processes end with their websocket and with the server.

    Without the Origin check, any page open in the watcher's browser could connect to the
    tunnelled port and drive the cockpit (cross-site WebSocket hijacking). textual-serve only
    asks a tab's process to quit and then stops reading its output: a process that does not
    manage to (its output pipe full, say) used to live on, holding the store open.
    """
    import asyncio
    import contextlib

    from aiohttp import web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server

    live: set[Any] = set()

    class EndingAppService(AppService):
        """An AppService whose `stop` always ends its process."""

        async def start(self, width: int, height: int) -> None:
            await super().start(width, height)
            live.add(self)

        async def stop(self) -> None:
            process = self._process  # textual-serve keeps it private; ending it is our job
            try:
                await asyncio.wait_for(super().stop(), CHILD_GRACE_SECONDS)
            except (TimeoutError, Exception):  # quit not heard, or the pipe already broken
                pass
            finally:
                await end_process(process)
                live.discard(self)

    class OriginCheckedServer(Server):
        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            origin = request.headers.get("Origin")
            if origin is not None and origin.rstrip("/") not in allowed_origins(self.public_url):
                raise web.HTTPForbidden(text="cockpit serve: websocket from another origin refused")
            # textual-serve's own handler, with an AppService that always ends its process.
            websocket = web.WebSocketResponse(heartbeat=15)
            width = _size(request.query.get("width"), 80)
            height = _size(request.query.get("height"), 24)
            service: EndingAppService | None = None
            try:
                await websocket.prepare(request)

                async def close() -> None:
                    await websocket.close()

                service = EndingAppService(
                    self.command,
                    write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str,
                    close=close,
                    download_manager=self.download_manager,
                    debug=self.debug,
                )
                await service.start(width, height)
                await self._process_messages(websocket, service)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await websocket.close()
            except Exception as error:
                _log_error(error)
            finally:
                if service is not None:
                    await asyncio.shield(service.stop())
            return websocket

        async def on_shutdown(self, app: web.Application) -> None:
            # Serve is stopping (Ctrl+C, SIGTERM): no tab's process outlives it.
            await asyncio.gather(*(service.stop() for service in list(live)))

    return OriginCheckedServer(
        command, host=host, port=port, title="Cockpit", public_url=public_url
    )


def _size(text: str | None, default: int) -> int:
    try:
        value = int(text or default)
    except ValueError:
        return default
    return value if 1 <= value <= 1000 else default


def _log_error(error: Exception) -> None:
    import logging

    logging.getLogger("cockpit.serve").error("websocket failed: %s", error)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl+C (or SIGTERM)."""
    from cockpit.commands._common import config_from_args, fail, store_from_config
    from cockpit.commands.incidents import target_incident

    config = config_from_args(args)
    # A bad store or an unknown incident fails here, not in every browser tab.
    incident_id = args.incident
    with store_from_config(config) as store:
        if incident_id:
            incident_id = target_incident(store, incident_id, drill=config.cockpit.drill).id
    if not 0 < args.port < 65536:
        fail(f"--port {args.port}: expected 1-65535")
    _check_can_bind(args.host, args.port)
    if not is_loopback(args.host):
        print(
            f"cockpit: warning: serving on {args.host}: anyone who can reach it gets a cockpit"
            " session as you, with no login; prefer 127.0.0.1 and an SSH tunnel",
            file=sys.stderr,
        )
    server = make_server(
        served_command(config.source_path, incident_id), args.host, args.port, args.public_url
    )
    server.serve()
    return 0


def _check_can_bind(host: str, port: int) -> None:
    """One line, not a traceback, when the address is taken or not this machine's."""
    import socket

    from cockpit.commands._common import fail

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        fail(f"--host {host}: cannot resolve it ({exc.strerror or exc})")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}")
