"""The alert model read defensively, its fold on the incident, and what comms and the
postmortem say about it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.core.alerts.alertmanager import default_alertmanagers, parse_alerts_body
from cockpit.core.alerts.incident import (
    attached_payload,
    incident_alerts,
    opened_payload,
    reconcile,
    refired_payload,
    resolution_lines,
    resolved_payload,
)
from cockpit.core.alerts.model import (
    MAX_LABELS,
    MAX_VALUE_CHARS,
    Alert,
    error_rate_alert,
    merge_alerts,
    parse_alert,
    synthetic_alert,
)
from cockpit.core.comms.facts import CommsFacts
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.review.postmortem import render_postmortem
from cockpit.core.store import EventStore

T0 = datetime(2026, 11, 28, 14, 6, tzinfo=UTC)


def _api_alert(**overrides: object) -> dict:
    item: dict = {
        "fingerprint": "0a1b2c3d4e5f6071",
        "labels": {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"},
        "annotations": {"summary": "5xx above 5%", "description": "for 2 minutes"},
        "startsAt": "2026-11-28T14:06:00.123Z",
        "endsAt": "2026-11-28T14:20:00Z",
        "updatedAt": "2026-11-28T14:16:00Z",
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
        "receivers": [{"name": "pager"}],
        "generatorURL": "http://prometheus:9090/graph?g0.expr=rate",
    }
    item.update(overrides)
    return item


def test_hostile_and_malformed_entries_are_skipped_or_kept_as_bounded_text() -> None:
    body = (
        b'[1, "x", {"labels": {}}, {"fingerprint": "f", "labels": "nope"}, '
        + bytes(__import__("json").dumps(_api_alert()), "utf-8")
        + b"]"
    )
    alerts, note = parse_alerts_body("am", body, service_label="service")
    assert [a.alertname for a in alerts] == ["HighErrorRate"]
    assert note == "4 entries without a fingerprint or labels skipped"
    many = {f"l{i:03}": "v" for i in range(MAX_LABELS + 10)} | {"alertname": 7, "big": "x" * 9999}
    alert = parse_alert(_api_alert(labels=many), origin="am")
    assert alert is not None
    assert len(alert.labels) == MAX_LABELS and alert.dropped >= 10
    assert alert.label("alertname") is None  # a number is not a label value
    assert all(len(v) <= MAX_VALUE_CHARS + 1 for _, v in alert.labels)
    odd = parse_alert(_api_alert(status={"state": "exploded"}, startsAt="yesterday"), origin="am")
    assert odd is not None and odd.state == "active" and odd.starts_at is None


def test_generator_urls_are_offered_for_copy_only_when_plain_http() -> None:
    def url(value: str) -> str | None:
        alert = parse_alert(_api_alert(generatorURL=value), origin="am")
        assert alert is not None
        return alert.copyable_url

    assert url("https://prom/graph?g0.expr=up%7Bjob%3D%22x%22%7D") is not None
    assert url("javascript:alert(1)") is None
    assert url("http://prom/graph?x=1\x1b]52;c;Zm9v\x07") is None
    assert url("http://prom/a b") is None
    assert url("http://prom/\u202eevil") is None
    assert url("") is None


def test_title_service_fallbacks_and_payload_round_trip() -> None:
    alert = parse_alert(
        _api_alert(
            labels={"alertname": "DiskFull", "job": "node", "env": "prod", "instance": "h1"}
        ),
        origin="am",
        service_label="team",
    )
    assert alert is not None and alert.service == "node"
    assert alert.title() == "DiskFull: node (env=prod)"
    back = Alert.from_payload(alert.to_payload())
    assert back is not None
    assert (back.fingerprint, back.labels, back.annotations, back.service) == (
        alert.fingerprint,
        alert.labels,
        alert.annotations,
        alert.service,
    )
    assert back.starts_at == datetime(2026, 11, 28, 14, 6, tzinfo=UTC)
    assert Alert.from_payload({"labels": {}}) is None and Alert.from_payload("x") is None


def test_merging_keeps_the_most_active_state_and_every_origin() -> None:
    silenced = parse_alert(
        _api_alert(status={"state": "suppressed", "silencedBy": ["s1"], "inhibitedBy": []}),
        origin="am1",
    )
    active = parse_alert(_api_alert(startsAt="2026-11-28T14:05:00Z"), origin="am2")
    warning = parse_alert(
        _api_alert(fingerprint="ff", labels={"alertname": "Slow", "severity": "warning"}),
        origin="am2",
    )
    assert silenced and active and warning
    merged = merge_alerts([[silenced], [warning, active]])
    assert [a.alertname for a in merged] == ["HighErrorRate", "Slow"]
    assert merged[0].firing and merged[0].origins == ("am1", "am2")
    assert merged[0].starts_at == datetime(2026, 11, 28, 14, 5, tzinfo=UTC)


def test_default_alertmanager_is_the_amtool_variable_or_localhost() -> None:
    assert default_alertmanagers({})[0].url == "http://localhost:9093"
    assert default_alertmanagers({"ALERTMANAGER_URL": "http://am:9093/"})[0].url == (
        "http://am:9093"
    )


def _store(tmp_path: Path) -> tuple[EventStore, str]:
    store = EventStore(tmp_path / "incidents.db", clock=lambda: T0 + timedelta(minutes=5))
    record = store.create_incident("HighErrorRate: checkout (critical)", "alice")
    return store, record.id


def test_comms_and_postmortem_use_the_alert_start_resolution_and_refire(tmp_path: Path) -> None:
    store, incident = _store(tmp_path)
    page = error_rate_alert("checkout", T0)
    store.append(incident, Kind.ALERT_ATTACHED, opened_payload(page, "alice"), "alice")
    state = IncidentState.from_events(store.events(incident))
    facts = CommsFacts.from_state(state, now=T0 + timedelta(minutes=10))
    assert facts["start"].value == "14:06 UTC"
    assert facts["start"].source == "from the alert raised by Alertmanager: failing since 14:06Z"
    assert facts["recovered"].source == (
        "alerts: HighErrorRate (checkout, critical) still firing (Alertmanager); "
        "not yet marked resolved by a human"
    )

    (tracked,) = incident_alerts(state.events).tracked
    resolved_at = T0 + timedelta(minutes=40)
    store.append(incident, Kind.ALERT_RESOLVED, resolved_payload(tracked, now=resolved_at), "am")
    state = IncidentState.from_events(store.events(incident))
    assert resolution_lines(state) == [
        "HighErrorRate (checkout, critical) resolved by 14:46 UTC (Alertmanager)"
    ]
    text = render_postmortem(state, CommsFacts.from_state(state, now=resolved_at), now=resolved_at)
    assert "first alert 14:06Z (Alertmanager)" in text
    assert "Alert: HighErrorRate (checkout, critical) resolved by 14:46 UTC (Alertmanager)." in text

    again = synthetic_alert(
        alertname="HighErrorRate",
        service="checkout",
        severity="critical",
        summary="again",
        starts_at=T0 + timedelta(minutes=50),
    )
    store.append(incident, Kind.ALERT_REFIRED, refired_payload(again, "after it resolved"), "am")
    state = IncidentState.from_events(store.events(incident))
    assert resolution_lines(state) == [
        "HighErrorRate (checkout, critical) FIRED AGAIN at 14:56 UTC after the fix (Alertmanager)"
    ]
    store.close()


def test_legacy_alert_fired_events_still_fold_but_are_not_followed(tmp_path: Path) -> None:
    store, incident = _store(tmp_path)
    store.append(
        incident,
        Kind.ALERT_FIRED,
        {"summary": "checkout 5xx", "service": "checkout", "started_at": "2026-11-28T14:06:00Z"},
        "alertmanager",
    )
    state = IncidentState.from_events(store.events(incident))
    (legacy,) = incident_alerts(state.events).tracked
    assert legacy.alert.service == "checkout" and legacy.alert.starts_at == T0
    assert resolution_lines(state) == []
    # Nothing to follow it by: an empty Alertmanager does not "resolve" it.
    assert reconcile(state, [], complete=True, now=T0 + timedelta(hours=1)) == []
    facts = CommsFacts.from_state(state, now=T0 + timedelta(minutes=10))
    assert facts["start"].source == "from the alert raised by alertmanager: failing since 14:06Z"
    store.close()


def test_reconcile_attaches_same_service_alerts_and_never_touches_a_resolved_incident(
    tmp_path: Path,
) -> None:
    store, incident = _store(tmp_path)
    page = error_rate_alert("checkout", T0)
    store.append(incident, Kind.ALERT_ATTACHED, opened_payload(page, "alice"), "alice")
    other_service = error_rate_alert("search", T0)
    same_service = synthetic_alert(
        alertname="HighLatency", service="checkout", severity="warning", summary="p95", starts_at=T0
    )
    state = IncidentState.from_events(store.events(incident))
    events = reconcile(state, [page, other_service, same_service], complete=True, now=T0)
    assert events == [
        (Kind.ALERT_ATTACHED, attached_payload(same_service, "same service checkout"))
    ]
    store.append(incident, Kind.RESOLVED, {"detail": "done"}, "alice")
    state = IncidentState.from_events(store.events(incident))
    assert reconcile(state, [], complete=True, now=T0) == []
    store.close()
