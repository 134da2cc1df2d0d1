"""Timestamps inside blocks of a log file, and counting matching lines per minute.

A line without a timestamp (a stack-trace line) takes the one of the nearest timestamped line
before it, in the same block or, reading backwards, in the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import IO

from cockpit.core.search.model import TimeWindow
from cockpit.core.search.timestamps import parse_timestamp_bytes

_Window = TimeWindow  # the window predicate lives with the query (files.py needs it light)

BACKWARD_LIMIT = 8 << 20
"""How far back a continuation line's timestamp is looked for."""


def _first_timestamp(data: bytes, reference: datetime) -> datetime | None:
    """The first timestamp of the complete lines of `data` (of `data` itself if it holds no
    newline). Lines are found one at a time: the answer is usually in the first."""
    end = data.find(b"\n")
    if end < 0:
        return parse_timestamp_bytes(data, reference)
    start = 0
    while end >= 0:
        ts = parse_timestamp_bytes(data[start:end], reference)
        if ts is not None:
            return ts
        start, end = end + 1, data.find(b"\n", end + 1)
    return None


def _last_timestamp(data: bytes, reference: datetime) -> datetime | None:
    """The last timestamp of `data`, whose first line may be cut (never read)."""
    end = len(data)
    while (newline := data.rfind(b"\n", 0, end)) >= 0:
        ts = parse_timestamp_bytes(data[newline + 1 : end], reference)
        if ts is not None:
            return ts
        end = newline
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
    starts: Sequence[int],
    inherited: datetime | None,
    reference: datetime,
    window: _Window,
    counts: Counter[datetime],
) -> None:
    """Count the matching lines starting at `starts` (sorted) per minute, halving runs."""
    # Every timestamp here is aware UTC (the parser's), so its minute is a plain `replace`;
    # each probed line is parsed and floored once. Health counts call this for every block.
    known: dict[int, tuple[datetime, datetime] | None] = {}
    lines: dict[int, datetime | None] = {}  # line start -> its timestamp, own or inherited
    since, until = window.since, window.until

    def probe(index: int) -> tuple[datetime, datetime] | None:
        if index in known:
            return known[index]
        ts = _timestamp_at(block, starts[index], inherited, reference, lines)
        found = None if ts is None else (ts, ts.replace(second=0, microsecond=0))
        known[index] = found
        return found

    def inside(ts: datetime) -> bool:
        return (since is None or ts >= since) and (until is None or ts < until)

    pending = [(0, len(starts) - 1)]
    while pending:
        first, last = pending.pop()
        low, high = probe(first), probe(last)
        if low is not None and high is not None and low[0] <= high[0]:
            if (since is not None and high[0] < since) or (until is not None and low[0] >= until):
                continue  # the whole run lies outside the window
            if low[1] == high[1] and inside(low[0]) and inside(high[0]):
                counts[low[1]] += last - first + 1
                continue
        if last - first < 8:
            for index in range(first, last + 1):
                found = probe(index)
                if found is not None and inside(found[0]):
                    counts[found[1]] += 1
        else:
            middle = (first + last) // 2
            pending.append((first, middle))
            pending.append((middle + 1, last))


def _timestamp_at(
    block: bytes,
    pos: int,
    inherited: datetime | None,
    reference: datetime,
    known: dict[int, datetime | None] | None = None,
) -> datetime | None:
    """Timestamp of the line starting at `pos`: its own, or the nearest one before it.

    `known` (line start -> answer) remembers every line the walk back passed, so a block of
    lines without timestamps (a CSV, a stack trace) is walked once, not once per question."""
    end = block.find(b"\n", pos)
    walked: list[int] = []
    while True:
        if known is not None and pos in known:
            ts = known[pos]
            break
        walked.append(pos)
        ts = parse_timestamp_bytes(block[pos:end], reference)
        if ts is not None:
            break
        if pos == 0:
            ts = inherited
            break
        end = pos - 1
        pos = block.rfind(b"\n", 0, end) + 1
    if known is not None:
        for line in walked:
            known[line] = ts
    return ts


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
