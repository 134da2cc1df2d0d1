"""One read of the local log files for a command that asks them several questions.

Rollback and triage ask the same files for request and error lines per minute, for the error
lines themselves (signatures), and for a failing service's own lines around its burst. Asked
one at a time, each question read, decompressed and matched every file again, with one rg
process per block. A `LogPass` reads each file once (in the shared scan pool), keeps the
blocks inside its window, and finds a pattern's lines with one rg process over every kept
block at once (fed as one stream while the next files are read; a block is counted as soon as
rg has reported past it), once per pattern: each later question costs only what it adds.
The answers are exactly those of `FileLogSource.minute_counts` and of a search: the same
files (globs, rotations, `_check_file`), the same blocks, the same timestamp rules
(`_count_run`, `_BlockTimestamps`), the same warnings and errors.

Only local text files (`FileLogSource`) are read this way; `covers` says when a question can
be answered here, and a caller asks the engine otherwise. Blocking I/O: call from a worker or
a headless command.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar, overload

from cockpit.core.search.blocks import _BlockTimestamps, _count_run, _first_timestamp, _Window
from cockpit.core.search.files import (
    FileLogSource,
    _decode,
    _FileFailure,
    _matcher_for,
    _Skip,
)
from cockpit.core.search.matcher import (
    UTF8_BOM,
    LineMatcher,
    MatchFailure,
    stream_rg,
)
from cockpit.core.search.model import Hit, Query, Source
from cockpit.core.search.paths import (
    _file_reference,
    expand_paths,
    find_rg,
    is_gzip,
    rotated_before,
)
from cockpit.core.search.textlog import _SEARCHED_AS_TEXT

if TYPE_CHECKING:
    from concurrent.futures import Future

MAX_KEPT_BYTES = 256 << 20
"""Most bytes of log text a pass may keep in memory. Where the files could hold more (see
`GZIP_RATIO`), `covers` says no before anything is read, and every question is asked the usual
way: streamed, slower, the same answers. The budget also holds while reading: a .gz can
inflate far beyond its estimate (repetitive access logs compress 250x), so a pass that would
keep more stops reading, lets go of what it kept, answers the question it was asked the usual
way, and `covers` says no from then on."""
GZIP_RATIO = 10
"""A .gz file is budgeted at this many times its size on disk (logs compress 5-10x) before
anything is read; what it really inflates to is counted as it is read."""


MATCH_LINE_BYTES = 88
"""What the pass keeps per matching line (rg's `OFFSET:[Omitted long matching line]` and its
list slot, as measured), counted in the budget: a request pattern matches nearly every line,
so for short lines the matches weigh more than the text (50 MB of 35-byte lines, two
patterns: 260 MB)."""


class _OverBudget(Exception):
    """The pass would keep more than `MAX_KEPT_BYTES` of log text."""


class _File:
    """One file's blocks that end inside the pass's window, with what each block inherits."""

    def __init__(
        self, source: FileLogSource, path: Path, identity: tuple[int, int, int] | None = None
    ) -> None:
        self.source = source
        self.path = path
        self.identity = identity
        """(device, inode, size) of the file when it was chosen: what was read is valid for
        that file as long as it is the same one, not shorter (see `LogPass._file`)."""
        self.reference = _file_reference(path)
        self.blocks: list[bytes] = []
        self.inherited: list[datetime | None] = []
        """The timestamp carried into each kept block (the previous block's last)."""
        self.ends: list[datetime | None] = []
        """Each kept block's last timestamp."""
        self.line_bases: list[int] = []
        """The line number of each kept block's first line."""
        self.first_kept = False
        """The first kept block is the file's first block (where rg skips a BOM)."""
        self.warnings: list[str] = []
        """What reading it said (a damaged .gz, binary content), named as `_warn` names it."""
        self.failure: str | None = None
        self.offsets: dict[Query, list[Sequence[int]]] = {}
        """Pattern -> per kept block, the starts of its matching lines."""
        self.loaded = False

    def load(
        self, since: datetime | None, keep: Callable[[int], bool], over: threading.Event
    ) -> None:
        """Read the file once, keeping the blocks that end at or after `since`. `keep(size)`
        says whether the pass may keep `size` more bytes; when it may not, `over` is set (and
        stops every other read) and _OverBudget is raised."""
        sink = _WarningSink(self.warnings)
        inherited: datetime | None = None
        line_base = 1
        first = True
        try:
            for block in self.source._blocks(self.path, over, sink):
                at_start, first = first, False
                end = _BlockTimestamps(block, inherited, self.reference).at(len(block))
                if not (since is not None and end is not None and end < since):
                    if not keep(len(block)):
                        over.set()
                        break
                    if not self.blocks:
                        self.first_kept = at_start
                    self.blocks.append(block)
                    self.inherited.append(inherited)
                    self.ends.append(end)
                    self.line_bases.append(line_base)
                line_base += block.count(b"\n")
                inherited = end
        except _FileFailure as exc:
            self.failure = str(exc)
        except Exception as exc:  # a bug: this file's error, naming it, never the command's
            self.failure = f"{self.path}: internal error: {type(exc).__name__}: {exc}"
        if over.is_set():
            self.blocks, self.inherited, self.ends, self.line_bases = [], [], [], []
            raise _OverBudget(str(self.path))


class _WarningSink:
    """Keeps the warnings `FileLogSource._blocks` gives (hits never come here)."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings

    def hit(self, hit: Hit) -> None:
        pass

    def warn(self, message: str) -> None:
        self.warnings.append(message)


class _Selection:
    """The files of one source a question reads, and what choosing them said."""

    def __init__(self) -> None:
        self.files: list[_File] = []
        self.errors: list[str] = []
        self.skip_warnings: list[str] = []
        """Warnings of files skipped whole (binary content)."""
        self.by_rg: set[Path] = set()
        """Files a search hands to rg itself, which gives a first line without its BOM."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _asked_alone(
    question: Callable[Concatenate[LogPass, _P], _R],
) -> Callable[Concatenate[LogPass, _P], _R]:
    """One question of a pass at a time (see `LogPass._asking`)."""

    @functools.wraps(question)
    def asked(self: LogPass, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._asking:
            return question(self, *args, **kwargs)

    return asked


class LogPass:
    """Every local log file read once for [since, until); see the module docstring."""

    def __init__(
        self, sources: Sequence[Source], *, since: datetime | None, until: datetime | None
    ) -> None:
        self.sources = list(sources)
        self.since = since
        self.until = until
        self._files: dict[tuple[str, Path], _File] = {}
        self._lock = threading.Lock()
        self._budget_ok: bool | None = None
        self._kept = 0
        self._over = threading.Event()
        self._asking = threading.RLock()
        """Held for a whole question: two threads asking at once would take blocks another is
        still reading, or lines another is still finding, for the whole file."""

    @classmethod
    def for_config(cls, config: object, *, since: datetime, until: datetime) -> LogPass | None:
        """A pass over `config`'s sources, or None when any of them is not local text files
        (those are read the usual way, and so is everything else then)."""
        from cockpit.core.search.engine import make_sources

        sources = make_sources(config)  # type: ignore[arg-type]
        if not sources or not all(type(s) is FileLogSource for s in sources):
            return None
        return cls(sources, since=since, until=until)

    def covers(self, since: datetime | None, until: datetime | None) -> bool:
        """Whether a question about [since, until) can be answered from this pass."""
        if self._budget_ok is None:
            self._budget_ok = self._estimate() <= MAX_KEPT_BYTES
        if not self._budget_ok:
            return False
        early = self.since is None or (since is not None and since >= self.since)
        late = self.until is None or (until is not None and until <= self.until)
        return early and late

    def _estimate(self) -> int:
        """The most bytes the sources' files could put in memory (window or not)."""
        total = 0
        for source in self.sources:
            if not isinstance(source, FileLogSource):
                continue
            listing = expand_paths(source.paths, source.base_dir, explicit=source.explicit)
            for path in listing.files:
                try:
                    size = path.stat().st_size
                except OSError:
                    continue  # the question that reads it will say why
                total += size * GZIP_RATIO if is_gzip(path) else size
        return total

    # -- questions -------------------------------------------------------------------------

    def minute_counts(
        self,
        pattern: str,
        *,
        since: datetime | None,
        until: datetime | None,
        services: Iterable[str] | None = None,
        problems: list[str] | None = None,
    ) -> dict[str | None, Counter[datetime]]:
        """What `engine.minute_counts` returns for a regex `pattern` over these sources."""
        return self.minute_counts_many(
            [pattern], since=since, until=until, services=services, problems=problems
        )[0]

    @_asked_alone
    def minute_counts_many(
        self,
        patterns: Sequence[str],
        *,
        since: datetime | None,
        until: datetime | None,
        services: Iterable[str] | None = None,
        problems: list[str] | None = None,
    ) -> list[dict[str | None, Counter[datetime]]]:
        """`minute_counts` for each pattern, the files read and matched together."""
        wanted = frozenset(services) if services is not None else None
        queries = [self._query(p, since, until, wanted) for p in patterns]
        window = _Window(queries[0])
        chosen = self._chosen(wanted)
        selections = {s.name: self._select(s, window) for s in chosen}
        files = [f for sel in selections.values() for f in sel.files]
        keys = [self._key(q) for q in queries]
        per_file: dict[tuple[Query, int], Counter[datetime]] = {
            (key, id(f)): Counter() for key in keys for f in files
        }
        counted: set[tuple[Query, int, int]] = set()

        def count(key: Query, file: _File, index: int) -> None:
            # Runs as soon as the block's lines are known (in the pattern's rg thread).
            if (key, id(file), index) in counted or (key, id(file)) not in per_file:
                return
            counted.add((key, id(file), index))
            end = file.ends[index]
            if window.since is not None and end is not None and end < window.since:
                return
            starts = file.offsets[key][index]
            if starts:
                block, inherited = file.blocks[index], file.inherited[index]
                counts = per_file[(key, id(file))]
                _count_run(block, starts, inherited, file.reference, window, counts)

        try:
            failed = self._prepare(files, queries, count)
        except _OverBudget:
            self._give_up()
            return [self._engine_counts(query, wanted, problems) for query in queries]
        for key in keys:  # blocks whose lines an earlier question found
            if key in failed:
                continue
            for file in dict.fromkeys(files):
                if file.failure is None:
                    for index in range(len(file.blocks)):
                        count(key, file, index)
        results: list[dict[str | None, Counter[datetime]]] = []
        for key in keys:
            totals: dict[str | None, Counter[datetime]] = {}
            for source in chosen:
                selection = selections[source.name]
                found = self._source_counts(
                    source, selection, key, per_file, problems, failed.get(key)
                )
                if found is not None:
                    totals.setdefault(source.service, Counter()).update(found)
            results.append({service: c for service, c in totals.items() if c})
        return results

    @_asked_alone
    def lines(
        self,
        patterns: Sequence[str],
        *,
        since: datetime | None,
        until: datetime | None,
        services: Iterable[str] | None = None,
        errors: list[str] | None = None,
    ) -> list[Hit]:
        """The lines matching any of `patterns` (regexes) as a lossless search gives them, file
        by file in order; `errors` receives one line per failed source, as a search says it."""
        wanted = frozenset(services) if services is not None else None
        queries = [self._query(p, since, until, wanted) for p in patterns]
        window = _Window(queries[0])
        chosen = self._chosen(wanted)
        selections = {s.name: self._select(s, window) for s in chosen}
        files = [f for sel in selections.values() for f in sel.files]
        try:
            failed = self._prepare(files, queries)
        except _OverBudget:
            self._give_up()
            return self._engine_lines(patterns, chosen, since, until, wanted, errors)
        unmatched = next((failed[k] for k in map(self._key, queries) if k in failed), None)
        hits: list[Hit] = []
        for source in chosen:
            selection = selections[source.name]
            problems = list(selection.errors)
            for file in selection.files:
                if file.failure is not None:
                    problems.append(file.failure)
                elif unmatched is None:
                    hits += self._hits(file, queries, window, file.path in selection.by_rg)
            if unmatched is not None and any(f.failure is None for f in selection.files):
                problems.append(unmatched)
            if problems and errors is not None:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                prefix = "" if source.explicit else f"{source.name}: "
                errors.append(f"{prefix}{problems[0]}{more}".splitlines()[0])
        return hits

    # -- over budget: the usual way --------------------------------------------------------

    def _keep(self, size: int) -> bool:
        """Whether the pass may keep `size` more bytes (counted when it may)."""
        with self._lock:
            self._kept += size
            return self._kept <= MAX_KEPT_BYTES

    def _charge(self, matches: int) -> None:
        """Count `matches` more matching lines kept; raises _OverBudget past the budget."""
        if matches and not self._keep(matches * MATCH_LINE_BYTES):
            self._over.set()
            raise _OverBudget

    def _give_up(self) -> None:
        """Let go of every kept block: from now on `covers` says no."""
        with self._lock:
            self._budget_ok = False
            self._files.clear()
            self._kept = 0

    def _engine_counts(
        self, query: Query, services: frozenset[str] | None, problems: list[str] | None
    ) -> dict[str | None, Counter[datetime]]:
        from cockpit.core.config import Config
        from cockpit.core.search.engine import minute_counts

        return minute_counts(
            Config(), query, services=services, sources=self.sources, problems=problems
        )

    def _engine_lines(
        self,
        patterns: Sequence[str],
        chosen: list[FileLogSource],
        since: datetime | None,
        until: datetime | None,
        services: frozenset[str] | None,
        errors: list[str] | None,
    ) -> list[Hit]:
        from cockpit.core.search.engine import HitsFound, SearchEvent, run_search

        pattern = patterns[0] if len(patterns) == 1 else "|".join(f"(?:{p})" for p in patterns)
        query = Query(pattern, regex=True, since=since, until=until, services=services)
        hits: list[Hit] = []

        def on_event(event: SearchEvent) -> None:
            if isinstance(event, HitsFound):
                hits.extend(event.hits)

        result = run_search(chosen, query, on_event, max_hits=0, lossless=True)
        if errors is not None:
            errors += result.errors
        return hits

    # -- internals -------------------------------------------------------------------------

    @staticmethod
    def _query(
        pattern: str,
        since: datetime | None,
        until: datetime | None,
        services: frozenset[str] | None,
    ) -> Query:
        query = Query(pattern=pattern, regex=True, since=since, until=until, services=services)
        _matcher_for(query)  # raises PatternError as a search would
        return query

    def _chosen(self, services: frozenset[str] | None) -> list[FileLogSource]:
        # As a search: a source outside `services` is not read (one without a service neither).
        found = [s for s in self.sources if isinstance(s, FileLogSource)]
        return [s for s in found if services is None or s.service in services]

    def _select(self, source: FileLogSource, window: _Window) -> _Selection:
        """The files `source` reads for `window`, chosen exactly as `FileLogSource` chooses."""
        selection = _Selection()
        listing = expand_paths(source.paths, source.base_dir, explicit=source.explicit)
        selection.errors += listing.errors
        before = rotated_before(listing.files, window.since)
        for path in listing.files:
            if path in before:
                continue
            verdict = source._check_file(path, window)
            if isinstance(verdict, _Skip):
                if verdict.error:
                    selection.errors.append(verdict.error)
                if verdict.warning:
                    named = (
                        verdict.warning if source.explicit else f"{source.name}: {verdict.warning}"
                    )
                    selection.skip_warnings.append(named)
                continue
            selection.files.append(self._file(source, path))
            rg = source.engine in ("auto", "rg") and find_rg() is not None
            if (
                rg
                and b"\n" not in os.fsencode(path)
                and (source.engine == "rg" or not (is_gzip(path) or verdict.filtered))
            ):
                selection.by_rg.add(path)
        return selection

    def _file(self, source: FileLogSource, path: Path) -> _File:
        """The pass's read of `path`, or a new one where the name now holds another file (a
        rotation renamed it and a new one started) or a shorter one (truncated): what was read
        then would be counted twice or no longer be there. A file only appended to keeps its
        first read: every question sees the same lines."""
        try:
            info = path.stat()
            identity: tuple[int, int, int] | None = (info.st_dev, info.st_ino, info.st_size)
        except OSError:
            identity = None  # reading it will say why
        with self._lock:
            key = (source.name, path)
            file = self._files.get(key)
            if file is not None and not _same_file(file.identity, identity):
                self._kept -= sum(len(block) for block in file.blocks)
                file = None
            if file is None:
                file = self._files[key] = _File(source, path, identity)
            return file

    def _prepare(
        self,
        files: list[_File],
        queries: list[Query],
        on_block: Callable[[Query, _File, int], None] | None = None,
    ) -> dict[Query, str]:
        """Read the files not read yet and find each pattern's lines where they are not known,
        as a pipeline: files are read in the scan pool (isal releases the GIL), each pattern's
        rg process takes a file's blocks as soon as it is read, and `on_block(pattern, file,
        index)` runs as soon as a block's lines are known, while rg goes on with the next.

        Returns the patterns whose lines could not be found (rg failed or was killed), each
        with the one line a search says for it: every source it was to read failed, as each
        source's search would have. Raises _OverBudget."""
        from cockpit.core.search.pool import scan_pool

        unique = list(dict.fromkeys(files))
        todo = [f for f in unique if not f.loaded]
        for file in todo:
            file.loaded = True
        loading = {
            id(f): scan_pool().submit(f.load, self.since, self._keep, self._over) for f in todo
        }
        jobs = []
        for key in dict.fromkeys(self._key(q) for q in queries):
            missing = [f for f in unique if key not in f.offsets]
            if missing:
                jobs.append((key, missing))
        failures: list[BaseException] = []
        failed: dict[Query, str] = {}

        def run(key: Query, missing: list[_File]) -> None:
            try:
                self._match_one(key, missing, loading, on_block)
            except _OverBudget:
                pass  # said below
            except MatchFailure as exc:
                failed[key] = str(exc)
            except Exception as exc:  # a bug: still each source's error, as `_guard` says it
                failed[key] = f"internal error: {type(exc).__name__}: {exc}"
            except BaseException as exc:  # re-raised in the calling thread
                failures.append(exc)

        threads = [threading.Thread(target=run, args=job, name="logpass-rg") for job in jobs[1:]]
        for thread in threads:
            thread.start()
        if jobs:
            run(*jobs[0])
        for thread in threads:
            thread.join()
        for job in loading.values():
            with contextlib.suppress(_OverBudget):
                job.result()
        if self._over.is_set():
            raise _OverBudget
        if failures:
            raise failures[0]
        return failed

    @staticmethod
    def _key(query: Query) -> Query:
        return Query(query.pattern, regex=True)

    def _match_one(
        self,
        key: Query,
        files: list[_File],
        loading: dict[int, Future[None]],
        on_block: Callable[[Query, _File, int], None] | None,
    ) -> None:
        """`key`'s matching lines in every block of `files` (one rg process over all of them)."""
        matcher = _matcher_for(key)

        def ready(file: _File) -> bool:
            job = loading.get(id(file))
            if job is not None:
                job.result()
            return file.failure is None

        def done(file: _File, index: int, starts: Sequence[int]) -> None:
            file.offsets[key][index] = starts
            if on_block is not None:
                on_block(key, file, index)

        fed: list[_File] = []
        if matcher.rg is None:  # RE2 stands in, line by line, as `spans` does
            try:
                for file in files:
                    if ready(file):
                        file.offsets[key] = [[] for _ in file.blocks]
                        fed.append(file)
                        for index, block in enumerate(file.blocks):
                            first = file.first_kept and index == 0
                            spans = matcher.spans(block, file_start=first)
                            self._charge(len(spans))
                            done(file, index, [s for s, _e in spans])
            except BaseException:
                for file in fed:  # half-known lines are never taken for known ones
                    file.offsets.pop(key, None)
                raise
            return
        # A BOM at a file's start is skipped by rg only there: that block is matched alone.
        pieces: list[tuple[_File, int, int, int]] = []
        alone: list[tuple[_File, int]] = []

        def blocks() -> Iterator[bytes]:
            position = 0
            for file in files:
                if not ready(file):
                    continue
                file.offsets[key] = [[] for _ in file.blocks]
                fed.append(file)
                for index, block in enumerate(file.blocks):
                    if index == 0 and file.first_kept and block.startswith(UTF8_BOM):
                        alone.append((file, index))
                        continue
                    pieces.append((file, index, position, position + len(block)))
                    position += len(block)
                    yield block

        try:
            lines: list[bytes] = []
            cursor = finished = charged = 0
            for seen in _stream_matches(matcher, blocks(), lines):
                charged, grown = len(lines), len(lines) - charged
                self._charge(grown)
                # rg reports in order: a block is complete once a later line is reported.
                while finished < len(pieces) and (seen is None or pieces[finished][3] <= seen):
                    file, index, start, stop = pieces[finished]
                    end = bisect.bisect_left(lines, stop, cursor, key=_offset_of)
                    done(file, index, _Starts(lines, cursor, end, start))
                    cursor, finished = end, finished + 1
            for file, index in alone:
                spans = matcher.spans(file.blocks[index], file_start=True)
                done(file, index, [s for s, _e in spans])
        except BaseException:
            for file in fed:  # half-known lines are never taken for known ones
                file.offsets.pop(key, None)
            raise

    def _source_counts(
        self,
        source: FileLogSource,
        selection: _Selection,
        key: Query,
        per_file: dict[tuple[Query, int], Counter[datetime]],
        problems: list[str] | None,
        match_failure: str | None = None,
    ) -> Counter[datetime] | None:
        """`source.minute_counts` from its files' counts; None where it would have failed
        (`match_failure`: why the pattern's lines could not be found in its files)."""
        if problems is not None:
            problems += selection.skip_warnings
        counts: Counter[datetime] = Counter()
        errors = list(selection.errors)
        for file in selection.files:
            if problems is not None:
                # A text log with stray NULs is counted in full: that note is no problem here.
                # (`_blocks` named the source in its warnings already.)
                problems += [m for m in file.warnings if not m.endswith(_SEARCHED_AS_TEXT)]
            if file.failure is not None:
                errors.append(file.failure)
                continue
            counts.update(per_file[(key, id(file))])
        if match_failure is not None and any(f.failure is None for f in selection.files):
            errors.append(match_failure)
        if errors:
            if problems is not None:
                prefix = "" if source.explicit else f"{source.name}: "
                problems.append(f"{prefix}{errors[0]}")
            return None
        return counts

    def _hits(
        self, file: _File, queries: list[Query], window: _Window, by_rg: bool = False
    ) -> list[Hit]:
        """The file's lines matching any query inside `window`, as `_scan_file` gives them
        (`by_rg`: as rg gives them, the file's first line without a UTF-8 BOM)."""
        source = file.source
        name = str(file.path)
        keys = [self._key(q) for q in queries]
        hits: list[Hit] = []
        for index, block in enumerate(file.blocks):
            if window.until is not None:
                first_ts = _first_timestamp(block[:4096], file.reference)
                if first_ts is not None and first_ts >= window.until:
                    break  # logs are written in order: the rest is later still
            end = file.ends[index]
            if window.since is not None and end is not None and end < window.since:
                continue
            if len(keys) == 1:
                starts = file.offsets[keys[0]][index]
            else:
                starts = sorted(set().union(*(file.offsets[k][index] for k in keys)))
            if not starts:
                continue
            timeline = _BlockTimestamps(block, file.inherited[index], file.reference)
            previous = 0
            line_no = file.line_bases[index]
            for start in starts:
                ts = timeline.at(start)
                if not window.contains(ts):
                    continue
                line_no += block.count(b"\n", previous, start)
                previous = start
                stop = block.find(b"\n", start)
                begin = start
                if by_rg and start == 0 and index == 0 and file.first_kept:
                    begin = len(UTF8_BOM) if block.startswith(UTF8_BOM) else 0
                hits.append(
                    Hit(
                        source=source.name,
                        text=_decode(block[begin:stop]),
                        service=source.service,
                        file=name,
                        line_no=line_no,
                        ts=ts,
                    )
                )
        return hits


def _same_file(read: tuple[int, int, int] | None, now: tuple[int, int, int] | None) -> bool:
    """Whether a file read as `read` (device, inode, size) is still the one named: the same
    device and inode, no shorter."""
    if read is None or now is None:
        return read == now
    return read[:2] == now[:2] and now[2] >= read[2]


def _stream_matches(
    matcher: LineMatcher, blocks: Iterator[bytes], lines: list[bytes]
) -> Iterator[int | None]:
    """Run one rg process over the stream `blocks` (fed by a thread), appending its output
    line (`OFFSET:...`) for each matching line to `lines` as it comes; yields the offset of
    the latest line after each read, then None at the end. Raises MatchFailure."""
    options = ["--byte-offset", "--no-line-number", "--max-columns=1", "--encoding=none"]
    carry = b""
    for chunk in stream_rg(matcher._argv(*options), blocks):
        parts = (carry + chunk).split(b"\n")
        carry = parts.pop()
        if parts:
            lines += parts
            yield _offset_of(parts[-1])
    if carry:
        lines.append(carry)
    yield None


def _offset_of(line: bytes) -> int:
    return int(line.partition(b":")[0])


class _Starts(Sequence[int]):
    """The starts of one block's matching lines, read from rg's output lines for the whole
    stream: a request pattern matches most lines, and the counting reads few of them."""

    __slots__ = ("_base", "_high", "_lines", "_low")

    def __init__(self, lines: list[bytes], low: int, high: int, base: int) -> None:
        self._lines, self._low, self._high, self._base = lines, low, high, base

    def __len__(self) -> int:
        return self._high - self._low

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...

    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return int(self._lines[self._low + index].partition(b":")[0]) - self._base


__all__ = ["MAX_KEPT_BYTES", "LogPass"]
