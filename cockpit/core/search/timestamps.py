"""Find the timestamp of a log line: ISO-8601/RFC3339, JSON time fields, syslog, nginx/apache.

Time windows depend on this. Every parser returns an aware UTC datetime; a timestamp without
a zone is taken as UTC (servers log in UTC; the cockpit shows UTC). A line with no timestamp
is a continuation (a stack trace frame, a wrapped message) and belongs to the line before it:
`TimestampTracker` carries the last timestamp forward.

The fast path looks at the first characters only: most log lines start with their timestamp.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?"
    r"\s?(Z|z|UTC|[+-]\d\d:?\d\d)?"
)
# JSON time fields: string values (ISO) or numbers (epoch seconds or milliseconds).
_JSON_TIME = re.compile(
    r'"(?:@timestamp|timestamp|time|ts)"\s*:\s*(?:"([^"]{8,40})"|(\d{9,16}(?:\.\d+)?))'
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_SYSLOG = re.compile(
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d) (\d\d):(\d\d):(\d\d)"
    r"(?:\.(\d{1,6}))?"
)
_CLF = re.compile(
    r"\[(\d\d)/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/(\d{4}):(\d\d):(\d\d):(\d\d)"
    r"(?: ([+-])(\d\d)(\d\d))?\]"
)
# How far into a line a timestamp that does not start it is looked for (`level=info ts=...`).
_SEARCH_PREFIX = 120
_JSON_PREFIX = 4096


def _iso_from_match(match: re.Match[str]) -> datetime | None:
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        stamp = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC
        )
    except ValueError:
        return None
    if zone and zone[0] in "+-":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        stamp -= sign * offset
    return stamp


def parse_iso(text: str) -> datetime | None:
    """Parse an ISO-8601/RFC3339 timestamp at the start of `text` (UTC if it has no zone)."""
    match = _ISO.match(text)
    return _iso_from_match(match) if match else None


def _from_epoch(number: float) -> datetime | None:
    if number > 1e11:  # milliseconds (1e11 seconds is the year 5138)
        number /= 1000.0
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _syslog(match: re.Match[str], reference: datetime) -> datetime | None:
    month_name, day, hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0").ljust(6, "0"))
    month = _MONTHS[month_name]
    # Syslog has no year: take the reference's year, or the year before when that would put
    # the line more than a day after the reference (a December line read in January).
    for year in (reference.year, reference.year - 1):
        try:
            stamp = datetime(
                year, month, int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC
            )
        except ValueError:
            continue
        if stamp <= reference + timedelta(days=1):
            return stamp
    return None


def _clf(match: re.Match[str]) -> datetime | None:
    day, month_name, year, hour, minute, second, sign, off_h, off_m = match.groups()
    try:
        stamp = datetime(
            int(year),
            _MONTHS[month_name],
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    if sign:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        stamp = stamp - offset if sign == "+" else stamp + offset
    return stamp


def parse_timestamp(line: str, reference: datetime | None = None) -> datetime | None:
    """Return the timestamp of one log line as aware UTC, or None for a continuation line.

    `reference` is "now" for formats without a year (syslog); defaults to the current time.
    """
    if not line:
        return None
    first = line[0]
    if first.isdigit():
        # Fast path: `2026-11-28T14:31:02.123Z ...` parsed by the C ISO parser.
        if len(line) >= 20 and line[4] == "-" and line[10] in "T ":
            space = line.find(" ", 11)
            token = line[: space if space > 0 else 40]
            try:
                stamp = datetime.fromisoformat(token)
            except ValueError:
                pass
            else:
                if stamp.tzinfo is None:
                    return stamp.replace(tzinfo=UTC)
                return stamp.astimezone(UTC)
        match = _ISO.match(line)
        if match:
            return _iso_from_match(match)
    elif first == "{":
        json_match = _JSON_TIME.search(line)
        if json_match:
            text_value, number = json_match.groups()
            if text_value is not None:
                return parse_iso(text_value.strip())
            return _from_epoch(float(number))
        return None
    elif first in "JFMASOND":
        match = _SYSLOG.match(line)
        if match:
            return _syslog(match, reference or datetime.now(UTC))
    elif first in " \t":
        # Indented lines are continuations (stack frames) in every format we know.
        return None
    head = line[:_SEARCH_PREFIX]
    match = _CLF.search(head)
    if match:
        return _clf(match)
    match = _ISO.search(head)
    if match:
        return _iso_from_match(match)
    match = _SYSLOG.search(head)
    if match:
        return _syslog(match, reference or datetime.now(UTC))
    return None


def parse_timestamp_bytes(line: bytes, reference: datetime | None = None) -> datetime | None:
    """`parse_timestamp` for raw bytes; only the head of the line is decoded."""
    if line[:1] == b"\0":  # the NUL hole copytruncate leaves before the first line it keeps
        line = line.lstrip(b"\0")
    # A JSON time field may follow a long message; other formats put the time up front.
    head = line[:_JSON_PREFIX] if line[:1] == b"{" else line[:_SEARCH_PREFIX]
    return parse_timestamp(head.decode("utf-8", "replace"), reference)


class TimestampTracker:
    """Gives each line of a stream its timestamp: its own, or the last one seen before it."""

    def __init__(self, reference: datetime | None = None) -> None:
        self.reference = reference or datetime.now(UTC)
        self.current: datetime | None = None

    def feed(self, line: str) -> datetime | None:
        """The timestamp `line` belongs to (None before the first timestamped line)."""
        stamp = parse_timestamp(line, self.reference)
        if stamp is not None:
            self.current = stamp
        return self.current
