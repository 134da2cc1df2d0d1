"""Error patterns: cluster matching lines into signatures, to show the shape of a failure.

A signature is a line with its variable parts replaced by placeholders: numbers, hex ids,
UUIDs, IPs, durations (800ms, 1.5s), quoted values, request ids and the timestamp. Each keeps
its count, first and last seen, and per-minute counts for a sparkline. A signature first seen
after a chosen time (a deploy) and never before it in the searched window is marked new.
Memory is bounded: past `max_signatures`, lines of unseen shapes are counted as "other".
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cockpit.core.search.model import Hit
from cockpit.core.timefmt import floor_minute

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
DEFAULT_MAX_SIGNATURES = 500
MAX_KEY_CHARS = 300
"""Signatures are cut to this length: a long tail rarely tells two failures apart."""

_LEADING_TIME = re.compile(
    r"^(?:\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?)\s*"
)
_BRACKET_TIME = re.compile(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d(?: [+-]\d{4})?\]")
_EMBEDDED_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?")
# Case-sensitive alternatives (no IGNORECASE, no leading \b): Python's engine can then skip
# ahead by first character, which makes this pass four times cheaper.
_REQUEST_ID = re.compile(
    r"((?:[Rr]equest|[Rr]eq|[Tt]race|[Ss]pan|[Cc]orrelation|[Xx]-[Rr]equest)[_-]?(?:id|ID|Id))"
    r"([=:]\s*)(?:\"[\w.-]+\"|[\w.-]+)"
)
_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_IP = re.compile(
    r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b|\b(?:[0-9a-fA-F]{1,4}:){4,7}[0-9a-fA-F]{1,4}\b"
)
_HEX = re.compile(
    r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"
)
_DURATION = re.compile(r"\b\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)\b")
_KEY_QUOTED = re.compile(r"\b(\w+)=\"([^\"]*)\"")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_NUMBER = re.compile(r"(?<![\w<])[-+]?\d+(?:\.\d+)?(?![\w>])|(?<=[=:#])\d+\b")
_SPACES = re.compile(r"\s+")
_HAS_DIGIT = re.compile(r"\d").search
# Values of these keys are the message itself: normalized inside, not replaced whole.
_MESSAGE_KEYS = frozenset({"msg", "message", "error", "err", "reason", "exception", "event"})
_LOGFMT_MESSAGE = re.compile(r'\b(?:msg|message)=(?:"((?:[^"\\]|\\.)*)"|(\S+))')
_LOGFMT_LEVEL = re.compile(r"\blevel=(\w+)")
_LOGFMT_SERVICE = re.compile(r"\bservice=([\w.-]+)")
_JSON_MESSAGE_KEYS = ("msg", "message", "error", "err")
_HOLE = "\ue000"  # a private-use character marks where a message value goes back
_JSON_TEXT_KEYS = ("level", "severity", "msg", "message", "error", "err", "exception", "status")
# The combined/common access log format (nginx, Apache): `ip - user [time] "GET /path HTTP/1.1"
# 502 0 ...`. Its shape is the method, the route and the status, as lnav reads it.
_ACCESS_LOG = re.compile(r'^\S+ \S+ \S+ \[[^\]]*\] "([A-Z]+) ([^" ?]*)[^"]*" (\d{3}) ')


def _normalize_token(token: str) -> str:
    if "-" in token:
        token = _UUID.sub("<uuid>", token)
    if "." in token or ":" in token:
        token = _IP.sub("<ip>", token)
    if len(token) >= 8 or "0x" in token:
        token = _HEX.sub("<hex>", token)
    token = _DURATION.sub("<dur>", token)
    return _NUMBER.sub("<n>", token)


def _normalize_value(text: str) -> str:
    # Token by token, and only tokens with a digit: a regex pass over a whole line costs
    # ~10 us in Python's engine, a check per short token well under one.
    if not _HAS_DIGIT(text):
        return text
    return " ".join(
        _normalize_token(token) if _HAS_DIGIT(token) else token for token in text.split(" ")
    )


def _message_shape(level: object, service: object, message: object) -> str:
    """`error checkout: <message>`: short enough to read at 80 columns."""
    head = " ".join(str(part) for part in (level, service) if part)
    body = _normalize_value(str(message))
    return f"{head}: {body}" if head else body


def _from_json(line: str) -> str | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    message = next((data[k] for k in _JSON_MESSAGE_KEYS if data.get(k)), None)
    if message is not None:
        return _message_shape(
            data.get("level") or data.get("severity"), data.get("service"), message
        )
    parts = [f"{key}={data[key]}" for key in _JSON_TEXT_KEYS if key in data]
    return " ".join(parts) if parts else None


def normalize(line: str) -> str:
    """The signature of one log line: its shape with the variable parts replaced.

    A structured line with a message (`msg="..."` in logfmt, `"msg"` in JSON) is known by its
    level, service and message alone: request details (method, path, status, ids) would split
    one failure into as many signatures as there are routes.
    """
    text = line.strip()
    if text.startswith("{"):
        shaped = _from_json(text)
        if shaped is not None:
            return _SPACES.sub(" ", shaped).strip()[:MAX_KEY_CHARS]
    elif '] "' in text and (access := _ACCESS_LOG.match(text)) is not None:
        method, path, status = access.groups()
        route = "/".join(_normalize_value(part) for part in path.split("/"))
        return f"{method} {route} {status}"[:MAX_KEY_CHARS]
    else:
        message = _LOGFMT_MESSAGE.search(text)
        if message is not None:
            level = _LOGFMT_LEVEL.search(text)
            service = _LOGFMT_SERVICE.search(text)
            shaped = _message_shape(
                level.group(1) if level else None,
                service.group(1) if service else None,
                message.group(1) if message.group(1) is not None else message.group(2),
            )
            return _SPACES.sub(" ", shaped).strip()[:MAX_KEY_CHARS]
    text = _LEADING_TIME.sub("", text, count=1)
    # Each whole-line pass is skipped when a cheap substring test shows it cannot match.
    if "[" in text:
        text = _BRACKET_TIME.sub("<time>", text)
    if "-" in text and ":" in text:
        text = _EMBEDDED_TIME.sub("<time>", text)
    lowered = text.lower()
    if "id=" in lowered or "id:" in lowered or 'id"' in lowered:
        text = _REQUEST_ID.sub(r"\1\2<id>", text)

    messages: list[str] = []

    def key_quoted(match: re.Match[str]) -> str:
        key, value = match.groups()
        if key.lower() in _MESSAGE_KEYS:
            # Set aside so the quoted-value rule below keeps the message text.
            messages.append(f'{key}="{_normalize_value(value)}"')
            return _HOLE
        return f'{key}="<str>"'

    if '="' in text:
        text = _KEY_QUOTED.sub(key_quoted, text.replace(_HOLE, ""))
    if '"' in text or "'" in text:
        text = _QUOTED.sub('"<str>"', text)
    text = _normalize_value(text)
    if messages:
        pieces = text.split(_HOLE)
        text = "".join(p + (messages[i] if i < len(messages) else "") for i, p in enumerate(pieces))
    return " ".join(text.split())[:MAX_KEY_CHARS]


def signature(text: str) -> str:
    """The signature of one log line (same as `normalize`; the name other modules look for)."""
    return normalize(text)


def sparkline(counts: Sequence[int]) -> str:
    """Unicode block sparkline; zero is a blank, the tallest bucket a full block."""
    peak = max(counts, default=0)
    if peak <= 0:
        return " " * len(counts)
    top = len(SPARK_BLOCKS) - 1
    return "".join(" " if c <= 0 else SPARK_BLOCKS[min(top, round(c / peak * top))] for c in counts)


@dataclass
class Signature:
    """One cluster of similar lines."""

    key: str
    example: Hit
    """The first line seen with this shape (raw text: sanitize before display)."""
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    per_minute: Counter[datetime] = field(default_factory=Counter)
    seen_before_mark: bool = False
    """Seen at least once before the "new since" time."""

    def buckets(self, start: datetime, end: datetime, width: int) -> list[int]:
        """Counts in `width` equal buckets from `start` to `end` (minute resolution)."""
        start, end = floor_minute(start), floor_minute(end)
        minutes = max(1, int((end - start) / timedelta(minutes=1)) + 1)
        width = max(1, min(width, minutes))
        counts = [0] * width
        for minute, count in self.per_minute.items():
            offset = int((minute - start) / timedelta(minutes=1))
            if 0 <= offset < minutes:
                counts[offset * width // minutes] += count
        return counts

    def sparkline(self, start: datetime, end: datetime, width: int = 20) -> str:
        """Per-minute activity between `start` and `end` as a sparkline."""
        return sparkline(self.buckets(start, end, width))


class PatternIndex:
    """Clusters hits into signatures as they stream in. Not thread-safe: feed from one thread."""

    def __init__(
        self, *, new_since: datetime | None = None, max_signatures: int = DEFAULT_MAX_SIGNATURES
    ) -> None:
        self.new_since = new_since
        self.max_signatures = max_signatures
        self._signatures: dict[str, Signature] = {}
        self.other = 0
        """Lines whose shape did not fit under `max_signatures`."""
        self.total = 0
        self.first_seen: datetime | None = None
        self.last_seen: datetime | None = None

    def add(self, hit: Hit) -> None:
        """Count one matching line."""
        self.total += 1
        key = normalize(hit.text)
        signature = self._signatures.get(key)
        if signature is None:
            if len(self._signatures) >= self.max_signatures:
                self.other += 1
                return
            signature = self._signatures[key] = Signature(key, hit)
        signature.count += 1
        ts = hit.ts
        if ts is None:
            return
        if signature.first_seen is None or ts < signature.first_seen:
            signature.first_seen = ts
        if signature.last_seen is None or ts > signature.last_seen:
            signature.last_seen = ts
        if self.first_seen is None or ts < self.first_seen:
            self.first_seen = ts
        if self.last_seen is None or ts > self.last_seen:
            self.last_seen = ts
        signature.per_minute[floor_minute(ts)] += 1
        if self.new_since is not None and ts < self.new_since:
            signature.seen_before_mark = True

    def add_many(self, hits: Iterable[Hit]) -> None:
        """Count several lines."""
        for hit in hits:
            self.add(hit)

    def is_new(self, signature: Signature) -> bool:
        """First seen at or after `new_since`, and never before it in the searched window."""
        return (
            self.new_since is not None
            and not signature.seen_before_mark
            and signature.first_seen is not None
            and signature.first_seen >= self.new_since
        )

    def signatures(self, limit: int | None = None) -> list[Signature]:
        """Signatures by count, largest first (ties: most recently seen first)."""
        ordered = sorted(
            self._signatures.values(),
            key=lambda s: (-s.count, -(s.last_seen.timestamp() if s.last_seen else 0.0), s.key),
        )
        return ordered[:limit] if limit is not None else ordered
