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
with a warning; a truncated or corrupt .gz yields the lines before the damage plus a warning.

Time windows: a line's timestamp is its own or, for continuation lines, the one of the nearest
timestamped line before it. Plain files whose first and last timestamps lie outside the window
are skipped whole; blocks that end before the window starts are not examined line by line.
"""

from __future__ import annotations

import glob
import itertools
import os
import re
import stat
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from cockpit.core.config import FileSource
from cockpit.core.search.matcher import LineMatcher, MatchFailure, PatternError, find_rg, validate
from cockpit.core.search.model import Hit, HitSink, Query, SourceError
from cockpit.core.search.timestamps import floor_minute, parse_timestamp_bytes

Engine = Literal["auto", "rg", "inprocess"]

BLOCK_SIZE = 2 << 20
"""Bytes read per block by the in-process engine."""
FIRST_BLOCK_SIZE = 256 << 10
"""The first block of a file is small, so the first hits show up sooner."""
SCAN_THREADS = 2
"""In-process scans run on one shared pool of this many threads (one per core), whatever the
number of sources: more threads would only add memory (glibc gives each allocating thread its
own arena, which doubled peak RSS when every source had its own pool) and GIL contention that
makes the UI stutter."""
_scan_pool: ThreadPoolExecutor | None = None
_scan_pool_lock = threading.Lock()


def scan_pool() -> ThreadPoolExecutor:
    """The shared pool that runs in-process scans (created on first use)."""
    global _scan_pool
    with _scan_pool_lock:
        if _scan_pool is None:
            _scan_pool = ThreadPoolExecutor(SCAN_THREADS, thread_name_prefix="cockpit-scan")
        return _scan_pool


MAX_HIT_BYTES = 8192
"""Longest text kept per hit; longer lines are cut with ripgrep's preview marker."""
LONG_LINE_MARKER = " [... omitted end of long line]"
BINARY_PROBE_BYTES = 8192
"""A NUL byte in a file's first bytes marks it binary (as grep and ripgrep decide)."""
MAX_LINE_BYTES = 64 << 20
"""A "line" longer than this is split, so a file without newlines cannot exhaust memory."""
BACKWARD_LIMIT = 8 << 20
"""How far back a continuation line's timestamp is looked for."""
EDGE_PROBE_BYTES = 256 << 10
"""Bytes read at a file's head and tail to find its first and last timestamps."""


class CountSink(Protocol):
    """A sink that also takes bare counts (count mode: no Hit objects at all)."""

    def hit(self, hit: Hit) -> None: ...

    def warn(self, message: str) -> None: ...

    def add_count(self, count: int) -> None: ...


def is_gzip(path: Path | str) -> bool:
    """Whether the file is handled as gzip (by name, like `rg -z`)."""
    return str(path).endswith(".gz")


_GLOB_CHARS = frozenset("*?[")


def _describe_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


@dataclass
class FileList:
    """The files a source will search, and what was wrong with the rest."""

    files: list[Path]
    errors: list[str]
    warnings: list[str]


def expand_paths(patterns: Iterable[str], base_dir: Path, *, explicit: bool = False) -> FileList:
    """Resolve globs (relative to `base_dir`) into regular files, oldest first.

    `explicit` (ad hoc command-line paths): a named path that does not exist is an error and a
    directory is searched recursively, like rg. Otherwise (config globs) a glob that matches
    nothing is only a warning: logs may not exist yet.
    """
    result = FileList([], [], [])
    seen: set[Path] = set()
    for pattern in patterns:
        raw = Path(pattern).expanduser()
        full = raw if raw.is_absolute() else base_dir / raw
        if _GLOB_CHARS & set(str(pattern)):
            candidates = sorted(Path(p) for p in glob.glob(str(full), recursive=True))
            if not candidates:
                result.warnings.append(f"no file matches {pattern}")
        else:
            candidates = [full]
        for candidate in candidates:
            for path in _walk(candidate, explicit=explicit, result=result):
                if path not in seen:
                    seen.add(path)
                    result.files.append(path)
    result.files.sort(key=_age_key)
    return result


