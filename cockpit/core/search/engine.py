"""Run one search over every source in parallel, streaming results as they are found.

Each source runs in its own thread, so a slow or broken source never holds up the others and
reports its own error. Hits reach the caller in coalesced batches (one callback every
`flush_interval`, from one flusher thread), together with per-source status changes. Counts are
exact; only the newest `max_hits` hits (by timestamp) are kept, so memory stays bounded
whatever the size of the corpus.
"""

from __future__ import annotations

import functools
import importlib
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path

from cockpit.core.records import Record
from cockpit.core.search.files import Engine, FileLogSource, count_file_sources
from cockpit.core.search.matcher import re2_options, regex_of, validate
from cockpit.core.search.model import Hit, Query, Source, SourceError, SourceState, SourceStatus
from cockpit.core.search.pool import tune_gil

TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from cockpit.core.config import Config

DEFAULT_MAX_HITS = 5000
"""Hits kept (the newest, by timestamp) when the caller does not say."""
MAX_WARNINGS_PER_SOURCE = 20
"""Warnings kept per source; the rest are counted in one last line."""
STREAM_BUFFER = 20_000
"""Hits waiting for the next flush before a lossless search makes sources wait."""

# kind -> (module, class) of the remote sources, imported only when configured.
REMOTE_SOURCES: dict[str, tuple[str, str]] = {
    "journald": ("cockpit.core.search.journald", "JournaldLogSource"),
    "loki": ("cockpit.core.search.loki", "LokiLogSource"),
    "elasticsearch": ("cockpit.core.search.elasticsearch", "ElasticsearchLogSource"),
}


class HitsFound(Record):
    """A batch of hits, in the order they were found."""

    _fields = ("hits", "dropped")

    hits: tuple[Hit, ...]
    dropped: int
    """Hits not streamed because the caller asked for a lossy stream and fell behind."""

    def __init__(
        self,
        hits: tuple[Hit, ...],
        dropped: int = 0,
    ) -> None:
        self.__dict__.update(
            hits=hits,
            dropped=dropped,
        )


class StatusChanged(Record):
    """The sources whose status changed since the last event."""

    _fields = ("statuses",)

    statuses: tuple[SourceStatus, ...]

    def __init__(
        self,
        statuses: tuple[SourceStatus, ...],
    ) -> None:
        self.__dict__.update(
            statuses=statuses,
        )


class SearchResult(Record):
    """The end of a search."""

    _fields = ("statuses", "hits", "elapsed", "cancelled")
    _mutable = True

    statuses: dict[str, SourceStatus]
    hits: list[Hit]
    """The newest `max_hits` hits, oldest first."""
    elapsed: float
    cancelled: bool

    def __init__(
        self,
        statuses: dict[str, SourceStatus],
        hits: list[Hit],
        elapsed: float,
        cancelled: bool = False,
    ) -> None:
        self.__dict__.update(
            statuses=statuses,
            hits=hits,
            elapsed=elapsed,
            cancelled=cancelled,
        )

    @property
    def total(self) -> int:
        """Exact number of matching lines over all sources."""
        return sum(status.count for status in self.statuses.values())

    @property
    def errors(self) -> list[str]:
        """One line per failed source."""
        return [s.error for s in self.statuses.values() if s.error]


class SearchFinished(Record):
    """The last event of a search."""

    _fields = ("result",)

    result: SearchResult

    def __init__(
        self,
        result: SearchResult,
    ) -> None:
        self.__dict__.update(
            result=result,
        )


SearchEvent = HitsFound | StatusChanged | SearchFinished


class _BrokenSource:
    """A configured source that could not be built; searching it reports why."""

    def __init__(self, name: str, service: str | None, error: str) -> None:
        self.name = name
        self.service = service
        self.error = error

    def search(self, query: Query, sink: Any, cancel: threading.Event) -> None:
        raise SourceError(self.error)


