"""Error evidence read from the logs: error signatures (first seen, last seen, counts,
services) and per-minute error counts per service. Shared by the tools, the heuristics and
triage.

Signatures come from the one clusterer (`cockpit.core.patterns.PatternIndex`), the one the
Logs pane and `cockpit patterns` use, so they all name the same failure the same way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.core.config import Config
from cockpit.core.patterns import PatternIndex, Signature
from cockpit.core.search.model import Query, Source

__all__ = ["ErrorEvidence", "Signature", "collect_errors", "minutes_between"]


@dataclass
class ErrorEvidence:
    """Error lines between `since` and `until`, grouped."""

    since: datetime
    until: datetime
    signatures: list[Signature]
    """Every signature, most frequent first (rare ones included: a rare one may be the
    incident)."""
    per_minute: dict[str, Counter[datetime]]
    """Error lines per service per minute."""
    total: int
    errors: list[str]
    """One line per log source that failed."""
    untracked: int = 0
    """Error lines past the pattern index's bound on distinct shapes (counted, not grouped)."""


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
    # A line's service: its source's, else the source's name (never the process a header
    # names: deploys and health are per configured service).
    service_of = {source.name: source.service or source.name for source in chosen}
    index = PatternIndex(service_of=service_of)
    per_minute: dict[str, Counter[datetime]] = defaultdict(Counter)

    def on_event(event: SearchEvent) -> None:
        if isinstance(event, HitsFound):
            index.add_many(event.hits)
            for hit in event.hits:
                if hit.ts is not None:
                    service = hit.service or service_of.get(hit.source) or hit.source
                    per_minute[service][hit.ts.replace(second=0, microsecond=0)] += 1

    query = Query(pattern or config.health.error_pattern, regex=True, since=since, until=until)
    result = run_search(chosen, query, on_event, max_hits=0, lossless=True)
    return ErrorEvidence(
        since,
        until,
        index.signatures(),
        dict(per_minute),
        index.total,
        result.errors,
        index.untracked,
    )


def minutes_between(start: datetime, end: datetime) -> float:
    return (end - start) / timedelta(minutes=1)
