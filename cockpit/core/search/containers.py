"""Container logs searched as a human reads them: Docker json-file and Kubernetes CRI lines.

On disk each line is an envelope around the text the program wrote:

- Docker's json-file driver (`/var/lib/docker/containers/ID/ID-json.log`):
  `{"log":"GET /cart 500\\n","stream":"stdout","time":"2026-11-28T14:31:02.123456789Z"}`.
  A line longer than 16 KiB is split into records whose `log` does not end in a newline.
- The CRI format kubelet writes (`/var/log/pods/NS_POD_UID/CONTAINER/0.log`):
  `2026-11-28T14:31:02.123456789Z stdout F GET /cart 500`, where the tag is `P` for a partial
  line continued by the next record of that stream and `F` for the full (or last) part.

A search matches the decoded text, never the envelope (a pattern with a quote or a backslash
must not depend on JSON escaping, and `stdout` in the envelope must not match every line), and
each hit carries the envelope's time and the file line where its record began. Partial
records are joined per stream before matching. Lines that are not envelopes (a corrupt
record, a line a human appended) are searched as they are, with a warning that counts them.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from cockpit.core.config import FileSource
from cockpit.core.search.files import expand_paths, is_gzip
from cockpit.core.search.matcher import LineMatcher, PatternError, validate
from cockpit.core.search.model import Hit, HitSink, Query, SourceError
from cockpit.core.search.timestamps import parse_iso

ContainerFormat = Literal["docker", "cri"]

BLOCK_SIZE = 1 << 20
"""Bytes read per block."""
MAX_RECORD_CHARS = 8192
"""Longest decoded text kept per hit, as for plain files; longer text is cut with a marker."""
LONG_LINE_MARKER = " [... omitted end of long line]"
MAX_JOINED_CHARS = 1 << 20
"""A partial line that never ends is flushed once it reaches this size."""

# Docker writes the fields in this order (`attrs` only with --log-opt labels/env); a record
# without a backslash in its text is read without a JSON parser.
_DOCKER_FAST = re.compile(
    rb'^\{"log":"(?P<log>[^"\\]*)(?P<end>(?:\\r)?\\n)?","stream":"(?P<stream>[a-z]+)",'
    rb'"time":"(?P<time>[^"]+)"\}\s*$'
)


@dataclass(frozen=True, slots=True)
class Record:
    """One logical log line: its decoded text, stream, envelope time, and first file line."""

    line_no: int
    text: str
    stream: str
    ts: datetime | None


def parse_envelope_time(text: str) -> datetime | None:
    """RFC 3339 with nanoseconds (`...:02.123456789Z`) as an aware UTC datetime, or None."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return parse_iso(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def decode_docker(raw: bytes) -> tuple[str, str, datetime | None, bool] | None:
    """(text, stream, time, complete) of one json-file record, or None if it is not one.

    `complete` is False for a split record (its `log` does not end in a newline)."""
    fast = _DOCKER_FAST.match(raw)
    if fast is not None:
        log = fast["log"].decode("utf-8", "replace")
        stream = fast["stream"].decode("ascii")
        time_text = fast["time"].decode("ascii", "replace")
        return log, stream, parse_envelope_time(time_text), fast["end"] is not None
    try:
        record = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("log"), str):
        return None
    log = record["log"]
    stream = record.get("stream") if isinstance(record.get("stream"), str) else "stdout"
    ts = parse_envelope_time(record["time"]) if isinstance(record.get("time"), str) else None
    complete = log.endswith("\n")
    if complete:
        log = log[:-1]
        if log.endswith("\r"):
            log = log[:-1]
    return log, str(stream), ts, complete


def decode_cri(raw: bytes) -> tuple[str, str, datetime | None, bool] | None:
    """(text, stream, time, complete) of one CRI record (`TIME STREAM P|F TEXT`), or None."""
    parts = raw.split(b" ", 3)
    if len(parts) < 3 or parts[1] not in (b"stdout", b"stderr") or parts[2] not in (b"P", b"F"):
        return None
    ts = parse_envelope_time(parts[0].decode("ascii", "replace"))
    if ts is None:
        return None
    text = parts[3] if len(parts) == 4 else b""
    if text.endswith(b"\r"):
        text = text[:-1]
    return text.decode("utf-8", "replace"), parts[1].decode("ascii"), ts, parts[2] == b"F"


