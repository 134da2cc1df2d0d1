"""The variable parts of a log message, replaced by `<*>`: a message's provisional template.

Recognised as variables, by form alone: numbers and everything glued to them (`blk_<*>`,
`attempt_<*>`, `rdd_<*>`, `10.0.0.1:5432`, `0x7f3a`, UUIDs, hex ids with a digit), dates and
times inside the message, durations and sizes with their unit (`800ms`, `1.5 s`, `2034 bytes
(1.98 KB)`), paths (`/var/log/x`, `./a.out`, `C:\\x`), URLs, host names and `host:port`,
quoted values. A word without a digit is kept: whether it varies (a user name) is decided
later, from how often it varies (`merge.py`). Envelopes are read first: the message of a
JSON line (`msg`, `message`, `error`...) or a logfmt line (`msg=...`), and an access-log
request is known by its method, route and status, as lnav reads it.

Every decision depends on the shape of the text, never on the value of a digit, so the
result for one message is the result for every message that differs from it only in digits.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


def _words(text: str) -> frozenset[str]:
    """A set of words, written as text (a word list reads best as words)."""
    return frozenset(text.split())


VAR = "<*>"
"""The placeholder for a variable part."""
MAX_MESSAGE_CHARS = 1000
"""Characters of a message considered; the rest rarely tells two failures apart."""
MAX_TOKENS = 60
"""Tokens of a template kept (the rest is one `<*>`)."""

_MONTHS = _words(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march "
    "april june july august september october november december"
)
_DAYS = _words(
    "mon tue wed thu fri sat sun monday tuesday wednesday thursday friday saturday sunday"
)
_UNITS = _words(
    "ns us µs ms s sec secs second seconds millis millisecond milliseconds min mins "
    "minute minutes h hr hrs hour hours d day days b byte bytes kb kib mb mib gb gib "
    "tb tib"
)
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|(?<![\w])'[^'\s][^']*'(?![\w])|`[^`]*`")
_URL = re.compile(r"[a-zA-Z][\w+.-]*://[^\s\"'<>()\[\],]*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PATH = re.compile(
    r"(?<![\w/.:~-])(?:~|\.{1,2})?/[\w.@%+~$*=-]+(?:/[\w.@%+~$*=-]*)+"
    r"|(?<![\w/.])\.{1,2}/[\w.@%+~$*=-]+"
    r"|(?<![\w])[A-Za-z]:\\[^\s\"']*"
)
_TLD = (
    r"(?:com|net|org|edu|gov|mil|int|io|co|info|biz|asia|local|localdomain|internal|lan"
    r"|arpa|cloud|dev|app|svc|cluster|[a-z]{2})"
)
_HOST = re.compile(
    r"(?<![\w.@/-])(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+" + _TLD + r"(?::\d{1,5})?(?![\w.-])"
)
_HOST_PORT = re.compile(r"[a-z][a-z0-9.-]*:\d{2,5}")
# A number and whatever is glued to it: `blk_-695...` -> `blk_<*>`, `R02-M1-N0-C:J12-U11`,
# `10.251.73.220:50010`, `0x1f`, `800ms`, `2005-06-03T15:42:50Z`. The letters before the
# first digit stay when a separator precedes the digit part (`blk_`, `attempt_`); otherwise
# the whole run goes.
_VARIABLE = re.compile(
    r"(?<![A-Za-z0-9])[-+]?[A-Za-z]*\d[A-Za-z0-9]*(?:[._:/@+~%#-]+[A-Za-z0-9]+)*"
)
_CACHE_LIMIT = 50_000
_tokens: dict[str, str] = {}
_texts: dict[str, tuple[str, ...]] = {}
_CACHED_TEXT = 300


def clear_cache() -> None:
    """Forget the cached token and text results (they never change a result)."""
    _tokens.clear()
    _texts.clear()


def mask_token(token: str) -> str:
    """One whitespace-free token with its variable parts replaced by `<*>` (cached)."""
    found = _tokens.get(token)
    if found is None:
        found = _mask_token(token)
        if len(_tokens) >= _CACHE_LIMIT:
            _tokens.clear()
        _tokens[token] = found
    return found


def _mask_token(token: str) -> str:
    if "://" in token:
        token = _URL.sub(VAR, token)
    if "@" in token:
        token = _EMAIL.sub(VAR, token)
    if "/" in token or "\\" in token:
        token = _PATH.sub(VAR, token)
    if "." in token:
        token = _HOST.sub(VAR, token)
    if ":" in token and _HOST_PORT.fullmatch(token):
        return VAR  # `wpad:80`, `db-primary:5432`
    if _has_digit(token):
        token = _VARIABLE.sub(VAR, token)
        if token[:1] in "<>~" and token[1:] == VAR:
            return VAR  # `<1` (sec), `>100`
    return token


_LOGFMT_PAIR = re.compile(r'(?:^|\s)([\w.@/-]+)=("(?:[^"\\]|\\.)*"|\S*)')
_LOGFMT_MESSAGE_KEYS = ("msg", "message", "error", "err", "event")
_LOGFMT_SKIP_KEYS = _words(
    "ts time timestamp t at level lvl severity service svc app logger caller host "
    "hostname source component module"
)
_LOGFMT_SERVICE_KEYS = ("service", "svc", "app", "application")
_JSON_MESSAGE_KEYS = ("msg", "message", "error", "err", "log", "event", "text", "@message")
_JSON_LEVEL_KEYS = ("level", "severity", "lvl", "loglevel", "log.level", "@level")
_JSON_SERVICE_KEYS = ("service", "service.name", "app", "application", "logger", "component")
_JSON_HOST_KEYS = ("host", "hostname", "host.name", "node")
_HTTP_METHODS = frozenset(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
_REQUEST = re.compile(r'"([A-Z]{3,9}) ([^"\s]*)(?: [A-Z]+/[\d.]+)?" (\d{3})\b')
_LEVEL_WORDS = {
    "trace": "trace",
    "debug": "debug",
    "info": "info",
    "notice": "notice",
    "warn": "warn",
    "warning": "warn",
    "error": "error",
    "err": "error",
    "fatal": "fatal",
    "critical": "critical",
    "crit": "critical",
    "panic": "fatal",
}


@dataclass(frozen=True, slots=True)
class Shape:
    """A message's provisional template and what its envelope said about the line."""

    tokens: tuple[str, ...]
    """The template, token by token, variables as `<*>`."""
    structured: bool = False
    """An access-log request (`GET /api/cart/<*> 502`): never merged with other templates."""
    level: str | None = None
    service: tuple[int, int] | None = None
    """Span of the service named inside the message (JSON/logfmt), relative to it."""
    host: tuple[int, int] | None = None
    status: tuple[int, int] | None = None
    """Span of an access log's status (relative to the message): the template's last token
    is taken from the line itself, since shapes are read with every digit as `1`."""


