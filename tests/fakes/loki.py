"""A fake Grafana Loki: `GET /loki/api/v1/query_range` with a small LogQL parser.

Wire format (Loki HTTP API): parameters `query`, `start` and `end` (Unix nanoseconds; start
inclusive, end exclusive), `limit` (default 100), `direction` (`forward` or `backward`, default
backward). The answer for a log query is
`{"status": "success", "data": {"resultType": "streams", "result": [{"stream": {labels},
"values": [["<ns>", "<line>"], ...]}], "stats": {...}}}`; errors are plain text with a 4xx/5xx.
Multi-tenant Loki answers 401 `no org id` without `X-Scope-OrgID`.

LogQL understood: `{label="v", label=~"re", label!="v", label!~"re"}` followed by any number
of line filters `|= "s"`, `!= "s"`, `|~ "re"`, `!~ "re"`, with Go double-quoted or backtick
strings. Label regexes are anchored, line-filter regexes are not (as in Loki); both are RE2.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import re2

from tests.fakes import FakeServer, RecordedRequest, Response

_STRING = r'"(?:[^"\\]|\\.)*"|`[^`]*`'
_SELECTOR = re.compile(r"\s*\{(?P<body>(?:[^}\"`]|" + _STRING + r")*)\}")
_MATCHER = re.compile(
    r"\s*(?P<label>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*(?P<value>" + _STRING + r")\s*"
)
_LINE_FILTER = re.compile(r"\s*(?P<op>\|=|!=|\|~|!~)\s*(?P<value>" + _STRING + r")")

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}


class LogQLError(ValueError):
    """The query is not LogQL this fake understands (Loki answers 400 `parse error`)."""


def go_unquote(literal: str) -> str:
    """Decode a Go string literal, double-quoted (with escapes) or backtick (raw)."""
    if literal.startswith("`"):
        return literal[1:-1]
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        kind = body[i + 1] if i + 1 < len(body) else ""
        if kind in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[kind])
            i += 2
        elif kind in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[kind]
            digits = body[i + 2 : i + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise LogQLError(f"invalid escape \\{kind}{digits}")
            out.append(chr(int(digits, 16)))
            i += 2 + width
        elif kind in "01234567" and kind:
            digits = body[i + 1 : i + 4]
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise LogQLError(f"invalid escape \\{kind}")
    return "".join(out)


@dataclass
class ParsedQuery:
    """A parsed LogQL log query."""

    label_matchers: list[Callable[[dict[str, str]], bool]] = field(default_factory=list)
    line_filters: list[Callable[[str], bool]] = field(default_factory=list)

    def selects(self, labels: dict[str, str]) -> bool:
        return all(matcher(labels) for matcher in self.label_matchers)

    def keeps(self, line: str) -> bool:
        return all(line_filter(line) for line_filter in self.line_filters)


def _compile(pattern: str) -> re2._Regexp:
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        raise LogQLError(f"invalid regex {pattern!r}: {exc}") from None


def parse_logql(query: str) -> ParsedQuery:
    """Parse `{selector} |= "x" |~ "y" ...`; raise LogQLError otherwise."""
    selector = _SELECTOR.match(query)
    if selector is None:
        raise LogQLError("syntax error: expected a stream selector {...}")
    parsed = ParsedQuery()
    body = selector.group("body").strip()
    position = 0
    while position < len(body):
        matcher = _MATCHER.match(body, position)
        if matcher is None:
            raise LogQLError(f"syntax error in selector at {body[position:]!r}")
        label, op, value = matcher["label"], matcher["op"], go_unquote(matcher["value"])
        parsed.label_matchers.append(_label_matcher(label, op, value))
        position = matcher.end()
        if position < len(body):
            if body[position] != ",":
                raise LogQLError(f"syntax error in selector at {body[position:]!r}")
            position += 1
    if not parsed.label_matchers:
        raise LogQLError("queries require at least one label matcher")
    rest, position = query[selector.end() :], 0
    while rest[position:].strip():
        line_filter = _LINE_FILTER.match(rest, position)
        if line_filter is None:
            raise LogQLError(f"syntax error at {rest[position:]!r}")
        parsed.line_filters.append(
            _line_filter(line_filter["op"], go_unquote(line_filter["value"]))
        )
        position = line_filter.end()
    return parsed


def _label_matcher(label: str, op: str, value: str) -> Callable[[dict[str, str]], bool]:
    if op == "=":
        return lambda labels: labels.get(label, "") == value
    if op == "!=":
        return lambda labels: labels.get(label, "") != value
    regex = _compile(value)
    if op == "=~":
        return lambda labels: regex.fullmatch(labels.get(label, "")) is not None
    return lambda labels: regex.fullmatch(labels.get(label, "")) is None


def _line_filter(op: str, value: str) -> Callable[[str], bool]:
    if op == "|=":
        return lambda line: value in line
    if op == "!=":
        return lambda line: value not in line
    regex = _compile(value)
    if op == "|~":
        return lambda line: regex.search(line) is not None
    return lambda line: regex.search(line) is None


@dataclass
class Stream:
    """One Loki stream: a label set and its entries (ns, line)."""

    labels: dict[str, str]
    entries: list[tuple[int, str]] = field(default_factory=list)


class FakeLoki(FakeServer):
    """A Loki querier holding `streams` in memory."""

    def __init__(
        self,
        streams: list[Stream] | None = None,
        *,
        required_org_id: str | None = None,
        required_token: str | None = None,
        max_entries_limit: int = 5000,
    ) -> None:
        super().__init__()
        self.streams = streams or []
        self.required_org_id = required_org_id
        self.required_token = required_token
        self.max_entries_limit = max_entries_limit

    def add(self, labels: dict[str, str], ns: int, line: str) -> None:
        """Append one entry to the stream with exactly `labels` (created if new)."""
        for stream in self.streams:
            if stream.labels == labels:
                stream.entries.append((ns, line))
                return
        self.streams.append(Stream(dict(labels), [(ns, line)]))

    def respond(self, request: RecordedRequest) -> Response:
        if request.path == "/loki/api/v1/status/buildinfo":
            return Response.json(200, {"version": "3.0.0", "revision": "fake", "branch": "HEAD"})
        if request.path == "/loki/api/v1/labels":
            names = sorted({name for stream in self.streams for name in stream.labels})
            return Response.json(200, {"status": "success", "data": names})
        if request.path != "/loki/api/v1/query_range":
            return Response.text(404, "404 page not found\n")
        if self.required_org_id is not None:
            org = request.headers.get("x-scope-orgid")
            if not org:
                return Response.text(401, "no org id\n")
            if org != self.required_org_id:
                return Response.json(200, _streams_payload([]))  # another tenant: no data
        token = self.required_token
        if token is not None and request.headers.get("authorization") != f"Bearer {token}":
            return Response.text(401, "Unauthorized\n")
        params = request.params
        try:
            parsed = parse_logql(params.get("query", ""))
        except LogQLError as exc:
            return Response.text(400, f"parse error : {exc}\n")
        now_ns = time.time_ns()
        try:
            end = int(params.get("end", now_ns))
            start = int(params.get("start", end - 3600 * 10**9))
            limit = int(params.get("limit", 100))
        except ValueError as exc:
            return Response.text(400, f"invalid parameter: {exc}\n")
        direction = params.get("direction", "backward").lower()
        if direction not in ("forward", "backward"):
            return Response.text(400, f"invalid direction {direction!r}\n")
        if limit > self.max_entries_limit:
            return Response.text(
                400,
                "max entries limit per query exceeded, limit > max_entries_limit "
                f"({limit} > {self.max_entries_limit})\n",
            )
        selected: list[tuple[int, int, int, str]] = []
        for stream_index, stream in enumerate(self.streams):
            if not parsed.selects(stream.labels):
                continue
            for entry_index, (ns, line) in enumerate(stream.entries):
                if start <= ns < end and parsed.keeps(line):
                    selected.append((ns, stream_index, entry_index, line))
        selected.sort(reverse=direction == "backward")
        selected = selected[:limit]
        grouped: dict[int, list[list[str]]] = {}
        for ns, stream_index, _entry, line in selected:
            grouped.setdefault(stream_index, []).append([str(ns), line])
        result = [
            {"stream": self.streams[index].labels, "values": values}
            for index, values in grouped.items()
        ]
        return Response.json(200, _streams_payload(result))


def _streams_payload(result: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {"resultType": "streams", "result": result, "stats": {"summary": {}}},
    }