def make_sources(config: Config, *, engine: Engine = "auto") -> list[Source]:
    """One `Source` per configured `[[sources]]` entry, in config order.

    A remote source whose module is missing or whose constructor fails becomes a source that
    reports that error when searched, instead of breaking the others.
    """
    # Not at module level: `cockpit search PATH` needs no config, and config.py loads pydantic.
    from cockpit.core.config import FileSource

    sources: list[Source] = []
    for cfg in config.sources:
        if isinstance(cfg, FileSource):
            if cfg.format != "text":
                # Container logs: the decoded text is searched, not the JSON/CRI envelope.
                from cockpit.core.search.containers import ContainerLogSource

                sources.append(ContainerLogSource.from_config(cfg, base_dir=config.base_dir))
                continue
            sources.append(FileLogSource.from_config(cfg, base_dir=config.base_dir, engine=engine))
            continue
        module_name, class_name = REMOTE_SOURCES[cfg.kind]
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
            sources.append(cls(cfg, base_dir=config.base_dir))
        except (ImportError, AttributeError) as exc:
            sources.append(
                _BrokenSource(
                    cfg.name,
                    cfg.service,
                    f"{cfg.name}: {cfg.kind} sources are not available ({exc})",
                )
            )
        except Exception as exc:
            sources.append(_BrokenSource(cfg.name, cfg.service, f"{cfg.name}: {exc}"))
    return sources


def adhoc_sources(
    paths: Sequence[str], *, base_dir: Path | None = None, engine: Engine = "auto"
) -> list[Source]:
    """One file source per command-line PATH (file, directory or glob), named by the PATH."""
    return [
        # Relative paths stay relative (shown as typed, like rg).
        FileLogSource(path, [path], base_dir=base_dir or Path(), engine=engine, explicit=True)
        for path in paths
    ]


class _SourceProgress(Record):
    _fields = ("name", "state", "count", "error", "warnings", "suppressed_warnings")
    _mutable = True

    name: str
    state: SourceState
    count: int
    error: str | None
    warnings: list[str]
    suppressed_warnings: int

    def __init__(
        self,
        name: str,
        state: SourceState = SourceState.PENDING,
        count: int = 0,
        error: str | None = None,
        warnings: list[str] | None = None,
        suppressed_warnings: int = 0,
    ) -> None:
        self.__dict__.update(
            name=name,
            state=state,
            count=count,
            error=error,
            warnings=[] if warnings is None else warnings,
            suppressed_warnings=suppressed_warnings,
        )

    def status(self) -> SourceStatus:
        warnings = tuple(self.warnings)
        if self.suppressed_warnings:
            warnings += (f"{self.name}: {self.suppressed_warnings} more warnings not shown",)
        return SourceStatus(self.name, self.state, self.count, self.error, warnings)


