"""Search local log files: globs, rotated files, .gz, plain text and JSON lines.

Two engines give the same lines:
- ripgrep (`rg`) as a read-only subprocess, started only through `cockpit.core.readers`; used
  for plain files, where it is the fastest thing there is.
- an in-process engine for .gz (isal decompresses about 3x faster than `rg -z`'s gzip process
  and releases the GIL) and for plain files cut by a time window (blocks before the window are
  skipped unread): it reads newline-aligned blocks, and rg matches them (`matcher.LineMatcher`),
  so both engines count exactly what `rg -c` / `rg -z -c` count.

Every file is checked with `stat` before it is opened, so a glob that matches a FIFO or a
device (`/dev/zero`) reports an error for its source instead of hanging. Binary files are skipped
with a warning; a text log with stray NUL bytes (a crashed writer, a copytruncate hole) is still
searched, its NULs shown as `\0` (see `looks_binary`); a truncated or corrupt .gz yields the
lines before the damage plus a warning. A file reached twice (a `**` glob through a symlink
loop, two globs naming one file) is read once, by its device and inode.

Time windows: a line's timestamp is its own or, for continuation lines, the one of the nearest
timestamped line before it. Plain files whose first and last timestamps lie outside the window
are skipped whole; blocks that end before the window starts are not examined line by line.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from cockpit.core.records import Record
from cockpit.core.search.matcher import (
    LineMatcher,
    MatchFailure,
    PatternError,
    rg_compiled,
    validate,
)
from cockpit.core.search.model import Hit, HitSink, Query, SourceError, TimeWindow
from cockpit.core.search.paths import (
    _describe_type,
    _file_reference,
    expand_paths,
    find_rg,
    is_gzip,
    rotated_before,
)
from cockpit.core.search.pool import scan_pool
from cockpit.core.search.textlog import (
    _SEARCHED_AS_TEXT,
    BINARY_PROBE_BYTES,
    NUL_SHOWN_AS,
    _binary_note,
    _nul_note,
    looks_binary,
)

# Timestamp parsing (blocks, timestamps) and .gz reading (gz, zlib) load where a time window or
# the in-process engine needs them: `search --count PATH` over plain files needs neither.
TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from datetime import datetime
    from typing import IO, Literal, Protocol

    from cockpit.core.config import FileSource  # only typed: `search PATH` needs no config
    from cockpit.core.search.blocks import _PrecedingTimestamp
    from cockpit.core.search.gz import _GzipSalvage

_Window = TimeWindow

if TYPE_CHECKING:
    Engine = Literal["auto", "rg", "inprocess"]
else:
    Engine = str
    Protocol = object  # `CountSink` is for the type checker; a plain class at run time

BLOCK_SIZE = 2 << 20
"""Bytes read per block by the in-process engine."""
FIRST_BLOCK_SIZE = 256 << 10
"""The first block of a file is small, so the first hits show up sooner."""
MAX_HIT_BYTES = 8192
"""Longest text kept per hit; longer lines are cut with ripgrep's preview marker."""
LONG_LINE_MARKER = " [... omitted end of long line]"
MAX_LINE_BYTES = 64 << 20
"""A "line" longer than this is split, so a file without newlines cannot exhaust memory."""
EDGE_PROBE_BYTES = 256 << 10
"""Bytes read at a file's head and tail to find its first and last timestamps."""
FDS_PER_RG = 256
"""Files one counting rg reads through inherited descriptors; more files, more rg runs in turn
(a `**` glob can match more files than a process may hold open)."""
# Non-blocking: opening a FIFO (swapped in after the stat) returns at once instead of hanging.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class CountSink(Protocol):
    """A sink that also takes bare counts (count mode: no Hit objects at all)."""

    def hit(self, hit: Hit) -> None: ...

    def warn(self, message: str) -> None: ...

    def add_count(self, count: int) -> None: ...


def _decode(line: bytes) -> str:
    if b"\0" in line:
        line = line.replace(b"\0", NUL_SHOWN_AS)
    if len(line) > MAX_HIT_BYTES:
        return line[:MAX_HIT_BYTES].decode("utf-8", "replace") + LONG_LINE_MARKER
    if line.endswith(b"\r"):
        line = line[:-1]
    return line.decode("utf-8", "replace")


class _HitBatcher:
    """Hands hits to the sink in batches (one lock per batch); the first hit goes at once."""

    def __init__(self, sink: HitSink) -> None:
        self._sink = sink
        self._many: Callable[[list[Hit]], None] | None = getattr(sink, "hits", None)
        self._batch: list[Hit] = []
        self._limit = 1

    def add(self, hit: Hit) -> None:
        self._batch.append(hit)
        if len(self._batch) >= self._limit:
            self.flush()
            self._limit = 512

    def flush(self) -> None:
        if not self._batch:
            return
        if self._many is not None:
            self._many(self._batch)
        else:
            for hit in self._batch:
                self._sink.hit(hit)
        self._batch = []


