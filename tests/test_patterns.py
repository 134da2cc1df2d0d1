"""The clusterer (`cockpit.core.patterns`): headers, variables, merging, order, bounds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from cockpit.core.patterns import (
    PatternIndex,
    clear_caches,
    read_line,
    short_templates,
    sparkline,
    template_of,
)
from cockpit.core.patterns.merge import generalize, glob_match, merge_templates
from cockpit.core.search.model import Hit

T0 = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def hit(text: str, minutes: float | None = None, *, source: str = "s", **fields: object) -> Hit:
    ts = None if minutes is None else T0 + timedelta(minutes=minutes)
    return Hit(source=source, text=text, ts=ts, **fields)  # type: ignore[arg-type]


def grouped(lines: list[str]) -> dict[str, int]:
    index = PatternIndex()
    index.add_many(hit(line) for line in lines)
    return {s.template: s.count for s in index.signatures()}


# -- headers ---------------------------------------------------------------------------------

# (line, template, level, host, service): one line per header form, none of them keyed to a
# system; the message is all that is left of the line.
HEADERS = [
    (
        "2026-11-28T14:31:02.123Z ERROR [main] com.acme.checkout.CartService: cart 42 not found",
        "cart <*> not found",
        "error",
        None,
        None,
    ),
    (
        "2026-11-28 14:31:02,123 WARN  [Socket Reader #1 for port 62260] org.acme.ipc.Server: "
        "queue full",
        "queue full",
        "warn",
        None,
        None,
    ),
    (
        "Nov 28 14:31:02 web-7 nginx[1234]: upstream timed out (110: Connection timed out)",
        "upstream timed out (<*>: Connection timed out)",
        None,
        "web-7",
        "nginx",
    ),
    (
        "Nov  8 04:02:01 db1 kernel: Out of memory: Killed process 4242 (postgres)",
        "Out of memory: Killed process <*> (postgres)",
        None,
        "db1",
        "kernel",
    ),
    (
        "Nov 28 14:31:02 db1 su(pam_unix)[19939]: session opened for user root by (uid=0)",
        "session opened for user root by (uid=<*>)",
        None,
        "db1",
        "su",
    ),
    (
        "[Sat Nov 28 14:31:02 2026] [error] [client 10.0.0.1] File does not exist: /var/www/x",
        "[client <*>] File does not exist: <*>",
        "error",
        None,
        None,
    ),
    (
        "[Sat Nov 28 14:31:02.123 2026] [proxy:error] [pid 42:tid 7] AH00957: backend refused",
        "backend refused",
        "error",
        None,
        None,
    ),
    (
        "261128 143102 4242 INFO dfs.DataNode: Receiving block blk_-1234 src: /10.0.0.1:50010",
        "Receiving block blk_<*> src: /<*>",
        "info",
        None,
        None,
    ),
    (
        "- 1764340262 2026.11.28 node-17 2026-11-28-14.31.02.123456 node-17 RAS KERNEL FATAL "
        "data TLB error interrupt",
        "data TLB error interrupt",
        "fatal",
        "node-17",
        None,
    ),
    (
        "20261128-14:31:2:123|StepCounter|4242|onStepChanged 3579",
        "onStepChanged <*>",
        None,
        None,
        None,
    ),
    (
        "11-28 14:31:02.123  1702  2395 E ActivityManager: ANR in com.acme.app",
        "ANR in <*>",
        "error",
        None,
        None,
    ),
    (
        "26/11/28 14:31:02 INFO storage.BlockManager: Found block rdd_2_0 locally",
        "Found block rdd_<*> locally",
        "info",
        None,
        None,
    ),
    (
        "2026-11-28 14:31:02,123 - ERROR [QuorumPeer[myid=1]/0.0.0.0:2181:Follower@123] - "
        "Exception when following the leader",
        "Exception when following the leader",
        "error",
        None,
        None,
    ),
    (
        "2026-11-28 14:31:02, Error                 CSI    Failed to open: C:\\Windows\\x.log",
        "Failed to open: <*>",
        "error",
        None,
        None,
    ),
    (
        "I1128 14:31:02.123456    4242 server.go:123] Started server on :8080",
        "Started server on :<*>",
        "info",
        None,
        None,
    ),
    (
        "<13>1 2026-11-28T14:31:02.123Z web-7 checkout 4242 ID47 - cart 42 not found",
        "cart <*> not found",
        None,
        "web-7",
        "checkout",
    ),
    (
        "[11.28 14:31:02] chrome.exe - proxy.example.com:5070 open through proxy 10.0.0.1:3128",
        "<*> open through proxy <*>",
        None,
        None,
        "chrome.exe",
    ),
    (
        "1764340262 host-3 app[7]: INFO ready in 1.5s",
        "ready in <*>",
        "info",
        "host-3",
        "app",
    ),
    (
        '{"ts":"2026-11-28T14:31:02Z","level":"error","service":"payments","host":"pay-2",'
        '"msg":"card 4111 declined"}',
        "card <*> declined",
        "error",
        "pay-2",
        "payments",
    ),
    (
        "2026-11-28T14:31:02Z level=error service=checkout request_id=ab12 "
        'msg="timeout after 800ms" status=503',
        "timeout after <*>",
        "error",
        None,
        "checkout",
    ),
    (
        "Nov 28 14:31:02 inv-1 inventory[47274]: ERROR POST /api/stock status=500 request_id=ab "
        'msg="deadlock on sku 59"',
        "deadlock on sku <*>",
        "error",
        "inv-1",
        "inventory",
    ),
    ("ERROR something broke badly", "something broke badly", "error", None, None),
    ("    at com.acme.Foo.bar(Foo.java:42)", "at com.acme.Foo.bar(Foo.java:<*>)", None, None, None),
]


@pytest.mark.parametrize(("line", "template", "level", "host", "service"), HEADERS)
def test_the_header_is_recognised_and_kept_as_attributes(
    line: str, template: str, level: str | None, host: str | None, service: str | None
) -> None:
    shape = read_line(line)
    assert (shape.template, shape.level, shape.host, shape.service) == (
        template,
        level,
        host,
        service,
    )


def test_a_header_split_learnt_from_one_line_never_misleads_another() -> None:
    """Splits are cached by what decided them; lines that share a header but not the rest
    (a level after the process, a message cut short, trailing spaces) keep their own."""
    lines = [
        "Nov 28 14:31:02 db1 app[7]: WARN disk 90% full",
        "Nov 28 14:31:02 db1 app[7]: disk 90% full",
        "Nov 28 14:31:02 db1 app[7]:",
        "Nov 28 14:31:02 db1 app[7]:   ",
        "Nov 28 14:31:02 db1",
        "Nov 28 14:31:02 db1 app[7]: error: disk 90% full",
    ]
    expected = [("disk <*>% full", "warn"), ("disk <*>% full", None)]
    for order in (lines, list(reversed(lines))):
        clear_caches()
        found = [(read_line(line).template, read_line(line).level) for line in order]
        shapes = dict(zip(order, found, strict=True))
        assert [shapes[lines[0]], shapes[lines[1]]] == expected
        assert shapes[lines[5]] == ("disk <*>% full", "error")
        assert shapes[lines[2]] == shapes[lines[3]] == ("(no message)", None)
        assert shapes[lines[4]] == ("<*>", None)  # `db1`: no process follows, so no host


def test_access_log_lines_are_known_by_method_route_and_status() -> None:
    """As lnav reads them: a 502 on one route is not a 200 or a 502 on another."""
    line = '10.4.160.151 - - [28/Nov/2026:13:00:12 +0000] "{} {} HTTP/1.1" {} 0 "-" "ua/1.0"'
    assert template_of(line.format("POST", "/api/payments/webhook", 502)) == (
        "POST /api/payments/webhook 502"
    )
    assert template_of(line.format("GET", "/u/3f2a9c0d-1111-2222-3333-444455556666/cart", 504)) == (
        "GET /u/<*>/cart 504"
    )
    shapes = grouped(
        [
            line.format(method, path, status)
            for method, path, status in [
                ("GET", "/a", 502),
                ("GET", "/a", 200),
                ("POST", "/a", 502),
                ("GET", "/b", 502),
                ("GET", "/a?page=2", 503),
                ("GET", "/cart/17", 503),
                ("GET", "/cart/9", 503),
            ]
        ]
    )
    assert shapes == {
        "GET /a 502": 1,
        "GET /a 200": 1,
        "POST /a 502": 1,
        "GET /b 502": 1,
        "GET /a 503": 1,
        "GET /cart/<*> 503": 2,
    }


# -- variables -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "template"),
    [
        (
            "PacketResponder 1 for block blk_-6952295868487656571 terminating",
            "PacketResponder <*> for block blk_<*> terminating",
        ),
        (
            "Progress of TaskAttempt attempt_1445144423722_0020_m_000001_0 is : 0.1",
            "Progress of TaskAttempt attempt_<*> is : <*>",
        ),
        ("Found block rdd_2_0 locally", "Found block rdd_<*> locally"),
        ("closed session 3_1", "closed session <*>"),
        ("dial tcp 10.0.0.1:5432 refused", "dial tcp <*> refused"),
        ("dial tcp [2001:db8::1]:5432 refused", "dial tcp [<*>]:<*> refused"),
        ("connect to db-primary.internal:5432 failed", "connect to <*> failed"),
        ("GET https://api.example.com/v1/x?id=3 failed", "GET <*> failed"),
        ("id 123e4567-e89b-12d3-a456-426614174000 gone", "id <*> gone"),
        ("req 0x7f3a failed", "req <*> failed"),
        ("cart 51a6485f0328 missing", "cart <*> missing"),
        ("timeout after 800ms", "timeout after <*>"),
        ("slept 30 seconds, retrying", "slept <*> retrying"),
        ("sent 2034 bytes (1.98 KB), lifetime <1 sec", "sent <*> lifetime <*>"),
        ("wrote 1.5 GiB to /var/lib/pg/base/16384/2619", "wrote <*> to <*>"),
        ("opening ./runtime_malloc and C:\\Temp\\a.log", "opening <*> and <*>"),
        ("user 'alice' denied for \"/a b\"", "user <*> denied for <*>"),
        ("mail to jane.doe@example.com bounced", "mail to <*> bounced"),
        (
            "connection from 10.0.0.9 () at Sun Jul 24 02:38:22 2005",
            "connection from <*> () at <*>",
        ),
        ("retry 3 with timeout=5s on db-1", "retry <*> with timeout=<*> on db-<*>"),
        ("delete blk_1 blk_2 blk_3 blk_4", "delete blk_<*>"),
    ],
)
def test_variable_parts_are_recognised_by_their_form(message: str, template: str) -> None:
    assert template_of(f"2026-11-28T14:31:02Z INFO {message}") == template


def test_ids_glued_to_words_are_one_template_with_the_word_kept() -> None:
    lines = [
        f"081109 2036{n:02d} 148 INFO dfs.DataNode$PacketResponder: PacketResponder {n % 3} "
        f"for block blk_{'-' if n % 2 else ''}{7 ** (n + 9)} terminating"
        for n in range(40)
    ]
    assert grouped(lines) == {"PacketResponder <*> for block blk_<*> terminating": 40}


# -- merging ---------------------------------------------------------------------------------


def test_a_word_that_takes_many_values_is_merged_into_a_variable() -> None:
    users = ["admin", "oracle", "test", "guest", "ubuntu", "pi"]
    lines = [
        f"Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user {u} from 1.2.3.{n}"
        for n, u in enumerate(users)
    ]
    assert grouped(lines) == {"Invalid user <*> from <*>": 6}


def test_a_word_with_few_values_or_the_first_word_keeps_templates_apart() -> None:
    few = [f"failures for user={u} from 1.2.3.4" for u in ("root", "guest", "test")]
    first = [f"{name} startup succeeded" for name in ("cupsd", "klogd", "sdpd", "hcid")]
    states = [
        f"task 1 moved from {a} to {b}"
        for a, b in [
            ("NEW", "SCHEDULED"),
            ("SCHEDULED", "RUNNING"),
            ("RUNNING", "DONE"),
            ("RUNNING", "FAILED"),
        ]
    ]
    shapes = grouped(few + first + states)
    assert len(shapes) == 3 + 4 + 4
    assert all(count == 1 for count in shapes.values())


def test_a_variable_covers_a_word_in_the_same_place() -> None:
    """`chdir(<*>)` covers `chdir(pwd)`; `(<*>)` covers the empty `()`."""
    shapes = grouped(
        [
            "LOGIN chdir(/home/a1) failed",
            "LOGIN chdir(/home/b2) failed",
            "LOGIN chdir(pwd) failed",
            "connection from 10.0.0.1 (host1.example.com) at 10:00",
            "connection from 10.0.0.2 () at 10:00",
        ]
    )
    assert shapes == {"LOGIN chdir(<*>) failed": 3, "connection from <*> (<*>) at <*>": 2}


def test_merge_helpers() -> None:
    assert glob_match("chdir(<*>)", "chdir(pwd)") and glob_match("(<*>)", "()")
    assert not glob_match("dcbf.....<*>", "icbi.....<*>")
    assert generalize(["user=root", "user=git"]) == "user=<*>"
    assert generalize(["cyrus", "news"]) == "<*>"
    assert generalize(["FF:<*>", "FF:<*>:<*>"]) == "FF:<*>"
    templates = [("a", "x", "b"), ("a", "y", "b"), ("a", "<*>", "b"), ("c",)]
    merged = merge_templates(templates)
    assert merged[("a", "x", "b")] == merged[("a", "<*>", "b")] == ("a", "<*>", "b")
    assert merged[("c",)] == ("c",)


# -- what is counted -------------------------------------------------------------------------


def test_counts_first_last_seen_sorting_sparkline_and_new_since_a_deploy() -> None:
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
    assert index.is_new(npe) and not index.is_new(timeout) and not index.is_new(disk)
    assert disk.example.text == "disk full on node 3"  # the earliest line
    assert npe.buckets(T0, T0 + timedelta(minutes=59), 6) == [0, 0, 0, 9, 1, 0]
    assert npe.per_minute[T0 + timedelta(minutes=31)] == 1
    line = npe.sparkline(T0, T0 + timedelta(minutes=59), 6)
    assert line[3] == "█" and line[0] == " "
    assert index.total == 42


def test_sparkline_blocks() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == " ▂▃▅█"
    assert sparkline([0, 0]) == "  "
    assert sparkline([]) == ""


def test_lines_without_timestamps_are_counted() -> None:
    index = PatternIndex(new_since=T0)
    index.add(Hit(source="s", text="  at Foo.bar(Foo.java:1)"))
    (signature,) = index.signatures()
    assert signature.count == 1 and signature.first_seen is None and not index.is_new(signature)


def test_attributes_are_counted_per_signature_and_the_source_service_comes_first() -> None:
    index = PatternIndex(service_of={"files": "checkout"})
    index.add(hit("Nov 28 14:31:02 web-1 sshd[1]: Connection closed by 10.0.0.1", source="x"))
    index.add(hit("Nov 28 14:31:03 web-2 sshd[2]: Connection closed by 10.0.0.2", source="x"))
    index.add(hit("Nov 28 14:31:04 web-2 sshd[3]: Connection closed by 10.0.0.3", source="files"))
    (signature,) = index.signatures()
    assert signature.attributes == {
        "service": {"sshd": 2, "checkout": 1},
        "host": {"web-2": 2, "web-1": 1},
    }
    assert signature.service == "sshd"
    record = signature.to_json()
    assert record["template"] == "Connection closed by <*>" and record["count"] == 3
    assert record["attributes"]["host"] == {"web-2": 2, "web-1": 1}


def test_a_rare_template_is_kept_whatever_surrounds_it() -> None:
    """A rare template is often the incident: never lumped into "other"."""
    rng = random.Random(3)
    lines = [
        f"GET /api/item/{rng.randrange(10**6)} took {rng.randrange(900)}ms" for _ in range(5000)
    ]
    lines += [f"user{n} logged in from 10.0.{n % 250}.1" for n in range(3000)]
    lines.insert(4321, "FATAL: could not write to file pg_wal/0001: No space left on device")
    shapes = grouped(lines)
    assert shapes["could not write to file pg_wal/<*>: No space left on device"] == 1


# -- order, determinism, bounds --------------------------------------------------------------


def snapshot(index: PatternIndex) -> list[tuple[object, ...]]:
    return [
        (
            s.template,
            s.count,
            s.first_seen,
            s.last_seen,
            s.example.text,
            s.seen_before_mark,
            dict(s.per_minute),
            {name: dict(values) for name, values in s.attributes.items()},
            s.members,
        )
        for s in index.signatures()
    ]


def mixed_lines(count: int = 3000, seed: int = 11) -> list[Hit]:
    """Lines of several formats and sources, with words that vary (users, hosts)."""
    rng = random.Random(seed)
    users = ["admin", "oracle", "test", "guest", "root", "pi", "ubuntu", "git", "ftp"]
    hits = []
    for number in range(count):
        minute = rng.randrange(120)
        kind = rng.randrange(6)
        if kind == 0:
            text = f"Dec 10 06:55:46 LabSZ sshd[{rng.randrange(9999)}]: Invalid user " + (
                f"{rng.choice(users)} from 10.0.{rng.randrange(250)}.{rng.randrange(250)}"
            )
        elif kind == 1:
            text = (
                f"2026-11-28T14:{minute % 60:02d}:00Z level=error service=checkout "
                f'msg="timeout after {rng.randrange(999)}ms" request_id={rng.getrandbits(48):x}'
            )
        elif kind == 2:
            text = (
                f'{{"level":"warn","service":"pay","msg":"retry {rng.randrange(5)} of '
                f'{rng.getrandbits(32):08x}"}}'
            )
        elif kind == 3:
            text = (
                f'10.0.0.{rng.randrange(250)} - - [28/Nov/2026:14:00:00 +0000] "GET /cart/'
                f'{rng.randrange(99)} HTTP/1.1" {rng.choice([200, 502, 503])} 0'
            )
        elif kind == 4:
            text = f"{rng.choice(['cupsd', 'klogd'])} startup succeeded"
        else:
            text = f"session opened for user {rng.choice(users)} by (uid={rng.randrange(500)})"
        source = f"src{rng.randrange(3)}"
        hits.append(
            Hit(
                source,
                text,
                None,
                f"/logs/{source}.log",
                number + 1,
                T0 + timedelta(minutes=minute),
            )
        )
    return hits


def test_the_result_does_not_depend_on_the_order_lines_arrive_in() -> None:
    """Parallel sources deliver lines in any order: shuffled, the signatures are the same."""
    hits = mixed_lines()
    expected = None
    for seed in range(4):
        shuffled = list(hits)
        random.Random(seed).shuffle(shuffled)
        clear_caches()  # cold or warm caches, the same answer
        index = PatternIndex(new_since=T0 + timedelta(minutes=60), keep_members=True)
        index.add_many(shuffled)
        found = snapshot(index)
        if expected is None:
            expected = found
        assert found == expected
    assert expected is not None and len(expected) > 5


def test_reading_the_result_while_lines_arrive_does_not_change_it() -> None:
    hits = mixed_lines(1500)
    streamed = PatternIndex()
    for start in range(0, len(hits), 100):
        streamed.add_many(hits[start : start + 100])
        streamed.signatures(20)  # the pane reads a snapshot every 0.3 s
    at_once = PatternIndex()
    at_once.add_many(hits)
    assert snapshot(streamed) == snapshot(at_once)


def test_shapes_are_bounded_and_past_the_bound_lines_are_counted_not_lost() -> None:
    index = PatternIndex(max_shapes=5)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    for word in words:
        index.add(hit(f"{word} failed at stage one"))
    # Compaction merges what it can (no two of these merge), then counts the rest.
    assert len(index.signatures()) == 5
    assert index.untracked == 3 and index.total == 8
    for n in range(40):
        index.add(hit(f"alpha failed at stage one {n}x"))
    assert index.untracked > 3


def test_compaction_merges_shapes_in_place_at_the_bound() -> None:
    index = PatternIndex(max_shapes=4)
    for user in ("ann", "bob", "cid", "dan", "eve", "fay", "gus"):
        index.add(hit(f"Invalid user {user} from 10.0.0.1"))
    assert [(s.template, s.count) for s in index.signatures()] == [("Invalid user <*> from <*>", 7)]
    assert index.untracked == 0


def test_attribute_values_are_capped_with_the_rest_counted_as_other() -> None:
    index = PatternIndex()
    for n in range(400):
        index.add(hit(f"Nov 28 14:31:02 host{n:03d}x sshd[1]: Connection closed"))
    (signature,) = index.signatures()
    hosts = signature.attributes["host"]
    assert len(hosts) == 65 and hosts["(other)"] == 400 - 64 and hosts["host000x"] == 1
    assert sum(hosts.values()) == 400


def test_a_limit_builds_the_most_frequent_and_the_count_says_how_many_more() -> None:
    index = PatternIndex()
    for n, word in enumerate(["alpha", "bravo", "charlie", "delta"]):
        index.add_many(hit(f"{word} failed at stage one") for _ in range(n + 1))
    assert [s.count for s in index.signatures(2)] == [4, 3]
    assert index.group_count == 4


def test_members_are_every_line_in_order() -> None:
    index = PatternIndex(keep_members=True)
    index.add(Hit("b", "disk 1 full", file="b.log", line_no=3))
    index.add(Hit("a", "disk 2 full", file="a.log", line_no=9))
    index.add(Hit("a", "disk 3 full", file="a.log", line_no=2))
    (signature,) = index.signatures()
    assert signature.members == [("a.log", 2), ("a.log", 9), ("b.log", 3)]
    assert signature.to_json(members=True)["members"][0] == {"file": "a.log", "line": 2}


def varied_lines(count: int, seed: int) -> list[str]:
    """Lines that share headers but not what follows: header-only lines, a level or not
    after the process, words or numbers or brackets first in the message."""
    rng = random.Random(seed)
    heads = [
        "Nov 28 14:31:0{d} db{d}",
        "Nov 28 14:31:0{d} db{d} app[{d}]:",
        "Nov  8 14:31:0{d} web-{d} kernel:",
        "2026-11-28T14:31:0{d}Z",
        "2026-11-28 14:31:0{d},12{d} INFO",
        "2026-11-28 14:31:0{d},12{d} INFO [main]",
        "2026-11-28 14:31:0{d},12{d} INFO [main] org.acme.Thing:",
        "[11.28 14:31:0{d}] app{d}.exe -",
        "- 176434026{d} 2026.11.28 R0{d}-M1 2026-11-28-14.31.02.12345{d} R0{d}-M1 RAS KERNEL INFO",
        "{d}{d}1128 14310{d} 4{d} WARN dfs.DataNode:",
        "I1128 14:31:02.12345{d} 4{d}{d} x.go:1{d}]",
        "",
    ]
    tails = [
        "",
        "WARN disk {d} full",
        "error: disk {d} full",
        "disk {d} full",
        "{d}{d} items",
        "[client 10.0.0.{d}] denied",
        "org.acme.Other: payload {d}",
        "- dash {d}",
        "web-{d} sshd[{d}]: closed",
        "Jun 1{d} 10:00:0{d} nested",
        "RAS KERNEL FATAL oops",
        "INFO",
    ]
    lines = []
    for _ in range(count):
        head = rng.choice(heads).replace("{d}", str(rng.randrange(10)))
        tail = rng.choice(tails).replace("{d}", str(rng.randrange(10)))
        lines.append(f"{head} {tail}".strip() + rng.choice(["", "", " ", "  x"]))
    return lines


def test_cached_answers_are_the_answers_a_fresh_reader_gives() -> None:
    """Every cache only remembers what decided an answer: reading many lines that share
    beginnings, in any order, gives each line what it gets when read alone."""
    from cockpit.core.patterns import index as index_module

    for seed in range(3):
        lines = varied_lines(1500, seed)
        clear_caches()
        warm = [read_line(line) for line in lines]
        for line, found in zip(lines, warm, strict=True):
            index_module._reader = index_module._Reader()  # nothing remembered
            assert read_line(line) == found, line


# -- display ---------------------------------------------------------------------------------


def test_long_templates_keep_what_tells_them_apart_in_a_narrow_column() -> None:
    base = (
        "pam_unix(sshd:auth): authentication failure; logname= uid=<*> euid=<*> tty=ssh "
        "ruser= rhost=<*>"
    )
    shown = short_templates([base + " user=<*>", base, "Invalid user <*> from <*>"], 40)
    assert all(len(text) <= 40 for text in shown)
    assert shown[0] != shown[1]
    assert shown[0].startswith("pam_unix(sshd:auth): …") and shown[0].endswith("user=<*>")
    assert shown[2] == "Invalid user <*> from <*>"
