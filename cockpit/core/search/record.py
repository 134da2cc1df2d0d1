"""The whole record a matching line belongs to: its first line and its continuation lines.

A log record is a timestamped line and the lines after it that have no timestamp of their own
(a stack trace, a wrapped message): the same rule time windows use. The search reports one
line; `read_record` reads the file around it so the Logs pane can show the record in full.
Blocking I/O on outside files: call it from a worker. It never follows anything but a regular
file, reads at most `MAX_SCAN_BYTES`, and never raises for bad data: a problem is a note and
the line as found is shown.
"""

from __future__ import annotations

import gzip
import os
import stat
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from cockpit.core.search.model import Hit
from cockpit.core.search.paths import is_gzip
from cockpit.core.search.timestamps import parse_timestamp

MAX_BEFORE = 200
"""Lines looked back for the record's first (timestamped) line when the match is a
continuation line (a frame of a stack trace)."""
MAX_AFTER = 400
"""Continuation lines shown after the record's first line."""
MAX_SCAN_BYTES = 2 << 30
"""Bytes read at most to reach the matching line (a huge or endless file stops here)."""


@dataclass(frozen=True)
class RecordLine:
    """One line of a record: its number in the file (None when the source has none)."""

    number: int | None
    text: str
    """Raw outside text: sanitize before display."""
    matched: bool = False
    """The line the search matched."""


@dataclass(frozen=True)
class Record:
    """A matching line's whole record, as read from its source."""

    hit: Hit
    lines: tuple[RecordLine, ...]
    ts: datetime | None
    """The record's timestamp (its first line's), else the hit's."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Why the record may be incomplete: cut at a limit, the file changed, not readable."""

    @property
    def text(self) -> str:
        """The record's lines joined (raw)."""
        return "\n".join(line.text for line in self.lines)


def as_found(hit: Hit, note: str | None = None) -> Record:
    """The record as the search found it: the matched line (an entry of several lines, from
    journald or Loki, split at its newlines), with `note` saying why, if anything."""
    parts = hit.text.split("\n") if hit.text else [""]
    lines = tuple(
        RecordLine(
            hit.line_no + index if hit.line_no is not None else None,
            part.rstrip("\r"),
            matched=index == 0,
        )
        for index, part in enumerate(parts)
    )
    return Record(hit, lines, hit.ts, (note,) if note else ())


def _open(path: Path) -> IO[bytes]:
    """A regular file opened for reading (gzip by name, like the search); never a FIFO."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        os.set_blocking(fd, True)
        raw = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    if is_gzip(path):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def _numbered(handle: IO[bytes], cancel: threading.Event | None) -> Iterator[tuple[int, bytes]]:
    read = 0
    for number, raw in enumerate(handle, start=1):
        read += len(raw)
        if read > MAX_SCAN_BYTES or (
            cancel is not None and number % 65536 == 0 and cancel.is_set()
        ):
            return
        yield number, raw


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace")


def read_record(hit: Hit, *, cancel: threading.Event | None = None) -> Record:
    """The record `hit` belongs to: from its timestamped first line (up to `MAX_BEFORE` lines
    back) through its continuation lines (up to `MAX_AFTER`). For a source without files
    (journald, Loki, Elasticsearch) the record is the entry as the source returned it."""
    if hit.file is None or not hit.line_no:
        return as_found(hit)
    path = Path(hit.file)
    reference = hit.ts
    before: deque[tuple[int, bytes]] = deque(maxlen=MAX_BEFORE)
    found: str | None = None
    after: list[tuple[int, str]] = []
    notes: list[str] = []
    try:
        with _open(path) as handle:
            for number, raw in _numbered(handle, cancel):
                if found is None:
                    if number < hit.line_no:
                        before.append((number, raw))
                    else:
                        found = _text(raw)
                    continue
                text = _text(raw)
                if parse_timestamp(text, reference) is not None:
                    break  # the next record starts
                if len(after) >= MAX_AFTER:
                    notes.append(f"cut after {MAX_AFTER} continuation lines")
                    break
                after.append((number, text))
    except (OSError, EOFError, ValueError) as exc:  # gone, unreadable, a damaged .gz
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return as_found(hit, f"{hit.file}: {why}; showing the line as found")
    if found is None:
        return as_found(hit, f"{hit.file} is shorter now; showing the line as found")
    if found.rstrip() != hit.text.rstrip("\r\n").rstrip():
        return as_found(hit, f"{hit.file} changed since the search; the line as found")
    start: list[tuple[int, str]] = []
    if parse_timestamp(found, reference) is None:
        # A continuation line matched: the record starts at the timestamped line before it.
        for number, raw in reversed(before):
            text = _text(raw)
            start.insert(0, (number, text))
            if parse_timestamp(text, reference) is not None:
                break
        else:
            if len(before) == MAX_BEFORE:
                notes.append(f"its first line is more than {MAX_BEFORE} lines back")
    lines = [RecordLine(number, text) for number, text in start]
    lines.append(RecordLine(hit.line_no, found, matched=True))
    lines += [RecordLine(number, text) for number, text in after]
    head_ts = parse_timestamp(lines[0].text, reference)
    return Record(hit, tuple(lines), head_ts or hit.ts, tuple(notes))