class _Collector:
    """Shared state of one search: counts, the newest hits, and what waits to be streamed."""

    def __init__(
        self,
        names: Iterable[str],
        *,
        max_hits: int,
        streaming: bool,
        lossless: bool,
        cancel: threading.Event,
    ) -> None:
        self.cancel = cancel
        self.lock = threading.Condition()
        self.progress = {name: _SourceProgress(name) for name in names}
        self.dirty: set[str] = set(self.progress)
        self.max_hits = max_hits
        self.newest: list[tuple[datetime, int, Hit]] = []
        self.sequence = 0
        self.streaming = streaming
        self.lossless = lossless
        self.pending: deque[Hit] = deque(maxlen=None if lossless else max(max_hits, 1000))
        self.dropped = 0
        self.wake = threading.Event()
        self.first_hit_sent = False

    def add_hits(self, name: str, hits: list[Hit]) -> None:
        with self.lock:
            self.progress[name].count += len(hits)
            self.dirty.add(name)
            if self.max_hits > 0:
                # Hits only (a count keeps none): what orders them loads with the first.
                import heapq
                from datetime import UTC, datetime

                no_time = datetime.min.replace(tzinfo=UTC)
                newest, push, pushpop = self.newest, heapq.heappush, heapq.heappushpop
                for hit in hits:
                    self.sequence += 1
                    entry = (hit.ts or no_time, self.sequence, hit)
                    if len(newest) < self.max_hits:
                        push(newest, entry)
                    elif entry > newest[0]:
                        pushpop(newest, entry)
            if not self.streaming:
                return
            if self.lossless:
                while len(self.pending) >= STREAM_BUFFER:
                    if self.cancel.is_set():
                        return  # nobody will drain any more: never block a source for good
                    self.wake.set()
                    self.lock.wait(0.5)
            else:
                overflow = len(self.pending) + len(hits) - (self.pending.maxlen or 0)
                self.dropped += max(0, min(overflow, len(self.pending) + len(hits)))
            self.pending.extend(hits)
            if not self.first_hit_sent:
                self.first_hit_sent = True
                self.wake.set()  # the first hit goes out at once

    def add_count(self, name: str, count: int) -> None:
        with self.lock:
            self.progress[name].count += count
            self.dirty.add(name)

    def add_warning(self, name: str, message: str) -> None:
        with self.lock:
            progress = self.progress[name]
            if len(progress.warnings) < MAX_WARNINGS_PER_SOURCE:
                progress.warnings.append(message)
            else:
                progress.suppressed_warnings += 1
            self.dirty.add(name)

    def set_state(self, name: str, state: SourceState, error: str | None = None) -> None:
        with self.lock:
            self.progress[name].state = state
            self.progress[name].error = error
            self.dirty.add(name)
        self.wake.set()

    def drain(self) -> tuple[tuple[Hit, ...], int, tuple[SourceStatus, ...]]:
        with self.lock:
            hits = tuple(self.pending)
            self.pending.clear()
            dropped, self.dropped = self.dropped, 0
            statuses = tuple(self.progress[name].status() for name in sorted(self.dirty))
            self.dirty.clear()
            self.lock.notify_all()
        return hits, dropped, statuses

    def statuses(self) -> dict[str, SourceStatus]:
        with self.lock:
            return {name: p.status() for name, p in self.progress.items()}

    def newest_hits(self) -> list[Hit]:
        with self.lock:
            return [entry[2] for entry in sorted(self.newest)]


class _Sink:
    """What one source reports into (thread-safe through the collector)."""

    def __init__(self, collector: _Collector, name: str) -> None:
        self._collector = collector
        self._name = name

    def hit(self, hit: Hit) -> None:
        self._collector.add_hits(self._name, [hit])

    def hits(self, hits: list[Hit]) -> None:
        """Several hits under one lock (file sources batch)."""
        self._collector.add_hits(self._name, hits)

    def warn(self, message: str) -> None:
        self._collector.add_warning(self._name, message)

    def add_count(self, count: int) -> None:
        self._collector.add_count(self._name, count)


def _run_source(
    source: Source,
    query: Query,
    collector: _Collector,
    cancel: threading.Event,
    count_only: bool,
) -> None:
    name = source.name
    collector.set_state(name, SourceState.RUNNING)
    sink = _Sink(collector, name)
    try:
        counter = getattr(source, "count", None)
        if count_only and callable(counter):
            counter(query, sink, cancel)
        else:
            source.search(query, sink, cancel)
    except SourceError as exc:
        collector.set_state(name, SourceState.ERROR, str(exc).splitlines()[0] if str(exc) else name)
        return
    except Exception as exc:  # a bug in one source must not take the search down
        collector.set_state(
            name,
            SourceState.ERROR,
            f"{name}: internal error: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
        )
        return
    collector.set_state(name, SourceState.DONE)


def _count_files_together(
    sources: list[FileLogSource],
    query: Query,
    collector: _Collector,
    cancel: threading.Event,
) -> None:
    """Count mode: the file sources counted together, so one rg counts all their plain files
    (`count_file_sources`); each source still gets its own count, warnings and error."""
    for source in sources:
        collector.set_state(source.name, SourceState.RUNNING)
    sinks = [_Sink(collector, source.name) for source in sources]
    try:
        outcomes = count_file_sources(sources, query, sinks, cancel)
    except Exception as exc:  # a bug must not take the search down: every source says it
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        outcomes = [f"{source.name}: internal error: {reason}" for source in sources]
    for source, error in zip(sources, outcomes, strict=True):
        if error is None:
            collector.set_state(source.name, SourceState.DONE)
        else:
            collector.set_state(source.name, SourceState.ERROR, error.splitlines()[0])


