"""The shapes shared by every log source and the search engine."""

from __future__ import annotations

import threading
from enum import StrEnum

from cockpit.core.records import Record

TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Protocol
else:
    Protocol = object  # the protocols below are for the type checker; plain classes at run time


class Query(Record):
    """One search, as the engine and every source receive it."""

    _fields = ("pattern", "regex", "ignore_case", "since", "until", "services")

    pattern: str
    regex: bool
    """False: `pattern` is a literal string."""
    ignore_case: bool
    since: datetime | None
    """Inclusive lower bound on a line's timestamp (UTC); None: no bound."""
    until: datetime | None
    """Exclusive upper bound on a line's timestamp (UTC); None: no bound."""
    services: frozenset[str] | None
    """Only sources of these services; None: all."""

    def __init__(
        self,
        pattern: str,
        regex: bool = False,
        ignore_case: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        services: frozenset[str] | None = None,
    ) -> None:
        self.__dict__.update(
            pattern=pattern,
            regex=regex,
            ignore_case=ignore_case,
            since=since,
            until=until,
            services=services,
        )


class TimeWindow:
    """The query's time window as a predicate."""

    def __init__(self, query: Query) -> None:
        self.since = query.since
        self.until = query.until
        self.active = self.since is not None or self.until is not None

    def contains(self, ts: datetime | None) -> bool:
        """Whether a line with timestamp `ts` is inside (a line without one is not, when a
        window is set)."""
        if not self.active:
            return True
        if ts is None:
            return False
        if self.since is not None and ts < self.since:
            return False
        return not (self.until is not None and ts >= self.until)


class Hit(Record):
    """One matching line. `text` is raw outside text: sanitize before display."""

    _fields = ("source", "text", "service", "file", "line_no", "ts")

    source: str
    text: str
    service: str | None
    file: str | None
    line_no: int | None
    ts: datetime | None

    def __init__(
        self,
        source: str,
        text: str,
        service: str | None = None,
        file: str | None = None,
        line_no: int | None = None,
        ts: datetime | None = None,
    ) -> None:
        self.__dict__.update(
            source=source,
            text=text,
            service=service,
            file=file,
            line_no=line_no,
            ts=ts,
        )


class SourceState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"


class SourceStatus(Record):
    """Live progress of one source within one search."""

    _fields = ("source", "state", "count", "error", "warnings")

    source: str
    state: SourceState
    count: int
    """Exact number of matching lines so far (never capped)."""
    error: str | None
    """One line naming the source and what went wrong."""
    warnings: tuple[str, ...]
    """Non-fatal notes: a skipped binary file, a truncated .gz (named)."""

    def __init__(
        self,
        source: str,
        state: SourceState,
        count: int = 0,
        error: str | None = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.__dict__.update(
            source=source,
            state=state,
            count=count,
            error=error,
            warnings=warnings,
        )


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
