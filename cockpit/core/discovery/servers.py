"""Local servers and the URLs the ecosystem's own tools use, probed with a short deadline.

Prometheus on :9090, Alertmanager on :9093 and Loki on :3100 of localhost, and
`PROMETHEUS_URL`, `ALERTMANAGER_URL` (as amtool reads it) and `LOKI_ADDR` (as logcli reads
it). Each probe is one GET of a read-only status endpoint with a 300 ms deadline; a server
that answers is used, one that does not is reported with the reason. A URL named by an
environment variable is tried first.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from cockpit.core.discovery.model import Origin, SourceReport, State
from cockpit.core.sanitize import hide_url_password

PROBE_TIMEOUT = 0.3
MAX_STATUS_BYTES = 1 << 20
"""Largest status answer read: a real one is a few hundred bytes; whatever else answers on
the port (anyone may bind it) is not read further, so it cannot fill memory."""
"""Seconds one probe may take (connect and answer)."""


@dataclass(frozen=True)
class ServerKind:
    kind: str
    label: str
    env: str
    local: str
    status_path: str


PROMETHEUS = ServerKind(
    "prometheus",
    "Prometheus",
    "PROMETHEUS_URL",
    "http://localhost:9090",
    "/api/v1/status/buildinfo",
)
ALERTMANAGER = ServerKind(
    "alertmanager",
    "Alertmanager",
    "ALERTMANAGER_URL",
    "http://localhost:9093",
    "/api/v2/status",
)
LOKI = ServerKind(
    "loki", "Loki", "LOKI_ADDR", "http://localhost:3100", "/loki/api/v1/status/buildinfo"
)
SERVERS = (PROMETHEUS, ALERTMANAGER, LOKI)


@dataclass(frozen=True)
class ProbeResult:
    report: SourceReport
    url: str | None = None
    """The base URL to use, when the server answered as what it should be."""
    selector: str | None = None
    """Loki: a stream selector that matches every stream."""


def _version(kind: ServerKind, data: Any) -> str | None:
    """The version a status endpoint reports, or None if it is not that kind of server."""
    if not isinstance(data, dict):
        return None
    if kind is PROMETHEUS:
        inner = data.get("data")
        return str(inner.get("version", "?")) if isinstance(inner, dict) else None
    if kind is ALERTMANAGER:
        info = data.get("versionInfo")
        return str(info.get("version", "?")) if isinstance(info, dict) else None
    version = data.get("version")
    return str(version) if version is not None else None


def _loki_selector(client: httpx.Client, url: str, timeout: float) -> str:
    """A selector matching every stream: on the label most streams carry (its own deadline:
    the server has just answered, so this is quick or skipped)."""
    remaining = timeout
    if remaining > 0.02:
        try:
            with client.stream("GET", f"{url}/loki/api/v1/labels", timeout=remaining) as response:
                data = _json_of(response)
            labels = data.get("data") if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            labels = None
        if isinstance(labels, list):
            for name in ("service_name", "job", "app", "namespace", "container", "filename"):
                if name in labels:
                    return f'{{{name}=~".+"}}'
            first = next((x for x in labels if isinstance(x, str) and x.isidentifier()), None)
            if first:
                return f'{{{first}=~".+"}}'
    return '{job=~".+"}'


def _json_of(response: httpx.Response) -> Any:
    """The JSON of a streamed answer of at most `MAX_STATUS_BYTES`; None for anything else
    (too big, not JSON, nested too deeply)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_STATUS_BYTES:
            return None
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        return None


def _client(url: str, timeout: float) -> httpx.Client:
    """A client for one probe. Plain http needs no TLS context (building one loads the CA
    store, ~0.1 s of CPU each: too much for six probes under a one-second budget)."""
    if url.lower().startswith("https://"):
        from cockpit.core.search._remote import _ssl_context

        return httpx.Client(follow_redirects=False, timeout=timeout, verify=_ssl_context())
    return httpx.Client(follow_redirects=False, timeout=timeout, verify=False)


def probe(
    kind: ServerKind,
    url: str,
    *,
    origin_name: str,
    timeout: float = PROBE_TIMEOUT,
    origin: Origin = Origin.DISCOVERED,
    named: bool = False,
) -> ProbeResult:
    """GET the server's status endpoint once. `named`: the user named this URL (an
    environment variable or config), so not answering is an error, not just "not here"."""
    url = url.rstrip("/")
    shown = hide_url_password(url)  # what reports say: never the password in the URL
    failed = State.ERROR if named else State.SKIPPED
    name = kind.kind
    if not url.lower().startswith(("http://", "https://")):
        report = SourceReport(
            kind.kind,
            name,
            origin,
            failed,
            f"{origin_name} {shown!r} is not an http:// or https:// URL",
            location=shown,
        )
        return ProbeResult(report)
    started = time.monotonic()
    try:
        with (
            _client(url, timeout) as client,
            client.stream(
                "GET", f"{url}{kind.status_path}", headers={"Accept": "application/json"}
            ) as response,
        ):
            data = _json_of(response)
            elapsed_ms = (time.monotonic() - started) * 1000
            version = _version(kind, data) if response.status_code == 200 else None
            if version is None:
                what = (
                    f"HTTP {response.status_code}"
                    if response.status_code != 200
                    else "not the expected JSON"
                )
                report = SourceReport(
                    kind.kind,
                    name,
                    origin,
                    failed,
                    f"something answered on {shown} but not as {kind.label} ({what})",
                    location=shown,
                )
                return ProbeResult(report)
            selector = _loki_selector(client, url, timeout) if kind is LOKI else None
    except httpx.TimeoutException:
        report = SourceReport(
            kind.kind,
            name,
            origin,
            failed,
            f"no answer from {shown} within {timeout * 1000:.0f} ms ({origin_name})",
            location=shown,
        )
        return ProbeResult(report)
    except httpx.HTTPError as exc:
        text = str(exc).lower()
        reason = (
            "connection refused"
            if "refused" in text
            else hide_url_password((str(exc).splitlines() or ["failed"])[0])
        )
        report = SourceReport(
            kind.kind,
            name,
            origin,
            failed,
            f"nothing answered on {shown} ({reason}; {origin_name})",
            location=shown,
        )
        return ProbeResult(report)
    detail = f"{kind.label} {version} answered in {elapsed_ms:.0f} ms ({origin_name})"
    if selector:
        detail += f"; streams {selector}"
    report = SourceReport(kind.kind, name, origin, State.USED, detail, location=shown)
    return ProbeResult(report, url=url, selector=selector)


def candidates(
    kind: ServerKind, env: Mapping[str, str], *, localhost: bool = True
) -> list[tuple[str, str, bool]]:
    """(url, where it came from, named by the user) to try, in order. `localhost=False` (a
    test root stands for another host): only the URLs the environment names."""
    found: list[tuple[str, str, bool]] = []
    named = (env.get(kind.env) or "").strip()
    if named:
        found.append((named, f"${kind.env}", True))
    if localhost and named.rstrip("/") != kind.local:
        found.append((kind.local, "localhost default", False))
    return found
