"""Alerts from real Alertmanagers: listing, an HA pair merged, error rows, incidents from alerts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.core.alerts.alertmanager import fetch_alerts
from cockpit.core.alerts.incident import incident_alerts, opened_payload, reconcile
from cockpit.core.alerts.model import labels_fingerprint
from cockpit.core.config import AlertmanagerConfig
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.store import EventStore
from tests.alertmanager_support import RealAlertmanager, alert_json, running_alertmanager
from tests.fakes import FakeServer, Fault, RecordedRequest, Response

HOSTILE = "\x1b]52;c;cm0gLXJmIH4=\x07 [@click=app.quit]click[/] \u202eevil"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RealAlertmanager, ...]]:
    root = tmp_path_factory.mktemp("alertmanagers")
    with (
        running_alertmanager(root / "am1") as first,
        running_alertmanager(root / "am2") as second,
    ):
        yield first, second


def _active(names: set[str]):
    def ready(alerts: list[dict]) -> bool:
        states = {a["labels"]["alertname"]: a["status"]["state"] for a in alerts}
        return all(states.get(n) in ("active", "suppressed") for n in names)

    return ready


def test_lists_a_real_alertmanagers_alerts_sanitized_later_never_lost(pair) -> None:
    first, _second = pair
    started = datetime.now(UTC) - timedelta(minutes=12)
    first.post(
        alert_json(
            "ListingHighErrorRate",
            service="checkout",
            summary=HOSTILE,
            description="5xx above 5% for 10 minutes",
            starts_at=started,
        ),
        alert_json("ListingJobOnly", service="", severity="warning", job="payments-api"),
    )
    first.wait_for(_active({"ListingHighErrorRate", "ListingJobOnly"}))
    report = fetch_alerts([AlertmanagerConfig(url=first.url, name="am1")])
    assert report.complete and report.statuses[0].ok
    by_name = {a.alertname: a for a in report.alerts}
    high = by_name["ListingHighErrorRate"]
    assert high.service == "checkout" and high.severity == "critical" and high.firing
    assert high.summary == HOSTILE  # kept as text: the panes show it through sanitize
    assert high.description == "5xx above 5% for 10 minutes"
    assert high.starts_at is not None and abs((high.starts_at - started).total_seconds()) < 1
    assert high.copyable_url == "http://prometheus.example:9090/graph?g0.expr=up"
    assert high.origins == ("am1",)
    # Our fingerprint of the labels is Alertmanager's own (drills use it for their alert).
    assert high.fingerprint == labels_fingerprint(dict(high.labels))
    # No `service` label: the service falls back to `job`.
    assert by_name["ListingJobOnly"].service == "payments-api"
    # A critical alert sorts before a warning.
    names = [a.alertname for a in report.alerts]
    assert names.index("ListingHighErrorRate") < names.index("ListingJobOnly")


def test_an_ha_pair_is_merged_by_fingerprint(pair) -> None:
    first, second = pair
    shared = alert_json("PairShared", service="cart")
    first.post(shared, alert_json("PairOnlyFirst", service="cart"))
    second.post(shared, alert_json("PairOnlySecond", service="cart"))
    first.silence({"alertname": "PairShared"})
    first.wait_for(
        lambda alerts: any(
            a["labels"]["alertname"] == "PairShared" and a["status"]["silencedBy"] for a in alerts
        )
    )
    second.wait_for(_active({"PairShared", "PairOnlySecond"}))
    report = fetch_alerts(
        [
            AlertmanagerConfig(url=first.url, name="am1"),
            AlertmanagerConfig(url=second.url, name="am2"),
        ]
    )
    pair_alerts = [a for a in report.alerts if a.alertname.startswith("Pair")]
    assert sorted(a.alertname for a in pair_alerts) == [
        "PairOnlyFirst",
        "PairOnlySecond",
        "PairShared",
    ]
    shared_alert = next(a for a in pair_alerts if a.alertname == "PairShared")
    assert shared_alert.origins == ("am1", "am2")
    # Silenced on one instance only: the other still pages, so the merged alert is firing.
    assert shared_alert.firing and shared_alert.silenced
    second.silence({"alertname": "PairOnlySecond"})
    second.wait_for(
        lambda alerts: any(
            a["labels"]["alertname"] == "PairOnlySecond" and a["status"]["silencedBy"]
            for a in alerts
        )
    )
    again = fetch_alerts([AlertmanagerConfig(url=second.url, name="am2")])
    silenced = next(a for a in again.alerts if a.alertname == "PairOnlySecond")
    assert not silenced.firing and silenced.state_text == "silenced"


class _Alerts(FakeServer):
    """A stand-in in front of which faults are staged (a proxy's 502, a 401)."""

    def __init__(self, body: bytes = b"[]") -> None:
        super().__init__()
        self.body = body

    def respond(self, request: RecordedRequest) -> Response:
        return Response(200, self.body, {"Content-Type": "application/json"})


def test_each_alertmanager_reports_its_own_error_while_the_rest_carry_on(pair, monkeypatch) -> None:
    first, _second = pair
    first.post(alert_json("ErrorsStillListed", service="web"))
    first.wait_for(_active({"ErrorsStillListed"}))
    closed = f"http://127.0.0.1:{_closed_port()}"
    with (
        _Alerts() as unauthorized,
        _Alerts() as html,
        _Alerts(b'[{"fingerprint": "ab", "labels": {') as broken,
        _Alerts(b'{"status": "success"}') as not_a_list,
        _Alerts(b'[{"fingerprint": "x1", "labels": {"alertname": "Tok"}}]') as with_token,
    ):
        unauthorized.fault = Fault.UNAUTHORIZED
        html.fault = Fault.BAD_GATEWAY_HTML
        monkeypatch.setenv("AM_TOKEN", "s3cret")
        report = fetch_alerts(
            [
                AlertmanagerConfig(url=first.url, name="good"),
                AlertmanagerConfig(url=closed, name="down"),
                AlertmanagerConfig(url=unauthorized.url, name="auth"),
                AlertmanagerConfig(url=html.url, name="proxy"),
                AlertmanagerConfig(url=broken.url, name="broken"),
                AlertmanagerConfig(url=not_a_list.url, name="object"),
                AlertmanagerConfig(url=with_token.url, name="tok", token_env="AM_TOKEN"),
            ]
        )
        assert with_token.requests[0].headers["authorization"] == "Bearer s3cret"
        assert with_token.requests[0].params == {
            "active": "true",
            "silenced": "true",
            "inhibited": "true",
        }
        assert with_token.requests[0].path == "/api/v2/alerts"
    errors = {s.name: s.error for s in report.statuses}
    assert errors["good"] is None and errors["tok"] is None
    assert "connection refused" in (errors["down"] or "")
    assert "401" in (errors["auth"] or "") and "authentication failed" in (errors["auth"] or "")
    assert errors["proxy"] == "proxy: HTTP 502 Bad Gateway (HTML error page)"
    assert "invalid JSON" in (errors["broken"] or "")
    assert "not the list of alerts" in (errors["object"] or "")
    assert all("\n" not in (e or "") for e in errors.values())
    assert not report.complete
    names = {a.alertname for a in report.alerts}
    assert {"ErrorsStillListed", "Tok"} <= names


def _closed_port() -> int:
    from tests.alertmanager_support import free_port

    return free_port()


def _state(store: EventStore, incident_id: str) -> IncidentState:
    return IncidentState.from_events(store.events(incident_id))


def test_incident_opened_from_a_real_alert_then_attached_resolved_and_refired(
    pair, tmp_path: Path
) -> None:
    first, _second = pair
    config = [AlertmanagerConfig(url=first.url, name="am1")]
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=9)
    opening = alert_json("IncidentErrors", service="basket", starts_at=started)
    first.post(opening)
    first.wait_for(_active({"IncidentErrors"}))
    alert = next(a for a in fetch_alerts(config).alerts if a.alertname == "IncidentErrors")

    store = EventStore(tmp_path / "incidents.db")
    record = store.create_incident(alert.title(), "alice")
    store.append(record.id, Kind.ALERT_ATTACHED, opened_payload(alert, "alice"), "alice")
    state = _state(store, record.id)
    assert state.title == "IncidentErrors: basket (critical)"
    mine = incident_alerts(state.events)
    assert mine.opened_from is not None and mine.opened_from.alert.starts_at == started
    from cockpit.core.incident import describe

    assert describe(state.events[-1]) == (
        "incident opened from alert IncidentErrors (basket, critical) by alice"
    )

    # A later alert on the same service is attached.
    first.post(alert_json("IncidentLatency", service="basket", severity="warning"))
    first.wait_for(_active({"IncidentErrors", "IncidentLatency"}))
    report = fetch_alerts(config)
    events = reconcile(state, report.alerts, complete=report.complete, now=datetime.now(UTC))
    assert [
        (kind, p.get("alert", {}).get("labels", {}).get("alertname")) for kind, p in events
    ] == [(Kind.ALERT_ATTACHED, "IncidentLatency")]
    for kind, payload in events:
        store.append(record.id, kind, payload, "alice")
    state = _state(store, record.id)
    assert reconcile(state, report.alerts, complete=True, now=datetime.now(UTC)) == []

    # Resolved in Alertmanager (Prometheus sends endsAt): both drop out of the API.
    ended = datetime.now(UTC) - timedelta(seconds=1)
    first.post(
        alert_json("IncidentErrors", service="basket", starts_at=started, ends_at=ended),
        alert_json("IncidentLatency", service="basket", severity="warning", ends_at=ended),
    )
    first.wait_for(
        lambda alerts: (
            not {"IncidentErrors", "IncidentLatency"} & {a["labels"]["alertname"] for a in alerts}
        )
    )
    report = fetch_alerts(config)
    # An incomplete answer never resolves anything.
    assert reconcile(state, report.alerts, complete=False, now=datetime.now(UTC)) == []
    events = reconcile(state, report.alerts, complete=report.complete, now=datetime.now(UTC))
    assert sorted(kind for kind, _ in events) == [Kind.ALERT_RESOLVED, Kind.ALERT_RESOLVED]
    for kind, payload in events:
        store.append(record.id, kind, payload, "alice")
    state = _state(store, record.id)
    assert incident_alerts(state.events).all_resolved

    # Contained, then the alert fires again: flagged as a re-fire.
    store.append(record.id, Kind.CONTAINED, {"detail": "rolled back"}, "alice")
    first.post(alert_json("IncidentErrors", service="basket"))
    first.wait_for(_active({"IncidentErrors"}))
    state = _state(store, record.id)
    report = fetch_alerts(config)
    events = reconcile(state, report.alerts, complete=True, now=datetime.now(UTC))
    assert [kind for kind, _ in events] == [Kind.ALERT_REFIRED]
    assert events[0][1]["summary"].startswith("RE-FIRED: alert IncidentErrors (basket")
    store.append(record.id, events[0][0], events[0][1], "alice")
    state = _state(store, record.id)
    assert [t.alert.alertname for t in incident_alerts(state.events).refired] == ["IncidentErrors"]
    assert reconcile(state, report.alerts, complete=True, now=datetime.now(UTC)) == []
    store.close()