def _walk(path: Path, *, explicit: bool, result: FileList) -> Iterator[Path]:
    try:
        info = path.stat()  # stat never opens: a FIFO cannot block here
    except FileNotFoundError:
        result.errors.append(f"{path}: no such file")
        return
    except OSError as exc:
        result.errors.append(f"{path}: {exc.strerror or exc}")
        return
    if stat.S_ISREG(info.st_mode):
        yield path
    elif stat.S_ISDIR(info.st_mode):
        if not explicit:
            return
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith("."):
                    continue
                child = Path(root) / name
                try:
                    child_mode = child.stat().st_mode
                except OSError:
                    continue
                if stat.S_ISREG(child_mode):
                    yield child
    else:
        result.errors.append(f"{path}: is {_describe_type(info.st_mode)}, not a log file")


def _age_key(path: Path) -> tuple[float, str]:
    try:
        return (path.stat().st_mtime, str(path))
    except OSError:
        return (0.0, str(path))


def _file_reference(path: Path) -> datetime:
    """The syslog year reference for a file: when it was last written."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError:
        return datetime.now(UTC)


_ROTATION = re.compile(r"^(?P<base>.+?)(?:[.-]\d+)?(?:\.gz)?$")


def _head_timestamp(path: Path) -> datetime | None:
    """The first timestamp in a file (decompressing only its start for .gz), or None."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None  # never open a FIFO or a device
        if is_gzip(path):
            from isal import igzip

            with igzip.open(path, "rb") as handle:
                head = handle.read(64 << 10)
        else:
            with open(path, "rb") as handle:
                head = handle.read(64 << 10)
    except Exception:  # unreadable or damaged: the search itself will say so
        return None
    return _first_timestamp(head, _file_reference(path))


def rotated_before(files: list[Path], since: datetime | None) -> set[Path]:
    """Rotated files that end before `since`, so a time-windowed search can skip them unread.

    Rotations of one log (`app.log`, `app.log.1`, `app.log.2.gz`, `app.log-20261127.gz`) follow
    each other: each ends where the next newer one begins. A file is skipped when the file
    after it began before `since`; this costs one small read (or decompression) per file
    instead of decompressing every old .gz file in full.
    """
    if since is None or len(files) < 2:
        return set()
    groups: dict[str, list[tuple[datetime, str, Path]]] = {}
    for path in files:
        match = _ROTATION.match(path.name)
        if match is None:
            continue
        first = _head_timestamp(path)
        if first is not None:
            groups.setdefault(str(path.parent / match["base"]), []).append((first, str(path), path))
    skipped: set[Path] = set()
    for entries in groups.values():
        entries.sort()
        for (_first, _name, path), (next_first, _n, _p) in itertools.pairwise(entries):
            if next_first < since:
                skipped.add(path)
    return skipped


class _Window:
    """The query's time window as a predicate."""

    def __init__(self, query: Query) -> None:
        self.since = query.since
        self.until = query.until
        self.active = self.since is not None or self.until is not None

    def contains(self, ts: datetime | None) -> bool:
        if not self.active:
            return True
        if ts is None:
            return False
        if self.since is not None and ts < self.since:
            return False
        return not (self.until is not None and ts >= self.until)


def _decode(line: bytes) -> str:
    if len(line) > MAX_HIT_BYTES:
        return line[:MAX_HIT_BYTES].decode("utf-8", "replace") + LONG_LINE_MARKER
    if line.endswith(b"\r"):
        line = line[:-1]
    return line.decode("utf-8", "replace")


def _first_timestamp(data: bytes, reference: datetime) -> datetime | None:
    for line in data.split(b"\n")[:-1] or [data]:
        ts = parse_timestamp_bytes(line, reference)
        if ts is not None:
            return ts
    return None


def _last_timestamp(data: bytes, reference: datetime) -> datetime | None:
    lines = data.split(b"\n")
    for line in reversed(lines[1:]):  # lines[0] may be cut
        ts = parse_timestamp_bytes(line, reference)
        if ts is not None:
            return ts
    return None


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


