"""Alerts on an incident: opened from one, later ones attached, resolution and re-firing.

All of it is folded from the event log, like the rest of the incident:

- `alert.attached`: an alert joined the incident. `opened_from` marks the one a human opened
  the incident from (the title, the service and the impact start come from it); later alerts
  with the same fingerprint or service are attached as they fire.
- `alert.resolved`: an attached alert is no longer in Alertmanager; when it was last seen
  firing and when it was found gone bound the moment it resolved.
- `alert.refired`: an alert of the incident fired again after it resolved or after the
  incident was contained: the fix did not hold, and the cockpit says so loudly.

The drills' and the demo's alert is the same object (`synthetic_alert`), recorded the same way.
The older `alert.fired` event (a summary, a service and `started_at`) is still read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cockpit.core.alerts.model import Alert, api_time, iso_utc
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.store import Event

ALERT_SOURCE = "Alertmanager"
"""How comms and the postmortem name where an alert came from."""


@dataclass(frozen=True)
class TrackedAlert:
    """One alert of the incident and what became of it."""

    alert: Alert
    attached_at: datetime
    attached_by: str
    opened_from: bool = False
    last_seen: datetime | None = None
    resolved_at: datetime | None = None
    refired_at: datetime | None = None
    """When the cockpit recorded the alert firing again after the fix."""
    refired_started: datetime | None = None
    """The re-fired alert's own `startsAt`."""
    resolved: bool = False
    """Resolved now: its latest resolution came after its latest re-fire (in event order)."""


@dataclass(frozen=True)
class IncidentAlerts:
    """The incident's alerts, in the order they were attached."""

    tracked: tuple[TrackedAlert, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.tracked)

    def get(self, fingerprint: str) -> TrackedAlert | None:
        return next((t for t in self.tracked if t.alert.fingerprint == fingerprint), None)

    @property
    def opened_from(self) -> TrackedAlert | None:
        return next((t for t in self.tracked if t.opened_from), None)

    @property
    def services(self) -> set[str]:
        return {t.alert.service for t in self.tracked if t.alert.service}

    @property
    def first(self) -> TrackedAlert | None:
        return self.tracked[0] if self.tracked else None

    @property
    def all_resolved(self) -> bool:
        return bool(self.tracked) and all(t.resolved for t in self.tracked)

    @property
    def refired(self) -> list[TrackedAlert]:
        return [t for t in self.tracked if t.refired_at is not None and not t.resolved]


def _legacy_alert(event: Event) -> Alert:
    """An `alert.fired` event (before alerts were objects) as an alert of its own."""
    payload = event.payload
    service = payload.get("service") if isinstance(payload.get("service"), str) else None
    summary = str(payload.get("summary", ""))
    labels = {"alertname": "alert"} | ({"service": service} if service else {})
    return Alert(
        fingerprint=f"event-{event.seq}",
        labels=tuple(sorted(labels.items())),
        annotations=(("summary", summary),) if summary else (),
        starts_at=api_time(payload.get("started_at")),
        origins=(event.author,),
        service=service,
    )


def incident_alerts(events: Iterable[Event]) -> IncidentAlerts:
    """Fold the alert events of an incident."""
    tracked: dict[str, TrackedAlert] = {}
    for event in events:
        payload = event.payload
        if event.kind == Kind.ALERT_FIRED:
            legacy = _legacy_alert(event)
            tracked[legacy.fingerprint] = TrackedAlert(legacy, event.ts, event.author)
        elif event.kind == Kind.ALERT_ATTACHED:
            alert = Alert.from_payload(payload.get("alert"))
            if alert is None:
                continue
            known = tracked.get(alert.fingerprint)
            if known is None:
                tracked[alert.fingerprint] = TrackedAlert(
                    alert, event.ts, event.author, opened_from=bool(payload.get("opened_from"))
                )
            else:  # attached again (a re-fire, or a partner's cockpit): keep the first
                tracked[alert.fingerprint] = replace(known, alert=alert)
        elif event.kind in (Kind.ALERT_RESOLVED, Kind.ALERT_REFIRED):
            known = tracked.get(str(payload.get("fingerprint", "")))
            if known is None:
                continue
            if event.kind == Kind.ALERT_RESOLVED:
                if known.resolved:
                    continue  # a partner's cockpit saw it too
                at = api_time(payload.get("resolved_at")) or event.ts
                seen = api_time(payload.get("last_seen"))
                tracked[known.alert.fingerprint] = replace(
                    known, resolved_at=at, last_seen=seen, resolved=True
                )
            else:
                started = api_time(payload.get("started_at"))
                tracked[known.alert.fingerprint] = replace(
                    known, refired_at=event.ts, refired_started=started, resolved=False
                )
    return IncidentAlerts(tuple(tracked.values()))


