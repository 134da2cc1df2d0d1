"""The shapes shared by every log source and the search engine."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True)
class Query:
    """One search, as the engine and every source receive it."""

    pattern: str
    regex: bool = False
    """False: `pattern` is a literal string."""
    ignore_case: bool = False
    since: datetime | None = None
    """Inclusive lower bound on a line's timestamp (UTC); None: no bound."""
    until: datetime | None = None
    """Exclusive upper bound on a line's timestamp (UTC); None: no bound."""
    services: frozenset[str] | None = None
    """Only sources of these services; None: all."""


@dataclass(frozen=True)
class Hit:
    """One matching line. `text` is raw outside text: sanitize before display."""

    source: str
    text: str
    service: str | None = None
    file: str | None = None
    line_no: int | None = None
    ts: datetime | None = None


class SourceState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"


@dataclass(frozen=True)
class SourceStatus:
    """Live progress of one source within one search."""

    source: str
    state: SourceState
    count: int = 0
    """Exact number of matching lines so far (never capped)."""
    error: str | None = None
    """One line naming the source and what went wrong."""
    warnings: tuple[str, ...] = ()
    """Non-fatal notes: a skipped binary file, a truncated .gz (named)."""


class SourceError(Exception):
    """A source failed; the message is one line that names the source (and file, if any)."""


class HitSink(Protocol):
    """Where a source reports, from its worker thread. Implementations must be thread-safe."""

    def hit(self, hit: Hit) -> None: ...

    def warn(self, message: str) -> None: ...


class Source(Protocol):
    """A searchable log source. `search` blocks; the engine runs each source in its own thread."""

    name: str
    service: str | None

    def search(self, query: Query, sink: HitSink, cancel: threading.Event) -> None:
        """Report every matching line to `sink`, checking `cancel` between batches.

        Raises SourceError with a one-line message on failure; hits already reported stand.
        """
        ...