class _PrecedingTimestamp:
    """The timestamp a line of a plain file inherits, found by reading backwards from it.

    Hits arrive in file order, so the answer for the previous hit bounds the next search.
    """

    def __init__(self, path: Path, reference: datetime) -> None:
        self.path = path
        self.reference = reference
        self._handle: IO[bytes] | None = None
        self._known_offset = 0
        self._known_ts: datetime | None = None

    def remember(self, offset: int, ts: datetime | None) -> None:
        self._known_offset, self._known_ts = offset, ts

    def before(self, offset: int) -> datetime | None:
        """Timestamp of the nearest timestamped line before the line starting at `offset`."""
        floor = self._known_offset if self._known_offset < offset else 0
        fallback = self._known_ts if self._known_offset < offset else None
        limit = max(floor, offset - BACKWARD_LIMIT)
        if self._handle is None:
            try:
                self._handle = open(self.path, "rb")  # noqa: SIM115 - closed in close()
            except OSError:
                return None
        pos = offset
        partial = b""
        while pos > limit:
            start = max(limit, pos - 65536)
            self._handle.seek(start)
            lines = (self._handle.read(pos - start) + partial).split(b"\n")
            complete = lines if start == limit else lines[1:]
            for line in reversed(complete):
                if line:
                    ts = parse_timestamp_bytes(line, self.reference)
                    if ts is not None:
                        return ts
            partial = lines[0]
            pos = start
        return fallback if limit == floor else None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


