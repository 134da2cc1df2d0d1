"""Real log formats other than the demo's, each with the health patterns a team would write.

Every format renders one served request (`Req`) as the line(s) that product writes, and says
what a team reading the cockpit's README would put in `cockpit.toml` for it: the request and
error patterns, and, where the format carries one, the field or regex that names the version
(or pod) and the upstream (the service a request went to). Nothing here knows any scenario's
truth: a format only writes what it is given.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
USER_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Safari/605.1.15",
    "shop-ios/7.3.1 CFNetwork/1568.200.51 Darwin/24.1.0",
    "okhttp/4.12.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
)


@dataclass
class Req:
    """One served request, as the simulation decided it."""

    ts: datetime
    service: str
    method: str
    path: str
    status: int
    ms: int
    size: int
    ip: str
    rid: str
    ua: str
    pod: str
    """Pod name (`orders-6d5f8c9b7-xk2p9`): changes with every rollout."""
    pod_ip: str
    version: str
    """The version label the app itself logs (`3.1.0`, or a short sha)."""
    host: str
    """The request's Host / :authority."""
    callee: str | None = None
    """The service (or external host) this request called, if any."""
    error: str | None = None
    """The failure message for a 5xx, naming what failed in the app's own words."""
    level: str = "info"


@dataclass(frozen=True)
class TeamHealth:
    """What a team writes under `[services.health]` (or `[health]`) for one format."""

    request_pattern: str
    error_pattern: str
    version_field: str | None = None
    version_pattern: str | None = None
    upstream_field: str | None = None
    upstream_pattern: str | None = None


@dataclass(frozen=True)
class LogFormat:
    name: str
    render: Callable[[Req], list[str]]
    health: TeamHealth
    carries_version: bool
    """Lines name the version or pod that served them."""
    names_callee: bool
    """A failed call to a dependency names it in the service's own lines."""
    extra: dict[str, str] = field(default_factory=dict)


def _clf(ts: datetime) -> str:
    return f"{ts.day:02d}/{MONTHS[ts.month - 1]}/{ts.year}:{ts:%H:%M:%S} +0000"


