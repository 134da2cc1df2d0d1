"""Error evidence read from the logs: error signatures (first seen, last seen, counts,
services) and per-minute error counts per service. Shared by the tools, the heuristics and
triage.

Signatures come from the one clusterer (`cockpit.core.patterns.PatternIndex`), the one the
Logs pane and `cockpit patterns` use, so they all name the same failure the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cockpit.core.config import Config
from cockpit.core.patterns import PatternIndex, Signature
from cockpit.core.search.model import Hit, Source
from cockpit.core.signals import read_signals

if TYPE_CHECKING:
    from cockpit.core.search.logpass import LogPass

__all__ = ["ErrorEvidence", "Signature", "collect_errors", "minutes_between"]

ADD_BATCH = 1024
"""Error lines handed to the pattern index at a time."""


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
    logs: LogPass | None = None,
) -> ErrorEvidence:
    """Read error lines (HealthConfig.error_pattern unless `pattern`) and group them. `logs`:
    the command's one read of the log files, where it covers the window."""
    # A line's service is the one read_signals gives: its own, else its source's, else the
    # source's name (never the process a header names: deploys and health are per configured
    # service). Lines are grouped in batches: the index's loop is cheapest per batch.
    index = PatternIndex()
    service_of = index.service_of
    batch: list[Hit] = []

    def add(hit: Hit, service: str) -> None:
        if hit.service is None:
            service_of[hit.source] = service  # the same for every line of a source
        elif hit.service != service:
            hit = hit.replace(service=service)
        batch.append(hit)
        if len(batch) >= ADD_BATCH:
            index.add_many(batch)
            batch.clear()

    signals = read_signals(
        config,
        since,
        until,
        health=False,
        sources=sources,
        error_pattern=pattern,
        on_error_line=add,
        logs=logs,
    )
    index.add_many(batch)
    return ErrorEvidence(
        since,
        until,
        index.signatures(),
        signals.errors,  # per service per minute, counted in the same pass
        index.total,
        signals.source_errors,
        index.untracked,
    )


def minutes_between(start: datetime, end: datetime) -> float:
    return (end - start) / timedelta(minutes=1)
