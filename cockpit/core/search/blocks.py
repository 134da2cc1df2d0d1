"""Timestamps inside blocks of a log file, and counting matching lines per minute.

A line without a timestamp (a stack-trace line) takes the one of the nearest timestamped line
before it, in the same block or, reading backwards, in the file.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import IO

from cockpit.core.search.model import TimeWindow
from cockpit.core.search.timestamps import parse_timestamp_bytes
from cockpit.core.timefmt import floor_minute

_Window = TimeWindow  # the window predicate lives with the query (files.py needs it light)

BACKWARD_LIMIT = 8 << 20
"""How far back a continuation line's timestamp is looked for."""


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