def _describe_alert(alert: Alert) -> str:
    parts = [p for p in (alert.service, alert.severity) if p]
    return f"{alert.alertname} ({', '.join(parts)})" if parts else alert.alertname


def opened_payload(alert: Alert, human: str) -> dict[str, Any]:
    """The `alert.attached` payload of the alert a human opened the incident from."""
    return {
        "alert": alert.to_payload(),
        "opened_from": True,
        "service": alert.service,
        "started_at": iso_utc(alert.starts_at) if alert.starts_at else None,
        "summary": f"incident opened from alert {_describe_alert(alert)} by {human}",
    }


def attached_payload(alert: Alert, reason: str) -> dict[str, Any]:
    """The `alert.attached` payload of a later alert (same fingerprint or service)."""
    return {
        "alert": alert.to_payload(),
        "opened_from": False,
        "service": alert.service,
        "started_at": iso_utc(alert.starts_at) if alert.starts_at else None,
        "summary": f"alert {_describe_alert(alert)} attached ({reason})",
    }


def resolved_payload(tracked: TrackedAlert, *, now: datetime) -> dict[str, Any]:
    """An attached alert that Alertmanager no longer reports."""
    alert = tracked.alert
    seen = f", last seen firing {tracked.last_seen:%H:%M:%S} UTC" if tracked.last_seen else ""
    return {
        "fingerprint": alert.fingerprint,
        "alertname": alert.alertname,
        "service": alert.service,
        "resolved_at": iso_utc(now),
        "last_seen": iso_utc(tracked.last_seen) if tracked.last_seen else None,
        "summary": f"alert {_describe_alert(alert)} resolved: no longer firing in "
        f"{ALERT_SOURCE} at {now:%H:%M:%S} UTC{seen}",
    }


def refired_payload(alert: Alert, why: str) -> dict[str, Any]:
    """An alert of the incident that fired again after the fix."""
    return {
        "fingerprint": alert.fingerprint,
        "alertname": alert.alertname,
        "service": alert.service,
        "started_at": iso_utc(alert.starts_at) if alert.starts_at else None,
        "summary": f"RE-FIRED: alert {_describe_alert(alert)} fired again {why}",
    }


