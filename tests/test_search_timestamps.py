"""Timestamps of log lines in every supported format, and continuation lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cockpit.core.search.timestamps import (
    TimestampTracker,
    parse_timestamp,
    parse_timestamp_bytes,
)
from cockpit.core.timefmt import floor_minute

REF = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
EXPECTED = datetime(2026, 11, 28, 14, 31, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    "line",
    [
        "2026-11-28T14:31:02Z level=error msg=boom",
        "2026-11-28T14:31:02+00:00 something",
        "2026-11-28T16:31:02+02:00 same instant, other zone",
        "2026-11-28T09:31:02-0500 same instant, compact offset",
        "2026-11-28 14:31:02 space separated, no zone means UTC",
        '{"time": "2026-11-28T14:31:02Z", "msg": "x"}',
        '{"level":"error","@timestamp":"2026-11-28T14:31:02.000Z"}',
        '{"timestamp": "2026-11-28T14:31:02Z"}',
        '{"msg":"x","ts":1795876262}',
        '{"msg":"x","ts":1795876262000}',
        "Nov 28 14:31:02 web1 sshd[12]: accepted",
        '10.0.0.1 - - [28/Nov/2026:14:31:02 +0000] "GET / HTTP/1.1" 200 12',
        '10.0.0.1 - - [28/Nov/2026:15:31:02 +0100] "GET / HTTP/1.1" 200 12',
        "level=info ts=2026-11-28T14:31:02Z msg=embedded",
        "[2026-11-28 14:31:02] bracketed",
    ],
)
def test_formats_parse_to_the_same_utc_instant(line: str) -> None:
    assert parse_timestamp(line, REF) == EXPECTED


def test_fractional_seconds_are_kept() -> None:
    ts = parse_timestamp("2026-11-28T14:31:02.123456789Z x", REF)
    assert ts == EXPECTED.replace(microsecond=123456)
    assert parse_timestamp("2026-11-28 14:31:02,5 comma fraction", REF) == EXPECTED.replace(
        microsecond=500000
    )
    assert parse_timestamp('{"ts":1795876262.25}', REF) == EXPECTED.replace(microsecond=250000)


def test_syslog_year_is_inferred_from_the_reference() -> None:
    january = datetime(2027, 1, 2, tzinfo=UTC)
    # A December line read in early January belongs to the previous year.
    assert parse_timestamp("Dec 31 23:59:59 host x", january) == datetime(
        2026, 12, 31, 23, 59, 59, tzinfo=UTC
    )
    assert parse_timestamp("Jan  1 00:00:01 host x", january) == datetime(
        2027, 1, 1, 0, 0, 1, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "line",
    [
        "",
        "    at com.example.Cart.total(Cart.java:42)",
        "\tat java.base/Thread.run",
        "Traceback (most recent call last):",
        "2026-13-45T99:99:99Z impossible date",
        "12345 just a number",
        '{"msg": "no time field"}',
    ],
)
def test_lines_without_a_timestamp(line: str) -> None:
    assert parse_timestamp(line, REF) is None


def test_bytes_variant_and_floor_minute() -> None:
    assert parse_timestamp_bytes(b"2026-11-28T14:31:02Z \xff\xfe bad utf8", REF) == EXPECTED
    assert floor_minute(datetime(2026, 11, 28, 14, 31, 59, 999, tzinfo=UTC)) == datetime(
        2026, 11, 28, 14, 31, tzinfo=UTC
    )


def test_continuation_lines_inherit_the_previous_timestamp() -> None:
    tracker = TimestampTracker(REF)
    assert tracker.feed("continuation before any timestamp") is None
    assert tracker.feed("2026-11-28T14:31:02Z level=error boom") == EXPECTED
    assert tracker.feed("Traceback (most recent call last):") == EXPECTED
    assert tracker.feed('  File "x.py", line 3') == EXPECTED
    later = tracker.feed("2026-11-28T14:32:00Z next")
    assert later == datetime(2026, 11, 28, 14, 32, tzinfo=UTC)


def test_json_time_field_after_a_long_message() -> None:
    line = '{"msg": "' + "x" * 2000 + '", "time": "2026-11-28T14:31:02Z"}'
    assert parse_timestamp_bytes(line.encode(), REF) == EXPECTED