def mask_text(text: str) -> tuple[str, ...]:
    """The tokens of free text with its variable parts replaced by `<*>` (cached when short:
    a JSON or logfmt message repeats while the line around it does not)."""
    if len(text) <= _CACHED_TEXT:
        found = _texts.get(text)
        if found is None:
            found = _mask_text(text)
            if len(_texts) >= _CACHE_LIMIT:
                _texts.clear()
            _texts[text] = found
        return found
    return _mask_text(text)


def _mask_text(text: str) -> tuple[str, ...]:
    if len(text) > MAX_MESSAGE_CHARS:
        # Cut at a space, so no token is cut in two (`blk_<*>` would become `blk`).
        text = text[:MAX_MESSAGE_CHARS]
        space = text.rfind(" ")
        if space > 0:
            text = text[:space]
    if '"' in text or "'" in text or "`" in text:
        text = _QUOTED.sub(VAR, text)  # a quoted value may hold spaces
    tokens: list[str] = []
    previous = ""
    get = _tokens.get
    for raw in text.split():
        if raw[0] == "/" and previous in _HTTP_METHODS:
            token = _route(raw)  # `GET /api/stock/42?x=1` -> `GET /api/stock/<*>`, as lnav
        else:
            cached = get(raw)
            token = mask_token(raw) if cached is None else cached
        if VAR in previous:
            if token == previous:
                continue  # a run of one variable (`blk_<*> blk_<*> ...`) is one variable
            if token in _UNIT_TOKENS and previous.endswith(VAR):
                continue  # `30 seconds`, `2034 bytes`: the unit belongs to the value
            if token in _CLOSING_UNITS and previous == _OPEN_VAR and len(tokens) > 1:
                tokens.pop()  # `2034 bytes (1.98 KB)`: the same value again
                previous = tokens[-1]
                continue
        elif token == VAR and previous in _MONTH_TOKENS:
            # `Jul 24 02:38:22 2005`, `Sun Jul 24`: a date is one value.
            tokens[-1] = VAR
            if len(tokens) > 1 and tokens[-2] in _DAY_TOKENS:
                tokens.pop()
                tokens[-1] = VAR
            previous = VAR
            continue
        tokens.append(token)
        previous = token
        if len(tokens) >= MAX_TOKENS:
            tokens.append(VAR)
            break
    return tuple(tokens)