def reconcile(
    state: IncidentState,
    live: Iterable[Alert],
    *,
    complete: bool,
    now: datetime,
    seen: dict[str, datetime] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """The events that bring the incident's alerts up to date with what Alertmanager reports.

    `live` is what every Alertmanager reported just now; `complete` says they all answered
    (an alert missing from a partial answer has not resolved). `seen` maps fingerprints to
    when this cockpit last saw them firing (the lower bound of a resolution). Nothing is
    attached to an incident with no alert yet, or to a resolved incident.
    """
    mine = incident_alerts(state.events)
    if not mine or state.resolved is not None:
        return []
    events: list[tuple[str, dict[str, Any]]] = []
    live_by_fp = {alert.fingerprint: alert for alert in live}
    fix_at = state.contained.at if state.contained is not None else None
    for tracked in mine.tracked:
        fingerprint = tracked.alert.fingerprint
        if fingerprint.startswith("event-"):
            continue  # an old `alert.fired`: no fingerprint to follow
        current = live_by_fp.get(fingerprint)
        if current is not None and current.firing:
            after_resolution = tracked.resolved
            if after_resolution:
                assert tracked.resolved_at is not None
                why = f"after it resolved at {tracked.resolved_at:%H:%M} UTC"
                events.append((Kind.ALERT_REFIRED, refired_payload(current, why)))
            elif (
                fix_at is not None
                and current.starts_at is not None
                and current.starts_at > fix_at
                and tracked.refired_at is None
            ):
                why = f"after the incident was contained at {fix_at:%H:%M} UTC"
                events.append((Kind.ALERT_REFIRED, refired_payload(current, why)))
        elif current is None and complete and not tracked.resolved:
            last = (seen or {}).get(fingerprint) or tracked.last_seen
            events.append(
                (Kind.ALERT_RESOLVED, resolved_payload(replace(tracked, last_seen=last), now=now))
            )
    services = mine.services
    for alert in live:
        if not alert.firing or mine.get(alert.fingerprint) is not None:
            continue
        if alert.service and alert.service in services:
            events.append(
                (Kind.ALERT_ATTACHED, attached_payload(alert, f"same service {alert.service}"))
            )
            if fix_at is not None and alert.starts_at is not None and alert.starts_at > fix_at:
                why = f"after the incident was contained at {fix_at:%H:%M} UTC"
                events.append((Kind.ALERT_REFIRED, refired_payload(alert, why)))
    return events


@dataclass(frozen=True)
class AlertStart:
    """When the first alert says the failure began, and who raised it."""

    at: datetime
    by: str
    alertname: str


def alert_start(state: IncidentState) -> AlertStart | None:
    """The impact start an alert gives: the opened-from alert's `startsAt`, else the first
    alert's. `by` is Alertmanager for real and drill alerts (the older event's author)."""
    mine = incident_alerts(state.events)
    ordered = ([mine.opened_from] if mine.opened_from else []) + list(mine.tracked)
    for tracked in ordered:
        if tracked is not None and tracked.alert.starts_at is not None:
            legacy = tracked.alert.fingerprint.startswith("event-")
            by = tracked.attached_by if legacy else ALERT_SOURCE
            return AlertStart(tracked.alert.starts_at, by, tracked.alert.alertname)
    return None


def first_alert_event(state: IncidentState) -> Event | None:
    """The first alert event on the timeline."""
    return next(
        (e for e in state.events if e.kind in (Kind.ALERT_FIRED, Kind.ALERT_ATTACHED)), None
    )


def detection(state: IncidentState) -> tuple[datetime, str] | None:
    """When the incident was detected by an alert, and by whom, for the postmortem: an
    Alertmanager alert fired at its `startsAt`; an older `alert.fired` when it was recorded."""
    event = first_alert_event(state)
    if event is None:
        return None
    if event.kind == Kind.ALERT_ATTACHED:
        alert = Alert.from_payload(event.payload.get("alert"))
        if alert is not None and alert.starts_at is not None:
            return min(alert.starts_at, event.ts), ALERT_SOURCE
    return event.ts, event.author


def resolution_lines(state: IncidentState) -> list[str]:
    """What became of the incident's alerts, one line each, for Verify, comms and the
    postmortem: "HighErrorRate (checkout) resolved at 14:52 UTC (Alertmanager)"."""
    lines = []
    for tracked in incident_alerts(state.events).tracked:
        alert = tracked.alert
        if alert.fingerprint.startswith("event-"):
            continue  # an old `alert.fired`: nothing to follow it by
        name = _describe_alert(alert)
        if tracked.refired_at is not None and not tracked.resolved:
            again = tracked.refired_started or tracked.refired_at
            lines.append(f"{name} FIRED AGAIN at {again:%H:%M} UTC after the fix ({ALERT_SOURCE})")
        elif tracked.resolved and tracked.resolved_at is not None:
            seen = f", last seen firing {tracked.last_seen:%H:%M} UTC" if tracked.last_seen else ""
            lines.append(
                f"{name} resolved by {tracked.resolved_at:%H:%M} UTC ({ALERT_SOURCE}{seen})"
            )
        else:
            lines.append(f"{name} still firing ({ALERT_SOURCE})")
    return lines
