"""Time windows as typed in the pane and on the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cockpit.core.search.timewindow import (
    TimeSpecError,
    parse_duration,
    parse_time_spec,
    parse_window,
)

NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("1h", 3600),
        ("1.5h", 5400),
        ("2d", 172800),
        ("1w", 604800),
        ("10 min", 600),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_times_and_windows() -> None:
    assert parse_time_spec("1h", NOW) == NOW - timedelta(hours=1)
    assert parse_time_spec("now", NOW) == NOW
    assert parse_time_spec("2026-11-28T13:00:00Z", NOW) == datetime(2026, 11, 28, 13, tzinfo=UTC)
    assert parse_time_spec("2026-11-28T15:00+02:00", NOW) == datetime(2026, 11, 28, 13, tzinfo=UTC)
    assert parse_time_spec("2026-11-28", NOW) == datetime(2026, 11, 28, tzinfo=UTC)
    assert parse_window("2h", NOW) == (NOW - timedelta(hours=2), None)
    assert parse_window("2026-11-28T13:00..2026-11-28T13:30", NOW) == (
        datetime(2026, 11, 28, 13, tzinfo=UTC),
        datetime(2026, 11, 28, 13, 30, tzinfo=UTC),
    )
    assert parse_window("3h..1h", NOW) == (NOW - timedelta(hours=3), NOW - timedelta(hours=1))
    assert parse_window("..30m", NOW) == (None, NOW - timedelta(minutes=30))
    assert parse_window("", NOW) == (None, None)


@pytest.mark.parametrize("text", ["yesterday", "1 fortnight", "13:00..12:00x", "1h..2h"])
def test_bad_input_is_one_line_error(text: str) -> None:
    with pytest.raises(TimeSpecError) as info:
        parse_window(text, NOW)
    assert "\n" not in str(info.value)
