"""Error evidence read from the logs: signatures (first seen, last seen, counts) and
per-minute error counts per service. Shared by the tools, the heuristics and triage.

Signatures come from `cockpit.core.search.patterns` when that module offers `signature(text)`;
otherwise from the small normaliser here (numbers, hex ids, IPs and UUIDs replaced).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cockpit.core.config import Config
from cockpit.core.search.model import Hit, Query, Source

MAX_SIGNATURES = 200
"""Distinct signatures kept; the rest are counted as "other"."""

_MSG_LOGFMT = re.compile(r'\bmsg="((?:[^"\\]|\\.)*)"')
_MSG_JSON = re.compile(r'"(?:msg|message|error)"\s*:\s*"((?:[^"\\]|\\.)*)"')
_NGINX = re.compile(r'"([A-Z]+) (\S+) HTTP/[\d.]+" (\d{3}) ')
_SYSLOG = re.compile(r"^\w{3} [ \d]\d [\d:]{8} \S+ [^:]+: (?:[A-Z]+ )?(.*)$")
_LEADING_TS = re.compile(r"^\S*\d{4}-\d\d-\d\dT[\d:.]+Z?\s+")
_NORMALISE = (
    (
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
        "<uuid>",
    ),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b", re.I), "<hex>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
)


def _external_signature() -> Callable[[str], str] | None:
    try:
        from cockpit.core.search import patterns  # built by the Search helper
    except ImportError:
        return None
    found = getattr(patterns, "signature", None)
    return found if callable(found) else None


def normalise(message: str) -> str:
    """Variable parts of a message replaced by placeholders, so similar lines group together."""
    for pattern, replacement in _NORMALISE:
        message = pattern.sub(replacement, message)
    return message.strip()[:300]


def line_signature(text: str) -> str:
    """The signature of one error line: its message (or request and status), normalised."""
    if match := _MSG_LOGFMT.search(text) or _MSG_JSON.search(text):
        return normalise(match.group(1))
    if match := _NGINX.search(text):
        method, path, status = match.groups()
        return f"{method} {normalise(path.split('?')[0])} -> {status}"
    if match := _SYSLOG.match(text):
        return normalise(match.group(1))
    return normalise(_LEADING_TS.sub("", text))


@dataclass
class Signature:
    """One error signature over the window read."""

    text: str
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    services: Counter[str] = field(default_factory=Counter)
    example: str = ""
    """One raw line (untrusted text)."""

    @property
    def service(self) -> str | None:
        """The service logging it most."""
        return self.services.most_common(1)[0][0] if self.services else None

    def to_json(self) -> dict[str, Any]:
        return {
            "signature": self.text,
            "count": self.count,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "services": dict(self.services),
            "example": self.example,
        }


@dataclass
class ErrorEvidence:
    """Error lines between `since` and `until`, grouped."""

    since: datetime
    until: datetime
    signatures: list[Signature]
    """Most frequent first."""
    per_minute: dict[str, Counter[datetime]]
    """Error lines per service per minute."""
    total: int
    errors: list[str]
    """One line per log source that failed."""


def collect_errors(
    config: Config,
    *,
    since: datetime,
    until: datetime,
    sources: Sequence[Source] | None = None,
    pattern: str | None = None,
) -> ErrorEvidence:
    """Read error lines (HealthConfig.error_pattern unless `pattern`) and group them."""
    from cockpit.core.search.engine import HitsFound, SearchEvent, make_sources, run_search

    chosen = list(sources) if sources is not None else make_sources(config)
    service_of = {source.name: source.service for source in chosen}
    signature_of = _external_signature() or line_signature
    by_text: dict[str, Signature] = {}
    per_minute: dict[str, Counter[datetime]] = defaultdict(Counter)
    other = Signature("(other signatures)")
    total = 0

    def add(hit: Hit) -> None:
        nonlocal total
        total += 1
        service = hit.service or service_of.get(hit.source) or hit.source
        text = signature_of(hit.text)
        signature = by_text.get(text)
        if signature is None:
            if len(by_text) >= MAX_SIGNATURES:
                signature = other
            else:
                signature = by_text[text] = Signature(text, example=hit.text[:500])
        signature.count += 1
        signature.services[service] += 1
        if hit.ts is not None:
            if signature.first_seen is None or hit.ts < signature.first_seen:
                signature.first_seen = hit.ts
            if signature.last_seen is None or hit.ts > signature.last_seen:
                signature.last_seen = hit.ts
            per_minute[service][hit.ts.replace(second=0, microsecond=0)] += 1

    def on_event(event: SearchEvent) -> None:
        if isinstance(event, HitsFound):
            for hit in event.hits:
                add(hit)

    query = Query(pattern or config.health.error_pattern, regex=True, since=since, until=until)
    result = run_search(chosen, query, on_event, max_hits=0, lossless=True)
    signatures = sorted(by_text.values(), key=lambda s: -s.count)
    if other.count:
        signatures.append(other)
    return ErrorEvidence(since, until, signatures, dict(per_minute), total, result.errors)


def minutes_between(start: datetime, end: datetime) -> float:
    return (end - start) / timedelta(minutes=1)
