"""Error-pattern signatures: normalization, counts, sparklines, new-since-deploy, bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cockpit.core.search.model import Hit
from cockpit.core.search.patterns import PatternIndex, normalize, sparkline

T0 = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("one", "two"),
    [
        ("2026-11-28T14:00:01Z timeout after 800ms", "2026-11-28T14:09:59.5Z timeout after 1.5s"),
        ("user 12 failed", "user 98765 failed"),
        ("cart 51a6485f0328 missing", "cart deadbeef0042 missing"),
        ("req 0x7f3a failed", "req 0xdeadbeef failed"),
        (
            "id 123e4567-e89b-12d3-a456-426614174000 gone",
            "id 00000000-0000-4000-8000-000000000000 gone",
        ),
        ("dial tcp 10.0.0.1:5432 refused", "dial tcp 192.168.10.200:6543 refused"),
        ("request_id=abc-1 boom", "request_id=zzz-999 boom"),
        ("user='alice' denied path=\"/a\"", "user='bob' denied path=\"/b/c\""),
        ("Nov 28 14:31:02 web1 oom", "Dec  1 01:02:03 web1 oom"),
        (
            '1.2.3.4 - - [28/Nov/2026:14:31:02 +0000] "GET /cart/17 HTTP/1.1" 502 12 "-" "curl"',
            '5.6.7.8 - bob [28/Nov/2026:15:00:00 +0000] "GET /cart/9?x=1 HTTP/1.0" 502 0 rt=0.2',
        ),
        (
            '{"ts":"2026-11-28T14:00:00Z","level":"error","msg":"db down","status":503}',
            '{"ts":"2026-11-28T15:00:00Z","level":"error","msg":"db down","status":500,"x":1}',
        ),
    ],
)
def test_variable_parts_normalize_to_one_signature(one: str, two: str) -> None:
    assert normalize(one) == normalize(two)


def test_different_messages_stay_apart_and_messages_are_kept() -> None:
    a = normalize('2026-11-28T14:00:00Z level=error msg="payment declined for 42" status=502')
    b = normalize('2026-11-28T14:00:00Z level=error msg="cart not found for 42" status=502')
    assert a != b
    assert a == "error: payment declined for <n>"


def test_access_log_lines_are_known_by_method_route_and_status() -> None:
    """Like lnav's access-log format: a 502 on one route is not a 200 or a 502 on another."""
    line = '10.4.160.151 - - [28/Nov/2026:13:00:12 +0000] "{} {} HTTP/1.1" {} 0 "-" "ua/1.0"'
    assert normalize(line.format("POST", "/api/payments/webhook", 502)) == (
        "POST /api/payments/webhook 502"
    )
    assert normalize(line.format("GET", "/u/3f2a9c0d-1111-2222-3333-444455556666/cart", 504)) == (
        "GET /u/<uuid>/cart 504"
    )
    shapes = {
        normalize(line.format(method, path, status))
        for method, path, status in [
            ("GET", "/a", 502),
            ("GET", "/a", 200),
            ("POST", "/a", 502),
            ("GET", "/b", 502),
        ]
    }
    assert len(shapes) == 4


def test_sparkline_blocks() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == " ▂▃▅█"
    assert sparkline([0, 0]) == "  "
    assert sparkline([]) == ""


def hit(text: str, minutes: float) -> Hit:
    return Hit(source="s", text=text, ts=T0 + timedelta(minutes=minutes))


def test_counts_first_last_seen_sorting_and_new_since_deploy() -> None:
    deploy = T0 + timedelta(minutes=30)
    index = PatternIndex(new_since=deploy)
    for minute in range(0, 60, 2):
        index.add(hit(f"timeout after {minute * 10}ms", minute))
    for minute in range(31, 41):
        index.add(hit(f"NullPointerException in cart {minute}", minute))
    index.add(hit("disk full on node 7", 45))
    index.add(hit("disk full on node 3", 10))  # the same shape, seen before the deploy

    timeout, npe, disk = index.signatures()
    assert (timeout.count, npe.count, disk.count) == (30, 10, 2)
    assert timeout.first_seen == T0 and timeout.last_seen == T0 + timedelta(minutes=58)
    assert index.is_new(npe)
    assert not index.is_new(timeout) and not index.is_new(disk)
    assert npe.buckets(T0, T0 + timedelta(minutes=59), 6) == [0, 0, 0, 9, 1, 0]
    line = npe.sparkline(T0, T0 + timedelta(minutes=59), 6)
    assert line[3] == "█" and line[0] == " "
    assert index.total == 42


def test_signatures_are_bounded_and_the_rest_is_other() -> None:
    index = PatternIndex(max_signatures=3)
    for word in ("alpha", "beta", "gamma", "delta", "epsilon"):
        index.add(hit(f"{word} failed", 1))
    index.add(hit("alpha failed", 2))
    assert len(index.signatures()) == 3
    assert index.other == 2
    assert index.signatures()[0].count == 2


def test_lines_without_timestamps_are_counted() -> None:
    index = PatternIndex(new_since=T0)
    index.add(Hit(source="s", text="  at Foo.bar(Foo.java:1)"))
    (sig,) = index.signatures()
    assert sig.count == 1 and sig.first_seen is None and not index.is_new(sig)
