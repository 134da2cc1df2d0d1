"""An alert as Alertmanager's v2 API describes it, read defensively (alerts are outside text).

Every string an alert carries (labels, annotations, the generator URL) was written by someone
else and may be hostile: it is kept as text, capped in size, and shown through
`cockpit.core.sanitize`; a generator URL is offered for copy only when it is a plain
http(s) URL. The same model stores an alert on the incident's timeline (`to_payload`), so a
drill's synthetic alert and a real one travel the same path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from cockpit.core.timefmt import iso_utc, parse_iso

MAX_LABELS = 64
"""Labels (and annotations) kept per alert; the rest are dropped and counted."""
MAX_NAME_CHARS = 200
MAX_VALUE_CHARS = 2000
"""Longest label value or annotation kept (a description can be long; a blob is cut)."""
MAX_URL_CHARS = 4096

SERVICE_LABEL_FALLBACKS = ("job", "app")
"""Labels tried for the service after the configured `service_label`."""

STATE_RANK = {"active": 0, "unprocessed": 1, "suppressed": 2}
"""Merging an HA pair: the most active state either instance reports wins."""
SEVERITY_RANK = {"critical": 0, "page": 0, "error": 1, "high": 1, "warning": 2, "warn": 2}
"""Display order; unknown severities sort after these, then alerts without one."""


class AlertError(Exception):
    """An Alertmanager answer that is not a list of alerts; one line naming the source."""


def api_time(value: Any) -> datetime | None:
    """An RFC 3339 time from the API (`0001-01-01T00:00:00Z` is Go's zero: no time)."""
    if not isinstance(value, str) or not value or value.startswith("0001-01-01"):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _string_map(value: Any, *, value_limit: int) -> tuple[tuple[str, str], ...]:
    """A JSON object of strings as sorted pairs; non-string entries are dropped."""
    if not isinstance(value, Mapping):
        return ()
    pairs = [
        (_cap(key, MAX_NAME_CHARS), _cap(item, value_limit))
        for key, item in value.items()
        if isinstance(key, str) and isinstance(item, str)
    ]
    return tuple(sorted(pairs)[:MAX_LABELS])


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(_cap(item, MAX_NAME_CHARS) for item in value if isinstance(item, str))[:32]


def labels_fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of a label set (FNV-1a 64 over sorted names and values), so
    a synthetic alert gets the id a real Alertmanager would give it."""
    digest = 0xCBF29CE484222325
    for name in sorted(labels):
        for part in (name.encode(), b"\xff", labels[name].encode(), b"\xff"):
            for byte in part:
                digest ^= byte
                digest = (digest * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{digest:016x}"


@dataclass(frozen=True)
class Alert:
    """One alert, merged over every Alertmanager that reported it."""

    fingerprint: str
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...] = ()
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    updated_at: datetime | None = None
    state: str = "active"
    """`active`, `suppressed` (silenced or inhibited) or `unprocessed`."""
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    generator_url: str = ""
    receivers: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    """Names of the Alertmanagers that reported it (both of an HA pair, usually)."""
    service: str | None = None
    """From the configured service label, else `job`, else `app`."""
    dropped: int = field(default=0, compare=False)
    """Labels or annotations left out because there were too many."""

    def label(self, name: str) -> str | None:
        return next((value for key, value in self.labels if key == name), None)

    def annotation(self, name: str) -> str | None:
        return next((value for key, value in self.annotations if key == name), None)

    @property
    def alertname(self) -> str:
        return self.label("alertname") or "(no alertname)"

    @property
    def severity(self) -> str:
        return self.label("severity") or ""

    @property
    def summary(self) -> str:
        return self.annotation("summary") or self.annotation("message") or ""

    @property
    def description(self) -> str:
        return self.annotation("description") or ""

    @property
    def silenced(self) -> bool:
        return bool(self.silenced_by)

    @property
    def inhibited(self) -> bool:
        return bool(self.inhibited_by)

    @property
    def state_text(self) -> str:
        """`firing`, `silenced`, `inhibited`, or `unprocessed`."""
        if self.state == "active":
            return "firing"
        if self.silenced:
            return "silenced"
        if self.inhibited:
            return "inhibited"
        return self.state

    @property
    def firing(self) -> bool:
        """Active: neither silenced nor inhibited (what pages a human)."""
        return self.state == "active"

    @property
    def copyable_url(self) -> str | None:
        """The generator URL when it is a plain http(s) URL of printable ASCII, else None:
        anything else is shown (made visible) but never offered for copy."""
        url = self.generator_url
        if not url or len(url) > MAX_URL_CHARS:
            return None
        if not url.lower().startswith(("http://", "https://")):
            return None
        if not all(33 <= ord(ch) < 127 for ch in url):
            return None
        return url

    def other_labels(self) -> list[tuple[str, str]]:
        """Labels other than alertname, severity and the service one (for titles and rows)."""
        skip = {"alertname", "severity"}
        return [(k, v) for k, v in self.labels if k not in skip and v != self.service]

    def title(self) -> str:
        """An incident title from the alert name and its labels, e.g.
        `HighErrorRate: checkout (critical, env=prod)`."""
        extra = [self.severity] if self.severity else []
        extra += [f"{k}={v}" for k, v in self.other_labels() if k not in ("job", "instance")][:2]
        where = f": {self.service}" if self.service else ""
        detail = f" ({', '.join(extra)})" if extra else ""
        return _cap(f"{self.alertname}{where}{detail}", 120)

    def merged_with(self, other: Alert) -> Alert:
        """The same alert (fingerprint) seen by another Alertmanager of an HA pair."""
        state = min((self.state, other.state), key=lambda s: STATE_RANK.get(s, 9))
        starts = [t for t in (self.starts_at, other.starts_at) if t is not None]
        ends = [t for t in (self.ends_at, other.ends_at) if t is not None]
        updated = [t for t in (self.updated_at, other.updated_at) if t is not None]
        return replace(
            self,
            state=state,
            starts_at=min(starts) if starts else None,
            ends_at=max(ends) if ends else None,
            updated_at=max(updated) if updated else None,
            silenced_by=tuple(dict.fromkeys(self.silenced_by + other.silenced_by)),
            inhibited_by=tuple(dict.fromkeys(self.inhibited_by + other.inhibited_by)),
            receivers=tuple(dict.fromkeys(self.receivers + other.receivers)),
            origins=tuple(dict.fromkeys(self.origins + other.origins)),
            generator_url=self.generator_url or other.generator_url,
        )

    def sort_key(self) -> tuple[int, int, float]:
        """Firing first, then by severity, then newest first."""
        severity = SEVERITY_RANK.get(self.severity.lower(), 5 if self.severity else 6)
        started = -self.starts_at.timestamp() if self.starts_at else 0.0
        return (STATE_RANK.get(self.state, 9), severity, started)

    # -- on the timeline ---------------------------------------------------------------

    def to_payload(self) -> dict[str, Any]:
        """The alert as JSON for an event payload (what `from_payload` reads back)."""
        return {
            "fingerprint": self.fingerprint,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": iso_utc(self.starts_at) if self.starts_at else None,
            "endsAt": iso_utc(self.ends_at) if self.ends_at else None,
            "state": self.state,
            "generatorURL": self.generator_url,
            "origins": list(self.origins),
            "service": self.service,
        }

    @classmethod
    def from_payload(cls, data: Any) -> Alert | None:
        """An alert stored by `to_payload` (from the event log: still outside input)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("fingerprint"), str):
            return None
        service = data.get("service")
        return cls(
            fingerprint=_cap(data["fingerprint"], MAX_NAME_CHARS),
            labels=_string_map(data.get("labels"), value_limit=MAX_VALUE_CHARS),
            annotations=_string_map(data.get("annotations"), value_limit=MAX_VALUE_CHARS),
            starts_at=api_time(data.get("startsAt")),
            ends_at=api_time(data.get("endsAt")),
            state=str(data.get("state") or "active"),
            generator_url=_cap(str(data.get("generatorURL") or ""), MAX_URL_CHARS),
            origins=_strings(data.get("origins")),
            service=_cap(service, MAX_NAME_CHARS) if isinstance(service, str) else None,
        )


