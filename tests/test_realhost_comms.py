"""An incident opened from an alert on a host with no config: the alert's service label is
the affected service in the comms facts and drafts (made inert: a label is outside text)."""

from __future__ import annotations

from pathlib import Path

from cockpit.core.alerts.incident import attached_payload, opened_payload
from cockpit.core.alerts.model import synthetic_alert
from cockpit.core.comms.drafts import status_update
from cockpit.core.comms.facts import CommsFacts
from cockpit.core.incident import IncidentState, Kind
from tests.comms_support import at, build_demo_incident


def test_the_alerts_service_label_names_the_affected_services(tmp_path: Path) -> None:
    store, incident_id, clock = build_demo_incident(tmp_path / "s.db", until="14:36:00")
    page = synthetic_alert(
        alertname="HighErrorRate",
        service="checkout",
        severity="critical",
        summary="5xx",
        starts_at=at("14:21:00"),
    )
    later = synthetic_alert(
        alertname="Evil\x1b[2J",
        service="pay\x1b]52;c;eA==\x07ments",
        severity="warning",
        summary="slow",
        starts_at=at("14:25:00"),
    )
    with store:
        store.append(incident_id, Kind.ALERT_ATTACHED, opened_payload(page, "alice"), "alice")
        store.append(incident_id, Kind.ALERT_ATTACHED, attached_payload(later, "same"), "alice")
        state = IncidentState.from_events(store.events(incident_id))
    facts = CommsFacts.from_state(state, now=clock.now)
    services = facts["services"]
    assert services.value == "checkout, pay\\x1b]52;c;eA==\\x07ments"
    assert services.source == (
        "from the service label of the alerts HighErrorRate, Evil\\x1b[2J "
        "(raised by Alertmanager); no error burst in the logs"
    )
    draft = status_update(facts)
    assert "checkout" in draft and "\x1b" not in draft
