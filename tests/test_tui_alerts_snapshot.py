"""Snapshots of the alerts panel at 80x24 (frozen clock): Assess with the page that opened
the incident, and Verify once it resolved. Regenerate after an intended change with
`pytest tests/test_tui_alerts_snapshot.py --snapshot-update`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from cockpit.core.alerts.incident import incident_alerts, opened_payload, resolved_payload
from cockpit.core.alerts.model import error_rate_alert
from cockpit.core.incident import Kind
from cockpit.core.runbook import Phase
from cockpit.core.store import EventStore
from cockpit.tui.panes.checklist import PhaseChecklist
from tests.tui_support import (
    FROZEN_NOW,
    frozen_clock,
    make_app,
    settle,
    stop_cursor_blink,
    write_config,
)


def alerted_app(tmp_path: Path, *, resolved: bool) -> Any:
    config = write_config(tmp_path)
    store = EventStore(config.store_path, clock=frozen_clock)
    page = error_rate_alert("checkout", FROZEN_NOW - timedelta(minutes=25))
    incident = store.create_incident(page.title(), "alice")
    store.append(incident.id, Kind.ALERT_ATTACHED, opened_payload(page, "alice"), "alice")
    if resolved:
        (tracked,) = incident_alerts(store.events(incident.id)).tracked
        payload = resolved_payload(tracked, now=FROZEN_NOW)
        store.append(incident.id, Kind.ALERT_RESOLVED, payload, "alice")
    store.close()
    return make_app(config)


async def _ready(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    stop_cursor_blink(pilot.app)  # type: ignore[arg-type]
    await pilot.pause()


def test_alert_in_assess_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(
        alerted_app(tmp_path, resolved=False), terminal_size=(80, 24), run_before=_ready
    )


def test_alert_resolved_in_verify_80x24(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _ready(pilot)
        pilot.app.query_one(PhaseChecklist).viewed = Phase.VERIFY
        await _ready(pilot)

    assert snap_compare(
        alerted_app(tmp_path, resolved=True), terminal_size=(80, 24), run_before=run_before
    )
