"""Elasticsearch or OpenSearch as a log source, through `POST /{index}/_search`.

The request is a bool query: a range filter on the time field, a `terms` filter on the
service field when the query names services, and for a literal a `match_phrase` on the
message field. Pages are read oldest first, sorted by time with `_doc` as the tiebreaker, and
continued with `search_after` (no point in time: it differs between Elasticsearch and
OpenSearch and needs cleanup; without it, documents indexed during the search may be seen or
not, and two documents equal in both time and `_doc` on different shards could be skipped).

Tradeoffs, because the message field is analysed text, not a string:
- A literal is found by `match_phrase` (token-based, case-insensitive), then checked exactly
  here, so false positives are dropped; a literal that is only part of a word is not found.
- A regex cannot be expressed on analysed text (`regexp` applies per token), so every
  document in the time window is fetched and matched here with RE2, up to MAX_REGEX_SCAN
  documents and the deadline; the user is told when that bound was hit.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from cockpit.core.config import ElasticsearchSource
from cockpit.core.search._remote import (
    EPOCH,
    Cancelled,
    Deadline,
    auth_header,
    check_url,
    fetch,
    line_matcher,
    new_client,
    one_line,
    parse_json,
    read_token,
    time_window,
)
from cockpit.core.search.model import Hit, HitSink, Query, SourceError

MAX_REGEX_SCAN = 200_000
"""Most documents fetched to match a regex client-side in one search."""


def iso_millis(moment: datetime) -> str:
    """`2026-11-28T03:00:00.000Z`: strict_date_optional_time, at the `date` type's precision."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def field_value(document: Mapping[str, Any], path: str) -> Any:
    """The value at `path` in a `_source`: a flat dotted key (`log.message`) or nested objects."""
    if path in document:
        return document[path]
    current: Any = document
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def document_time(value: Any) -> datetime | None:
    """A document time: epoch milliseconds (a sort value) or an ISO-8601 string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return EPOCH + timedelta(milliseconds=value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return None


def build_request(
    cfg: ElasticsearchSource, query: Query, start: datetime, end: datetime
) -> dict[str, Any]:
    """The `_search` body for the first page (later pages add `search_after`)."""
    filters: list[dict[str, Any]] = [
        {
            "range": {
                cfg.time_field: {
                    "gte": iso_millis(start),
                    "lt": iso_millis(end),
                    "format": "strict_date_optional_time",
                }
            }
        }
    ]
    if query.services and cfg.service_field:
        filters.append({"terms": {cfg.service_field: sorted(query.services)}})
    must: list[dict[str, Any]] = []
    if query.pattern and not query.regex:
        must.append({"match_phrase": {cfg.message_field: {"query": query.pattern}}})
    fields = [cfg.time_field, cfg.message_field]
    if cfg.service_field:
        fields.append(cfg.service_field)
    return {
        "size": cfg.page_size,
        "query": {"bool": {"filter": filters, "must": must}},
        # unmapped_type: an index in the pattern without the time field sorts, not fails.
        "sort": [
            {cfg.time_field: {"order": "asc", "unmapped_type": "date"}},
            {"_doc": {"order": "asc"}},
        ],
        "track_total_hits": True,
        "_source": fields,
    }


def _describe_error(status: int, headers: httpx.Headers, body: bytes) -> str | None:
    """`type: reason` from an Elasticsearch error body, if it is one."""
    try:
        import json

        error = json.loads(body).get("error")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None
    if isinstance(error, dict):
        causes = error.get("root_cause") or [error]
        cause = causes[0] if isinstance(causes, list) and isinstance(causes[0], dict) else error
        kind, reason = cause.get("type", ""), cause.get("reason", "")
        return one_line(f"{kind}: {reason}" if kind else str(reason))
    if isinstance(error, str):
        return one_line(error)
    return None


class ElasticsearchLogSource:
    """Searches one index pattern; see the module docstring for the query and its tradeoffs."""

    def __init__(self, cfg: ElasticsearchSource, *, base_dir: Path) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.service = cfg.service
        self.base_dir = base_dir

    def search(self, query: Query, sink: HitSink, cancel: threading.Event) -> None:
        """Report every matching document's message, oldest first; raise SourceError on failure."""
        cfg = self.cfg
        matches = line_matcher(self.name, query)
        token = read_token(self.name, cfg.token_env)
        headers = auth_header(token, allow_schemes=("ApiKey", "Basic", "Bearer"))
        start, end, defaulted = time_window(query.since, query.until)
        if defaulted:
            sink.warn(f"{self.name}: no start time given; searched the last hour")
        body = build_request(cfg, query, start, end)
        url = f"{check_url(self.name, cfg.url)}/{quote(cfg.index, safe='*,-_.:')}/_search"
        deadline = Deadline(cfg.timeout)
        scanned = without_message = 0
        seen_last_page: set[tuple[str, str]] = set()
        with new_client() as client:
            while not cancel.is_set():
                # Ask the server to give up a little before our own deadline.
                body["timeout"] = f"{max(1, int(deadline.remaining() * 900))}ms"
                try:
                    raw = fetch(
                        client,
                        "POST",
                        url,
                        source=self.name,
                        deadline=deadline,
                        cancel=cancel,
                        token_env=cfg.token_env,
                        json_body=body,
                        headers=headers,
                        describe_error=_describe_error,
                    )
                except Cancelled:
                    return
                hits, total = self._page(parse_json(self.name, raw), sink)
                seen_this_page: set[tuple[str, str]] = set()
                for hit in hits:
                    if cancel.is_set():
                        return
                    identity = (str(hit.get("_index")), str(hit.get("_id")))
                    seen_this_page.add(identity)
                    if identity in seen_last_page:
                        continue
                    scanned += 1
                    document = hit.get("_source") or {}
                    text = field_value(document, cfg.message_field)
                    if not isinstance(text, str):
                        without_message += 1
                        continue
                    if matches(text):
                        sink.hit(self._hit(hit, document, text))
                if len(hits) < cfg.page_size:
                    break
                last_sort = hits[-1].get("sort")
                if not isinstance(last_sort, list) or not last_sort:
                    raise SourceError(f"{self.name}: unexpected response: hits without sort values")
                body["search_after"] = last_sort
                seen_last_page = seen_this_page
                if query.regex and scanned >= MAX_REGEX_SCAN:
                    sink.warn(
                        f"{self.name}: regex matched client-side over the first {scanned} of "
                        f"{total if total is not None else 'more'} documents; "
                        "narrow the time window"
                    )
                    break
        if without_message:
            sink.warn(
                f"{self.name}: {without_message} documents had no text field "
                f"{cfg.message_field!r} (check message_field)"
            )

    def _page(self, payload: Any, sink: HitSink) -> tuple[list[dict[str, Any]], int | None]:
        """The hits of one `_search` response and the total count, with its warnings reported."""
        if not isinstance(payload, dict) or not isinstance(payload.get("hits"), dict):
            raise SourceError(f"{self.name}: unexpected response: no hits object")
        hits = payload["hits"].get("hits")
        if not isinstance(hits, list) or not all(isinstance(hit, dict) for hit in hits):
            raise SourceError(f"{self.name}: unexpected response: hits.hits is not a list")
        if payload.get("timed_out"):
            sink.warn(f"{self.name}: the server timed out; results may be incomplete")
        shards = payload.get("_shards")
        if isinstance(shards, dict) and shards.get("failed"):
            sink.warn(
                f"{self.name}: {shards['failed']} of {shards.get('total', '?')} shards failed; "
                "results may be incomplete"
            )
        total_info = payload["hits"].get("total")
        total = total_info.get("value") if isinstance(total_info, dict) else total_info
        return hits, total if isinstance(total, int) else None

    def _hit(self, hit: Mapping[str, Any], document: Mapping[str, Any], text: str) -> Hit:
        # The stored time first: a date_nanos sort value is in nanoseconds, not milliseconds.
        ts = document_time(field_value(document, self.cfg.time_field))
        sort = hit.get("sort")
        if ts is None and isinstance(sort, list) and sort:
            ts = document_time(sort[0])
        service = self.service
        if self.cfg.service_field:
            value = field_value(document, self.cfg.service_field)
            if isinstance(value, str) and value:
                service = value
        return Hit(source=self.name, service=service, text=text, ts=ts)