_DECODERS = {"docker": decode_docker, "cri": decode_cri}


class _Joiner:
    """Joins partial records per stream into whole lines, in file order."""

    def __init__(self, fmt: ContainerFormat) -> None:
        self.decode = _DECODERS[fmt]
        self.pending: dict[str, tuple[int, datetime | None, list[str], int]] = {}
        self.undecoded = 0

    def feed(self, line_no: int, raw: bytes) -> Iterator[Record]:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if not raw.strip():
            return
        decoded = self.decode(raw)
        if decoded is None:
            # Not an envelope: searched as it is, so nothing in the file is invisible.
            self.undecoded += 1
            yield Record(line_no, raw.decode("utf-8", "replace"), "", None)
            return
        text, stream, ts, complete = decoded
        started = self.pending.pop(stream, None)
        if started is not None:
            first_line, first_ts, parts, size = started
            parts.append(text)
            size += len(text)
            if complete or size >= MAX_JOINED_CHARS:
                yield Record(first_line, "".join(parts), stream, first_ts)
            else:
                self.pending[stream] = (first_line, first_ts, parts, size)
            return
        if complete:
            yield Record(line_no, text, stream, ts)
        else:
            self.pending[stream] = (line_no, ts, [text], len(text))

    def finish(self) -> Iterator[Record]:
        """Partial lines still open at the end of the file (a container still writing)."""
        for stream, (line_no, ts, parts, _size) in sorted(
            self.pending.items(), key=lambda item: item[1][0]
        ):
            yield Record(line_no, "".join(parts), stream, ts)
        self.pending.clear()


@dataclass
class DecodedBlock:
    """Decoded records of one block: line i of `data` is record i (each ends in a newline)."""

    data: bytes
    line_nos: list[int] | int
    """Each record's first file line, or (an int) the first record's, the rest following."""
    times: list[datetime | None] | list[str]
    """Each record's time, or its unparsed envelope time (parsed only for hits)."""

    def line_no(self, index: int) -> int:
        return self.line_nos + index if isinstance(self.line_nos, int) else self.line_nos[index]

    def time(self, index: int) -> datetime | None:
        value = self.times[index]
        return parse_envelope_time(value) if isinstance(value, str) else value

    def __len__(self) -> int:
        return len(self.times)


_CRI_FULL_PREFIX = re.compile(rb"^\S+ (?:stdout|stderr) F ?", re.MULTILINE)
_CRI_TIME = re.compile(rb"^(\S+) ", re.MULTILINE)


def _fast_docker(lines: list[bytes], first_line: int) -> DecodedBlock | None:
    """The whole block parsed by one C-level JSON call; None when any line is not a complete
    record (a split line, a stray line), which the record-by-record path handles."""
    try:
        records = json.loads(b"[" + b",".join(lines) + b"]")
        texts = [record["log"] for record in records]
        times = [record["time"] for record in records]
    except (ValueError, UnicodeDecodeError, TypeError, KeyError):
        return None
    data = "".join(texts)
    if data.count("\n") != len(texts) or not data.endswith("\n"):
        return None  # a split record (no newline at its end) or an odd one: go record by record
    if "\r\n" in data:
        data = data.replace("\r\n", "\n")
    return DecodedBlock(data.encode("utf-8", "surrogatepass"), first_line, times)


def _fast_cri(block: bytes, lines: list[bytes], first_line: int) -> DecodedBlock | None:
    """Every line a full (`F`) record: strip the prefixes in one pass; else None."""
    data, count = _CRI_FULL_PREFIX.subn(b"", block)
    if count != len(lines):
        return None
    times = [m.decode("ascii", "replace") for m in _CRI_TIME.findall(block)]
    if len(times) != len(lines):
        return None
    return DecodedBlock(data, first_line, times)


def _slow_block(records: list[Record]) -> DecodedBlock:
    texts = [_one_line(record.text) for record in records]
    data = ("\n".join(texts) + "\n").encode("utf-8", "surrogatepass") if texts else b""
    return DecodedBlock(data, [r.line_no for r in records], [r.ts for r in records])


