"""A fake Elasticsearch/OpenSearch: `POST /{index}/_search` (and GET with a body).

Wire format (Elasticsearch search API): a JSON body with `size` (default 10, at most
index.max_result_window = 10,000), `query`, `sort`, `search_after`, `track_total_hits`,
`_source` and `timeout`. The answer is
`{"took": n, "timed_out": false, "_shards": {...}, "hits": {"total": {"value": N,
"relation": "eq"}, "max_score": null, "hits": [{"_index", "_id", "_score", "_source",
"sort": [...]}]}}`. Date sort values are epoch milliseconds. Errors are
`{"error": {"root_cause": [{"type", "reason"}], "type", "reason"}, "status": n}`.

Queries understood: `bool` (`filter`, `must`, `should` ignored when empty), `range` on a date
field (`gte`/`gt`/`lt`/`lte`, ISO strings), `match_phrase` (the standard analyzer approximated:
lower-cased word tokens, consecutive), `term`, `terms`, `match_all`.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.fakes import FakeServer, RecordedRequest, Response

MAX_RESULT_WINDOW = 10_000
_TOKEN = re.compile(r"\w+")


class QueryError(ValueError):
    """A request this fake rejects the way Elasticsearch would (400)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def error_response(status: int, kind: str, reason: str) -> Response:
    """An error in Elasticsearch's JSON error format."""
    cause = {"type": kind, "reason": reason}
    return Response.json(status, {"error": {"root_cause": [cause], **cause}, "status": status})


@dataclass
class Document:
    """One indexed document."""

    index: str
    id: str
    source: dict[str, Any]
    ordinal: int
    """Stands in for the Lucene doc id that `_doc` sorts on."""


