"""What the HTTP log sources (Loki, Elasticsearch) share: a deadline, tokens, one-line errors.

Every request streams its body so the overall deadline and the cancel event are checked
between chunks; a server that stalls midway costs at most the time left, never forever.
Errors become one `SourceError` line naming the source: never a traceback, never an HTML page.
"""

from __future__ import annotations

import functools
import json
import os
import re
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from cockpit.core.sanitize import hide_url_password
from cockpit.core.search.model import Query, SourceError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DEFAULT_WINDOW = timedelta(hours=1)
"""Window searched when a query has no lower time bound: remote stores hold far more."""

MAX_BODY_BYTES = 32 * 1024 * 1024
"""Largest response body accepted for one page; keeps memory bounded against a hostile server."""

_DETAIL_LEN = 160
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Building the CA store takes ~0.1 s; one context serves every search (it is thread-safe).
    # httpx reads SSL_CERT_FILE / SSL_CERT_DIR here, so a site CA still works.
    return httpx.create_ssl_context()


def new_client() -> httpx.Client:
    """An HTTP client for one search: no redirects followed, the shared TLS context."""
    return httpx.Client(follow_redirects=False, verify=_ssl_context())


class Cancelled(Exception):
    """The search was cancelled while a request was in flight (not an error)."""


class Deadline:
    """A wall-clock budget for one search, across all of its pages."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        """True once the budget is spent."""
        return time.monotonic() >= self._end


def to_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def time_window(
    since: datetime | None, until: datetime | None, *, now: datetime | None = None
) -> tuple[datetime, datetime, bool]:
    """(start, end, defaulted): the window to ask a remote store for, in UTC.

    A missing `until` is now; a missing `since` is DEFAULT_WINDOW before the end, and
    `defaulted` says so, so the source can tell the user what was searched.
    """
    end = to_utc(until) if until is not None else (now or datetime.now(UTC))
    if since is None:
        return end - DEFAULT_WINDOW, end, True
    return to_utc(since), end, False


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the Unix epoch, exact (no float rounding)."""
    return (to_utc(moment) - EPOCH) // timedelta(microseconds=1) * 1000


