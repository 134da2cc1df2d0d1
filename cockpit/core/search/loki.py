"""Grafana Loki as a log source, through `GET /loki/api/v1/query_range`.

The query becomes LogQL: the configured stream selector plus one line filter, `|= "literal"`
or `|~ "regex"` (case-insensitive through RE2's `(?i)`). Pages are read oldest first
(`direction=forward`); each next page starts at the newest timestamp already seen, and lines
at that timestamp that were already reported are skipped, so nothing is doubled or missed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cockpit.core.config import LokiSource
from cockpit.core.search._remote import (
    Cancelled,
    Deadline,
    auth_header,
    check_url,
    fetch,
    from_ns,
    line_matcher,
    new_client,
    parse_json,
    read_token,
    time_window,
    to_ns,
)
from cockpit.core.search.model import Hit, HitSink, Query, SourceError

QUERY_RANGE_PATH = "/loki/api/v1/query_range"

# RE2 metacharacters (Go's regexp.QuoteMeta set). Escaping anything else, a space for one,
# is an error in RE2, so Python's re.escape is not usable here.
_RE2_META = frozenset(r"\.+*?()|[]{}^$")

_GO_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}

# Labels that commonly name the service when the source config does not.
_SERVICE_LABELS = ("service_name", "service", "app", "job")


def quote_meta(literal: str) -> str:
    """Escape `literal` so RE2 matches it verbatim."""
    return "".join("\\" + ch if ch in _RE2_META else ch for ch in literal)


def logql_string(text: str) -> str:
    """`text` as a double-quoted LogQL (Go) string: quotes, backslashes and controls escaped."""
    out = []
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def build_logql(selector: str, query: Query) -> str:
    """The LogQL for `query` over the stream `selector`; an empty pattern matches every line."""
    selector = selector.strip()
    if not query.pattern:
        return selector
    flags = "(?i)" if query.ignore_case else ""
    if query.regex:
        return f"{selector} |~ {logql_string(flags + query.pattern)}"
    if query.ignore_case:
        return f"{selector} |~ {logql_string(flags + quote_meta(query.pattern))}"
    return f"{selector} |= {logql_string(query.pattern)}"


@dataclass(frozen=True)
class _Entry:
    ns: int
    labels: tuple[tuple[str, str], ...]
    line: str

    @property
    def key(self) -> tuple[int, tuple[tuple[str, str], ...], str]:
        return (self.ns, self.labels, self.line)


def _parse_streams(source: str, payload: Any) -> list[_Entry]:
    """The entries of a query_range streams response, oldest first."""

    def bad(what: str) -> SourceError:
        return SourceError(f"{source}: unexpected response from Loki: {what}")

    if not isinstance(payload, dict):
        raise bad("not a JSON object")
    if payload.get("status") != "success":
        raise bad(f"status {str(payload.get('status'))[:40]!r}")
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("result"), list):
        raise bad("no data.result list")
    if data.get("resultType") != "streams":
        raise bad(f"resultType {str(data.get('resultType'))[:40]!r}, expected 'streams'")
    entries: list[_Entry] = []
    for stream in data["result"]:
        if not isinstance(stream, dict) or not isinstance(stream.get("values"), list):
            raise bad("a result without a values list")
        raw_labels = stream.get("stream") or {}
        if not isinstance(raw_labels, dict):
            raise bad("stream labels are not an object")
        labels = tuple(sorted((str(k), str(v)) for k, v in raw_labels.items()))
        for value in stream["values"]:
            # [ns, line] or, from newer Loki, [ns, line, {structured metadata}].
            if not isinstance(value, list) or len(value) < 2 or not isinstance(value[1], str):
                raise bad("a value that is not [timestamp, line]")
            try:
                ns = int(value[0])
            except (TypeError, ValueError):
                raise bad(f"timestamp {str(value[0])[:40]!r} is not nanoseconds") from None
            entries.append(_Entry(ns, labels, value[1]))
    entries.sort(key=lambda entry: entry.ns)
    return entries


class LokiLogSource:
    """Searches one Loki stream selector; see the module docstring for paging."""

    def __init__(self, cfg: LokiSource, *, base_dir: Path) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.service = cfg.service
        self.base_dir = base_dir

    def search(self, query: Query, sink: HitSink, cancel: threading.Event) -> None:
        """Report every matching line, oldest first; raise SourceError on failure."""
        cfg = self.cfg
        if not cfg.selector.strip().startswith("{"):
            raise SourceError(
                f"{self.name}: selector {cfg.selector!r} is not a LogQL stream selector "
                'like {app="checkout"}'
            )
        if query.regex:
            line_matcher(self.name, query)  # an invalid regex fails here, before any request
        token = read_token(self.name, cfg.token_env)
        headers = auth_header(token)
        if cfg.org_id:
            headers["X-Scope-OrgID"] = cfg.org_id
        start, end, defaulted = time_window(query.since, query.until)
        if defaulted:
            sink.warn(f"{self.name}: no start time given; searched the last hour")
        logql = build_logql(cfg.selector, query)
        url = check_url(self.name, cfg.url) + QUERY_RANGE_PATH
        deadline = Deadline(cfg.timeout)
        # With no service configured, each line's service comes from its labels; filter on it.
        wanted_services = query.services if self.service is None else None
        start_ns, end_ns = to_ns(start), to_ns(end)
        # Lines at `start_ns` that an earlier page already reported.
        reported_at_start: set[tuple[int, tuple[tuple[str, str], ...], str]] = set()
        with new_client() as client:
            while start_ns < end_ns and not cancel.is_set():
                params: dict[str, str | int] = {
                    "query": logql,
                    "start": start_ns,
                    "end": end_ns,
                    "limit": cfg.page_limit,
                    "direction": "forward",
                }
                try:
                    body = fetch(
                        client,
                        "GET",
                        url,
                        source=self.name,
                        deadline=deadline,
                        cancel=cancel,
                        token_env=cfg.token_env,
                        params=params,
                        headers=headers,
                    )
                except Cancelled:
                    return
                entries = _parse_streams(self.name, parse_json(self.name, body))
                fresh = [
                    entry
                    for entry in entries
                    if start_ns <= entry.ns < end_ns
                    and not (entry.ns == start_ns and entry.key in reported_at_start)
                ]
                for entry in fresh:
                    if cancel.is_set():
                        return
                    hit = self._hit(entry)
                    if wanted_services is None or hit.service in wanted_services:
                        sink.hit(hit)
                if len(entries) < cfg.page_limit:
                    return
                last_ns = max(entries[-1].ns, start_ns)
                if not fresh:
                    # A full page of lines already seen: at least page_limit lines share one
                    # timestamp. Step past it rather than ask for the same page forever.
                    sink.warn(
                        f"{self.name}: {cfg.page_limit} or more lines share the timestamp "
                        f"{from_ns(last_ns).isoformat()}; any beyond {cfg.page_limit} are "
                        "missing (raise page_limit)"
                    )
                    start_ns, reported_at_start = last_ns + 1, set()
                    continue
                if last_ns != start_ns:
                    reported_at_start = set()
                reported_at_start.update(e.key for e in entries if e.ns == last_ns)
                start_ns = last_ns

    def _hit(self, entry: _Entry) -> Hit:
        labels = dict(entry.labels)
        service = self.service or next(
            (labels[name] for name in _SERVICE_LABELS if labels.get(name)), None
        )
        return Hit(source=self.name, service=service, text=entry.line, ts=from_ns(entry.ns))