class _Plan(Record):
    """What to do with the files of one search."""

    _fields = ("rg_files", "rg_filtered", "inprocess_files", "rg_count")
    _mutable = True

    rg_files: list[Path]
    rg_filtered: list[Path]
    """Plain files searched by rg whose lines need the time filter."""
    inprocess_files: list[Path]
    rg_count: list[Path]
    """Plain files to count (no time window), not yet opened: `count_file_sources` opens and
    checks each, and one rg counts them all through those descriptors."""

    def __init__(
        self,
        rg_files: list[Path],
        rg_filtered: list[Path],
        inprocess_files: list[Path],
        rg_count: list[Path] | None = None,
    ) -> None:
        self.__dict__.update(
            rg_files=rg_files,
            rg_filtered=rg_filtered,
            inprocess_files=inprocess_files,
            rg_count=[] if rg_count is None else rg_count,
        )


class FileLogSource:
    """A `Source` over local files (config `kind = "files"`, or ad hoc command-line paths)."""

    def __init__(
        self,
        name: str,
        paths: list[str],
        *,
        service: str | None = None,
        base_dir: Path | None = None,
        engine: Engine = "auto",
        explicit: bool = False,
    ) -> None:
        self.name = name
        self.service = service
        self.paths = list(paths)
        self.base_dir = base_dir or Path.cwd()
        self.engine: Engine = engine
        self.explicit = explicit

    @classmethod
    def from_config(
        cls, cfg: FileSource, *, base_dir: Path, engine: Engine = "auto"
    ) -> FileLogSource:
        """The source a `[[sources]] kind = "files"` table describes."""
        return cls(cfg.name, cfg.paths, service=cfg.service, base_dir=base_dir, engine=engine)

    # -- the Source protocol -------------------------------------------------------------

    def search(self, query: Query, sink: HitSink, cancel: threading.Event) -> None:
        """Report every matching line (with its timestamp) to `sink`."""
        self._run(query, sink, cancel, count_sink=None)

    def count(self, query: Query, sink: CountSink, cancel: threading.Event) -> None:
        """Count matching lines without building hits (`sink.add_count`); fast path of --count."""
        self._run(query, sink, cancel, count_sink=sink)

    # -- internals ---------------------------------------------------------------------

    def _run(
        self, query: Query, sink: HitSink, cancel: threading.Event, count_sink: CountSink | None
    ) -> None:
        if count_sink is not None:
            error = count_file_sources([self], query, [count_sink], cancel)[0]
            if error is not None:
                raise SourceError(error)
            return
        planned = self._plan(query, sink, cancel, count=False)
        if planned is None:
            return
        plan, window, errors = planned
        failures: list[str] = []
        for job in self._start(plan, query, window, sink, cancel, None, failures):
            job()
        errors.extend(failures)
        self._raise_errors(errors, cancel)

    def _raise_errors(self, errors: list[str], cancel: threading.Event) -> None:
        message = self._error_message(errors, cancel)
        if message is not None:
            raise SourceError(message)

    def _error_message(self, errors: list[str], cancel: threading.Event) -> str | None:
        """The source's one-line error for `errors` (the first, and how many more), or None."""
        if not errors or cancel.is_set():
            return None
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        # An ad hoc source is named by its path, which the message already names.
        prefix = "" if self.explicit else f"{self.name}: "
        return f"{prefix}{errors[0]}{more}"

    def _plan(
        self, query: Query, sink: HitSink, cancel: threading.Event, *, count: bool
    ) -> tuple[_Plan, _Window, list[str]] | None:
        """Which engine searches which file, and the errors found on the way; None when this
        source is not searched (another service) or the search was cancelled.

        `count`: plain files outside any time window go to `rg_count` unopened (counted
        together with every other source's, see `count_file_sources`)."""
        if query.services is not None and self.service not in query.services:
            return None
        try:
            validate(query)
        except PatternError as exc:
            raise SourceError(f"{self.name}: {exc}") from None
        listing = expand_paths(self.paths, self.base_dir, explicit=self.explicit)
        errors = list(listing.errors)
        for warning in listing.warnings:
            self._warn(sink, warning)
        window = _Window(query)
        rg = find_rg() if self.engine in ("auto", "rg") else None
        if self.engine == "rg" and rg is None:
            raise SourceError(f"{self.name}: ripgrep (rg) is not installed")
        plan = _Plan([], [], [])
        before_window = rotated_before(listing.files, window.since)
        for path in listing.files:
            if cancel.is_set():
                return None
            if path in before_window:
                continue
            if count and rg is not None and not window.active and not is_gzip(path):
                # Checked when opened (`_check_file(keep_open=True)`): rg then reads the very
                # file that was checked, through its descriptor.
                plan.rg_count.append(path)
                continue
            verdict = self._check_file(path, window)
            if isinstance(verdict, _Skip):
                if verdict.warning:
                    self._warn(sink, verdict.warning)
                if verdict.error:
                    errors.append(verdict.error)
                continue
            if verdict.warning:
                self._warn(sink, verdict.warning)
            # A plain file that straddles the time window is scanned in-process too: blocks
            # before the window are skipped without looking at their matches, where rg would
            # report every match for Python to parse and drop.
            use_rg = (
                rg is not None
                and b"\n" not in os.fsencode(path)
                and (self.engine == "rg" or not (is_gzip(path) or verdict.filtered))
            )
            if not use_rg:
                plan.inprocess_files.append(path)
            elif verdict.filtered:
                plan.rg_filtered.append(path)
            else:
                plan.rg_files.append(path)
        return plan, window, errors

    def _start(
        self,
        plan: _Plan,
        query: Query,
        window: _Window,
        sink: HitSink,
        cancel: threading.Event,
        count_sink: CountSink | None,
        failures: list[str],
    ) -> list[Callable[[], None]]:
        """Start searching the files of `plan` (not `rg_count`): rg in a thread, the rest on the
        scan pool. Returns what waits for each to finish; failures land in `failures`."""
        waits: list[Callable[[], None]] = []
        if plan.rg_files or plan.rg_filtered:
            rg = find_rg()
            assert rg is not None
            thread = threading.Thread(
                target=self._guard,
                name=f"rg-{self.name}",
                args=(failures, self._run_rg, rg, plan, query, window, sink, cancel, count_sink),
            )
            thread.start()
            waits.append(thread.join)
        if plan.inprocess_files:
            matcher = _matcher_for(query)  # compiled only when needed: rg takes plain files
            for path in plan.inprocess_files:
                future = scan_pool().submit(
                    self._guard,
                    failures,
                    self._scan_file,
                    path,
                    matcher,
                    window,
                    sink,
                    cancel,
                    count_sink,
                )
                waits.append(future.result)
        return waits

    @staticmethod
    def _guard(failures: list[str], func: Callable[..., None], *args: object) -> None:
        try:
            func(*args)
        except (_FileFailure, MatchFailure) as exc:
            failures.append(str(exc))
        except Exception as exc:  # a bug: still reported as this source's error, not lost
            failures.append(f"internal error: {type(exc).__name__}: {exc}")

    def _check_file(
        self, path: Path, window: _Window, *, keep_open: bool = False
    ) -> _Verdict | _Skip:
        """Decide, from stat and the file's first bytes, whether and how to search it.

        The file is opened without blocking (a FIFO swapped in after the stat cannot hang the
        open) and the open file is checked again: still a regular file, the same one.
        `keep_open`: a plain file to search whole comes back with its descriptor in
        `verdict.fd` (the caller closes it), so rg reads exactly the file checked here.
        """
        try:
            info = path.stat()
        except OSError as exc:
            return _Skip(error=f"{path}: {exc.strerror or exc}")
        if not stat.S_ISREG(info.st_mode):
            return _Skip(error=f"{path}: is {_describe_type(info.st_mode)}, not a log file")
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError as exc:
            return _Skip(
                error=f"{path}: cannot read ({exc.strerror or exc})",
                out_of_descriptors=exc.errno in (errno.EMFILE, errno.ENFILE),
            )
        kept = False
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (
                info.st_dev,
                info.st_ino,
            ):
                return _Skip(error=f"{path}: changed while it was being opened; not searched")
            if is_gzip(path):
                # Binary content and the time window are checked while decompressing.
                return _Verdict(filtered=window.active)
            note = None
            head = os.pread(fd, EDGE_PROBE_BYTES if window.active else BINARY_PROBE_BYTES, 0)
            if b"\0" in head[:BINARY_PROBE_BYTES]:
                if looks_binary(head[:BINARY_PROBE_BYTES]):
                    return _Skip(warning=_binary_note(path))
                note = _nul_note(path)
            if not window.active:
                kept = keep_open
                return _Verdict(filtered=False, warning=note, fd=fd if keep_open else None)
            from cockpit.core.search.blocks import _first_timestamp, _last_timestamp
            from cockpit.core.search.timestamps import parse_timestamp_bytes

            reference = _file_reference(path)
            first = _first_timestamp(head, reference)
            size = opened.st_size
            if size > EDGE_PROBE_BYTES:
                tail = os.pread(fd, EDGE_PROBE_BYTES, size - EDGE_PROBE_BYTES)
            else:
                tail = b"\n" + head
            last = _last_timestamp(tail, reference)
        except OSError as exc:
            return _Skip(error=f"{path}: cannot read ({exc.strerror or exc})")
        finally:
            if not kept:
                os.close(fd)
        if first is None or last is None:
            return _Verdict(filtered=True, warning=note)
        if (window.until is not None and first >= window.until) or (
            window.since is not None and last < window.since
        ):
            return _Skip()
        inside = (window.since is None or first >= window.since) and (
            window.until is None or last < window.until
        )
        # A file that starts with continuation lines has no timestamp for them: filter it.
        starts_clean = (
            head[:1] not in (b" ", b"\t")
            and parse_timestamp_bytes(head.split(b"\n", 1)[0], reference) is not None
        )
        return _Verdict(filtered=not (inside and starts_clean), warning=note)

    # -- ripgrep ---------------------------------------------------------------------------

    def _rg_argv(self, rg: str, query: Query, *, count: bool) -> list[str]:
        # Only the forced-rg engine hands .gz files to rg.
        return _rg_argv(rg, query, count=count, search_zip=self.engine == "rg")

    def _run_rg(
        self,
        rg: str,
        plan: _Plan,
        query: Query,
        window: _Window,
        sink: HitSink,
        cancel: threading.Event,
        count_sink: CountSink | None,
    ) -> None:
        if count_sink is not None and plan.rg_files:
            self._rg_count(rg, plan.rg_files, query, count_sink, cancel)
            hit_files = plan.rg_filtered
        else:
            hit_files = plan.rg_files + plan.rg_filtered
        if hit_files:
            filtered = {os.fsencode(p) for p in plan.rg_filtered}
            self._rg_hits(rg, hit_files, filtered, query, window, sink, cancel, count_sink)

    def _spawn(self, argv: list[str]) -> object:
        from cockpit.core.readers import ReaderRefused, start_reader

        try:
            return start_reader(argv)
        except (ReaderRefused, OSError) as exc:
            raise _FileFailure(f"cannot start ripgrep: {exc}") from None

    def _rg_stream(self, argv: list[str], cancel: threading.Event) -> Iterator[bytes]:
        """Lines of rg's stdout; raises _FileFailure when rg reports an error."""
        import subprocess

        proc = self._spawn(argv)
        assert isinstance(proc, subprocess.Popen)
        assert proc.stdout is not None and proc.stderr is not None
        stderr_chunks: list[bytes] = []

        def drain_stderr() -> None:
            # Keep the first 64 KiB; read the rest so rg never blocks on a full pipe.
            assert proc.stderr is not None
            kept = 0
            while chunk := proc.stderr.read(65536):
                if kept < 65536:
                    stderr_chunks.append(chunk)
                    kept += len(chunk)

        drain = threading.Thread(target=drain_stderr, daemon=True)
        drain.start()
        carry = b""
        try:
            while True:
                if cancel.is_set():
                    proc.kill()
                    return
                chunk = proc.stdout.read1(1 << 20)  # type: ignore[attr-defined]
                if not chunk:
                    break
                lines = (carry + chunk).split(b"\n")
                carry = lines.pop()
                yield from lines
            if carry:
                yield carry
        finally:
            if proc.poll() is None and cancel.is_set():
                proc.kill()
            returncode = proc.wait()
            drain.join(timeout=5)
            proc.stdout.close()
            proc.stderr.close()
        if returncode == 2:
            message = b"".join(stderr_chunks).decode("utf-8", "replace").strip()
            first = message.splitlines()[0] if message else "ripgrep failed"
            raise _FileFailure(first.removeprefix("rg: "))

    def _rg_count(
        self, rg: str, files: list[Path], query: Query, sink: CountSink, cancel: threading.Event
    ) -> None:
        argv = self._rg_argv(rg, query, count=True) + [str(p) for p in files]
        total = 0
        for line in self._rg_stream(argv, cancel):
            _path, _, number = line.rpartition(b"\0")
            if number.isdigit():
                total += int(number)
        sink.add_count(total)

    def _rg_hits(
        self,
        rg: str,
        files: list[Path],
        filtered: set[bytes],
        query: Query,
        window: _Window,
        sink: HitSink,
        cancel: threading.Event,
        count_sink: CountSink | None,
    ) -> None:
        from cockpit.core.search.blocks import _PrecedingTimestamp
        from cockpit.core.search.timestamps import parse_timestamp_bytes

        argv = self._rg_argv(rg, query, count=False) + [str(p) for p in files]
        resolvers: dict[bytes, _PrecedingTimestamp] = {}
        references: dict[bytes, datetime] = {}
        names: dict[bytes, str] = {}
        counted = 0
        batcher = _HitBatcher(sink)
        try:
            for line in self._rg_stream(argv, cancel):
                raw_path, sep, rest = line.partition(b"\0")
                if not sep:
                    continue
                number, _, rest = rest.partition(b":")
                offset, _, text = rest.partition(b":")
                if raw_path not in references:
                    names[raw_path] = os.fsdecode(raw_path)
                    references[raw_path] = _file_reference(Path(names[raw_path]))
                ts = parse_timestamp_bytes(text, references[raw_path])
                resolver = resolvers.get(raw_path)
                if ts is None and not is_gzip(names[raw_path]):
                    if resolver is None:
                        resolver = resolvers[raw_path] = _PrecedingTimestamp(
                            Path(names[raw_path]), references[raw_path]
                        )
                    ts = resolver.before(int(offset or 0))
                if resolver is not None:
                    resolver.remember(int(offset or 0), ts)
                if raw_path in filtered and not window.contains(ts):
                    continue
                if count_sink is not None:
                    counted += 1
                    continue
                batcher.add(
                    Hit(
                        source=self.name,
                        text=_decode(text),
                        service=self.service,
                        file=names[raw_path],
                        line_no=int(number or 0),
                        ts=ts,
                    )
                )
        finally:
            batcher.flush()
            for resolver in resolvers.values():
                resolver.close()
            if count_sink is not None and counted:
                count_sink.add_count(counted)

    # -- in-process ------------------------------------------------------------------------

    def _blocks(self, path: Path, cancel: threading.Event, sink: HitSink) -> Iterator[bytes]:
        """Newline-terminated blocks of the (decompressed) file; damage becomes a warning."""
        gz = is_gzip(path)
        try:
            if gz:
                from isal import igzip

                # Single-threaded igzip decompresses as fast here (~700 MB/s) as the threaded
                # reader, without a thread (and its buffers) per file.
                handle: IO[bytes] = igzip.open(path, "rb")
            else:
                handle = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise _FileFailure(f"{path}: cannot read ({exc.strerror or exc})") from None
        from cockpit.core.search.gz import _GzipSalvage

        carry = b""
        first = True
        salvage: _GzipSalvage | None = None
        try:
            for chunk in self._chunks(path, handle, gz, cancel):
                if isinstance(chunk, _GzipSalvage):
                    salvage = chunk
                    continue
                if first:
                    first = False
                    if gz and b"\0" in chunk[:BINARY_PROBE_BYTES]:
                        # Plain files were judged by `_check_file`; a .gz only once inflated.
                        if looks_binary(chunk[:BINARY_PROBE_BYTES]):
                            self._warn(sink, _binary_note(path))
                            return
                        self._warn(sink, _nul_note(path))
                data = carry + chunk if carry else chunk
                cut = data.rfind(b"\n")
                if cut < 0:
                    if len(data) > MAX_LINE_BYTES:
                        yield data + b"\n"
                        carry = b""
                    else:
                        carry = data
                    continue
                carry = data[cut + 1 :]
                yield data[: cut + 1] if carry else data
        finally:
            handle.close()
        if salvage is not None:
            self._warn(sink, f"{path}: {salvage.problem}; searched what could be read")
            if salvage.inside_member:
                # The line the damage cut is dropped: where a decompressor stops inside a
                # damaged member varies, and a cut line's text (and timestamp) is a fragment.
                carry = b""
        if carry and not cancel.is_set():
            yield carry + b"\n"

    def _chunks(
        self, path: Path, handle: IO[bytes], gz: bool, cancel: threading.Event
    ) -> Iterator[bytes | _GzipSalvage]:
        """The file's bytes in blocks; for a damaged .gz, everything before the damage and
        then the `_GzipSalvage` that says what was wrong."""
        from cockpit.core.search.gz import _GzipSalvage, _read_block

        block_size = FIRST_BLOCK_SIZE
        delivered = 0
        while not cancel.is_set():
            chunk, error = _read_block(handle, block_size)
            block_size = BLOCK_SIZE
            if error is None:
                if not chunk:
                    return
                delivered += len(chunk)
                yield chunk
                continue
            if not gz:
                raise _FileFailure(f"{path}: read error ({error})")
            # igzip loses what it had decompressed in the failing call (up to a block): zlib
            # decompresses the file again, carefully, and gives the rest up to the damage.
            salvage = _GzipSalvage(path, skip=delivered, fallback=error, cancel=cancel)
            for piece in salvage:
                if cancel.is_set():
                    return
                yield piece
            yield salvage
            return

    def _warn(self, sink: HitSink, message: str) -> None:
        """A warning for this source; an ad hoc source is named by the path the message names."""
        sink.warn(message if self.explicit else f"{self.name}: {message}")

    def minute_counts(
        self, query: Query, cancel: threading.Event, problems: list[str] | None = None
    ) -> Counter[datetime]:
        """Matching lines per minute (UTC), fast: no hits are built and few lines are parsed.

        Within a block, a run of matching lines whose first and last timestamps fall in the
        same minute (and inside the window) is counted at once; otherwise the run is halved.
        This assumes a file's lines are in time order, as loggers write them: a line out of
        order inside such a run is counted in its neighbours' minute. Lines without any
        timestamp (not even inherited) are not counted. Raises SourceError like `search`.
        `problems` (optional) receives a line for each file skipped or read only in part, so
        health and rollback can say their counts are incomplete.
        """
        counts: Counter[datetime] = Counter()
        if query.services is not None and self.service not in query.services:
            return counts
        try:
            matcher = _matcher_for(query)
        except PatternError as exc:
            raise SourceError(f"{self.name}: {exc}") from None
        window = _Window(query)
        listing = expand_paths(self.paths, self.base_dir, explicit=self.explicit)
        errors = list(listing.errors)
        jobs = []
        before_window = rotated_before(listing.files, window.since)
        for path in listing.files:
            if cancel.is_set():
                break
            if path in before_window:
                continue
            verdict = self._check_file(path, window)
            if isinstance(verdict, _Skip):
                if verdict.error:
                    errors.append(verdict.error)
                if verdict.warning and problems is not None:
                    problems.append(
                        verdict.warning if self.explicit else f"{self.name}: {verdict.warning}"
                    )
                continue
            sink = _IgnoreSink(problems)  # `_warn` names the source in what it reports
            jobs.append(
                scan_pool().submit(self._count_minutes, path, matcher, window, cancel, sink)
            )
        for job in jobs:
            try:
                counts.update(job.result())
            except _FileFailure as exc:
                errors.append(str(exc))
        if errors and not cancel.is_set():
            prefix = "" if self.explicit else f"{self.name}: "
            raise SourceError(f"{prefix}{errors[0]}")
        return counts

    def _count_minutes(
        self,
        path: Path,
        matcher: LineMatcher,
        window: _Window,
        cancel: threading.Event,
        sink: _IgnoreSink | None = None,
    ) -> Counter[datetime]:
        from cockpit.core.search.blocks import _BlockTimestamps, _count_run

        counts: Counter[datetime] = Counter()
        reference = _file_reference(path)
        inherited: datetime | None = None
        file_start = True
        for block in self._blocks(path, cancel, sink or _IgnoreSink()):
            at_start, file_start = file_start, False
            block_end_ts = _BlockTimestamps(block, inherited, reference).at(len(block))
            if (
                window.since is not None
                and block_end_ts is not None
                and (block_end_ts < window.since)
            ):
                inherited = block_end_ts
                continue
            starts = [start for start, _end in matcher.spans(block, file_start=at_start)]
            if starts:
                _count_run(block, starts, inherited, reference, window, counts)
            inherited = block_end_ts
        return counts

    def _scan_file(
        self,
        path: Path,
        matcher: LineMatcher,
        window: _Window,
        sink: HitSink,
        cancel: threading.Event,
        count_sink: CountSink | None,
    ) -> None:
        from cockpit.core.search.blocks import _BlockTimestamps, _first_timestamp

        reference = _file_reference(path)
        name = str(path)
        inherited: datetime | None = None  # timestamp carried into the next block
        line_base = 1
        counted = 0
        batcher = _HitBatcher(sink)
        try:
            if count_sink is not None and not window.active:
                # Count only: one rg counts the whole stream; no line needs its timestamp.
                counted = matcher.count_lines(self._blocks(path, cancel, sink), cancel)
                return
            for block in self._blocks(path, cancel, sink):
                timeline = _BlockTimestamps(block, inherited, reference)
                block_end_ts = timeline.at(len(block))
                if window.active and window.until is not None:
                    first_ts = _first_timestamp(block[:4096], reference)
                    if first_ts is not None and first_ts >= window.until:
                        break  # logs are written in order: the rest is later still
                if (
                    window.active
                    and window.since is not None
                    and (block_end_ts is not None and block_end_ts < window.since)
                ):
                    line_base += block.count(b"\n")
                    inherited = block_end_ts
                    continue
                timeline.reset()
                spans = matcher.spans(block, file_start=line_base == 1)
                previous = 0
                line_no = line_base
                for start, end in spans:
                    ts = timeline.at(start)
                    if not window.contains(ts):
                        continue
                    if count_sink is not None:
                        counted += 1
                        continue
                    line_no += block.count(b"\n", previous, start)
                    previous = start
                    batcher.add(
                        Hit(
                            source=self.name,
                            text=_decode(block[start:end]),
                            service=self.service,
                            file=name,
                            line_no=line_no,
                            ts=ts,
                        )
                    )
                batcher.flush()
                line_base += block.count(b"\n")
                inherited = block_end_ts
        finally:
            batcher.flush()
            if count_sink is not None and counted:
                count_sink.add_count(counted)


