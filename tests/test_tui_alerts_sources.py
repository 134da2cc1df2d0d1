"""Pilot tests: a config-less start discovers in the background; alerts from a real
Alertmanager in Assess, an incident opened from one, copy, resolution and re-fire; Sources."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.core.config import Config
from cockpit.core.incident import Kind
from cockpit.core.runbook import Phase
from cockpit.core.store import EventStore
from cockpit.tui.app import CockpitApp
from cockpit.tui.panes.alerts import AlertList, AlertsPanel, OpenFromAlertScreen
from cockpit.tui.panes.checklist import PhaseChecklist
from cockpit.tui.panes.slot import PaneSlot
from cockpit.tui.sources import SourcesScreen
from tests.alertmanager_support import RealAlertmanager, alert_json, free_port, running_alertmanager
from tests.tui_support import make_app, settle, write_config

URL = "http://prometheus.internal:9090/graph?g0.expr=job%3Acheckout%3Aerrors"


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealAlertmanager]:
    with running_alertmanager(tmp_path_factory.mktemp("am")) as am:
        yield am


def events(config: Config, incident_id: str | None = None) -> list[Any]:
    store = EventStore(config.store_path)
    try:
        record = store.incident(incident_id) if incident_id else store.current_incident()
        assert record is not None
        return store.events(record.id)
    finally:
        store.close()


def panel_rows(app: CockpitApp) -> list[str]:
    return [str(option.prompt) for option in app.query_one(AlertList).options]


async def test_no_config_discovers_in_the_background_and_says_what_it_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host with no readable logs: the app still opens at once, then says what it found."""
    import cockpit.core.discovery as discovery

    empty = tmp_path / "host"
    empty.mkdir()
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("COCKPIT_DISCOVERY_ROOT", str(empty))
    monkeypatch.setenv("ALERTMANAGER_URL", closed)
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    monkeypatch.delenv("LOKI_ADDR", raising=False)
    monkeypatch.chdir(tmp_path)  # not a git checkout
    release = threading.Event()
    real = discovery.discover

    def held_discover(**kwargs: Any) -> Any:
        release.wait(30)  # a liveness bound: the test releases it
        # Generous deadlines: what is tested is what it says, not how fast (see bench/).
        return real(refresh=True, deadline=10, probe_timeout=3, **kwargs)

    monkeypatch.setattr(discovery, "discover", held_discover)
    config = write_config(tmp_path)
    app = make_app(config, discover=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # The first frame is up and the incident opens while discovery is still running.
        assert app.query_one(PhaseChecklist).is_mounted
        assert app.discovering and app.discovery is None
        assert all(slot.inner is None for slot in app.query(PaneSlot))
        await pilot.press("2")  # a pane asked for early waits for discovery, it does not break
        release.set()
        await settle(pilot)
        assert app.discovery is not None and not app.discovering
        assert all(slot.inner is not None for slot in app.query(PaneSlot))
        messages = [str(n.message) for n in app._notifications]
        assert any(m.startswith("discovered: 0 log sources") for m in messages), messages
        await pilot.press("alt+1")  # the Logs pane's search box has focus: alt+1 works there
        await pilot.pause()
        panel = app.query_one(AlertsPanel)
        title = str(panel.query_one("#alerts-title").render())
        assert f"no Alertmanager: nothing answered on {closed}" in title
        assert panel.has_class("-shown") and panel.has_class("-phase")

        await pilot.press("I")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SourcesScreen)
        shown = "\n".join(str(w.render()) for w in screen.query(".source-row"))
        assert f"{empty.resolve()}/var/log does not exist" in shown
        assert "is not in a git repository" in shown
        assert "(discovered)" in shown and "error" in shown  # $ALERTMANAGER_URL: an error row
        await pilot.press("escape")
        assert not isinstance(app.screen, SourcesScreen)


