"""The Loki source against a local server speaking Loki's query_range wire format."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.core.config import LokiSource
from cockpit.core.search.loki import LokiLogSource, build_logql
from cockpit.core.search.model import Hit, Query, SourceError
from tests.fakes import CollectingSink, Fault
from tests.fakes.loki import FakeLoki

T0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
API = {"app": "api", "pod": "api-0"}
API_OTHER_POD = {"app": "api", "pod": "api-1"}
WORKER = {"app": "worker", "pod": "worker-0"}
FAULT_DEADLINE = 0.5
# Room for a loaded CI machine; far below the source's 5 s default and the fake's hang.
SLACK_SECONDS = 2.5


def ns(seconds: float) -> int:
    """Unix nanoseconds `seconds` after T0."""
    return int(T0.timestamp()) * 10**9 + int(seconds * 10**9)


@pytest.fixture
def loki() -> Iterator[FakeLoki]:
    with FakeLoki() as fake:
        yield fake


def make_source(fake: FakeLoki, **overrides: Any) -> LokiLogSource:
    fields: dict[str, Any] = {
        "kind": "loki",
        "name": "loki-api",
        "url": fake.url,
        "selector": '{app="api"}',
        "timeout": 5.0,
        "page_limit": 1000,
    }
    fields.update(overrides)
    return LokiLogSource(LokiSource(**fields), base_dir=Path("."))


def window_query(pattern: str, **overrides: Any) -> Query:
    fields: dict[str, Any] = {
        "pattern": pattern,
        "since": T0,
        "until": T0 + timedelta(hours=1),
    }
    fields.update(overrides)
    return Query(**fields)


def run(source: LokiLogSource, query: Query, sink: CollectingSink | None = None) -> CollectingSink:
    sink = sink or CollectingSink()
    source.search(query, sink, threading.Event())
    return sink


def test_pages_forward_by_timestamp_with_no_duplicates_and_none_missing(loki: FakeLoki) -> None:
    # Lines sharing one nanosecond timestamp straddle the first page boundary.
    expected: list[tuple[int, str]] = []
    for second in range(12):
        labels = API if second % 2 else API_OTHER_POD
        loki.add(labels, ns(second), f"GET /pay error id={second}")
        loki.add(labels, ns(second) + 1, f"GET /pay ok id={second}")
        expected.append((ns(second), f"GET /pay error id={second}"))
        loki.add(WORKER, ns(second), f"worker error id={second}")
    # With "GET /pay error id=3" that makes three lines at ns(3), on two pods.
    loki.add(API, ns(3), "tie error a")
    loki.add(API_OTHER_POD, ns(3), "tie error b")
    expected += [(ns(3), "tie error a"), (ns(3), "tie error b")]

    sink = run(make_source(loki, page_limit=4), window_query("error"))

    got = [
        (int(hit.ts.timestamp()) * 10**9 + hit.ts.microsecond * 1000, hit.text) for hit in sink.hits
    ]
    assert sorted(got) == sorted(expected)
    assert len(set(sink.texts)) == len(sink.texts), "a line was reported twice"
    assert [hit.ts for hit in sink.hits] == sorted(hit.ts for hit in sink.hits)
    assert len(loki.requests) >= 4, "expected several pages"
    for request in loki.requests:
        assert request.params["direction"] == "forward"
        assert request.params["limit"] == "4"
        assert request.params["query"] == '{app="api"} |= "error"'
    # Each page starts at the newest timestamp of the page before it.
    starts = [int(request.params["start"]) for request in loki.requests]
    assert starts[0] == ns(0)
    assert starts == sorted(starts)
    assert sink.warnings == []


def test_literal_pattern_with_quotes_and_backslashes_matches_verbatim(loki: FakeLoki) -> None:
    loki.add(API, ns(1), r'open "C:\temp\x" failed')
    loki.add(API, ns(2), r"open C:\temp\x failed")
    loki.add(API, ns(3), 'open "C:\\temp\\y" failed')

    sink = run(make_source(loki), window_query(r'"C:\temp\x"'))

    assert sink.texts == [r'open "C:\temp\x" failed']
    assert loki.requests[0].params["query"] == r'{app="api"} |= "\"C:\\temp\\x\""'


def test_literal_metacharacters_are_not_a_regex_even_case_insensitive(loki: FakeLoki) -> None:
    loki.add(API, ns(1), "call A.B (x) failed")
    loki.add(API, ns(2), "call aXb (x) failed")
    loki.add(API, ns(3), "call a.b x failed")

    sink = run(make_source(loki), window_query("a.b (x)", ignore_case=True))

    assert sink.texts == ["call A.B (x) failed"]
    assert loki.requests[0].params["query"] == r'{app="api"} |~ "(?i)a\\.b \\(x\\)"'


def test_regex_and_ignore_case(loki: FakeLoki) -> None:
    for second, line in enumerate(["status=502 up", "status=404", "STATUS=503", "status=5xx"]):
        loki.add(API, ns(second), line)

    assert run(make_source(loki), window_query(r"status=5\d\d", regex=True)).texts == [
        "status=502 up"
    ]
    assert run(
        make_source(loki), window_query(r"status=5\d\d", regex=True, ignore_case=True)
    ).texts == ["status=502 up", "STATUS=503"]
    assert run(make_source(loki), window_query("STATUS", ignore_case=True)).texts == [
        "status=502 up",
        "status=404",
        "STATUS=503",
        "status=5xx",
    ]


def test_time_window_is_start_inclusive_and_end_exclusive(loki: FakeLoki) -> None:
    since, until = T0 + timedelta(seconds=10), T0 + timedelta(seconds=20)
    loki.add(API, ns(10) - 1, "error just before")
    loki.add(API, ns(10), "error at start")
    loki.add(API, ns(20) - 1, "error just before end")
    loki.add(API, ns(20), "error at end")

    sink = run(make_source(loki), Query("error", since=since, until=until))

    assert sink.texts == ["error at start", "error just before end"]
    assert loki.requests[0].params["start"] == str(ns(10))
    assert loki.requests[0].params["end"] == str(ns(20))
    assert sink.hits[0].ts == since


def test_hits_carry_source_service_and_time(loki: FakeLoki) -> None:
    loki.add({"app": "api", "service_name": "checkout"}, ns(1.5), "error here")

    from_labels = run(make_source(loki), window_query("error")).hits
    from_config = run(make_source(loki, service="payments"), window_query("error")).hits

    assert from_labels == [
        Hit(
            source="loki-api", service="checkout", text="error here", ts=T0 + timedelta(seconds=1.5)
        )
    ]
    assert from_config[0].service == "payments"


def test_without_a_start_time_searches_the_last_hour_and_says_so(loki: FakeLoki) -> None:
    sink = run(make_source(loki), Query("error"))

    request = loki.requests[0]
    assert int(request.params["end"]) - int(request.params["start"]) == 3600 * 10**9
    assert sink.warnings == ["loki-api: no start time given; searched the last hour"]


def test_sends_org_id_and_bearer_token_from_the_named_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COCKPIT_TEST_LOKI_TOKEN", "s3cret-token")
    with FakeLoki(required_org_id="tenant-a", required_token="s3cret-token") as fake:
        fake.add(API, ns(1), "error for tenant a")
        source = make_source(fake, org_id="tenant-a", token_env="COCKPIT_TEST_LOKI_TOKEN")

        sink = run(source, window_query("error"))

    assert sink.texts == ["error for tenant a"]
    assert fake.requests[0].headers["x-scope-orgid"] == "tenant-a"
    assert fake.requests[0].headers["authorization"] == "Bearer s3cret-token"


def test_missing_org_id_on_a_multi_tenant_loki_is_an_auth_error() -> None:
    with FakeLoki(required_org_id="tenant-a") as fake, pytest.raises(SourceError) as raised:
        run(make_source(fake), window_query("error"))

    assert str(raised.value) == (
        "loki-api: HTTP 401 Unauthorized: authentication failed "
        "(the server wants credentials: set token_env in the config)"
    )


def test_unset_token_variable_fails_before_any_request(
    loki: FakeLoki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COCKPIT_TEST_UNSET_TOKEN", raising=False)
    with pytest.raises(SourceError, match="COCKPIT_TEST_UNSET_TOKEN") as raised:
        run(make_source(loki, token_env="COCKPIT_TEST_UNSET_TOKEN"), window_query("error"))

    assert str(raised.value).startswith("loki-api: environment variable COCKPIT_TEST_UNSET_TOKEN")
    assert loki.requests == []


def test_invalid_regex_fails_before_any_request(loki: FakeLoki) -> None:
    with pytest.raises(SourceError, match=r"^loki-api: invalid regex '\(unclosed'"):
        run(make_source(loki), window_query("(unclosed", regex=True))
    assert loki.requests == []


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.SLOW, "loki-api: timed out after 0.5 s"),
        (Fault.HANG_MIDWAY, "loki-api: timed out after 0.5 s"),
        (
            Fault.RATE_LIMITED,
            "loki-api: HTTP 429 Too Many Requests: rate limited by the server; Retry-After: 7",
        ),
        (Fault.BAD_GATEWAY_HTML, "loki-api: HTTP 502 Bad Gateway (HTML error page)"),
        (
            Fault.UNAUTHORIZED,
            "loki-api: HTTP 401 Unauthorized: authentication failed "
            "(the server wants credentials: set token_env in the config)",
        ),
    ],
)
def test_faults_become_one_line_errors_within_the_deadline(
    loki: FakeLoki, fault: Fault, expected: str
) -> None:
    loki.add(API, ns(1), "error one")
    loki.fault = fault
    started = time.monotonic()

    with pytest.raises(SourceError) as raised:
        run(make_source(loki, timeout=FAULT_DEADLINE), window_query("error"))

    elapsed = time.monotonic() - started
    assert str(raised.value) == expected
    assert elapsed < FAULT_DEADLINE + SLACK_SECONDS, f"took {elapsed:.2f} s"


def test_invalid_json_is_reported_without_dumping_the_body(loki: FakeLoki) -> None:
    loki.add(API, ns(1), "error one")
    loki.fault = Fault.INVALID_JSON

    with pytest.raises(SourceError) as raised:
        run(make_source(loki), window_query("error"))

    message = str(raised.value)
    assert message.startswith("loki-api: response is invalid JSON, not the expected JSON (")
    assert "\n" not in message and "error one" not in message


def test_loki_query_errors_are_passed_on_as_one_line(loki: FakeLoki) -> None:
    with pytest.raises(SourceError) as raised:
        run(make_source(loki, selector="{app=api}"), window_query("error"))

    message = str(raised.value)
    assert message.startswith("loki-api: HTTP 400 Bad Request: parse error : syntax error")
    assert "\n" not in message


def test_failure_on_a_later_page_keeps_the_hits_already_reported(loki: FakeLoki) -> None:
    for second in range(10):
        loki.add(API, ns(second), f"error {second}")
    loki.fault, loki.fault_from = Fault.BAD_GATEWAY_HTML, 2

    sink = CollectingSink()
    with pytest.raises(SourceError, match="HTTP 502"):
        run(make_source(loki, page_limit=3), window_query("error"), sink)

    assert sink.texts == ["error 0", "error 1", "error 2"]


def test_connection_refused_is_one_line() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = LokiSource(
        kind="loki",
        name="loki-api",
        url=f"http://127.0.0.1:{port}",
        selector='{app="api"}',
        timeout=FAULT_DEADLINE,
    )

    with pytest.raises(SourceError) as raised:
        LokiLogSource(config, base_dir=Path(".")).search(
            window_query("error"), CollectingSink(), threading.Event()
        )

    assert str(raised.value) == (
        f"loki-api: cannot connect to http://127.0.0.1:{port}: connection refused"
    )


def test_cancel_stops_paging(loki: FakeLoki) -> None:
    for second in range(10):
        loki.add(API, ns(second), f"error {second}")
    cancel = threading.Event()
    sink = CollectingSink(on_hit=lambda _hit: cancel.set())

    make_source(loki, page_limit=2).search(window_query("error"), sink, cancel)

    assert len(loki.requests) == 1
    assert sink.texts == ["error 0"]


def test_more_lines_at_one_timestamp_than_a_page_holds_warns_and_moves_on(
    loki: FakeLoki,
) -> None:
    for number in range(5):
        loki.add(API, ns(1), f"burst error {number}")
    loki.add(API, ns(2), "error after the burst")

    sink = run(make_source(loki, page_limit=2), window_query("error"))

    assert sink.texts == ["burst error 0", "burst error 1", "error after the burst"]
    assert sink.warnings == [
        "loki-api: 2 or more lines share the timestamp 2026-11-28T03:00:01+00:00; "
        "any beyond 2 are missing (raise page_limit)"
    ]


def test_build_logql_escapes_control_characters() -> None:
    query = Query(pattern='tab\there "q" \x1b[31m', ignore_case=False)

    assert build_logql('{app="api"}', query) == r'{app="api"} |= "tab\there \"q\" \u001b[31m"'
    assert build_logql(' {app="api"} ', Query(pattern="")) == '{app="api"}'


def test_service_filter_uses_stream_labels_when_no_service_is_configured(
    loki: FakeLoki,
) -> None:
    loki.add({"app": "api", "service_name": "checkout"}, ns(1), "error in checkout")
    loki.add({"app": "api", "service_name": "search"}, ns(2), "error in search")
    wanted = frozenset({"checkout"})

    assert run(make_source(loki), window_query("error", services=wanted)).texts == [
        "error in checkout"
    ]
    # A source configured for one service is the engine's to select or skip, whole.
    assert run(make_source(loki, service="api"), window_query("error", services=wanted)).texts == [
        "error in checkout",
        "error in search",
    ]


def test_a_failing_remote_source_does_not_stop_the_others(loki: FakeLoki) -> None:
    from cockpit.core.config import Config
    from cockpit.core.search.engine import make_sources, run_search
    from cockpit.core.search.model import SourceState
    from tests.fakes.elasticsearch import FakeElasticsearch

    loki.add(API, ns(1), "error from loki")
    with FakeLoki() as slow_loki, FakeElasticsearch() as es:
        slow_loki.fault = Fault.SLOW
        es.add({"@timestamp": (T0 + timedelta(seconds=2)).isoformat(), "message": "error from es"})
        config = Config.model_validate(
            {
                "sources": [
                    {"kind": "loki", "name": "loki-ok", "url": loki.url, "selector": '{app="api"}'},
                    {
                        "kind": "loki",
                        "name": "loki-slow",
                        "url": slow_loki.url,
                        "selector": '{app="api"}',
                        "timeout": FAULT_DEADLINE,
                    },
                    {"kind": "elasticsearch", "name": "es", "url": es.url},
                ]
            }
        )

        result = run_search(make_sources(config), window_query("error"))

    states = {name: status.state for name, status in result.statuses.items()}
    assert states == {
        "loki-ok": SourceState.DONE,
        "loki-slow": SourceState.ERROR,
        "es": SourceState.DONE,
    }
    assert result.errors == ["loki-slow: timed out after 0.5 s"]
    assert [hit.text for hit in result.hits] == ["error from loki", "error from es"]


def test_a_token_unfit_for_a_header_is_refused_without_echoing_it(
    loki: FakeLoki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COCKPIT_TEST_LOKI_TOKEN", "s3cret\nInjected: header")

    with pytest.raises(SourceError) as raised:
        run(make_source(loki, token_env="COCKPIT_TEST_LOKI_TOKEN"), window_query("error"))

    assert str(raised.value) == (
        "loki-api: environment variable COCKPIT_TEST_LOKI_TOKEN (token_env) holds characters "
        "that cannot go in an HTTP header"
    )
    assert loki.requests == []


def test_url_without_a_scheme_is_a_config_error(loki: FakeLoki) -> None:
    with pytest.raises(SourceError) as raised:
        run(make_source(loki, url="loki:3100"), window_query("error"))

    assert str(raised.value) == "loki-api: url 'loki:3100' must start with http:// or https://"


def test_a_redirect_is_reported_not_followed(loki: FakeLoki) -> None:
    # The fake answers 404 elsewhere; a path prefix that redirects is what a proxy would do.
    from tests.fakes import Response

    loki.respond = lambda request: Response(  # type: ignore[method-assign]
        302, b"", {"Location": "https://sso.example.com/login"}
    )

    with pytest.raises(SourceError) as raised:
        run(make_source(loki), window_query("error"))

    assert str(raised.value) == (
        "loki-api: HTTP 302 Found: redirected to https://sso.example.com/login; "
        "put the final address in url"
    )
    assert len(loki.requests) == 1
