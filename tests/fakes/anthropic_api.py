"""A fake Anthropic Messages API: `POST /v1/messages`, streaming (SSE) and plain JSON.

Wire format (Messages API docs, "Streaming Messages"): with `"stream": true` the answer is
`text/event-stream`, each event an `event: NAME` line and a `data: JSON` line, in the order
`message_start` (a Message with empty content), per content block `content_block_start`,
`content_block_delta` (`text_delta` with `text`, or `input_json_delta` with `partial_json`),
`content_block_stop`, then `message_delta` (`stop_reason` and `usage.output_tokens`) and
`message_stop`; `ping` may appear anywhere. Without `stream` the answer is the Message JSON.
Errors are `{"type": "error", "error": {"type": ..., "message": ...}}` with the HTTP status.

Tests script one `Turn` per request; every request body is recorded for inspection.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes import HOLD_SECONDS, FakeServer, RecordedRequest, Response

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class Turn:
    """One scripted answer: content blocks and a stop reason, or an HTTP error, or a hang."""

    blocks: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = "end_turn"
    status: int = 200
    hang_midway: bool = False
    """Send message_start and the first block's first delta, then stall."""
    stream_error: str | None = None
    """Send message_start, then an SSE `error` event of this type (e.g. overloaded_error)."""
    input_tokens: int = 100
    output_tokens: int = 50


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


_ids = itertools.count(1)


def tool_use(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{next(_ids):04d}", "name": name, "input": arguments}


def say(value: str) -> Turn:
    return Turn([text(value)])


def call(name: str, arguments: dict[str, Any], preamble: str = "") -> Turn:
    blocks = ([text(preamble)] if preamble else []) + [tool_use(name, arguments)]
    return Turn(blocks, stop_reason="tool_use")


class FakeAnthropic(FakeServer):
    """Answers each `POST /v1/messages` with the next scripted `Turn`."""

    def __init__(self, turns: list[Turn] | None = None) -> None:
        super().__init__()
        self.turns = list(turns or [])
        self.default = say("Nothing more to add.")

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """Every request body received, decoded."""
        return [request.json() for request in self.requests if request.body]

    @property
    def raw_bodies(self) -> list[bytes]:
        return [request.body for request in self.requests]

    def _next(self) -> Turn:
        return self.turns.pop(0) if self.turns else self.default

    def respond(self, request: RecordedRequest) -> Response:
        raise AssertionError("FakeAnthropic answers through _serve")

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in handler.headers.items()}
        self._record(RecordedRequest(method, handler.path, {}, headers, body))
        if method != "POST" or not handler.path.startswith("/v1/messages"):
            _send(
                handler,
                404,
                {"type": "error", "error": {"type": "not_found_error", "message": "no"}},
            )
            return
        turn = self._next()
        if turn.status != 200:
            error = {
                "type": ERROR_TYPES.get(turn.status, "api_error"),
                "message": f"fake {turn.status}",
            }
            _send(handler, turn.status, {"type": "error", "error": error})
            return
        request = json.loads(body or b"{}")
        message = {
            "id": f"msg_{next(_ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": request.get("model", "fake"),
            "content": turn.blocks,
            "stop_reason": turn.stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": turn.input_tokens, "output_tokens": turn.output_tokens},
        }
        if not request.get("stream"):
            _send(handler, 200, message)
            return
        self._stream(handler, message, turn)

    def _stream(self, handler: BaseHTTPRequestHandler, message: dict[str, Any], turn: Turn) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Connection", "close")
        handler.end_headers()

        def emit(name: str, data: dict[str, Any]) -> None:
            handler.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            handler.wfile.flush()

        start = dict(message, content=[], stop_reason=None)
        start["usage"] = {"input_tokens": turn.input_tokens, "output_tokens": 1}
        emit("message_start", {"type": "message_start", "message": start})
        emit("ping", {"type": "ping"})
        if turn.stream_error:
            error = {"type": turn.stream_error, "message": f"fake {turn.stream_error}"}
            emit("error", {"type": "error", "error": error})
            return
        for index, block in enumerate(turn.blocks):
            if block["type"] == "text":
                emit(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
                words = block["text"].split(" ")
                for number, word in enumerate(words):
                    piece = word if number == len(words) - 1 else word + " "
                    emit(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "text_delta", "text": piece},
                        },
                    )
                    if turn.hang_midway:
                        self._release.wait(HOLD_SECONDS)
                        return
            else:
                emit(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {
                            "type": "tool_use",
                            "id": block["id"],
                            "name": block["name"],
                            "input": {},
                        },
                    },
                )
                encoded = json.dumps(block["input"])
                middle = len(encoded) // 2
                for part in (encoded[:middle], encoded[middle:]):
                    emit(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": part},
                        },
                    )
                if turn.hang_midway:
                    self._release.wait(HOLD_SECONDS)
                    return
            emit("content_block_stop", {"type": "content_block_stop", "index": index})
        emit(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": turn.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": turn.output_tokens},
            },
        )
        emit("message_stop", {"type": "message_stop"})


def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    if status == 429:
        handler.send_header("Retry-After", "1")
    handler.end_headers()
    handler.wfile.write(body)