def service_of(labels: Mapping[str, str], service_label: str = "service") -> str | None:
    """The service an alert is about: the configured label, else `job`, else `app`."""
    for name in (service_label, *SERVICE_LABEL_FALLBACKS):
        value = labels.get(name)
        if value:
            return value
    return None


def parse_alert(item: Any, *, origin: str, service_label: str = "service") -> Alert | None:
    """One entry of `GET /api/v2/alerts` (a gettableAlert), or None when it is not one."""
    if not isinstance(item, Mapping):
        return None
    fingerprint = item.get("fingerprint")
    raw_labels = item.get("labels")
    if not isinstance(fingerprint, str) or not fingerprint or not isinstance(raw_labels, Mapping):
        return None
    labels = _string_map(raw_labels, value_limit=MAX_VALUE_CHARS)
    annotations = _string_map(item.get("annotations"), value_limit=MAX_VALUE_CHARS)
    dropped = max(0, len(raw_labels) - MAX_LABELS)
    raw_annotations = item.get("annotations")
    if isinstance(raw_annotations, Mapping):
        dropped += max(0, len(raw_annotations) - MAX_LABELS)
    status = item.get("status") if isinstance(item.get("status"), Mapping) else {}
    assert isinstance(status, Mapping)
    state = status.get("state") if isinstance(status.get("state"), str) else "active"
    receivers = item.get("receivers")
    names = (
        [r.get("name") for r in receivers if isinstance(r, Mapping)]
        if isinstance(receivers, list)
        else []
    )
    url = item.get("generatorURL")
    return Alert(
        fingerprint=_cap(fingerprint, MAX_NAME_CHARS),
        labels=labels,
        annotations=annotations,
        starts_at=api_time(item.get("startsAt")),
        ends_at=api_time(item.get("endsAt")),
        updated_at=api_time(item.get("updatedAt")),
        state=str(state) if state in STATE_RANK else "active",
        silenced_by=_strings(status.get("silencedBy")),
        inhibited_by=_strings(status.get("inhibitedBy")),
        generator_url=_cap(url, MAX_URL_CHARS) if isinstance(url, str) else "",
        receivers=_strings(names),
        origins=(origin,),
        service=service_of(dict(labels), service_label),
        dropped=dropped,
    )