def _rg_argv(rg: str, query: Query, *, count: bool, search_zip: bool) -> list[str]:
    """rg's options for `query`: config neutralised, every file treated as text, file names
    ended by NUL; `count`: `--count`, else one line per hit with its line and offset."""
    argv = [rg, "--no-config", "--text", "--color=never", "--with-filename", "--null"]
    argv += (
        ["--count"]
        if count
        else [
            # One thread streams as it finds; with more, rg holds each file's whole output
            # in memory until the file is done (270 MB for 250 MB of matching lines).
            "--threads=1",
            "--no-heading",
            "--line-number",
            "--byte-offset",
            f"--max-columns={MAX_HIT_BYTES}",
            "--max-columns-preview",
        ]
    )
    if query.ignore_case:
        argv.append("--ignore-case")
    else:
        argv.append("--case-sensitive")
    if not query.regex:
        argv.append("--fixed-strings")
    if search_zip:
        argv.append("--search-zip")
    argv.append(f"--regexp={query.pattern}")
    argv.append("--")
    return argv


def count_file_sources(
    sources: Sequence[FileLogSource],
    query: Query,
    sinks: Sequence[CountSink],
    cancel: threading.Event,
) -> list[str | None]:
    """Count the matching lines of several file sources at once (`cockpit search --count`):
    each source's count goes to its sink (`sinks[i]` for `sources[i]`). Returns each source's
    one-line error, or None.

    ONE rg counts every plain file outside a time window, of every source (rg parallelises
    across files): each file is opened and checked here (a regular file, the same one that was
    stat'ed, not binary), and rg reads it through the inherited descriptor as `/dev/fd/N`, so
    it reads exactly the file that was checked (no swapped symlink, no FIFO to hang on), and a
    path rg could misread never reaches its command line. .gz files and files cut by a time
    window are counted as by `count`, per file, meanwhile.
    """
    outcomes: list[str | None] = [None] * len(sources)
    errors: list[list[str]] = [[] for _ in sources]
    failures: list[list[str]] = [[] for _ in sources]
    waits: list[Callable[[], None]] = []
    to_count: list[tuple[int, Path, _Window]] = []
    for index, (source, sink) in enumerate(zip(sources, sinks, strict=True)):
        try:
            planned = source._plan(query, sink, cancel, count=True)
        except SourceError as exc:
            outcomes[index] = str(exc)
            continue
        if planned is None:
            continue
        plan, window, plan_errors = planned
        errors[index].extend(plan_errors)
        waits += source._start(plan, query, window, sink, cancel, sink, failures[index])
        to_count += [(index, path, window) for path in plan.rg_count]
    if to_count:
        rg = find_rg()
        assert rg is not None  # `_plan` counts with rg only when there is one
        _count_descriptors(rg, sources, query, to_count, sinks, failures, cancel)
    for wait in waits:
        wait()
    for index, source in enumerate(sources):
        if outcomes[index] is None:
            outcomes[index] = source._error_message(errors[index] + failures[index], cancel)
    return outcomes