def _batches(
    collector: _Collector,
    threads: list[threading.Thread],
    cancel: threading.Event,
    flush_interval: float,
    cancel_grace: float,
) -> Iterator[SearchEvent]:
    """Coalesced batches until every source is done (or cancel's grace ran out)."""
    cancelled_at: float | None = None
    while True:
        finished = not any(thread.is_alive() for thread in threads)
        if not finished:
            collector.wake.wait(flush_interval)
            collector.wake.clear()
        hits, dropped, statuses = collector.drain()
        if hits or dropped:
            yield HitsFound(hits, dropped)
        if statuses:
            yield StatusChanged(statuses)
        if finished:
            return
        if cancel.is_set():
            cancelled_at = cancelled_at or time.perf_counter()
            if time.perf_counter() - cancelled_at > cancel_grace:
                return  # a source ignoring cancel is abandoned (its thread is a daemon)


def stream_search(
    sources: Sequence[Source],
    query: Query,
    cancel: threading.Event | None = None,
    *,
    max_hits: int = DEFAULT_MAX_HITS,
    streaming: bool = True,
    count_only: bool = False,
    lossless: bool = False,
    flush_interval: float = 0.05,
    cancel_grace: float = 2.0,
) -> Generator[SearchEvent, None, None]:
    """Search every source in parallel, as a generator of events (toolong's `log_lines` style).

    Yields `HitsFound` batches and `StatusChanged` updates, coalesced every `flush_interval`,
    then one `SearchFinished`. Cancellation flows down: set `cancel` (a UI worker passes its
    `worker.cancelled_event`) and every source stops; closing the generator early does the
    same. `streaming=False` keeps hits out of the batches (counts and the newest `max_hits`
    only); `lossless=True` streams every hit (sources wait when the consumer falls behind),
    otherwise only the newest hits are streamed when the consumer is slow. `count_only` skips
    building hits where a source can (files). Sources outside `query.services` are not
    searched. Raises PatternError for an invalid regex (on the first `next`).
    """
    validate(query)
    tune_gil()  # before any source thread starts; the scan pool itself is made on first use
    cancel = cancel or threading.Event()
    selected = [
        s
        for s in sources
        if query.services is None or s.service is None or s.service in query.services
    ]
    started = time.perf_counter()
    collector = _Collector(
        [s.name for s in selected],
        max_hits=max_hits,
        streaming=streaming and not count_only,
        lossless=lossless,
        cancel=cancel,
    )
    together = (
        [s for s in selected if type(s) is FileLogSource and s.engine != "inprocess"]
        if count_only
        else []
    )
    threads = [
        threading.Thread(
            target=_run_source,
            args=(source, query, collector, cancel, count_only),
            name=f"search-{source.name}",
            daemon=True,
        )
        for source in selected
        if source not in together
    ]
    if together:
        threads.append(
            threading.Thread(
                target=_count_files_together,
                args=(together, query, collector, cancel),
                name="search-count-files",
                daemon=True,
            )
        )
    for thread in threads:
        thread.start()
    done = False
    try:
        yield from _batches(collector, threads, cancel, flush_interval, cancel_grace)
        done = True
    finally:
        if not done:
            cancel.set()  # the consumer failed or stopped early (a closed pipe, Ctrl-C)
    yield SearchFinished(
        SearchResult(
            statuses=collector.statuses(),
            hits=collector.newest_hits(),
            elapsed=time.perf_counter() - started,
            cancelled=cancel.is_set(),
        )
    )