def merge_alerts(groups: Iterable[Iterable[Alert]]) -> list[Alert]:
    """Alerts from several Alertmanagers (an HA pair) as one list, one entry per fingerprint,
    firing first, then by severity, newest first."""
    merged: dict[str, Alert] = {}
    for group in groups:
        for alert in group:
            seen = merged.get(alert.fingerprint)
            merged[alert.fingerprint] = alert if seen is None else seen.merged_with(alert)
    return sorted(merged.values(), key=Alert.sort_key)


def synthetic_alert(
    *,
    alertname: str,
    service: str,
    severity: str,
    summary: str,
    starts_at: datetime,
    description: str = "",
    generator_url: str = "",
    origin: str = "alertmanager",
    extra_labels: Mapping[str, str] | None = None,
) -> Alert:
    """An alert built in-process (a drill's or the demo's), with the fingerprint Alertmanager
    would give its labels."""
    labels = {"alertname": alertname, "service": service, "severity": severity}
    labels.update(extra_labels or {})
    annotations = {"summary": summary}
    if description:
        annotations["description"] = description
    return Alert(
        fingerprint=labels_fingerprint(labels),
        labels=tuple(sorted(labels.items())),
        annotations=tuple(sorted(annotations.items())),
        starts_at=starts_at,
        generator_url=generator_url,
        origins=(origin,),
        service=service,
    )


def error_rate_alert(service: str, starts_at: datetime) -> Alert:
    """The page the demo and the drills open their incident from: a service's 5xx ratio."""
    return synthetic_alert(
        alertname="HighErrorRate",
        service=service,
        severity="critical",
        summary=f"{service} 5xx ratio above 5% since {starts_at:%H:%M} UTC",
        description=f"More than 5% of {service} requests have failed for 2 minutes.",
        starts_at=starts_at,
    )