def _count_descriptors(
    rg: str,
    sources: Sequence[FileLogSource],
    query: Query,
    files: list[tuple[int, Path, _Window]],
    sinks: Sequence[CountSink],
    failures: list[list[str]],
    cancel: threading.Event,
) -> None:
    """Open and check `files` (source index, path, window), and count them with one rg per
    `FDS_PER_RG` descriptors."""
    batch: dict[int, tuple[int, Path]] = {}  # descriptor -> (source index, path)
    per_rg = _descriptors_per_rg()
    try:
        for index, path, window in files:
            if cancel.is_set():
                return
            source, sink = sources[index], sinks[index]
            verdict = source._check_file(path, window, keep_open=True)
            if isinstance(verdict, _Skip) and verdict.out_of_descriptors and batch:
                # Out of descriptors (a low `ulimit -n`, or the .gz files counted meanwhile
                # hold some): count what is open, close it, and open this file again.
                _rg_count_batch(rg, query, batch, sinks, failures, cancel)
                _close_all(batch)
                per_rg = max(1, per_rg // 2)
                verdict = source._check_file(path, window, keep_open=True)
            if isinstance(verdict, _Skip):
                if verdict.warning:
                    source._warn(sink, verdict.warning)
                if verdict.error:
                    failures[index].append(verdict.error)
                continue
            if verdict.warning:
                source._warn(sink, verdict.warning)
            assert verdict.fd is not None
            batch[verdict.fd] = (index, path)
            if len(batch) >= per_rg:
                _rg_count_batch(rg, query, batch, sinks, failures, cancel)
                _close_all(batch)
        if batch:
            _rg_count_batch(rg, query, batch, sinks, failures, cancel)
    finally:
        _close_all(batch)


def _descriptors_per_rg() -> int:
    """`FDS_PER_RG`, or fewer under a low `ulimit -n`: half the descriptors the process may
    still open, so starting rg (its pipes) and the other files counted meanwhile find some."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return FDS_PER_RG
    if soft == resource.RLIM_INFINITY or soft >= 4 * FDS_PER_RG:
        return FDS_PER_RG
    try:
        in_use = len(os.listdir("/proc/self/fd"))
    except OSError:
        in_use = 16
    return max(1, min(FDS_PER_RG, (soft - in_use) // 2))


def _close_all(batch: dict[int, tuple[int, Path]]) -> None:
    for fd in batch:
        os.close(fd)
    batch.clear()


def _rg_count_batch(
    rg: str,
    query: Query,
    batch: dict[int, tuple[int, Path]],
    sinks: Sequence[CountSink],
    failures: list[list[str]],
    cancel: threading.Event,
) -> None:
    """`rg --count` over the descriptors of `batch`; counts and errors go to their source."""
    import subprocess

    from cockpit.core.readers import ReaderRefused, start_reader

    argv = _rg_argv(rg, query, count=True, search_zip=False)
    argv += [f"/dev/fd/{fd}" for fd in batch]
    involved = sorted({index for index, _path in batch.values()})
    try:
        proc = start_reader(argv, pass_fds=list(batch))
    except (ReaderRefused, OSError) as exc:
        for index in involved:
            failures[index].append(f"cannot start ripgrep: {exc}")
        return
    while True:
        try:
            output, stderr = proc.communicate(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            if cancel.is_set():
                proc.kill()
                proc.communicate()
                return
    counts = [0] * len(sinks)
    for line in output.split(b"\n"):
        name, sep, number = line.rpartition(b"\0")
        fd = _descriptor_of(name)
        if sep and number.isdigit() and fd in batch:
            counts[batch[fd][0]] += int(number)
    for index in involved:
        if counts[index]:
            sinks[index].add_count(counts[index])
    if cancel.is_set():
        return
    if proc.returncode != 2:
        if query.regex:
            rg_compiled(rg, query.pattern)  # it searched to the end: the regex compiles
        return
    # rg names a file it could not read by the descriptor's path: say the file's own name.
    blamed = False
    for raw in stderr.decode("utf-8", "replace").splitlines():
        message = raw.removeprefix("rg: ").strip()
        culprit, colon, rest = message.partition(": ")
        fd = _descriptor_of(os.fsencode(culprit))
        if colon and fd in batch:
            index, path = batch[fd]
            failures[index].append(f"{path}: {rest}")
            blamed = True
    if not blamed:
        lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        reason = lines[0].removeprefix("rg: ") if lines else "ripgrep failed"
        for index in involved:
            failures[index].append(reason)


def _descriptor_of(name: bytes) -> int:
    """N for rg's `/dev/fd/N`, else -1."""
    number = name.removeprefix(b"/dev/fd/")
    return int(number) if number != name and number.isdigit() else -1


_MATCHERS: dict[Query, LineMatcher] = {}
_MATCHERS_LOCK = threading.Lock()


def _matcher_for(query: Query) -> LineMatcher:
    """One compiled matcher per query, shared by every source of a search (and the next)."""
    key = Query(query.pattern, regex=query.regex, ignore_case=query.ignore_case)
    with _MATCHERS_LOCK:
        matcher = _MATCHERS.get(key)
        if matcher is None:
            if len(_MATCHERS) >= 32:
                _MATCHERS.clear()
            matcher = _MATCHERS[key] = LineMatcher(key)
        return matcher


class _IgnoreSink:
    """Swallows hits (minute counting reports counts only); warnings go to `problems` when
    given, since a skipped or damaged file leaves the counts incomplete."""

    def __init__(self, problems: list[str] | None = None) -> None:
        self.problems = problems

    def hit(self, hit: Hit) -> None:
        pass

    def warn(self, message: str) -> None:
        # A text log with stray NULs is counted in full: that note is no problem for counts.
        if self.problems is not None and not message.endswith(_SEARCHED_AS_TEXT):
            self.problems.append(message)


class _Verdict(Record):
    _fields = ("filtered", "warning", "fd")
    _mutable = True

    filtered: bool
    """The file's lines need the time filter (it straddles the window or lacks timestamps)."""
    warning: str | None
    """Said once about a file that is searched all the same (NUL bytes in a text log)."""
    fd: int | None
    """The checked file, still open (`_check_file(keep_open=True)`); the caller closes it."""

    def __init__(
        self,
        filtered: bool,
        warning: str | None = None,
        fd: int | None = None,
    ) -> None:
        self.__dict__.update(
            filtered=filtered,
            warning=warning,
            fd=fd,
        )


class _Skip(Record):
    _fields = ("error", "warning", "out_of_descriptors")
    _mutable = True

    error: str | None
    warning: str | None
    out_of_descriptors: bool
    """The file could not be opened because the process holds as many descriptors as it may
    (EMFILE, ENFILE): worth trying again once some are closed."""

    def __init__(
        self,
        error: str | None = None,
        warning: str | None = None,
        out_of_descriptors: bool = False,
    ) -> None:
        self.__dict__.update(
            error=error,
            warning=warning,
            out_of_descriptors=out_of_descriptors,
        )


class _FileFailure(Exception):
    """One file could not be searched; becomes the source's error."""
