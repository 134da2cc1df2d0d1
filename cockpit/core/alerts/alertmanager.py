"""Read alerts from Alertmanager: `GET /api/v2/alerts` only, every instance in parallel.

Each Alertmanager has its own deadline and its own status row: unreachable, a 401, an HTML
error page or malformed JSON is one line for that instance while the others carry on. The
alerts of an HA pair are merged by fingerprint. Nothing here writes to Alertmanager: no
silences, no acknowledgements.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from cockpit.core.alerts.model import Alert, AlertError, merge_alerts, parse_alert
from cockpit.core.config import AlertmanagerConfig

ALERTS_PATH = "/api/v2/alerts"
ALERTMANAGER_ENV = "ALERTMANAGER_URL"
"""The variable `amtool` reads its Alertmanager from."""
LOCAL_ALERTMANAGER = "http://localhost:9093"
MAX_ALERTS = 5000
"""Alerts kept per Alertmanager; more is a storm, and the rest are counted, not shown."""


def display_name(cfg: AlertmanagerConfig) -> str:
    """The name in status rows: `name`, else the URL's host and port."""
    if cfg.name:
        return cfg.name
    try:
        url = httpx.URL(cfg.url)
        return f"{url.host}:{url.port}" if url.port else url.host or cfg.url
    except Exception:
        return cfg.url


def default_alertmanagers(env: Mapping[str, str] | None = None) -> list[AlertmanagerConfig]:
    """With no config: `$ALERTMANAGER_URL` (as amtool) or `http://localhost:9093`."""
    env = os.environ if env is None else env
    url = (env.get(ALERTMANAGER_ENV) or "").strip()
    try:
        return [AlertmanagerConfig(url=url or LOCAL_ALERTMANAGER)]
    except ValueError:
        # A bad $ALERTMANAGER_URL is reported by the fetch (as an error row), not a crash.
        return [AlertmanagerConfig.model_construct(url=url, service_label="service", timeout=3.0)]


@dataclass(frozen=True)
class AlertmanagerStatus:
    """How reading one Alertmanager went."""

    name: str
    url: str
    count: int = 0
    error: str | None = None
    elapsed: float = 0.0
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class AlertsReport:
    """Alerts of every Alertmanager, merged, with one status per instance."""

    alerts: tuple[Alert, ...] = ()
    statuses: tuple[AlertmanagerStatus, ...] = ()
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def errors(self) -> list[str]:
        return [s.error for s in self.statuses if s.error]

    @property
    def complete(self) -> bool:
        """Every Alertmanager answered: only then may an alert's absence mean it resolved."""
        return bool(self.statuses) and all(s.ok for s in self.statuses)

    @property
    def firing(self) -> list[Alert]:
        return [alert for alert in self.alerts if alert.firing]


def parse_alerts_body(name: str, body: bytes, *, service_label: str) -> tuple[list[Alert], str]:
    """The alerts in a `GET /api/v2/alerts` body and a note on what was skipped.

    Raises AlertError (one line) when the body is not a JSON list.
    """
    from cockpit.core.search._remote import parse_json
    from cockpit.core.search.model import SourceError

    try:
        data: Any = parse_json(name, body)
    except SourceError as exc:
        raise AlertError(str(exc)) from None
    if not isinstance(data, list):
        kind = type(data).__name__.replace("dict", "an object").replace("str", "a string")
        raise AlertError(f"{name}: response is {kind}, not the list of alerts /api/v2/alerts gives")
    alerts: list[Alert] = []
    skipped = 0
    for item in data[:MAX_ALERTS]:
        alert = parse_alert(item, origin=name, service_label=service_label)
        if alert is None:
            skipped += 1
        else:
            alerts.append(alert)
    notes = []
    if skipped:
        notes.append(
            f"{skipped} entr{'y' if skipped == 1 else 'ies'} without a fingerprint or "
            "labels skipped"
        )
    if len(data) > MAX_ALERTS:
        notes.append(f"{len(data) - MAX_ALERTS} more alerts not shown (over {MAX_ALERTS})")
    return alerts, "; ".join(notes)


def fetch_one(
    cfg: AlertmanagerConfig,
    *,
    cancel: threading.Event | None = None,
    transport: httpx.BaseTransport | None = None,
) -> tuple[list[Alert], AlertmanagerStatus]:
    """Read one Alertmanager within its deadline; any failure is its status's error line."""
    from cockpit.core.search._remote import (
        Cancelled,
        Deadline,
        auth_header,
        check_url,
        fetch,
        new_client,
        read_token,
    )
    from cockpit.core.search.model import SourceError

    name = display_name(cfg)
    started = time.perf_counter()
    service_label = getattr(cfg, "service_label", "service") or "service"
    try:
        base = check_url(name, cfg.url)
        token = read_token(name, cfg.token_env)
        client = (
            httpx.Client(transport=transport, follow_redirects=False)
            if transport is not None
            else new_client()
        )
        with client:
            body = fetch(
                client,
                "GET",
                base + ALERTS_PATH,
                source=name,
                deadline=Deadline(cfg.timeout),
                cancel=cancel or threading.Event(),
                token_env=cfg.token_env,
                params={"active": "true", "silenced": "true", "inhibited": "true"},
                headers={"Accept": "application/json", **auth_header(token)},
            )
        alerts, note = parse_alerts_body(name, body, service_label=service_label)
    except (SourceError, AlertError) as exc:
        elapsed = time.perf_counter() - started
        return [], AlertmanagerStatus(name, cfg.url, error=str(exc), elapsed=elapsed)
    except Cancelled:
        elapsed = time.perf_counter() - started
        return [], AlertmanagerStatus(name, cfg.url, error=f"{name}: cancelled", elapsed=elapsed)
    elapsed = time.perf_counter() - started
    return alerts, AlertmanagerStatus(
        name, cfg.url, count=len(alerts), elapsed=elapsed, note=note or None
    )


def fetch_alerts(
    configs: Sequence[AlertmanagerConfig],
    *,
    cancel: threading.Event | None = None,
    transport: httpx.BaseTransport | None = None,
    now: datetime | None = None,
) -> AlertsReport:
    """Read every Alertmanager in parallel and merge their alerts by fingerprint."""
    results: list[tuple[list[Alert], AlertmanagerStatus] | None] = [None] * len(configs)

    def read(index: int, cfg: AlertmanagerConfig) -> None:
        try:
            results[index] = fetch_one(cfg, cancel=cancel, transport=transport)
        except Exception as exc:  # a bug for one instance must not hide the others
            name = display_name(cfg)
            results[index] = (
                [],
                AlertmanagerStatus(name, cfg.url, error=f"{name}: internal error: {exc!r}"),
            )

    threads = [
        threading.Thread(target=read, args=(i, cfg), name=f"alerts-{i}", daemon=True)
        for i, cfg in enumerate(configs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    groups = [r[0] for r in results if r is not None]
    statuses = tuple(r[1] for r in results if r is not None)
    return AlertsReport(
        alerts=tuple(merge_alerts(groups)),
        statuses=statuses,
        fetched_at=now or datetime.now(UTC),
    )
