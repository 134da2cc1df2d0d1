"""Time, one way: every time the cockpit computes with is an aware UTC datetime, and every time it
writes or reads as text goes through here.

A naive datetime is taken to be UTC already (never the host's local time). `hhmm` is the one
short form ("14:31"); callers add " UTC" or nothing, as their sentence needs. The store's own
sortable format (`format_ts`) lives here too, and the store imports it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from typing import Any

STORE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""The store's timestamp text: ISO-8601 UTC with microseconds, sortable as text."""
_FRACTION = re.compile(r"(\.\d{6})\d+")


def as_utc(value: datetime) -> datetime:
    """`value` in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def floor_minute(value: datetime) -> datetime:
    """The minute `value` falls in (seconds and microseconds dropped), UTC."""
    return as_utc(value).replace(second=0, microsecond=0)


def hhmm(value: datetime) -> str:
    """`14:31`, in UTC."""
    return as_utc(value).strftime("%H:%M")


def hhmm_z(value: datetime) -> str:
    """`14:31Z`: a compact UTC time for sources and labels."""
    return f"{hhmm(value)}Z"


def hhmmss(value: datetime) -> str:
    """`14:31:05`, in UTC."""
    return as_utc(value).strftime("%H:%M:%S")


def iso_utc(value: datetime) -> str:
    """`2026-11-28T14:31:05Z`: ISO 8601 in UTC with a Z, to the second."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """An ISO-8601 time (`Z`, `z` or an offset; any number of fraction digits) in UTC; without
    a zone it is taken as UTC. Raises ValueError."""
    text = _FRACTION.sub(r"\1", text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return as_utc(datetime.fromisoformat(text))


def parse_time(value: Any) -> datetime:
    """A time from a log, a record or a tool: ISO 8601 (as `parse_iso`) or epoch seconds (a
    number, or 9 to 11 digits). Raises ValueError."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=UTC)
    text = str(value).strip()
    if re.fullmatch(r"\d{9,11}(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), tz=UTC)
    return parse_iso(text)


def format_ts(moment: datetime) -> str:
    """The store's format: ISO-8601 UTC with microseconds, sortable as text."""
    return moment.astimezone(UTC).strftime(STORE_FORMAT)


def parse_ts(text: str) -> datetime:
    """Inverse of `format_ts`. Text of exactly the store's shape takes `fromisoformat` (a
    hundred times faster than `strptime`, whose import alone costs start-up); anything else,
    and any text `fromisoformat` refuses, gets `strptime`'s answer, so both accept the same."""
    if (
        len(text) == 27
        and text.isascii()
        and text[4] + text[7] + text[10] + text[13] + text[16] + text[19] + text[26] == "--T::.Z"
        and text[20:26].isdigit()
    ):
        try:
            return datetime.fromisoformat(text[:26]).replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.strptime(text, STORE_FORMAT).replace(tzinfo=UTC)