def _iso_ms(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _iso_us(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _syslog(ts: datetime) -> str:
    return f"{MONTHS[ts.month - 1]} {ts.day:2d} {ts:%H:%M:%S}"


# -- nginx combined, with the upstream fields teams add (nginx in front of each service) -------


def _nginx(r: Req) -> list[str]:
    upstream = r.callee or f"{r.service}-app"
    return [
        f'{r.ip} - - [{_clf(r.ts)}] "{r.method} {r.path} HTTP/1.1" {r.status} {r.size} "-" '
        f'"{r.ua}" rt={r.ms / 1000:.3f} upstream_addr={r.pod_ip}:8080 '
        f"upstream_status={r.status} proxy_host={upstream}"
    ]


NGINX = LogFormat(
    "nginx",
    _nginx,
    TeamHealth(
        request_pattern=r'HTTP/[0-9.]+" [0-9]{3} ',
        error_pattern=r'HTTP/[0-9.]+" 5[0-9]{2} ',
        version_pattern=r"upstream_addr=(\S+)",
        upstream_pattern=r"proxy_host=(\S+)",
    ),
    carries_version=True,
    names_callee=True,
)


# -- Envoy's default access log format (an edge proxy per service) ------------------------------

_ENVOY_FLAGS = {502: "UF", 503: "UO", 504: "UT"}


def _envoy(r: Req) -> list[str]:
    flags = _ENVOY_FLAGS.get(r.status, "-")
    upstream_time = "-" if flags in ("UF", "UO") else str(max(1, r.ms - 1))
    return [
        f'[{_iso_ms(r.ts)}] "{r.method} {r.path} HTTP/1.1" {r.status} {flags} 0 {r.size} '
        f'{r.ms} {upstream_time} "{r.ip}" "{r.ua}" "{r.rid}" "{r.host}" "{r.pod_ip}:8080"'
    ]


ENVOY = LogFormat(
    "envoy",
    _envoy,
    TeamHealth(
        request_pattern=r'^\[[^\]]+\] "[A-Z]+ [^"]*" [0-9]{3} ',
        error_pattern=r'^\[[^\]]+\] "[A-Z]+ [^"]*" 5[0-9]{2} ',
        version_pattern=r'"([0-9.]+:[0-9]+)"$',
    ),
    carries_version=True,
    names_callee=False,
)


# -- HAProxy's HTTP log, through syslog ------------------------------------------------------


def _haproxy(r: Req) -> list[str]:
    tq, tw, tc = 0, 0, 1
    tr = max(0, r.ms - 2)
    term = "----" if r.status < 500 else ("sH--" if r.status == 504 else "SC--")
    port = 30000 + int(r.rid[:4], 16) % 30000
    return [
        f"{_syslog(r.ts)} lb-1 haproxy[2211]: {r.ip}:{port} [{r.ts:%d}/{MONTHS[r.ts.month - 1]}/"
        f"{r.ts:%Y:%H:%M:%S}.{r.ts.microsecond // 1000:03d}] fe_https~ be_{r.service}/{r.pod} "
        f"{tq}/{tw}/{tc}/{tr}/{r.ms} {r.status} {r.size} - - {term} 41/41/3/1/0 0/0 "
        f'"{r.method} {r.path} HTTP/1.1"'
    ]


HAPROXY = LogFormat(
    "haproxy",
    _haproxy,
    TeamHealth(
        request_pattern=r"haproxy\[[0-9]+\]: .* [0-9]{3} [0-9]+ - - ",
        error_pattern=r"haproxy\[[0-9]+\]: .* 5[0-9]{2} [0-9]+ - - ",
        version_pattern=r" be_[\w-]+/([\w.-]+) ",
    ),
    carries_version=True,
    names_callee=False,
)


# -- AWS Application Load Balancer access log ------------------------------------------------


def _alb(r: Req) -> list[str]:
    target = f"{r.pod_ip}:8080"
    target_status = "-" if r.status == 502 else str(r.status)
    response_time = "-1" if r.status == 502 else f"{r.ms / 1000:.3f}"
    trace = f"Root=1-{int(r.ts.timestamp()):08x}-{r.rid}{r.rid[:8]}"
    return [
        f"https {_iso_us(r.ts)} app/prod-alb/50dc6c495c0c9188 {r.ip}:{40000 + len(r.path)} "
        f"{target} 0.000 {response_time} 0.000 {r.status} {target_status} 312 {r.size} "
        f'"{r.method} https://{r.host}:443{r.path} HTTP/1.1" "{r.ua}" '
        "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 "
        f"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg-{r.service}/"
        f'6d0ecf831eec9f09 "{trace}" "{r.host}" "arn:aws:acm:eu-west-1:123456789012:'
        f'certificate/1234" 0 {_iso_us(r.ts)} "forward" "-" "-" "{target}" "{target_status}" '
        '"-" "-"'
    ]


ALB = LogFormat(
    "alb",
    _alb,
    TeamHealth(
        request_pattern=r"^(?:http|https|h2) \S+ app/",
        error_pattern=r"^(?:http|https|h2) \S+ app/\S+ \S+ \S+ \S+ \S+ \S+ 5[0-9]{2} ",
        version_pattern=r"^(?:http|https|h2) \S+ \S+ \S+ ([0-9.]+:[0-9]+) ",
    ),
    carries_version=True,
    names_callee=False,
)


# -- gunicorn access log with Django's error log on the same stream -------------------------


def _django(r: Req) -> list[str]:
    lines = []
    if r.status >= 500:
        stamp = f"{r.ts:%Y-%m-%d %H:%M:%S},{r.ts.microsecond // 1000:03d}"
        lines += [
            f"[{stamp}] ERROR django.request: Internal Server Error: {r.path}",
            "Traceback (most recent call last):",
            '  File "/usr/local/lib/python3.12/site-packages/django/core/handlers/exception.py",'
            " line 55, in inner",
            "    response = get_response(request)",
            f'  File "/app/{r.service.replace("-", "_")}/views.py", line 88, in post',
            "    result = client.submit(payload)",
            r.error or "RuntimeError: request failed",
        ]
    lines.append(
        f'{r.ip} - - [{_clf(r.ts)}] "{r.method} {r.path} HTTP/1.1" {r.status} {r.size} "-" "{r.ua}"'
    )
    return lines


DJANGO = LogFormat(
    "django",
    _django,
    TeamHealth(
        request_pattern=r'HTTP/1\.[01]" [0-9]{3} ',
        error_pattern=r'HTTP/1\.[01]" 5[0-9]{2} ',
    ),
    carries_version=False,
    names_callee=True,
)


# -- Spring Boot console log (a request-log filter, exceptions from the dispatcher) ----------


def _spring(r: Req) -> list[str]:
    stamp = _iso_ms(r.ts)
    thread = f"nio-8080-exec-{int(r.rid[:2], 16) % 20 + 1}"
    lines = []
    if r.status >= 500:
        lines += [
            f"{stamp} ERROR 1 --- [{r.service}] [{thread:>15}] "
            "o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet "
            "[dispatcherServlet] in context with path [] threw exception [Request processing "
            f"failed: {r.error or 'java.lang.IllegalStateException'}] with root cause",
            "",
            "java.net.SocketTimeoutException: Read timed out",
            "\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)",
            "\tat java.base/java.net.Socket$SocketInputStream.read(Socket.java:1099)",
        ]
    lines.append(
        f"{stamp}  INFO 1 --- [{r.service}] [{thread:>15}] c.e.web.RequestLogFilter             "
        f"   : {r.method} {r.path} -> {r.status} ({r.ms} ms)"
    )
    return lines


SPRING = LogFormat(
    "spring",
    _spring,
    TeamHealth(
        request_pattern=r"RequestLogFilter\s+: [A-Z]+ \S+ -> [0-9]{3} ",
        error_pattern=r"RequestLogFilter\s+: [A-Z]+ \S+ -> 5[0-9]{2} ",
    ),
    carries_version=False,
    names_callee=True,
)


# -- zap (Go), production JSON encoder and development console encoder ------------------------


def _zap_json(r: Req) -> list[str]:
    record: dict[str, object] = {
        "level": "error" if r.status >= 500 else "info",
        "ts": round(r.ts.timestamp(), 6),
        "caller": "server/http.go:142",
        "msg": "request",
        "method": r.method,
        "path": r.path,
        "status": r.status,
        "latency": round(r.ms / 1000, 4),
        "version": r.version,
        "pod": r.pod,
        "request_id": r.rid,
    }
    if r.status >= 500:
        record["error"] = r.error or "internal error"
        record["stacktrace"] = "main.(*server).handle\n\t/src/server/http.go:142"
    return [json.dumps(record, separators=(",", ":"))]


ZAP_JSON = LogFormat(
    "zap-json",
    _zap_json,
    TeamHealth(
        request_pattern=r'"msg":"request",.*"status":[0-9]{3}',
        error_pattern=r'"msg":"request",.*"status":5[0-9]{2}',
        version_field="version",
    ),
    carries_version=True,
    names_callee=True,
)


def _zap_console(r: Req) -> list[str]:
    fields: dict[str, object] = {
        "method": r.method,
        "path": r.path,
        "status": r.status,
        "latency": f"{r.ms}ms",
        "version": r.version,
    }
    level = "INFO"
    if r.status >= 500:
        level = "ERROR"
        fields["error"] = r.error or "internal error"
    return [
        f"{_iso_ms(r.ts)}\t{level}\tserver/http.go:142\trequest\t{json.dumps(fields)}",
    ]


ZAP_CONSOLE = LogFormat(
    "zap-console",
    _zap_console,
    TeamHealth(
        request_pattern=r'\trequest\t\{.*"status": [0-9]{3}',
        error_pattern=r'\trequest\t\{.*"status": 5[0-9]{2}',
        version_pattern=r'"version": "([^"]+)"',
    ),
    carries_version=True,
    names_callee=True,
)


# -- Elastic Common Schema JSON (ecs-logging) -------------------------------------------------


def _ecs(r: Req) -> list[str]:
    record: dict[str, object] = {
        "@timestamp": _iso_ms(r.ts),
        "log.level": "error" if r.status >= 500 else "info",
        "message": f"{r.method} {r.path} {r.status}",
        "ecs.version": "1.6.0",
        "service.name": r.service,
        "service.version": r.version,
        "host.hostname": r.pod,
        "http.request.method": r.method,
        "url.path": r.path,
        "http.response.status_code": r.status,
        "event.duration": r.ms * 1_000_000,
        "trace.id": r.rid,
    }
    if r.status >= 500:
        record["error.type"] = "UpstreamError"
        record["error.message"] = r.error or "internal error"
    return [json.dumps(record, separators=(",", ":"))]


ECS = LogFormat(
    "ecs",
    _ecs,
    TeamHealth(
        request_pattern=r'"http\.response\.status_code":[0-9]{3}',
        error_pattern=r'"http\.response\.status_code":5[0-9]{2}',
        version_field="service.version",
    ),
    carries_version=True,
    names_callee=True,
)


# -- Caddy's JSON access log -----------------------------------------------------------------


def _caddy(r: Req) -> list[str]:
    record = {
        "level": "error" if r.status >= 500 else "info",
        "ts": round(r.ts.timestamp(), 6),
        "logger": "http.log.access.log0",
        "msg": "handled request",
        "request": {
            "remote_ip": r.ip,
            "proto": "HTTP/2.0",
            "method": r.method,
            "host": r.host,
            "uri": r.path,
            "headers": {"User-Agent": [r.ua]},
        },
        "bytes_read": 0,
        "duration": round(r.ms / 1000, 6),
        "size": r.size,
        "status": r.status,
        "resp_headers": {"Server": ["Caddy"], "X-Served-By": [r.pod]},
    }
    return [json.dumps(record, separators=(",", ":"))]


CADDY = LogFormat(
    "caddy",
    _caddy,
    TeamHealth(
        request_pattern=r'"logger":"http\.log\.access',
        error_pattern=r'"logger":"http\.log\.access.*"status":5[0-9]{2}',
        version_pattern=r'"X-Served-By":\["([^"]+)"\]',
    ),
    carries_version=True,
    names_callee=False,
)


FORMATS: dict[str, LogFormat] = {
    f.name: f
    for f in (NGINX, ENVOY, HAPROXY, ALB, DJANGO, SPRING, ZAP_JSON, ZAP_CONSOLE, ECS, CADDY)
}
"""Ten formats, none of them the demo's (logfmt, JSON lines, nginx default, syslog)."""