def from_ns(ns: int) -> datetime:
    """A UTC datetime from Unix nanoseconds (microsecond precision, as datetime allows)."""
    return EPOCH + timedelta(microseconds=ns // 1000)


def one_line(text: str, max_len: int = _DETAIL_LEN) -> str:
    """Collapse outside text (an error body) to one short printable line for an error message."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\s]+", " ", text).strip()
    return text if len(text) <= max_len else text[: max_len - 1] + "…"


def read_token(source: str, token_env: str | None) -> str | None:
    """The token held by the environment variable named in config, or None when none is set up.

    A configured variable that is unset or empty is an error: searching without the token
    would only come back as a confusing 401.
    """
    if not token_env:
        return None
    value = os.environ.get(token_env, "").strip()
    if not value:
        raise SourceError(
            f"{source}: environment variable {token_env} (token_env) is not set; "
            "export the token there"
        )
    if not _HEADER_SAFE.fullmatch(value):
        # Caught here because httpx's own error would quote the header, token included.
        raise SourceError(
            f"{source}: environment variable {token_env} (token_env) holds characters "
            "that cannot go in an HTTP header"
        )
    return value


def check_url(source: str, url: str) -> str:
    """`url` without a trailing slash, or SourceError if it is not an http(s) URL."""
    if not url.lower().startswith(("http://", "https://")):
        shown = hide_url_password(url)
        raise SourceError(f"{source}: url {shown!r} must start with http:// or https://")
    return url.rstrip("/")


def _looks_like_html(headers: Mapping[str, str], body: bytes) -> bool:
    if "html" in headers.get("content-type", "").lower():
        return True
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<"))


def _reason(status: int) -> str:
    return httpx.codes.get_reason_phrase(status)


def describe_http_error(
    source: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    token_env: str | None,
    detail: str | None = None,
) -> str:
    """One line for a non-2xx response: status, what it means here, and a short detail."""
    label = f"HTTP {status} {_reason(status)}".rstrip()
    if 300 <= status < 400:
        location = one_line(headers.get("location", ""), 120)
        target = f" to {location}" if location else ""
        return f"{source}: {label}: redirected{target}; put the final address in url"
    if status in (401, 403):
        hint = (
            f"check the token in ${token_env}"
            if token_env
            else "the server wants credentials: set token_env in the config"
        )
        return f"{source}: {label}: authentication failed ({hint})"
    if status == 429:
        retry = headers.get("retry-after")
        wait = f"; Retry-After: {one_line(retry, 40)}" if retry else ""
        return f"{source}: {label}: rate limited by the server{wait}"
    if _looks_like_html(headers, body):
        return f"{source}: {label} (HTML error page)"
    if detail is None:
        detail = one_line(body.decode("utf-8", errors="replace"))
    return f"{source}: {label}: {detail}" if detail else f"{source}: {label}"


def fetch(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    source: str,
    deadline: Deadline,
    cancel: threading.Event,
    token_env: str | None,
    params: Mapping[str, str | int] | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    describe_error: Callable[[int, httpx.Headers, bytes], str | None] | None = None,
) -> bytes:
    """Send one request and return its 2xx body, within the deadline.

    Raises SourceError (one line) on timeout, connection failure, a non-2xx status or an
    oversized body, and Cancelled if `cancel` is set while the body is arriving.
    `describe_error(status, headers, body)` may return a detail line for API-specific errors.
    """
    remaining = deadline.remaining()
    if remaining <= 0:
        raise SourceError(f"{source}: timed out after {deadline.seconds:g} s")
    timeout = httpx.Timeout(remaining)
    try:
        with client.stream(
            method, url, params=params, json=json_body, headers=headers, timeout=timeout
        ) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                if cancel.is_set():
                    raise Cancelled
                if deadline.expired():
                    raise SourceError(f"{source}: timed out after {deadline.seconds:g} s")
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise SourceError(
                        f"{source}: response larger than {MAX_BODY_BYTES // (1024 * 1024)} MB; "
                        "lower the page size"
                    )
                chunks.append(chunk)
            body = b"".join(chunks)
            status = response.status_code
            response_headers = response.headers
    except httpx.TimeoutException:
        raise SourceError(f"{source}: timed out after {deadline.seconds:g} s") from None
    except httpx.ConnectError as exc:
        reason = "connection refused" if "refused" in str(exc).lower() else one_line(str(exc))
        raise SourceError(f"{source}: cannot connect to {_origin(url)}: {reason}") from None
    except httpx.InvalidURL as exc:
        why = hide_url_password(one_line(str(exc)))
        raise SourceError(f"{source}: invalid url {hide_url_password(url)!r}: {why}") from None
    except (httpx.TransportError, httpx.DecodingError) as exc:
        reason = one_line(str(exc)) or type(exc).__name__
        raise SourceError(f"{source}: connection to {_origin(url)} failed: {reason}") from None
    if not 200 <= status < 300:
        detail = describe_error(status, response_headers, body) if describe_error else None
        raise SourceError(
            describe_http_error(
                source, status, response_headers, body, token_env=token_env, detail=detail
            )
        )
    return body


def _origin(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except Exception:
        return url
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii', errors='replace')}"


def parse_json(source: str, body: bytes) -> Any:
    """Decode a JSON body, or raise SourceError saying it was not JSON (without dumping it)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise SourceError(f"{source}: response is JSON nested too deeply to be an answer") from None
    except (ValueError, UnicodeDecodeError) as exc:
        kind = "an HTML page" if body.lstrip()[:1] == b"<" else "invalid JSON"
        raise SourceError(f"{source}: response is {kind}, not the expected JSON ({exc})") from None


def auth_header(token: str | None, *, allow_schemes: tuple[str, ...] = ()) -> dict[str, str]:
    """`Authorization` for `token`: Bearer, unless it already starts with an allowed scheme."""
    if token is None:
        return {}
    for scheme in allow_schemes:
        if token.startswith(scheme + " "):
            return {"Authorization": token}
    return {"Authorization": f"Bearer {token}"}


def line_matcher(source: str, query: Query) -> Callable[[str], bool]:
    """A linear-time predicate for `query.pattern` (RE2), used where the server cannot filter.

    Raises SourceError naming the source for an invalid regex.
    """
    if not query.pattern:
        return lambda _text: True
    if not query.regex and not query.ignore_case:
        pattern = query.pattern
        return lambda text: pattern in text
    import re2

    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not query.ignore_case
    options.literal = not query.regex
    try:
        compiled = re2.compile(query.pattern, options)
    except re2.error as exc:
        raise SourceError(
            f"{source}: invalid regex {query.pattern!r}: {_re2_message(exc)}"
        ) from None
    search = compiled.search
    return lambda text: search(text) is not None


def _re2_message(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else str(exc)
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", errors="replace")
    return one_line(str(detail))
