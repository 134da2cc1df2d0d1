"""The Logs pane's search as a pure generator of updates (toolong's `log_lines.py` style).

The pane's thread worker hands `worker.cancelled_event` down to `search_updates` and only posts
what it yields: batches of sanitized lines, source statuses, error-pattern snapshots, and the
end. Cancellation flows down through the event to every source; nothing here touches a widget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cockpit.core.patterns import PatternIndex
from cockpit.core.search.engine import HitsFound, SearchFinished, StatusChanged, stream_search
from cockpit.core.search.model import Hit, Query, Source, SourceState, SourceStatus
from cockpit.tui.panes.hit_log import line_of

MAX_SIGNATURES_SHOWN = 200
"""Signatures listed in the patterns view (the most frequent); a row counts the rest."""
PATTERN_LINE_LIMIT = 1_000_000
"""Matching lines grouped into signatures per search: bounds the CPU a flood costs (a few
microseconds a line); counts per source stay exact."""
PATTERN_REFRESH_SECONDS = 0.3
"""How often the patterns view is refreshed while a search runs."""


@dataclass(frozen=True)
class PatternRow:
    """One signature as the patterns view shows it (an immutable snapshot)."""

    key: str
    """The template, variable parts as `<*>`."""
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    trend: str
    new: bool
    example: Hit


@dataclass(frozen=True)
class LinesFound:
    """A coalesced batch of matching lines from the running search."""

    hits: tuple[Hit, ...]
    lines: tuple[str, ...]
    """`line_of` each hit, built in the worker thread."""
    dropped: int


@dataclass(frozen=True)
class SourcesChanged:
    """Per-source progress changed."""

    statuses: tuple[SourceStatus, ...]


@dataclass(frozen=True)
class PatternsFound:
    """A fresh snapshot of the error patterns."""

    rows: tuple[PatternRow, ...]
    hidden: int
    """Signatures past the ones shown (the least frequent)."""
    untracked: int
    """Lines past the pattern index's bound on distinct shapes (counted, not grouped)."""
    total: int


@dataclass(frozen=True)
class SearchDone:
    """The search finished or was stopped."""

    total: int
    elapsed: float
    cancelled: bool
    hits: tuple[Hit, ...] = ()
    """The newest hits by timestamp, oldest first: the final, time-ordered view."""
    lines: tuple[str, ...] = ()
    error: str | None = None
    """The search failed: one line."""


SearchUpdate = LinesFound | SourcesChanged | PatternsFound | SearchDone


def _patterns(index: PatternIndex) -> PatternsFound:
    start, end = index.first_seen, index.last_seen
    signatures = index.signatures(MAX_SIGNATURES_SHOWN)  # only these are built
    rows = tuple(
        PatternRow(
            sig.template,
            sig.count,
            sig.first_seen,
            sig.last_seen,
            sig.sparkline(start, end, 12) if start and end else "",
            index.is_new(sig),
            sig.example,
        )
        for sig in signatures
    )
    hidden = max(0, index.group_count - MAX_SIGNATURES_SHOWN)
    return PatternsFound(rows, hidden, index.untracked, index.total)


def search_updates(
    sources: Sequence[Source],
    query: Query,
    cancelled: threading.Event,
    *,
    new_since: datetime | None,
    max_hits: int,
) -> Iterator[SearchUpdate]:
    """Run the search, yielding what the pane shows; stops once `cancelled` is set, with a
    last `PatternsFound` and `SearchDone` either way. Raises PatternError for a bad regex."""
    index = PatternIndex(new_since=new_since)
    last_patterns = 0.0
    for event in stream_search(sources, query, cancelled, max_hits=max_hits):
        if isinstance(event, SearchFinished):
            result = event.result
            yield _patterns(index)
            final = tuple(result.hits)
            yield SearchDone(
                result.total,
                result.elapsed,
                result.cancelled,
                hits=final,
                lines=tuple(line_of(hit) for hit in final),
            )
        elif cancelled.is_set():
            continue  # stopped: the sources are winding down, nothing more to show
        elif isinstance(event, HitsFound):
            room = PATTERN_LINE_LIMIT - index.total
            if room > 0:
                index.add_many(event.hits[:room])
            yield LinesFound(event.hits, tuple(line_of(hit) for hit in event.hits), event.dropped)
            now = time.monotonic()
            if now - last_patterns > PATTERN_REFRESH_SECONDS:
                last_patterns = now
                yield _patterns(index)
        elif isinstance(event, StatusChanged):
            yield SourcesChanged(event.statuses)


def summary_line(
    total: int,
    statuses: Iterable[SourceStatus],
    max_lines: int,
    running: bool,
    elapsed: float,
    cancelled: bool,
) -> str:
    """`1,234 matching lines (newest 5,000 shown) in 3 sources, 1 failed · 0.42s`."""
    statuses = list(statuses)
    errors = sum(1 for s in statuses if s.state == SourceState.ERROR)
    shown = min(total, max_lines)
    text = f"{total:,} matching lines"
    if total > shown:
        text += f" (newest {shown:,} shown)"
    text += f" in {len(statuses)} sources"
    if errors:
        text += f", {errors} failed"
    if running:
        text += " · searching…"
    elif cancelled:
        text += " · stopped"
    else:
        text += f" · {elapsed:.2f}s"
    return text


def search_run_payload(query: Query, total: int) -> dict[str, Any]:
    """The `search.run` event a finished search records: what was searched, how many lines."""
    return {
        "query": query.pattern,
        "regex": query.regex,
        "hits": total,
        "summary": f"searched logs for {query.pattern!r}: {total:,} lines",
    }
