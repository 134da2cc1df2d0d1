"""The pattern index: log lines grouped into templates as they stream in.

Each line is read on its own: its header is recognised (`header.py`) and its message masked
(`masking.py`) into a provisional template, its *shape*. Shapes are counted with their first
and last seen, per-minute counts, an example and their header's attributes. When results are
read, shapes that differ only where a value varies are merged (`merge.py`) into signatures.

Order does not matter: a line's shape depends on that line alone, and the merge depends on
the set of shapes alone, so lines from parallel sources give the same signatures whatever
order they arrive in (up to `MAX_SHAPES` distinct shapes, below).

Speed: every decision about a line depends on its shape, never on its digits, so the work is
done on the line with every digit replaced by `1` (its skeleton) and cached by that text: the
next line that differs only in its numbers costs a dictionary lookup. Ids count as digits
too: hex runs of 16 characters or more and UUIDs anywhere in the line, of 8 or more in the
message (when they hold a digit, masking makes each one `<*>` whatever its letters), so
request and trace ids do not make every line new. A header's split is cached under the
characters that decided it; a message's shape under its text.

Memory is bounded: `MAX_SHAPES` distinct shapes are tracked; when they are reached the shapes
are merged in place; past the bound, lines of still more shapes are counted as `untracked`
(shown as such, never silently lost). Examples are one line per shape; per-shape attribute
values are capped; members (file and line of every line) are kept only when asked for, as
compact arrays.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cockpit.core.patterns.header import (
    NO_HEADER,
    Header,
    leading_level,
    split_header_with_reach,
    token_class,
)
from cockpit.core.patterns.masking import Shape, shape_message
from cockpit.core.patterns.merge import Tokens, merge_bucket
from cockpit.core.search.model import Hit

MAX_SHAPES = 20_000
"""Distinct shapes tracked. Up to here the result does not depend on arrival order."""
MAX_ATTRIBUTE_VALUES = 64
"""Distinct values kept per attribute per shape; more are counted under `(other)`."""
OTHER_VALUE = "(other)"
_MAX_VALUES = 4 * MAX_ATTRIBUTE_VALUES
"""Distinct (service, level, host) combinations counted per shape."""
_ATTRIBUTES = ("service", "level", "host")
_Fields = tuple[str | None, str | None, str | None]
MAX_LINE_CHARS = 4000
"""Characters of a line read to find its shape."""
SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
NO_MESSAGE = "(no message)"
"""The template of lines that are all header (a timestamp, a level, nothing after)."""
_CACHE_LIMIT = 20_000
"""Entries per cache (lines, headers, messages); a full cache is cleared and refilled."""
_MAX_LENGTHS = 16
"""Distinct lengths header splits are cached under, per line start (each is probed)."""
_START_CHARS = 12
_CACHED_CHARS = 400
"""Lines and messages longer than this are not cached (bounds the caches' memory)."""
_ONES = str.maketrans("0123456789", "1111111111")
_ONES_ASCII = bytes.maketrans(b"0123456789", b"1111111111")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER = float("inf")


def sparkline(counts: Sequence[int]) -> str:
    """Unicode block sparkline; zero is a blank, the tallest bucket a full block."""
    peak = max(counts, default=0)
    if peak <= 0:
        return " " * len(counts)
    top = len(SPARK_BLOCKS) - 1
    return "".join(" " if c <= 0 else SPARK_BLOCKS[min(top, round(c / peak * top))] for c in counts)


@dataclass(frozen=True, slots=True)
class LineShape:
    """What one line reads as: its provisional template and its header's fields."""

    tokens: Tokens
    structured: bool
    level: str | None
    host: str | None
    service: str | None

    @property
    def template(self) -> str:
        return " ".join(self.tokens) or NO_MESSAGE


_Span = tuple[int, int] | None
_Read = tuple[str, Tokens, bool, str | None, _Span, _Span, _Span]
"""(shape key, tokens, structured, level, service span, host span, status span) of one line,
the spans in the line itself; a status span says the last token is to be read from the line.
The key is the template (tokens hold no white space, so joining them loses nothing), with a
newline before it for an access log's: one string, its hash computed once and kept."""


class _Reader:
    """Line -> what it reads as, with the caches that make repeated shapes cheap. Pure: the
    caches only remember answers (of a function of the line's skeleton), so clearing them,
    or what they hold when, never changes a result."""

    def __init__(self) -> None:
        self._lines: dict[str, _Read] = {}
        self._headers: dict[str, Header] = {}
        self._lengths: dict[str, list[int]] = {}
        self._messages: dict[str, Shape] = {}

    def header(self, skeleton: str) -> Header:
        """The header of a line (as its skeleton), cached under what decided it: the exact
        characters up to some length, or those up to the message and the class of the
        message's first token (`split_header_with_reach`). Any line that matches such an
        entry splits the same way."""
        headers = self._headers
        size = len(skeleton)
        lengths = self._lengths.get(skeleton[:_START_CHARS])
        if lengths is not None:
            for position, length in enumerate(lengths):
                if length < 0:  # up to the message, then the first token's class
                    start = -length
                    if start >= size or skeleton[start].isspace():
                        continue
                    key = _class_key(skeleton, start)
                else:
                    key = skeleton[:length] if size >= length else skeleton + "\n"
                found = headers.get(key)
                if found is not None:
                    if position:  # the last length that answered is tried first next time
                        lengths.insert(0, lengths.pop(position))
                    return found
        header, reach, by_class = split_header_with_reach(skeleton)
        if len(headers) >= _CACHE_LIMIT:
            headers.clear()
            self._lengths.clear()
            lengths = None
        if lengths is None:
            lengths = self._lengths[skeleton[:_START_CHARS]] = []
        if by_class:
            key = _class_key(skeleton, reach)
            reach = -reach
        else:
            key = skeleton[:reach] if size >= reach else skeleton + "\n"
        if reach not in lengths and len(lengths) < _MAX_LENGTHS:
            lengths.append(reach)
        if reach in lengths:
            headers[key] = header
        return header

    def message(self, skeleton: str) -> Shape:
        """The shape of a message (as its skeleton). Looked up as it is, then with its hex
        ids as `1`s: an id with a digit is one variable whatever its letters, so the shape
        is the same, and request ids no longer make every message new."""
        messages = self._messages
        found = messages.get(skeleton)
        if found is None:
            normalized = _hex_ids(skeleton, _ONES_RUNS_8, _HEX_IDS)
            if normalized is not skeleton:
                skeleton = normalized
                found = messages.get(skeleton)
            if found is None:
                found = shape_message(skeleton)
                if len(skeleton) <= _CACHED_CHARS:
                    if len(messages) >= _CACHE_LIMIT:
                        messages.clear()
                    messages[skeleton] = found
        return found

    def read(self, text: str) -> _Read:
        """What a line reads as (its text cut to MAX_LINE_CHARS)."""
        if len(text) > MAX_LINE_CHARS:
            text = text[:MAX_LINE_CHARS]
        raw = None
        if text.isascii():  # 20x faster than str.translate
            raw = text.encode("ascii")
            skeleton = raw.translate(_ONES_ASCII).decode("ascii").rstrip()
        else:
            skeleton = text.translate(_ONES).rstrip()
        lines = self._lines
        found = lines.get(skeleton)
        if found is None:
            # Request and trace ids (long hex runs, UUIDs) as `1`s: every line that differs
            # only in them, and in digits, then reads the same (and is cached once).
            normalized = _long_ids(skeleton, raw)
            if normalized is not skeleton:
                skeleton = normalized
                found = lines.get(skeleton)
            if found is None:
                found = self._read(skeleton)
                if len(skeleton) <= _CACHED_CHARS:
                    if len(lines) >= _CACHE_LIMIT:
                        lines.clear()
                    lines[skeleton] = found
        return found

    def _read(self, skeleton: str) -> _Read:
        header = self.header(skeleton) if skeleton[:1] != "{" else NO_HEADER
        start = header.message
        level = header.level
        if level is None and start:
            found = leading_level(skeleton[start:])
            if found is not None:
                level, skip = found
                start += skip
        shape = self.message(skeleton[start:])
        service, host, status = header.service, header.host, None
        if shape.service is not None:
            service = (start + shape.service[0], start + shape.service[1])
        if shape.host is not None:
            host = (start + shape.host[0], start + shape.host[1])
        if shape.status is not None:
            status = (start + shape.status[0], start + shape.status[1])
        key = " ".join(shape.tokens)
        if shape.structured:
            key = "\n" + key
        return key, shape.tokens, shape.structured, shape.level or level, service, host, status


def _class_key(skeleton: str, start: int) -> str:
    """The cache key of a split decided by the text up to `start`, the class of the token
    there, and whether more tokens follow it (`skeleton` ends with no white space)."""
    first = _TOKEN.match(skeleton, start)
    end = first.end() if first is not None else start
    kind = token_class(skeleton[start:end]) if end > start else ""
    return f"{skeleton[:start]}\0{kind}\0{'+' if end < len(skeleton) else '.'}"


_TOKEN = re.compile(r"\S+")
# A hex id with a digit (digits are `1` in a skeleton), or a UUID whose first part has one,
# not part of a longer word: masking makes all of it one `<*>` whatever its letters. (The
# boundaries are checked in `_ones` and `_hex_ids`: lookarounds cost ten times more.)
_HEX_IDS = re.compile(r"[0-9a-f]{8,}")
"""Ids in a message: eight hex characters or more."""
_LONG_IDS = re.compile(r"[0-9a-f]{16,}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")
"""Ids long enough to be ids wherever they stand, in the header too (a 16-character hex
host reads as a number: ids are what it holds): 16 hex characters or more, or a UUID."""
# The same runs, found fast: with every hex digit as `1`, a run is a literal `1`s string.
_HEX_AS_ONES = bytes.maketrans(b"abcdef0123456789", b"1" * 16)
_ONES_RUNS = re.compile(rb"1111111111111111+|11111111-1111-1111-1111-111111111111")
_ONES_RUNS_8 = re.compile(rb"11111111+")
_EIGHT = "1" * 8
_SIXTEEN = "1" * 16
_UUID_MIDDLE = "-1111-1111-1111-"


def _long_ids(skeleton: str, raw: bytes | None = None) -> str:
    """`skeleton` with its long ids (`_LONG_IDS`, when they hold a digit) as `1`s. Returns
    `skeleton` itself when nothing changed. `raw`: the line's ASCII bytes, when at hand."""
    if raw is None:
        if not skeleton.isascii():
            return _hex_ids(skeleton, _ONES_RUNS, _LONG_IDS)
        raw = skeleton.encode("ascii")
    hexed = raw.translate(_HEX_AS_ONES).decode("ascii")
    if _UUID_MIDDLE in hexed:
        return _hex_ids(skeleton, _ONES_RUNS, _LONG_IDS)
    # No UUID: what `_ONES_RUNS` finds is every run of sixteen `1`s or more, whole (runs
    # are maximal: their neighbours are no hex digits). Found with `str.find`, faster than
    # a regex scan of a text full of `1`s (a, c, e are frequent letters). (A str: `in` a
    # bytes first tries its argument as an int, raising and clearing a TypeError each time.)
    find = hexed.find
    start = find(_SIXTEEN)
    if start < 0:
        return skeleton
    pieces: list[str] = []
    last = 0
    size = len(skeleton)
    while start >= 0:
        end = start + 16
        while end < size and hexed[end] == "1":
            end += 1
        alone = not (start and skeleton[start - 1].isalnum()) and not (
            end < size and skeleton[end].isalnum()
        )
        # Not part of a longer word, and with a digit and a letter (all digits read alike
        # already; no digit: a word).
        if alone and 0 < skeleton.count("1", start, end) < end - start:
            pieces += (skeleton[last:start], "1" * (end - start))
            last = end
        start = find(_SIXTEEN, end)
    if not pieces:
        return skeleton
    pieces.append(skeleton[last:])
    return "".join(pieces)


def _hex_ids(skeleton: str, runs: re.Pattern[bytes], pattern: re.Pattern[str]) -> str:
    """`skeleton` with the hex ids `pattern` finds (when they hold a digit and are not part
    of a longer word) as `1`s; `runs` finds the same in the text with every hex digit as `1`
    (a literal search: much faster). Returns `skeleton` itself when nothing changed."""
    if not skeleton.isascii():
        replaced = pattern.sub(_ones, skeleton)
        return skeleton if replaced == skeleton else replaced
    hexed = skeleton.encode("ascii").translate(_HEX_AS_ONES)
    if _EIGHT not in hexed.decode("ascii"):  # what `runs` finds starts with eight `1`s
        return skeleton  # (a str: `in` a bytes tries an int first, raising inside)
    pieces: list[str] = []
    last = 0
    size = len(skeleton)
    for found in runs.finditer(hexed):
        start, end = found.span()
        if (start and skeleton[start - 1].isalnum()) or (end < size and skeleton[end].isalnum()):
            continue
        run = skeleton[start:end]
        ones = "1" * (end - start)
        if run == ones or "1" not in (run[:8] if "-" in run else run):
            continue  # all digits already, or no digit (a word like `deadbeef`)
        pieces += (skeleton[last:start], ones)
        last = end
    if not pieces:
        return skeleton
    pieces.append(skeleton[last:])
    return "".join(pieces)


def _ones(found: re.Match[str]) -> str:
    start, end = found.span()
    text = found.string
    run = found.group()
    if (start and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum()):
        return run
    if "1" not in (run[:8] if "-" in run else run):
        return run
    return "1" * (end - start)


_reader = _Reader()


def clear_caches() -> None:
    """Forget every cached answer (results never change; benchmarks start cold with it)."""
    global _reader
    from cockpit.core.patterns import header, masking

    _reader = _Reader()
    header.clear_cache()
    masking.clear_cache()


def read_line(text: str) -> LineShape:
    """The shape of one log line: its provisional template and its header's fields."""
    _, tokens, structured, level, service, host, status = _reader.read(text)
    if status is not None:
        tokens = (*tokens[:-1], text[status[0] : status[1]])
    return LineShape(
        tokens,
        structured,
        level,
        text[host[0] : host[1]] if host else None,
        text[service[0] : service[1]] if service else None,
    )


class Signature:
    """One group of similar lines: a template with its variable parts shown as `<*>`.

    Built by `PatternIndex.signatures()`, a snapshot: later lines do not change it.
    """

    __slots__ = (
        "_attributes",
        "_fields",
        "_minutes",
        "_per_minute",
        "count",
        "example",
        "first_seen",
        "last_seen",
        "members",
        "seen_before_mark",
        "structured",
        "template",
    )

    def __init__(
        self,
        template: str,
        *,
        count: int,
        example: Hit,
        first_seen: datetime | None = None,
        last_seen: datetime | None = None,
        minutes: Mapping[int, int] | None = None,
        fields: Mapping[_Fields, int] | None = None,
        seen_before_mark: bool = False,
        members: list[tuple[str, int]] | None = None,
        structured: bool = False,
    ) -> None:
        self.template = template
        """The template: the message with its variable parts as `<*>`."""
        self.count = count
        self.example = example
        """The earliest line (ties: by text); raw text, sanitize before display."""
        self.first_seen = first_seen
        self.last_seen = last_seen
        self.seen_before_mark = seen_before_mark
        """Seen at least once before the index's `new_since`."""
        self.members = members
        """(file, line number) of every line, sorted, when the index keeps members."""
        self.structured = structured
        """An access-log request (`GET /api/cart/<*> 502`), known by method, route, status."""
        self._minutes = dict(minutes or {})
        self._fields = dict(fields or {})
        self._per_minute: Counter[datetime] | None = None
        self._attributes: dict[str, Counter[str]] | None = None

    def __repr__(self) -> str:
        return f"Signature({self.template!r}, count={self.count})"

    @property
    def key(self) -> str:
        """The template (the name the Logs pane used)."""
        return self.template

    @property
    def per_minute(self) -> Counter[datetime]:
        """Lines per minute (UTC, floored)."""
        if self._per_minute is None:
            self._per_minute = Counter(
                {_EPOCH + timedelta(minutes=m): n for m, n in self._minutes.items()}
            )
        return self._per_minute

    @property
    def attributes(self) -> dict[str, Counter[str]]:
        """Header fields of its lines: `service`, `level`, `host`, each value with its line
        count (past MAX_ATTRIBUTE_VALUES values, the rarest are counted as `(other)`)."""
        if self._attributes is None:
            self._attributes = _attributes(self._fields)
        return self._attributes

    @property
    def services(self) -> Counter[str]:
        return self.attributes.get("service", Counter())

    @property
    def service(self) -> str | None:
        """The service logging it most (ties: the first by name)."""
        services = self.services
        if not services:
            return None
        return min(services.items(), key=lambda item: (-item[1], item[0]))[0]

    def buckets(self, start: datetime, end: datetime, width: int) -> list[int]:
        """Counts in `width` equal buckets from `start` to `end` (minute resolution)."""
        first = int(start.timestamp()) // 60
        minutes = max(1, int(end.timestamp()) // 60 - first + 1)
        width = max(1, min(width, minutes))
        counts = [0] * width
        for minute, count in self._minutes.items():
            offset = minute - first
            if 0 <= offset < minutes:
                counts[offset * width // minutes] += count
        return counts

    def sparkline(self, start: datetime, end: datetime, width: int = 20) -> str:
        """Per-minute activity between `start` and `end` as a sparkline."""
        return sparkline(self.buckets(start, end, width))

    def to_json(self, *, members: bool = False) -> dict[str, Any]:
        """template, count, first_seen, last_seen, example, attributes (and members)."""
        record: dict[str, Any] = {
            "template": self.template,
            "count": self.count,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "example": self.example.text,
            "attributes": {
                name: dict(sorted(values.items(), key=lambda item: (-item[1], item[0])))
                for name, values in sorted(self.attributes.items())
            },
        }
        if members:
            record["members"] = [
                {"file": file, "line": line} for file, line in (self.members or [])
            ]
        return record


def _attributes(fields: Mapping[_Fields, int]) -> dict[str, Counter[str]]:
    attributes: dict[str, Counter[str]] = {}
    for values, count in fields.items():
        for name, value in zip(_ATTRIBUTES, values, strict=True):
            if value is not None:
                counter = attributes.get(name)
                if counter is None:
                    counter = attributes[name] = Counter()
                counter[value] += count
    for name, counter in attributes.items():
        if len(counter) > MAX_ATTRIBUTE_VALUES:
            other = counter.pop(OTHER_VALUE, 0)
            ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
            kept = Counter(dict(ranked[:MAX_ATTRIBUTE_VALUES]))
            kept[OTHER_VALUE] = other + sum(count for _, count in ranked[MAX_ATTRIBUTE_VALUES:])
            attributes[name] = kept
    return attributes


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _example_key(hit: Hit) -> tuple[Any, ...]:
    """Which line is a group's example: the earliest; ties by text, then place."""
    return (
        hit.ts is None,
        hit.ts or _EPOCH,
        hit.text,
        hit.source,
        hit.file or "",
        hit.line_no or 0,
    )


class _ShapeStats:
    """Everything counted for one shape (one provisional template). Times are also kept as
    epoch seconds: comparing floats is several times cheaper than comparing aware datetimes."""

    __slots__ = (
        "before_mark",
        "count",
        "example",
        "example_t",
        "files",
        "first",
        "first_t",
        "last",
        "last_t",
        "lines",
        "minutes",
        "structured",
        "tokens",
        "values",
    )

    def __init__(self, tokens: Tokens, structured: bool, hit: Hit) -> None:
        self.tokens = tokens
        self.structured = structured
        self.count = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.first_t = _NEVER
        self.last_t = -_NEVER
        self.minutes: dict[int, int] = {}
        self.values: dict[_Fields, int] = {}
        """(service, level, host) -> lines."""
        self.before_mark = False
        self.example = hit
        self.example_t = hit.ts.timestamp() if hit.ts is not None else _NEVER
        self.files: array[int] | None = None
        self.lines: array[int] | None = None

    def absorb(self, other: _ShapeStats) -> None:
        self.count += other.count
        if other.first_t < self.first_t:
            self.first, self.first_t = other.first, other.first_t
        if other.last_t > self.last_t:
            self.last, self.last_t = other.last, other.last_t
        for minute, count in other.minutes.items():
            self.minutes[minute] = self.minutes.get(minute, 0) + count
        for fields, count in other.values.items():
            self.values[fields] = self.values.get(fields, 0) + count
        self.before_mark = self.before_mark or other.before_mark
        if _example_key(other.example) < _example_key(self.example):
            self.example, self.example_t = other.example, other.example_t
        if other.files is not None and other.lines is not None:
            if self.files is None or self.lines is None:
                self.files, self.lines = array("I"), array("I")
            self.files.extend(other.files)
            self.lines.extend(other.lines)


class PatternIndex:
    """Groups lines into signatures as they stream in. Not thread-safe: feed from one thread.

    `new_since`: signatures first seen at or after it (and never before) are new.
    `keep_members`: remember the file and line of every line (for `cockpit patterns
    --members`). A line's service is its hit's, else `service_of[source name]`, else the
    program its header or envelope names (`sshd`, `"service":"checkout"`).
    """

    def __init__(
        self,
        *,
        new_since: datetime | None = None,
        max_shapes: int = MAX_SHAPES,
        keep_members: bool = False,
        service_of: Mapping[str, str] | None = None,
    ) -> None:
        self.new_since = new_since
        self.max_shapes = max_shapes
        self.keep_members = keep_members
        self.service_of = dict(service_of or {})
        self._shapes: dict[str, _ShapeStats] = {}
        """Shape key (`_Read`) -> what was counted for it."""
        self._files: dict[str, int] = {}
        self._merged: list[_Group] | None = None
        self._merges: dict[int, dict[Tokens, Tokens]] = {}
        """Per template length, the merge of the current shapes of that length (a merge
        depends only on which shapes there are, so only lengths with new shapes are redone)."""
        self._dirty: set[int] = set()
        self.total = 0
        """Lines added."""
        self.untracked = 0
        """Lines whose shape came after `max_shapes` distinct shapes (counted, not grouped)."""
        self.first_seen: datetime | None = None
        self.last_seen: datetime | None = None
        self._first_t = _NEVER
        self._last_t = -_NEVER

    @property
    def new_since(self) -> datetime | None:
        """Signatures first seen at or after it, and never before, are new."""
        return self._new_since

    @new_since.setter
    def new_since(self, moment: datetime | None) -> None:
        self._new_since = moment
        self._mark_t = moment.timestamp() if moment is not None else -_NEVER

    # -- adding --------------------------------------------------------------------------------

    def add(self, hit: Hit) -> None:
        """Count one line."""
        self.add_many((hit,))

    def add_many(self, hits: Iterable[Hit]) -> None:
        """Count lines. (One loop with its lookups kept local: this runs for every line.)"""
        read = _reader.read
        shapes = self._shapes
        service_of = self.service_of
        keep_members = self.keep_members
        mark = self._mark_t
        # Lines come in runs with the same time (a second's lines): an equal time is read
        # from the one before (comparing is much cheaper than `datetime.timestamp`).
        previous: datetime | None = None
        previous_t = 0.0
        for hit in hits:
            self.total += 1
            text = hit.text
            key, tokens, structured, level, service_span, host_span, status = read(text)
            if status is not None:  # an access log's status, from the line (shapes read 1s)
                tokens = (*tokens[:-1], text[status[0] : status[1]])
                key = "\n" + " ".join(tokens)
            stats = shapes.get(key)
            if stats is None:
                if len(shapes) >= self.max_shapes:
                    self._compact()
                    shapes = self._shapes
                    if len(shapes) >= self.max_shapes:
                        self.untracked += 1
                        continue
                stats = shapes[key] = _ShapeStats(tokens, structured, hit)
                if not structured:
                    self._dirty.add(len(tokens))
            stats.count += 1
            ts = hit.ts
            if ts is not None:
                if ts == previous:
                    t = previous_t
                else:
                    t = previous_t = ts.timestamp()
                    previous = ts
                if t < stats.first_t:
                    stats.first, stats.first_t = ts, t
                if t > stats.last_t:
                    stats.last, stats.last_t = ts, t
                if t < self._first_t:
                    self.first_seen, self._first_t = ts, t
                if t > self._last_t:
                    self.last_seen, self._last_t = ts, t
                minute = int(t // 60)
                minutes = stats.minutes
                minutes[minute] = minutes.get(minute, 0) + 1
                if t < mark:
                    stats.before_mark = True
                if t <= stats.example_t and (
                    t < stats.example_t or _example_key(hit) < _example_key(stats.example)
                ):
                    stats.example, stats.example_t = hit, t
            elif (
                stats.example_t == _NEVER
                and text <= stats.example.text
                and _example_key(hit) < _example_key(stats.example)
            ):
                stats.example = hit
            service = hit.service
            if service is None:
                if service_of:
                    service = service_of.get(hit.source)
                if service is None and service_span is not None:
                    service = text[service_span[0] : service_span[1]]
            host = text[host_span[0] : host_span[1]] if host_span is not None else None
            values = stats.values
            fields = (service or None, level, host)
            count = values.get(fields)
            if count is not None:
                values[fields] = count + 1
            elif len(values) < _MAX_VALUES:
                values[fields] = 1
            else:  # past the bound: the many-valued fields (host, then service) as `(other)`
                fields = (service or None, level, OTHER_VALUE if host else None)
                if fields not in values:
                    fields = (OTHER_VALUE if service else None, level, fields[2])
                values[fields] = values.get(fields, 0) + 1
            if keep_members and hit.file is not None and hit.line_no is not None:
                if stats.files is None or stats.lines is None:
                    stats.files, stats.lines = array("I"), array("I")
                file_id = self._files.get(hit.file)
                if file_id is None:
                    file_id = self._files[hit.file] = len(self._files)
                stats.files.append(file_id)
                stats.lines.append(hit.line_no)
        self._merged = None

    def _compact(self) -> None:
        """At the shape bound: merge shapes into their groups' templates, in place."""
        mapping = self._mapping()
        merged: dict[str, _ShapeStats] = {}
        for key, stats in sorted(self._shapes.items()):
            if not stats.structured:
                stats.tokens = mapping[stats.tokens]
                key = " ".join(stats.tokens)
            existing = merged.get(key)
            if existing is None:
                merged[key] = stats
            else:
                existing.absorb(stats)
        self._shapes = merged
        self._merged = None
        self._merges.clear()
        self._dirty = {len(stats.tokens) for stats in merged.values() if not stats.structured}

    # -- reading -------------------------------------------------------------------------------

    def signatures(self, limit: int | None = None) -> list[Signature]:
        """Signatures by count, largest first (ties: most recently seen, then template).
        With `limit`, only the first `limit` are built."""
        if self._merged is None:
            self._merged = self._groups()
        groups = self._merged if limit is None else self._merged[:limit]
        return [group.signature(self._file_names) for group in groups]

    @property
    def group_count(self) -> int:
        """How many signatures there are."""
        if self._merged is None:
            self._merged = self._groups()
        return len(self._merged)

    def is_new(self, signature: Signature) -> bool:
        """First seen at or after `new_since`, and never before it in what was read."""
        return (
            self.new_since is not None
            and not signature.seen_before_mark
            and signature.first_seen is not None
            and signature.first_seen >= self.new_since
        )

    def _mapping(self) -> dict[Tokens, Tokens]:
        """Every shape's template after merging, redoing only lengths with new shapes."""
        if self._dirty:
            by_length: dict[int, list[Tokens]] = {length: [] for length in self._dirty}
            for stats in self._shapes.values():
                if not stats.structured and len(stats.tokens) in by_length:
                    by_length[len(stats.tokens)].append(stats.tokens)
            for length, templates in by_length.items():
                self._merges[length] = merge_bucket(templates)
            self._dirty = set()
        mapping: dict[Tokens, Tokens] = {}
        for merged in self._merges.values():
            mapping.update(merged)
        return mapping

    def _file_names(self) -> list[str]:
        return sorted(self._files, key=self._files.__getitem__)

    def _groups(self) -> list[_Group]:
        mapping = self._mapping()
        groups: dict[tuple[Tokens, bool], _Group] = {}
        for stats in self._shapes.values():
            tokens, structured = stats.tokens, stats.structured
            target = (tokens if structured else mapping[tokens], structured)
            group = groups.get(target)
            if group is None:
                group = groups[target] = _Group(target[0], structured)
            group.add(stats)
        return sorted(groups.values(), key=_Group.rank)


class _Group:
    """The shapes that merged into one template; its Signature is built when asked for."""

    __slots__ = ("built", "count", "last", "members", "structured", "template", "tokens")

    def __init__(self, tokens: Tokens, structured: bool) -> None:
        self.tokens = tokens
        self.template = " ".join(tokens) or NO_MESSAGE
        self.structured = structured
        self.members: list[_ShapeStats] = []
        self.count = 0
        self.last: datetime | None = None
        self.built: Signature | None = None

    def add(self, stats: _ShapeStats) -> None:
        self.members.append(stats)
        self.count += stats.count
        if stats.last is not None and (self.last is None or stats.last > self.last):
            self.last = stats.last

    def rank(self) -> tuple[int, float, str, bool]:
        last = self.last.timestamp() if self.last else 0.0
        return (-self.count, -last, self.template, self.structured)

    def signature(self, file_names: Callable[[], list[str]]) -> Signature:
        if self.built is None:
            names = file_names() if any(m.files is not None for m in self.members) else []
            self.built = _signature(self.tokens, self.structured, self.members, names)
        return self.built


def _signature(
    tokens: Tokens, structured: bool, members: list[_ShapeStats], files: list[str]
) -> Signature:
    total = members[0]
    if len(members) > 1:
        total = _ShapeStats(total.tokens, structured, total.example)
        for stats in members:
            total.absorb(stats)
    member_list = None
    if total.files is not None and total.lines is not None:
        member_list = sorted(
            (files[file_id], line) for file_id, line in zip(total.files, total.lines, strict=True)
        )
    return Signature(
        " ".join(tokens) or NO_MESSAGE,
        count=total.count,
        example=total.example,
        first_seen=total.first,
        last_seen=total.last,
        minutes=total.minutes,
        fields=total.values,
        seen_before_mark=total.before_mark,
        members=member_list,
        structured=structured,
    )