def _spellings(words: frozenset[str], endings: tuple[str, ...]) -> frozenset[str]:
    """Each word as it may be written: lower, capitalised or upper case, with an ending."""
    return frozenset(
        form + ending
        for word in words
        for form in (word, word.capitalize(), word.upper())
        for ending in endings
    )


_UNIT_WORDS = _UNITS | {"KiB", "MiB", "GiB", "TiB", "kB"}
_UNIT_TOKENS = _spellings(_UNIT_WORDS, ("", ",", ".", ";"))
_CLOSING_UNITS = _spellings(_UNIT_WORDS, (")", "),", ").", ");"))
_OPEN_VAR = "(" + VAR
_MONTH_TOKENS = _spellings(_MONTHS, ("",))
_DAY_TOKENS = _spellings(_DAYS, ("", ","))


_has_digit = re.compile(r"\d").search


def shape_message(message: str) -> Shape:
    """The provisional template of a message (the line after its header)."""
    first = message[:1]
    if first == "{" and message.rstrip().endswith("}"):
        shaped = _json_shape(message)
        if shaped is not None:
            return shaped
    if first == '"' and (request := _REQUEST.match(message)) is not None:
        return _request_shape(request)
    if "=" in message:
        shaped = _logfmt_shape(message)
        if shaped is not None:
            return shaped
    return Shape(mask_text(message))


def _request_shape(request: re.Match[str]) -> Shape:
    """`"GET /api/cart/17?x=1 HTTP/1.1" 502` -> `GET /api/cart/<*> 502`."""
    method, path, status = request.groups()
    return Shape((method, _route(path), status), structured=True, status=request.span(3))


def _route(path: str) -> str:
    """A request's path as a route: its query cut, each segment with a digit masked."""
    route = path.split("?", 1)[0]
    return "/".join(_mask_segment(part) for part in route.split("/"))


def _mask_segment(segment: str) -> str:
    if not segment or not _has_digit(segment):
        return segment
    return VAR if _VARIABLE.fullmatch(segment) else _VARIABLE.sub(VAR, segment)


_LOGFMT_MESSAGE = re.compile(r'(?:^|\s)(?:msg|message)=("(?:[^"\\]|\\.)*"|\S+)')
_LOGFMT_LEVEL = re.compile(r'(?:^|\s)(?:level|lvl|severity)="?([A-Za-z]+)')
_LOGFMT_SERVICE = re.compile(r'(?:^|\s)(?:service|svc|app|application)="?([\w.@/:-]+)')
_LOGFMT_HOST = re.compile(r'(?:^|\s)(?:host|hostname)="?([\w.@/:-]+)')