@dataclass
class _Plan:
    """What to do with the files of one search."""

    rg_files: list[Path]
    rg_filtered: list[Path]
    """Plain files searched by rg whose lines need the time filter."""
    inprocess_files: list[Path]


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
        if query.services is not None and self.service not in query.services:
            return
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
                return
            if path in before_window:
                continue
            verdict = self._check_file(path, window)
            if isinstance(verdict, _Skip):
                if verdict.warning:
                    self._warn(sink, verdict.warning)
                if verdict.error:
                    errors.append(verdict.error)
                continue
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

        failures: list[str] = []
        threads = []
        if plan.rg_files or plan.rg_filtered:
            assert rg is not None
            thread = threading.Thread(
                target=self._guard,
                name=f"rg-{self.name}",
                args=(failures, self._run_rg, rg, plan, query, window, sink, cancel, count_sink),
            )
            thread.start()
            threads.append(thread)
        if plan.inprocess_files:
            matcher = _matcher_for(query)  # compiled only when needed: rg takes plain files
            futures = [
                scan_pool().submit(
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
                for path in plan.inprocess_files
            ]
            for future in futures:
                future.result()
        for thread in threads:
            thread.join()
        errors.extend(failures)
        if errors and not cancel.is_set():
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            # An ad hoc source is named by its path, which the message already names.
            prefix = "" if self.explicit else f"{self.name}: "
            raise SourceError(f"{prefix}{errors[0]}{more}")

    @staticmethod
    def _guard(failures: list[str], func: Callable[..., None], *args: object) -> None:
        try:
            func(*args)
        except (_FileFailure, MatchFailure) as exc:
            failures.append(str(exc))
        except Exception as exc:  # a bug: still reported as this source's error, not lost
            failures.append(f"internal error: {type(exc).__name__}: {exc}")

    def _check_file(self, path: Path, window: _Window) -> _Verdict | _Skip:
        """Decide, from stat and the file's first bytes, whether and how to search it."""
        try:
            info = path.stat()
        except OSError as exc:
            return _Skip(error=f"{path}: {exc.strerror or exc}")
        if not stat.S_ISREG(info.st_mode):
            return _Skip(error=f"{path}: is {_describe_type(info.st_mode)}, not a log file")
        if is_gzip(path):
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                return _Skip(error=f"{path}: cannot read ({exc.strerror or exc})")
            # Binary content and the time window are checked while decompressing.
            return _Verdict(filtered=window.active)
        try:
            with open(path, "rb") as handle:
                head = handle.read(EDGE_PROBE_BYTES if window.active else BINARY_PROBE_BYTES)
                if b"\0" in head[:BINARY_PROBE_BYTES]:
                    return _Skip(warning=f"{path}: binary file skipped")
                if not window.active:
                    return _Verdict(filtered=False)
                reference = _file_reference(path)
                first = _first_timestamp(head, reference)
                size = info.st_size
                if size > EDGE_PROBE_BYTES:
                    handle.seek(size - EDGE_PROBE_BYTES)
                    tail = handle.read(EDGE_PROBE_BYTES)
                else:
                    tail = b"\n" + head
                last = _last_timestamp(tail, reference)
        except OSError as exc:
            return _Skip(error=f"{path}: cannot read ({exc.strerror or exc})")
        if first is None or last is None:
            return _Verdict(filtered=True)
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
        return _Verdict(filtered=not (inside and starts_clean))

    # -- ripgrep ---------------------------------------------------------------------------

    def _rg_argv(self, rg: str, query: Query, *, count: bool) -> list[str]:
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
        if self.engine == "rg":
            argv.append("--search-zip")  # only the forced-rg engine hands .gz files to rg
        argv.append(f"--regexp={query.pattern}")
        argv.append("--")
        return argv

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
                    if b"\0" in chunk[:BINARY_PROBE_BYTES]:
                        self._warn(sink, f"{path}: binary file skipped")
                        return
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

    def minute_counts(self, query: Query, cancel: threading.Event) -> Counter[datetime]:
        """Matching lines per minute (UTC), fast: no hits are built and few lines are parsed.

        Within a block, a run of matching lines whose first and last timestamps fall in the
        same minute (and inside the window) is counted at once; otherwise the run is halved.
        This assumes a file's lines are in time order, as loggers write them: a line out of
        order inside such a run is counted in its neighbours' minute. Lines without any
        timestamp (not even inherited) are not counted. Raises SourceError like `search`.
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
                continue
            jobs.append(scan_pool().submit(self._count_minutes, path, matcher, window, cancel))
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
    ) -> Counter[datetime]:
        counts: Counter[datetime] = Counter()
        reference = _file_reference(path)
        inherited: datetime | None = None
        file_start = True
        for block in self._blocks(path, cancel, _IgnoreSink()):
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


def _count_run(
    block: bytes,
    starts: list[int],
    inherited: datetime | None,
    reference: datetime,
    window: _Window,
    counts: Counter[datetime],
) -> None:
    """Count the matching lines starting at `starts` (sorted) per minute, halving runs."""
    known: dict[int, datetime | None] = {}

    def ts_of(index: int) -> datetime | None:
        if index not in known:
            known[index] = _timestamp_at(block, starts[index], inherited, reference)
        return known[index]

    pending = [(0, len(starts) - 1)]
    while pending:
        first, last = pending.pop()
        low, high = ts_of(first), ts_of(last)
        if (
            low is not None
            and high is not None
            and low <= high
            and (
                (window.since is not None and high < window.since)
                or (window.until is not None and low >= window.until)
            )
        ):
            continue  # the whole run lies outside the window
        if (
            low is not None
            and high is not None
            and low <= high
            and floor_minute(low) == floor_minute(high)
            and window.contains(low)
            and window.contains(high)
        ):
            counts[floor_minute(low)] += last - first + 1
        elif last - first < 8:
            for index in range(first, last + 1):
                ts = ts_of(index)
                if ts is not None and window.contains(ts):
                    counts[floor_minute(ts)] += 1
        else:
            middle = (first + last) // 2
            pending.append((first, middle))
            pending.append((middle + 1, last))


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
    """Swallows hits and warnings (minute counting reports counts only)."""

    def hit(self, hit: Hit) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


def _timestamp_at(
    block: bytes, pos: int, inherited: datetime | None, reference: datetime
) -> datetime | None:
    """Timestamp of the line starting at `pos`: its own, or the nearest one before it."""
    end = block.find(b"\n", pos)
    while True:
        ts = parse_timestamp_bytes(block[pos:end], reference)
        if ts is not None:
            return ts
        if pos == 0:
            return inherited
        end = pos - 1
        pos = block.rfind(b"\n", 0, end) + 1


def _read_block(handle: IO[bytes], block_size: int) -> tuple[bytes, BaseException | None]:
    """About `block_size` bytes, read in pieces so damage late in a .gz loses little."""
    pieces: list[bytes] = []
    size = 0
    try:
        while size < block_size:
            piece = handle.read1(min(1 << 20, block_size - size))  # type: ignore[attr-defined]
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
    except Exception as exc:  # EOFError, OSError, isal's own error type for bad data
        return b"".join(pieces), exc
    return b"".join(pieces), None


class _GzipSalvage:
    """Decompresses a damaged .gz again with zlib, keeping every byte before the damage.

    Iterating yields the decompressed bytes after the first `skip` (which the fast reader
    already gave), member after member, until the damage; then `problem` says what it was and
    `inside_member` whether the data stops inside a member (its last line is cut). Input goes
    in pieces; the piece where zlib fails is fed again byte by byte from a copy of the
    decompressor, since zlib drops the output of a call that fails.
    """

    PIECE = 64 << 10
    OUT = 1 << 20

    def __init__(
        self, path: Path, *, skip: int, fallback: BaseException, cancel: threading.Event
    ) -> None:
        self.path = path
        self.cancel = cancel
        self.skip = skip
        self.problem = f"corrupt gzip data ({fallback})"
        self.inside_member = True
        self._out: list[bytes] = []
        self._out_size = 0
        self._members = 0

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            decompressor: Any = None  # None between members
            data = b""
            while not self.cancel.is_set():  # re-reading what was searched yields nothing
                if decompressor is None:
                    data = data.lstrip(b"\0")  # zero padding between members, as gzip allows
                    if len(data) < 2:
                        more = handle.read(self.PIECE)
                        if more:
                            data += more
                            continue
                    if not data:  # the fast reader failed where zlib sees no damage: say its error
                        self.inside_member = False
                        break
                    if not data.startswith(b"\x1f\x8b"):
                        where = "after gzip data" if self._members else "instead of gzip data"
                        self._damage(f"not gzip: garbage {where}", inside=False)
                        break
                    decompressor = zlib.decompressobj(wbits=31)
                    self._members += 1
                if not data:
                    data = handle.read(self.PIECE)
                    if not data:
                        self._damage("truncated gzip data (the file ends inside a member)")
                        break
                backup = decompressor.copy()
                try:
                    data = self._feed(decompressor, data)
                except zlib.error:
                    decompressor = backup
                    try:
                        for index in range(len(data)):
                            self._feed(decompressor, data[index : index + 1])
                            if decompressor.eof:
                                data = data[index + 1 :]
                                break
                        else:
                            data = b""
                    except zlib.error as exc:
                        self._damage(f"corrupt gzip data ({exc})")
                        break
                if decompressor.eof:
                    data = decompressor.unused_data + data
                    decompressor = None
                if self._out_size >= self.OUT:
                    yield from self._flush()
        yield from self._flush()

    def _feed(self, decompressor: Any, data: bytes) -> bytes:
        """Feeds `data` in full unless the member ends first; returns what follows that end."""
        while data and not decompressor.eof:
            output = decompressor.decompress(data, self.OUT)
            data = decompressor.unconsumed_tail
            if output:
                self._keep(output)
        return data if decompressor.eof else b""

    def _keep(self, output: bytes) -> None:
        if self.skip:
            dropped = min(self.skip, len(output))
            self.skip -= dropped
            output = output[dropped:]
        if output:
            self._out.append(output)
            self._out_size += len(output)

    def _flush(self) -> Iterator[bytes]:
        if self._out:
            out = b"".join(self._out)
            self._out, self._out_size = [], 0
            yield out

    def _damage(self, problem: str, *, inside: bool = True) -> None:
        self.problem = problem
        self.inside_member = inside


class _BlockTimestamps:
    """Timestamps of lines in one block, asked for in increasing positions.

    A continuation line takes the timestamp of the nearest timestamped line before it; the
    search backwards stops at the previous question, so a whole block costs one pass.
    """

    def __init__(self, block: bytes, inherited: datetime | None, reference: datetime) -> None:
        self.block = block
        self.inherited = inherited
        self.reference = reference
        self.reset()

    def reset(self) -> None:
        self._known_pos = -1  # line start of the last answer; -1: nothing checked yet
        self._known_ts = self.inherited

    def at(self, pos: int) -> datetime | None:
        """Timestamp of the line starting at `pos` (`len(block)`: the block's last timestamp)."""
        block = self.block
        if pos < len(block):
            end = block.find(b"\n", pos)
            ts = parse_timestamp_bytes(block[pos:end], self.reference)
            if ts is not None:
                self._known_pos, self._known_ts = pos, ts
                return ts
        ts = self._search_back(pos)
        self._known_pos, self._known_ts = pos, ts
        return ts

    def _search_back(self, pos: int) -> datetime | None:
        block = self.block
        idx = pos - 1  # the newline that ends the line before `pos`
        low = max(self._known_pos, 0)
        while idx > low or (idx >= 0 and self._known_pos < 0):
            newline = block.rfind(b"\n", low, idx)
            if newline < 0:
                if self._known_pos < 0:
                    ts = parse_timestamp_bytes(block[0:idx], self.reference)
                    if ts is not None:
                        return ts
                break
            ts = parse_timestamp_bytes(block[newline + 1 : idx], self.reference)
            if ts is not None:
                return ts
            idx = newline
        return self._known_ts


@dataclass
class _Verdict:
    filtered: bool
    """The file's lines need the time filter (it straddles the window or lacks timestamps)."""


@dataclass
class _Skip:
    error: str | None = None
    warning: str | None = None


class _FileFailure(Exception):
    """One file could not be searched; becomes the source's error."""
