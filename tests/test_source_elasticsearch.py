"""The Elasticsearch/OpenSearch source against a local server speaking the `_search` API."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.core.config import ElasticsearchSource
from cockpit.core.search.elasticsearch import ElasticsearchLogSource
from cockpit.core.search.model import Hit, Query, SourceError
from tests.fakes import CollectingSink, Fault
from tests.fakes.elasticsearch import FakeElasticsearch

T0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
FAULT_DEADLINE = 0.5
# Room for a loaded CI machine; far below the source's 5 s default and the fake's hang.
SLACK_SECONDS = 2.5


def at(seconds: float) -> str:
    """ISO time `seconds` after T0, as log shippers write @timestamp."""
    return (
        (T0 + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


@pytest.fixture
def es() -> Iterator[FakeElasticsearch]:
    with FakeElasticsearch() as fake:
        yield fake


def make_source(fake: FakeElasticsearch, **overrides: Any) -> ElasticsearchLogSource:
    fields: dict[str, Any] = {
        "kind": "elasticsearch",
        "name": "es-logs",
        "url": fake.url,
        "timeout": 5.0,
        "page_size": 1000,
    }
    fields.update(overrides)
    return ElasticsearchLogSource(ElasticsearchSource(**fields), base_dir=Path("."))


def window_query(pattern: str, **overrides: Any) -> Query:
    fields: dict[str, Any] = {"pattern": pattern, "since": T0, "until": T0 + timedelta(hours=1)}
    fields.update(overrides)
    return Query(**fields)


def run(
    source: ElasticsearchLogSource, query: Query, sink: CollectingSink | None = None
) -> CollectingSink:
    sink = sink or CollectingSink()
    source.search(query, sink, threading.Event())
    return sink


def test_pages_with_search_after_oldest_first_with_no_duplicates_and_none_missing(
    es: FakeElasticsearch,
) -> None:
    expected = []
    for number in range(23):
        # Pairs of documents share a millisecond, so ties meet the page boundaries.
        es.add({"@timestamp": at(number // 2), "message": f"upstream error id={number}"})
        es.add({"@timestamp": at(number // 2), "message": f"request ok id={number}"})
        expected.append(f"upstream error id={number}")

    sink = run(make_source(es, page_size=5), window_query("upstream error"))

    assert sink.texts == expected
    assert [hit.ts for hit in sink.hits] == sorted(hit.ts for hit in sink.hits)
    assert len(es.requests) == 5  # 23 hits in pages of 5
    first = es.requests[0].json()
    assert first["size"] == 5
    assert first["track_total_hits"] is True
    assert first["sort"] == [
        {"@timestamp": {"order": "asc", "unmapped_type": "date"}},
        {"_doc": {"order": "asc"}},
    ]
    assert first["query"]["bool"]["filter"][0] == {
        "range": {
            "@timestamp": {
                "gte": "2026-11-28T03:00:00.000Z",
                "lt": "2026-11-28T04:00:00.000Z",
                "format": "strict_date_optional_time",
            }
        }
    }
    assert "search_after" not in first
    cursors = [request.json()["search_after"] for request in es.requests[1:]]
    assert cursors == sorted(cursors) and len(set(map(tuple, cursors))) == len(cursors)
    assert sink.warnings == []


def test_literal_is_a_phrase_on_the_server_then_checked_exactly(es: FakeElasticsearch) -> None:
    for number, message in enumerate(
        [
            "Connection reset by peer",
            "connection reset by peer",
            "reset connection by peer",
            "connection-reset by peer",
        ]
    ):
        es.add({"@timestamp": at(number), "message": message})

    exact = run(make_source(es), window_query("connection reset"))
    any_case = run(make_source(es), window_query("connection reset", ignore_case=True))

    assert exact.texts == ["connection reset by peer"]
    assert any_case.texts == ["Connection reset by peer", "connection reset by peer"]
    must = es.requests[0].json()["query"]["bool"]["must"]
    assert must == [{"match_phrase": {"message": {"query": "connection reset"}}}]


def test_regex_is_matched_client_side_over_the_time_window(es: FakeElasticsearch) -> None:
    for number, message in enumerate(["status=502 GET /", "status=404 GET /", "STATUS=503"]):
        es.add({"@timestamp": at(number), "message": message})
    es.add({"@timestamp": at(3), "message": "a" * 50_000})

    assert run(make_source(es), window_query(r"status=5\d\d", regex=True)).texts == [
        "status=502 GET /"
    ]
    assert es.requests[0].json()["query"]["bool"]["must"] == []
    insensitive = run(make_source(es), window_query(r"status=5\d\d", regex=True, ignore_case=True))
    assert insensitive.texts == ["status=502 GET /", "STATUS=503"]
    started = time.monotonic()
    assert run(make_source(es), window_query("(a+)+$", regex=True)).texts == ["a" * 50_000]
    assert time.monotonic() - started < 10  # backtracking would take forever, not seconds


def test_time_window_is_start_inclusive_and_end_exclusive(es: FakeElasticsearch) -> None:
    since, until = T0 + timedelta(seconds=10), T0 + timedelta(seconds=20)
    for seconds, message in [
        (9.999, "error before"),
        (10, "error at start"),
        (19.999, "error before end"),
        (20, "error at end"),
    ]:
        es.add({"@timestamp": at(seconds), "message": message})

    sink = run(make_source(es), Query("error", since=since, until=until))

    assert sink.texts == ["error at start", "error before end"]
    assert sink.hits[0].ts == since
    assert sink.hits[1].ts == T0 + timedelta(seconds=19.999)


def test_service_filter_uses_the_configured_nested_fields(es: FakeElasticsearch) -> None:
    es.add({"@timestamp": at(1), "service": {"name": "checkout"}, "log": {"message": "error a"}})
    es.add({"@timestamp": at(2), "service": {"name": "search"}, "log": {"message": "error b"}})
    es.add({"@timestamp": at(3), "service.name": "checkout", "log.message": "error c"})
    source = make_source(es, service_field="service.name", message_field="log.message")

    sink = run(source, window_query("error", services=frozenset({"checkout"})))

    assert sink.hits == [
        Hit(source="es-logs", service="checkout", text="error a", ts=T0 + timedelta(seconds=1)),
        Hit(source="es-logs", service="checkout", text="error c", ts=T0 + timedelta(seconds=3)),
    ]
    body = es.requests[0].json()
    assert {"terms": {"service.name": ["checkout"]}} in body["query"]["bool"]["filter"]
    assert body["_source"] == ["@timestamp", "log.message", "service.name"]


def test_documents_without_the_message_field_are_reported(es: FakeElasticsearch) -> None:
    es.add({"@timestamp": at(1), "msg": "error somewhere"})

    sink = run(make_source(es), window_query("error", regex=True))

    assert sink.hits == []
    assert sink.warnings == [
        "es-logs: 1 documents had no text field 'message' (check message_field)"
    ]


@pytest.mark.parametrize(
    ("token", "header"),
    [
        (
            "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
            "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
        ),
        ("plain-token", "Bearer plain-token"),
    ],
)
def test_token_from_the_environment_goes_in_the_authorization_header(
    monkeypatch: pytest.MonkeyPatch, token: str, header: str
) -> None:
    monkeypatch.setenv("COCKPIT_TEST_ES_TOKEN", token)
    with FakeElasticsearch(required_authorization=header) as fake:
        fake.add({"@timestamp": at(1), "message": "error x"})

        sink = run(make_source(fake, token_env="COCKPIT_TEST_ES_TOKEN"), window_query("error"))

    assert sink.texts == ["error x"]
    assert fake.requests[0].headers["authorization"] == header


def test_wrong_credentials_are_an_auth_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COCKPIT_TEST_ES_TOKEN", "stale")
    with (
        FakeElasticsearch(required_authorization="ApiKey fresh") as fake,
        pytest.raises(SourceError) as raised,
    ):
        run(make_source(fake, token_env="COCKPIT_TEST_ES_TOKEN"), window_query("error"))

    assert str(raised.value) == (
        "es-logs: HTTP 401 Unauthorized: authentication failed "
        "(check the token in $COCKPIT_TEST_ES_TOKEN)"
    )


def test_unset_token_variable_fails_before_any_request(
    es: FakeElasticsearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COCKPIT_TEST_UNSET_TOKEN", raising=False)
    with pytest.raises(SourceError, match=r"^es-logs: environment variable COCKPIT_TEST_UNSET"):
        run(make_source(es, token_env="COCKPIT_TEST_UNSET_TOKEN"), window_query("error"))
    assert es.requests == []


def test_elasticsearch_errors_give_type_and_reason(es: FakeElasticsearch) -> None:
    with pytest.raises(SourceError) as raised:
        run(make_source(es, index="nope"), window_query("error"))

    assert str(raised.value) == (
        "es-logs: HTTP 404 Not Found: index_not_found_exception: no such index [nope]"
    )


def test_index_pattern_is_configurable(es: FakeElasticsearch) -> None:
    es.add({"@timestamp": at(1), "message": "error in app"}, index="logs-app-2026.11.28")
    es.add({"@timestamp": at(2), "message": "error in db"}, index="logs-db-2026.11.28")

    sink = run(make_source(es, index="logs-db-*"), window_query("error"))

    assert sink.texts == ["error in db"]
    assert es.requests[0].path == "/logs-db-*/_search"


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.SLOW, "es-logs: timed out after 0.5 s"),
        (Fault.HANG_MIDWAY, "es-logs: timed out after 0.5 s"),
        (
            Fault.RATE_LIMITED,
            "es-logs: HTTP 429 Too Many Requests: rate limited by the server; Retry-After: 7",
        ),
        (Fault.BAD_GATEWAY_HTML, "es-logs: HTTP 502 Bad Gateway (HTML error page)"),
    ],
)
def test_faults_become_one_line_errors_within_the_deadline(
    es: FakeElasticsearch, fault: Fault, expected: str
) -> None:
    es.add({"@timestamp": at(1), "message": "error one"})
    es.fault = fault
    started = time.monotonic()

    with pytest.raises(SourceError) as raised:
        run(make_source(es, timeout=FAULT_DEADLINE), window_query("error"))

    elapsed = time.monotonic() - started
    assert str(raised.value) == expected
    assert elapsed < FAULT_DEADLINE + SLACK_SECONDS, f"took {elapsed:.2f} s"


def test_invalid_json_is_reported_without_dumping_the_body(es: FakeElasticsearch) -> None:
    es.add({"@timestamp": at(1), "message": "error one"})
    es.fault = Fault.INVALID_JSON

    with pytest.raises(SourceError) as raised:
        run(make_source(es), window_query("error"))

    message = str(raised.value)
    assert message.startswith("es-logs: response is invalid JSON, not the expected JSON (")
    assert "error one" not in message


def test_failure_on_a_later_page_keeps_the_hits_already_reported(es: FakeElasticsearch) -> None:
    for number in range(7):
        es.add({"@timestamp": at(number), "message": f"error {number}"})
    es.fault, es.fault_from = Fault.RATE_LIMITED, 2

    sink = CollectingSink()
    with pytest.raises(SourceError, match="HTTP 429"):
        run(make_source(es, page_size=3), window_query("error"), sink)

    assert sink.texts == ["error 0", "error 1", "error 2"]


def test_cancel_stops_paging(es: FakeElasticsearch) -> None:
    for number in range(7):
        es.add({"@timestamp": at(number), "message": f"error {number}"})
    cancel = threading.Event()
    sink = CollectingSink(on_hit=lambda _hit: cancel.set())

    make_source(es, page_size=3).search(window_query("error"), sink, cancel)

    assert sink.texts == ["error 0"]
    assert len(es.requests) == 1


def test_time_comes_from_epoch_millis_when_the_document_stores_them(es: FakeElasticsearch) -> None:
    es.add({"@timestamp": int((T0 + timedelta(seconds=7)).timestamp() * 1000), "message": "error"})

    sink = run(make_source(es), window_query("error"))

    assert [hit.ts for hit in sink.hits] == [T0 + timedelta(seconds=7)]