def _logfmt_shape(message: str) -> Shape | None:
    """A logfmt line (`level=error service=checkout msg="..." status=502`): its message, or
    without one, its pairs with the values masked; level, service and host are attributes.

    Logfmt when its pairs carry the message (also after free text: `ERROR GET /api/x
    status=503 msg="replica read failed"`), or when the line starts with a pair and pairs
    cover most of it (free text that ends with `uid=0 rhost=x` is not)."""
    found = _LOGFMT_MESSAGE.search(message) if "msg=" in message or "age=" in message else None
    if found is not None:
        value = found.group(1)
        if value.startswith('"'):
            value = _unquote(value)
        if value:
            return Shape(mask_text(value), **_logfmt_fields(message))
    if message.find("=") > message.find(" ") >= 0:
        return None
    pairs = [(m.group(1), m.start(2), m.end(2)) for m in _LOGFMT_PAIR.finditer(message)]
    if len(pairs) < 2:
        return None
    covered = sum(end - start + len(key) + 2 for key, start, end in pairs)
    if covered < len(message) * 0.6:
        return None
    fields = _logfmt_fields(message)
    for key, start, end in pairs:
        if key.lower() in _LOGFMT_MESSAGE_KEYS:
            value = message[start:end]
            if value.startswith('"'):
                value = _unquote(value)
            if value:
                return Shape(mask_text(value), **fields)
    rest = " ".join(
        f"{key}={message[start:end]}"
        for key, start, end in pairs
        if key.lower() not in _LOGFMT_SKIP_KEYS and not key.lower().endswith("_id")
    )
    return Shape(mask_text(rest), **fields)


def _logfmt_fields(message: str) -> dict[str, Any]:
    """The level (normalised), and the spans of the service and the host, of a logfmt line."""
    level = _LOGFMT_LEVEL.search(message)
    service = _LOGFMT_SERVICE.search(message)
    host = _LOGFMT_HOST.search(message)
    return {
        "level": _LEVEL_WORDS.get(level.group(1).lower()) if level else None,
        "service": service.span(1) if service else None,
        "host": host.span(1) if host else None,
    }


def _unquote(value: str) -> str:
    if "\\" not in value:
        return value[1:-1]
    try:
        decoded = json.loads(value)
    except ValueError:
        return value[1:-1]
    return decoded if isinstance(decoded, str) else value[1:-1]


def _json_shape(message: str) -> Shape | None:
    """A JSON line: its message field; level, service and host become attributes."""
    try:
        data = json.loads(message)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    level_value = _first(data, _JSON_LEVEL_KEYS)
    level = _LEVEL_WORDS.get(str(level_value).lower()) if level_value is not None else None
    service = _span_of_value(message, data, _JSON_SERVICE_KEYS)
    host = _span_of_value(message, data, _JSON_HOST_KEYS)
    text = _first(data, _JSON_MESSAGE_KEYS)
    if isinstance(text, str) and text.strip():
        return Shape(mask_text(text), level=level, service=service, host=host)
    # No message: the keys and their masked values tell the event.
    parts = [
        f"{key}={value}"
        for key, value in data.items()
        if isinstance(value, str | int | float | bool)
        and key.lower() not in _LOGFMT_SKIP_KEYS
        and key.lower() not in _JSON_LEVEL_KEYS
        and not key.lower().endswith("_id")
    ]
    return Shape(mask_text(" ".join(parts)), level=level, service=service, host=host)


def _first(data: dict[str, object], keys: tuple[str, ...]) -> object:
    for key in keys:
        value = data.get(key)
        if value is not None and value != "":
            return value
    return None


def _span_of_value(
    message: str, data: dict[str, object], keys: tuple[str, ...]
) -> tuple[int, int] | None:
    """Where the first of `keys` with a plain string value has it in the raw message."""
    for key in keys:
        value = data.get(key)
        if not isinstance(value, str) or not value or "\\" in value or '"' in value:
            continue
        found = re.search(r'"' + re.escape(key) + r'"\s*:\s*"', message)
        if found is not None and message.startswith(value, found.end()):
            return found.end(), found.end() + len(value)
    return None