def get_field(source: dict[str, Any], path: str) -> Any:
    """The value at `path`: a flat dotted key or nested objects."""
    if path in source:
        return source[path]
    current: Any = source
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def to_millis(value: Any) -> int | None:
    """A date value (ISO string or epoch millis) as epoch milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    return None


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


class FakeElasticsearch(FakeServer):
    """An Elasticsearch node holding documents in memory."""

    def __init__(self, *, required_authorization: str | None = None) -> None:
        super().__init__()
        self.documents: list[Document] = []
        self.required_authorization = required_authorization

    def add(self, source: dict[str, Any], *, index: str = "logs-app-2026.11.28") -> None:
        """Index one document."""
        ordinal = len(self.documents)
        self.documents.append(Document(index, f"doc-{ordinal}", source, ordinal))

    def respond(self, request: RecordedRequest) -> Response:
        match = re.fullmatch(r"/([^/]+)/_search", request.path)
        if match is None:
            return error_response(
                400, "illegal_argument_exception", f"no handler for {request.path}"
            )
        if self.required_authorization is not None and (
            request.headers.get("authorization") != self.required_authorization
        ):
            response = error_response(
                401, "security_exception", "missing authentication credentials for REST request"
            )
            response.headers["WWW-Authenticate"] = 'Basic realm="security", ApiKey'
            return response
        pattern = match.group(1)
        documents = [doc for doc in self.documents if _index_matches(pattern, doc.index)]
        if not documents and not any(c in pattern for c in "*,"):
            return error_response(404, "index_not_found_exception", f"no such index [{pattern}]")
        try:
            body = request.json() if request.body else {}
            return Response.json(200, self._search(documents, body))
        except QueryError as exc:
            return error_response(400, exc.kind, exc.reason)
        except ValueError as exc:
            return error_response(400, "parsing_exception", str(exc))

    def _search(self, documents: list[Document], body: dict[str, Any]) -> dict[str, Any]:
        known = {"size", "query", "sort", "search_after", "track_total_hits", "_source", "timeout"}
        unknown = set(body) - known
        if unknown:
            raise QueryError(
                "parsing_exception", f"Unknown key for a START_OBJECT in [{min(unknown)}]."
            )
        size = body.get("size", 10)
        if not isinstance(size, int) or size < 0 or size > MAX_RESULT_WINDOW:
            raise QueryError(
                "illegal_argument_exception",
                f"Result window is too large, from + size must be less than or equal to: "
                f"[{MAX_RESULT_WINDOW}] but was [{size}].",
            )
        query = body.get("query", {"match_all": {}})
        matched = [doc for doc in documents if _matches(query, doc.source)]
        sort_spec = [_sort_field(item) for item in body.get("sort", [])]
        if not sort_spec:
            raise QueryError("illegal_argument_exception", "this fake needs an explicit sort")
        keyed = [(tuple(_sort_value(doc, field) for field in sort_spec), doc) for doc in matched]
        keyed.sort(key=lambda pair: pair[0])
        after = body.get("search_after")
        if after is not None:
            if not isinstance(after, list) or len(after) != len(sort_spec):
                raise QueryError(
                    "illegal_argument_exception",
                    "search_after has a different number of sort values than the sort",
                )
            keyed = [pair for pair in keyed if list(pair[0]) > after]
        page = keyed[:size]
        total = len(matched)
        track = body.get("track_total_hits", MAX_RESULT_WINDOW)
        limit = MAX_RESULT_WINDOW if track is not True else None
        total_info = (
            {"value": limit, "relation": "gte"}
            if limit is not None and total > limit
            else {"value": total, "relation": "eq"}
        )
        includes = body.get("_source")
        return {
            "took": 1,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {
                "total": total_info,
                "max_score": None,
                "hits": [
                    {
                        "_index": doc.index,
                        "_id": doc.id,
                        "_score": None,
                        "_source": _filter_source(doc.source, includes),
                        "sort": list(sort_key),
                    }
                    for sort_key, doc in page
                ],
            },
        }


def _index_matches(pattern: str, index: str) -> bool:
    return any(fnmatch.fnmatchcase(index, part) for part in pattern.split(","))


def _sort_field(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and len(item) == 1:
        field, order = next(iter(item.items()))
        direction = order.get("order", "asc") if isinstance(order, dict) else order
        if direction != "asc":
            raise QueryError("illegal_argument_exception", "this fake sorts ascending only")
        return str(field)
    raise QueryError("parsing_exception", f"malformed sort {item!r}")


def _sort_value(doc: Document, field: str) -> int:
    if field == "_doc":
        return doc.ordinal
    if field == "_shard_doc":
        raise QueryError(
            "illegal_argument_exception",
            "[_shard_doc] sort field cannot be used without [point in time]",
        )
    value = to_millis(get_field(doc.source, field))
    return value if value is not None else 2**63 - 1  # missing values sort last


def _matches(query: dict[str, Any], source: dict[str, Any]) -> bool:
    if not isinstance(query, dict) or len(query) != 1:
        raise QueryError("parsing_exception", "query malformed, must start with start_object")
    kind, spec = next(iter(query.items()))
    if kind == "match_all":
        return True
    if kind == "bool":

        def listed(key: str) -> list[Any]:
            value = spec.get(key, [])
            return value if isinstance(value, list) else [value]

        required = listed("filter") + listed("must")
        return all(_matches(clause, source) for clause in required) and not any(
            _matches(clause, source) for clause in listed("must_not")
        )
    if kind == "range":
        ((field, bounds),) = spec.items()
        value = to_millis(get_field(source, field))
        if value is None:
            return False
        checks = {"gte": value.__ge__, "gt": value.__gt__, "lte": value.__le__, "lt": value.__lt__}
        for op, bound in bounds.items():
            if op in checks:
                limit = to_millis(bound)
                if limit is None or not checks[op](limit):
                    return False
            elif op not in ("format", "time_zone"):
                raise QueryError("parsing_exception", f"[range] query does not support [{op}]")
        return True
    if kind == "match_phrase":
        ((field, phrase_spec),) = spec.items()
        phrase = phrase_spec["query"] if isinstance(phrase_spec, dict) else phrase_spec
        text = get_field(source, field)
        if not isinstance(text, str):
            return False
        tokens, wanted = _tokens(text), _tokens(str(phrase))
        return any(
            tokens[i : i + len(wanted)] == wanted for i in range(len(tokens) - len(wanted) + 1)
        )
    if kind == "term":
        ((field, value),) = spec.items()
        value = value.get("value") if isinstance(value, dict) else value
        return get_field(source, field) == value
    if kind == "terms":
        ((field, values),) = spec.items()
        return get_field(source, field) in values
    raise QueryError("parsing_exception", f"unknown query [{kind}]")


def _filter_source(source: dict[str, Any], includes: Any) -> dict[str, Any]:
    if includes is None or includes is True:
        return source
    if isinstance(includes, dict):
        includes = includes.get("includes", [])
    filtered: dict[str, Any] = {}
    for path in includes:
        if path in source:
            filtered[path] = source[path]
            continue
        value = get_field(source, path)
        if value is None:
            continue
        target = filtered
        parts = path.split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return filtered