async def test_alerts_in_assess_open_an_incident_copy_resolve_and_refire(
    tmp_path: Path, alertmanager: RealAlertmanager
) -> None:
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=14)
    hostile = "5xx \x1b[2J above 5% [@click=app.quit]x[/]"
    firing = alert_json(
        "TuiHighErrorRate",
        service="tuicheckout",
        summary=hostile,
        starts_at=started,
        generator_url=URL,
    )
    alertmanager.post(firing)
    alertmanager.wait_for(
        lambda alerts: any(
            a["labels"]["alertname"] == "TuiHighErrorRate" and a["status"]["state"] == "active"
            for a in alerts
        )
    )
    config = write_config(
        tmp_path, extra=f'[[alertmanagers]]\nurl = "{alertmanager.url}"\nname = "am1"\n'
    )
    app = make_app(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        panel = app.query_one(AlertsPanel)
        rows = panel_rows(app)
        ours = next(r for r in rows if "TuiHighErrorRate" in r)
        assert "CRIT" in ours and "tuicheckout" in ours
        assert "\\x1b[2J" in ours and "[@click=" in ours  # visible, never markup
        index = next(i for i, r in enumerate(rows) if "TuiHighErrorRate" in r)
        app.query_one(AlertList).focus()
        app.query_one(AlertList).highlighted = index
        await pilot.pause()

        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OpenFromAlertScreen)
        await pilot.press("enter")  # the only choice for an untitled, empty incident: adopt it
        await settle(pilot)
        assert app.state is not None
        assert app.state.title == "TuiHighErrorRate: tuicheckout (critical)"
        kinds = [e.kind for e in events(config)]
        assert kinds[-2:] == [Kind.RENAMED, Kind.ALERT_ATTACHED]
        attached = events(config)[-1]
        assert attached.author == "alice" and attached.payload["opened_from"] is True
        assert attached.payload["summary"] == (
            "incident opened from alert TuiHighErrorRate (tuicheckout, critical) by alice"
        )

        await pilot.press("y")
        await settle(pilot)
        assert app.clipboard == URL
        copied = [e for e in events(config) if e.kind == Kind.COMMAND_COPIED]
        assert copied[-1].payload["text"] == URL
        assert copied[-1].payload["detail"]["kind"] == "alert-url"

        # Resolved in Alertmanager: Verify shows when, and the event log has it.
        alertmanager.post(
            {**firing, "endsAt": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}
        )
        alertmanager.wait_for(
            lambda alerts: not any(a["labels"]["alertname"] == "TuiHighErrorRate" for a in alerts)
        )
        panel.action_refresh()
        await settle(pilot)
        resolved = [e for e in events(config) if e.kind == Kind.ALERT_RESOLVED]
        assert len(resolved) == 1 and resolved[0].payload["alertname"] == "TuiHighErrorRate"
        phases = app.query_one(PhaseChecklist)
        phases.viewed = Phase.VERIFY
        await pilot.pause()
        assert panel.has_class("-phase")
        assert any("TuiHighErrorRate" in r and "resolved" in r for r in panel_rows(app))
        phases.viewed = Phase.CONTAIN
        await pilot.pause()
        assert not panel.has_class("-phase")

        # It fires again after the fix: recorded and flagged loudly.
        alertmanager.post(alert_json("TuiHighErrorRate", service="tuicheckout", generator_url=URL))
        alertmanager.wait_for(
            lambda alerts: any(a["labels"]["alertname"] == "TuiHighErrorRate" for a in alerts)
        )
        panel.action_refresh()
        await settle(pilot)
        refired = [e for e in events(config) if e.kind == Kind.ALERT_REFIRED]
        assert len(refired) == 1
        errors = [str(n.message) for n in app._notifications if n.severity == "error"]
        assert any(m.startswith("RE-FIRED: alert TuiHighErrorRate") for m in errors)
        assert panel.has_class("-refired")
        assert any("RE-FIRED after the fix" in r for r in panel_rows(app))
        # Asked once: another read does not record it again.
        panel.action_refresh()
        await settle(pilot)
        assert len([e for e in events(config) if e.kind == Kind.ALERT_REFIRED]) == 1


async def test_an_alert_on_a_named_incident_opens_a_new_one_and_switches(
    tmp_path: Path, alertmanager: RealAlertmanager
) -> None:
    alertmanager.post(alert_json("TuiDiskFull", service="tuidb", severity="warning"))
    alertmanager.wait_for(
        lambda alerts: any(a["labels"]["alertname"] == "TuiDiskFull" for a in alerts)
    )
    config = write_config(tmp_path, extra=f'[[alertmanagers]]\nurl = "{alertmanager.url}"\n')
    app = make_app(config, new_incident_title="Payments latency")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.state is not None
        first = app.state.incident_id
        rows = panel_rows(app)
        app.query_one(AlertList).focus()
        app.query_one(AlertList).highlighted = next(
            i for i, r in enumerate(rows) if "TuiDiskFull" in r
        )
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OpenFromAlertScreen)
        await pilot.press("enter")  # the first choice: a new incident from the alert
        await settle(pilot)
        assert app.state is not None and app.state.incident_id != first
        assert app.state.title == "TuiDiskFull: tuidb (warning)"
        new_events = events(config, app.state.incident_id)
        assert [e.kind for e in new_events] == [Kind.OPENED, Kind.ALERT_ATTACHED]
        assert all(e.kind != Kind.ALERT_ATTACHED for e in events(config, first))