def run_search(
    sources: Sequence[Source],
    query: Query,
    on_event: Callable[[SearchEvent], None] | None = None,
    cancel: threading.Event | None = None,
    *,
    max_hits: int = DEFAULT_MAX_HITS,
    count_only: bool = False,
    lossless: bool = False,
    flush_interval: float = 0.05,
    cancel_grace: float = 2.0,
) -> SearchResult:
    """`stream_search` with a callback; blocks until all sources are done (or cancelled).

    `on_event` receives every event, always from the calling thread. If it raises (a closed
    pipe, Ctrl-C), every source is cancelled. Raises PatternError for an invalid regex.
    """
    events = stream_search(
        sources,
        query,
        cancel,
        max_hits=max_hits,
        streaming=on_event is not None,
        count_only=count_only,
        lossless=lossless,
        flush_interval=flush_interval,
        cancel_grace=cancel_grace,
    )
    try:
        for event in events:
            if on_event is not None:
                on_event(event)
            if isinstance(event, SearchFinished):
                return event.result
    finally:
        events.close()
    raise AssertionError("a search always ends with SearchFinished")  # pragma: no cover


def minute_counts(
    config: Config,
    query: Query,
    *,
    services: Iterable[str] | None = None,
    sources: Sequence[Source] | None = None,
    problems: list[str] | None = None,
) -> dict[str | None, Counter[datetime]]:
    """Matching lines per service per minute (UTC, timestamp floored to the minute).

    Used for per-minute error and request rates from logs (HealthConfig's `error_pattern`).
    Local files take a fast path that parses few timestamps and assumes each file is in time
    order (see `FileLogSource.minute_counts`). Lines without a timestamp (even inherited) are
    not counted; failed sources count nothing. `problems` (optional) receives one line per
    failed source and per file skipped or read only in part, so whoever relies on the counts
    (health, rollback) can say they are incomplete. Raises PatternError for an invalid regex.
    """
    from cockpit.core.timefmt import floor_minute  # not loaded by `search --count`

    if services is not None:
        query = query.replace(services=frozenset(services))
    validate(query)
    chosen = list(sources) if sources is not None else make_sources(config)
    selected = [
        s
        for s in chosen
        if query.services is None or s.service is None or s.service in query.services
    ]
    counts: dict[str | None, Counter[datetime]] = defaultdict(Counter)
    lock = threading.Lock()
    cancel = threading.Event()

    def count_files(source: FileLogSource) -> None:
        try:
            found = source.minute_counts(query, cancel, problems)
        except SourceError as exc:
            if problems is not None:
                problems.append(str(exc))
            return  # a failed source counts nothing, as documented
        with lock:
            counts[source.service].update(found)

    # Local files take the fast path (no hits built); other sources go through run_search.
    threads = [
        threading.Thread(target=count_files, args=(s,), name=f"minutes-{s.name}", daemon=True)
        for s in selected
        if isinstance(s, FileLogSource)
    ]
    for thread in threads:
        thread.start()
    others = [s for s in selected if not isinstance(s, FileLogSource)]
    if others:
        service_of = {source.name: source.service for source in others}

        def on_event(event: SearchEvent) -> None:
            if not isinstance(event, HitsFound):
                return
            with lock:
                for hit in event.hits:
                    if hit.ts is None:
                        continue
                    service = hit.service if hit.service is not None else service_of.get(hit.source)
                    counts[service][floor_minute(hit.ts)] += 1

        result = run_search(others, query, on_event, max_hits=0, lossless=True)
        if problems is not None:
            problems.extend(result.errors)
    for thread in threads:
        thread.join()
    return {service: counter for service, counter in counts.items() if counter}


MAX_HIGHLIGHTS = 20
"""Match spans marked per line: enough for any line a person reads."""


@functools.lru_cache(maxsize=32)
def _highlight_regex(pattern: str, ignore_case: bool) -> Any:
    import re2

    try:
        return re2.compile(pattern, options=re2_options(ignore_case=ignore_case))
    except re2.error:
        return None


def highlight_spans(query: Query, text: str) -> list[tuple[int, int]]:
    """Where `query` matches in `text` (a line as shown, sanitized): up to `MAX_HIGHLIGHTS`
    non-empty (start, end) spans, by linear-time RE2; none for a pattern RE2 cannot compile."""
    compiled = _highlight_regex(regex_of(query), query.ignore_case)
    if compiled is None:
        return []
    found = []
    for match in compiled.finditer(text):
        if match.end() > match.start():
            found.append((match.start(), match.end()))
        if len(found) >= MAX_HIGHLIGHTS:
            break
    return found