_DOCKER_COMPLETE = b'\\n","stream":"'
"""Every complete json-file record has this right after its text (split records do not)."""
_JSON_ESCAPED = frozenset('"\\<>&\u2028\u2029')


def raw_prefilter(query: Query) -> bool:
    """Whether a match in the raw json-file line is a necessary condition for a match in the
    decoded text: a literal none of whose characters Docker's encoder escapes. The decoded
    text is still matched exactly; this only skips decoding lines that cannot match."""
    return (
        not query.regex
        and bool(query.pattern)
        and all(ch >= " " and ch not in _JSON_ESCAPED for ch in query.pattern)
    )


def _prefiltered_docker(block: bytes, first_line: int, matcher: LineMatcher) -> DecodedBlock | None:
    """Only the lines whose raw record matches, decoded; None to decode the block whole."""
    texts: list[str] = []
    times: list[str] = []
    line_nos: list[int] = []
    line = first_line
    previous = 0
    for start, end in matcher.spans(block):
        line += block.count(b"\n", previous, start)
        previous = start
        try:
            record = json.loads(block[start:end])
            text, moment = record["log"], record["time"]
        except (ValueError, UnicodeDecodeError, TypeError, KeyError):
            return None
        if not isinstance(text, str) or not isinstance(moment, str) or not text.endswith("\n"):
            return None
        texts.append(text[:-2] + "\n" if text.endswith("\r\n") else text)
        times.append(moment)
        line_nos.append(line)
    data = "".join(texts)
    if data.count("\n") != len(texts):
        return None  # a newline inside a record's text: let the general path cut it
    return DecodedBlock(data.encode("utf-8", "surrogatepass"), line_nos, times)


def read_blocks(
    path: Path,
    fmt: ContainerFormat,
    cancel: threading.Event | None = None,
    *,
    prefilter: LineMatcher | None = None,
) -> Iterator[DecodedBlock]:
    """The file's records, decoded, in blocks; partial lines joined (across blocks too).

    `prefilter` (json-file only, see `raw_prefilter`): blocks of complete records decode only
    the lines whose raw text it matches, the rest are never parsed.

    Raises OSError when the file cannot be opened; a damaged .gz raises EOFError or OSError
    midway, after every block before the damage; `_Undecoded` at the end counts lines that
    were not records (they are searched as they are).
    """
    joiner = _Joiner(fmt)
    handle: IO[bytes]
    if is_gzip(path):
        from isal import igzip

        handle = igzip.open(path, "rb")
    else:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    line_no = 0
    carry = b""
    try:
        while cancel is None or not cancel.is_set():
            chunk = handle.read(BLOCK_SIZE)
            if not chunk:
                break
            data = carry + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            block, carry = data[: cut + 1], data[cut + 1 :]
            if (
                prefilter is not None
                and fmt == "docker"
                and not joiner.pending
                and block.count(_DOCKER_COMPLETE) == block.count(b"\n")
            ):
                picked = _prefiltered_docker(block, line_no + 1, prefilter)
                if picked is not None:
                    line_no += block.count(b"\n")
                    yield picked
                    continue
            lines = block[:-1].split(b"\n")
            fast = None
            if not joiner.pending and b"\r" not in block:
                fast = (
                    _fast_docker(lines, line_no + 1)
                    if fmt == "docker"
                    else _fast_cri(block, lines, line_no + 1)
                )
            if fast is not None:
                line_no += len(lines)
                yield fast
                continue
            records: list[Record] = []
            for raw in lines:
                line_no += 1
                records.extend(joiner.feed(line_no, raw))
            if records:
                yield _slow_block(records)
        tail: list[Record] = []
        if carry:
            line_no += 1
            tail.extend(joiner.feed(line_no, carry))
        tail.extend(joiner.finish())
        if tail:
            yield _slow_block(tail)
    finally:
        handle.close()
    if joiner.undecoded:
        raise _Undecoded(joiner.undecoded)


