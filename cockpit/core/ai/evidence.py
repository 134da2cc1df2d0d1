"""Error evidence read from the logs: signatures (first seen, last seen, counts) and
per-minute error counts per service. Shared by the tools, the heuristics and triage.

Signatures are the search engine's (`cockpit.core.search.patterns.signature`), so the Logs
pane, triage and the heuristics name the same failure the same way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cockpit.core.config import Config
from cockpit.core.search.model import Hit, Source
from cockpit.core.search.patterns import signature as line_signature
from cockpit.core.signals import read_signals

MAX_SIGNATURES = 200
"""Distinct signatures reported, the most frequent; the rest are counted as "other"."""
MAX_TRACKED = 20_000
"""Distinct signatures counted while reading (bounds memory). Up to here the result does not
depend on the order in which parallel sources deliver their lines."""


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
    by_text: dict[str, Signature] = {}
    per_minute: dict[str, Counter[datetime]] = defaultdict(Counter)
    other = Signature("(other signatures)")
    total = 0

    def add(hit: Hit, service: str) -> None:
        nonlocal total
        total += 1
        text = line_signature(hit.text)
        signature = by_text.get(text)
        if signature is None:
            if len(by_text) >= MAX_TRACKED:
                signature = other
            else:
                signature = by_text[text] = Signature(text, example=hit.text[:500])
        elif hit.ts is not None and signature.first_seen and hit.ts < signature.first_seen:
            signature.example = hit.text[:500]  # the earliest line, whichever source was first
        signature.count += 1
        signature.services[service] += 1
        if hit.ts is not None:
            if signature.first_seen is None or hit.ts < signature.first_seen:
                signature.first_seen = hit.ts
            if signature.last_seen is None or hit.ts > signature.last_seen:
                signature.last_seen = hit.ts
            per_minute[service][hit.ts.replace(second=0, microsecond=0)] += 1

    signals = read_signals(
        config,
        since,
        until,
        health=False,
        sources=sources,
        error_pattern=pattern,
        on_error_line=add,
    )
    ranked = sorted(by_text.values(), key=lambda s: (-s.count, s.text))
    signatures = ranked[:MAX_SIGNATURES]
    for rest in ranked[MAX_SIGNATURES:]:
        other.count += rest.count
        other.services.update(rest.services)
    if other.count:
        signatures.append(other)
    return ErrorEvidence(since, until, signatures, dict(per_minute), total, signals.source_errors)


def minutes_between(start: datetime, end: datetime) -> float:
    return (end - start) / timedelta(minutes=1)
