"""Time windows as people type them: `15m`, `1h`, `2d`, an ISO time, or an ISO range `A..B`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from cockpit.core.search.timestamps import parse_iso

_DURATION = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days|w)\s*$", re.IGNORECASE
)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


MAX_LOOKBACK = timedelta(days=3660)
"""The furthest back a typed duration may reach (ten years): further is a typo, and `now -
duration` would overflow the calendar."""


class TimeSpecError(ValueError):
    """A time or window the user typed could not be read; the message is one line."""


def lookback(seconds: float, what: str) -> timedelta:
    """`seconds` as a timedelta, or TimeSpecError `WHAT: too far back` beyond MAX_LOOKBACK.

    `what` names the option or value, e.g. `--since '99999999d'`. Every typed duration goes
    through here, so none can overflow date arithmetic with a traceback.
    """
    if not seconds <= MAX_LOOKBACK.total_seconds():  # also catches inf and nan
        raise TimeSpecError(f"{what}: too far back (at most {MAX_LOOKBACK.days} days)")
    return timedelta(seconds=seconds)


def parse_duration(text: str) -> timedelta | None:
    """`90s`, `15m`, `1.5h`, `2d`, `1w` as a timedelta; None when `text` is not a duration.

    Raises TimeSpecError for a duration beyond MAX_LOOKBACK.
    """
    match = _DURATION.match(text)
    if not match:
        return None
    number, unit = match.groups()
    return lookback(float(number) * _UNITS[unit[0].lower()], f"time {text.strip()!r}")


def parse_time_spec(text: str, now: datetime) -> datetime:
    """A point in time: a duration ago (`1h`), `now`, or an ISO-8601 time (UTC if no zone)."""
    text = text.strip()
    if text.lower() == "now":
        return now
    duration = parse_duration(text)
    if duration is not None:
        return now - duration
    stamp = parse_iso(text)
    if stamp is None:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise TimeSpecError(
                f"cannot read time {text!r}: use a duration like 15m, 1h, 2d or an ISO time "
                "like 2026-11-28T14:00:00Z"
            ) from None
        stamp = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


def parse_window(text: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """A window: `2h` (the last two hours), or a range `A..B` / `A/B` (either end may be empty)."""
    text = text.strip()
    if not text:
        return None, None
    for separator in ("..", "/"):
        if separator in text:
            start, _, end = text.partition(separator)
            since = parse_time_spec(start, now) if start.strip() else None
            until = parse_time_spec(end, now) if end.strip() else None
            if since is not None and until is not None and since >= until:
                raise TimeSpecError(f"empty time window {text!r}: the start is not before the end")
            return since, until
    return parse_time_spec(text, now), None
