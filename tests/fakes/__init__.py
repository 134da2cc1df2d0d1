"""Local HTTP servers that speak the documented wire formats of the remote log stores.

Each fake is a real `ThreadingHTTPServer` on 127.0.0.1 with an ephemeral port, started and
stopped by a pytest fixture. It records every request it receives (so tests can assert
headers and paging) and can be switched into a fault mode per test.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

HOLD_SECONDS = 30.0
"""Longest a slow or hanging response holds its thread; stop() releases them at once."""

BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class Fault(StrEnum):
    """How a fake misbehaves, from request number `fault_from` on."""

    SLOW = "slow"
    """Answers only after the client's deadline has passed."""
    RATE_LIMITED = "429"
    """429 Too Many Requests with a Retry-After header."""
    BAD_GATEWAY_HTML = "502"
    """502 from a proxy, with an HTML body."""
    UNAUTHORIZED = "401"
    """401 whatever the credentials."""
    INVALID_JSON = "invalid-json"
    """200 with a body cut off in the middle of the JSON."""
    HANG_MIDWAY = "hang-midway"
    """Sends the headers and half the body, then stalls."""


@dataclass
class Response:
    """What a fake answers: status, headers, body."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any) -> Response:
        """A JSON response."""
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    @classmethod
    def text(cls, status: int, text: str) -> Response:
        """A plain-text response (Loki's error format)."""
        return cls(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})


@dataclass
class RecordedRequest:
    """One request as the fake received it."""

    method: str
    path: str
    params: dict[str, str]
    """Query-string parameters (last value wins)."""
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


class FakeServer:
    """Base of the fakes: subclasses implement `respond(request)`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.fault: Fault | None = None
        self.fault_from = 1
        """1-based number of the first request that gets the fault."""
        self.retry_after = "7"
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def respond(self, request: RecordedRequest) -> Response:
        """The normal answer to `request`."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:40123`."""
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Listen on an ephemeral port and serve from a daemon thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release held responses, stop serving and close the socket."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, request: RecordedRequest) -> int:
        with self._lock:
            self.requests.append(request)
            return len(self.requests)

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        split = urlsplit(handler.path)
        params = {key: values[-1] for key, values in parse_qs(split.query).items()}
        headers = {key.lower(): value for key, value in handler.headers.items()}
        request = RecordedRequest(method, split.path, params, headers, body)
        number = self._record(request)
        fault = self.fault if self.fault is not None and number >= self.fault_from else None
        if fault is Fault.SLOW:
            self._release.wait(HOLD_SECONDS)
            _send(handler, self.respond(request))
        elif fault is Fault.RATE_LIMITED:
            _send(handler, Response(429, b"Too Many Requests\n", {"Retry-After": self.retry_after}))
        elif fault is Fault.BAD_GATEWAY_HTML:
            _send(handler, Response(502, BAD_GATEWAY_HTML, {"Content-Type": "text/html"}))
        elif fault is Fault.UNAUTHORIZED:
            _send(handler, Response.text(401, "authentication required\n"))
        elif fault is Fault.INVALID_JSON:
            full = self.respond(request).body
            _send(
                handler, Response(200, full[: len(full) // 2], {"Content-Type": "application/json"})
            )
        elif fault is Fault.HANG_MIDWAY:
            full = self.respond(request).body
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(full)))
            handler.end_headers()
            handler.wfile.write(full[: len(full) // 2])
            handler.wfile.flush()
            self._release.wait(HOLD_SECONDS)
        else:
            _send(handler, self.respond(request))


def _send(handler: BaseHTTPRequestHandler, response: Response) -> None:
    handler.send_response(response.status)
    for name, value in response.headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(response.body)))
    handler.end_headers()
    handler.wfile.write(response.body)


def _handler_for(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._guarded("GET")

        def do_POST(self) -> None:
            self._guarded("POST")

        def _guarded(self, method: str) -> None:
            # The client may give up (its deadline passed): expected in fault tests.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                fake._serve(self, method)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


class CollectingSink:
    """A HitSink that keeps everything; `on_hit` lets a test react (e.g. cancel) mid-search."""

    def __init__(self, on_hit: Any = None) -> None:
        self.hits: list[Any] = []
        self.warnings: list[str] = []
        self._lock = threading.Lock()
        self._on_hit = on_hit

    def hit(self, hit: Any) -> None:
        with self._lock:
            self.hits.append(hit)
        if self._on_hit is not None:
            self._on_hit(hit)

    def warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)

    @property
    def texts(self) -> list[str]:
        """The text of every hit, in the order reported."""
        return [hit.text for hit in self.hits]