class _Undecoded(Exception):
    """Raised after the last batch: this many lines were not envelopes (a warning)."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


def _one_line(text: str) -> str:
    """Decoded text as one line for the line matcher (a newline inside is shown as `\\n`)."""
    return text.replace("\n", "\\n") if "\n" in text else text


def _capped(text: str) -> str:
    """The hit's text: a very long line is cut with a marker (it matched in full)."""
    return text[:MAX_RECORD_CHARS] + LONG_LINE_MARKER if len(text) > MAX_RECORD_CHARS else text


class ContainerLogSource:
    """A `Source` over container log files (config `kind = "files"` with `format = "docker"`
    or `"cri"`): hits are the decoded lines, timed by their envelopes."""

    def __init__(
        self,
        name: str,
        paths: list[str],
        *,
        fmt: ContainerFormat,
        service: str | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.service = service
        self.paths = list(paths)
        self.fmt: ContainerFormat = fmt
        self.base_dir = base_dir or Path.cwd()

    @classmethod
    def from_config(cls, cfg: FileSource, *, base_dir: Path) -> ContainerLogSource:
        """The source a `[[sources]] kind = "files"` table with a container format describes."""
        assert cfg.format in ("docker", "cri")
        return cls(cfg.name, cfg.paths, fmt=cfg.format, service=cfg.service, base_dir=base_dir)

    def search(self, query: Query, sink: HitSink, cancel: threading.Event) -> None:
        """Report every decoded line that matches (with its envelope time) to `sink`."""
        if query.services is not None and self.service not in query.services:
            return
        try:
            validate(query)
            matcher = LineMatcher(query)
        except PatternError as exc:
            raise SourceError(f"{self.name}: {exc}") from None
        listing = expand_paths(self.paths, self.base_dir)
        errors = list(listing.errors)
        for warning in listing.warnings:
            sink.warn(f"{self.name}: {warning}")
        for path in listing.files:
            if cancel.is_set():
                return
            try:
                self._search_file(path, matcher, query, sink, cancel)
            except _Undecoded as undecoded:
                sink.warn(
                    f"{self.name}: {path}: {undecoded.count} line(s) are not {self.fmt} "
                    "records; searched as plain text"
                )
            except PermissionError:
                errors.append(f"{path}: no read permission")
            except (OSError, EOFError) as exc:
                if is_gzip(path):
                    sink.warn(
                        f"{self.name}: {path}: corrupt gzip data ({exc}); searched what "
                        "could be read"
                    )
                else:
                    errors.append(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})")
        if errors and not cancel.is_set():
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise SourceError(f"{self.name}: {errors[0]}{more}")

    def _search_file(
        self,
        path: Path,
        matcher: LineMatcher,
        query: Query,
        sink: HitSink,
        cancel: threading.Event,
    ) -> None:
        name = str(path)
        since, until = query.since, query.until
        windowed = since is not None or until is not None

        def inside(ts: datetime | None) -> bool:
            if not windowed:
                return True
            if ts is None:
                return False
            return (since is None or ts >= since) and (until is None or ts < until)

        many = getattr(sink, "hits", None)
        prefilter = matcher if self.fmt == "docker" and raw_prefilter(query) else None
        for block in read_blocks(path, self.fmt, cancel, prefilter=prefilter):
            if not len(block):
                continue
            if windowed:
                # Records are written in time order: a block wholly outside is not matched.
                first, last = block.time(0), block.time(len(block) - 1)
                if first is not None and until is not None and first >= until:
                    return
                if last is not None and since is not None and last < since:
                    continue
            hits: list[Hit] = []
            data = block.data
            index = 0
            previous = 0
            for start, end in matcher.spans(data):
                index += data.count(b"\n", previous, start)
                previous = start
                ts = block.time(index)
                if not inside(ts):
                    continue
                hits.append(
                    Hit(
                        source=self.name,
                        text=_capped(data[start:end].decode("utf-8", "replace")),
                        service=self.service,
                        file=name,
                        line_no=block.line_no(index),
                        ts=ts,
                    )
                )
            if hits:
                if callable(many):
                    many(hits)
                else:
                    for hit in hits:
                        sink.hit(hit)
            if cancel.is_set():
                return
