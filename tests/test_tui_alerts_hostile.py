"""The alerts panel and the Sources view on a real host's bad day: an alert storm of
thousands, the Sources view opened before discovery answered, a remapped Sources key."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult

from cockpit.core.alerts.alertmanager import AlertmanagerStatus, AlertsReport
from cockpit.core.alerts.incident import opened_payload
from cockpit.core.alerts.model import parse_alert
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.runbook import Phase
from cockpit.core.store import Event
from cockpit.tui.panes.alerts import MAX_ROWS, AlertList, AlertsPanel, OpenFromAlertScreen
from cockpit.tui.panes.checklist import PhaseChecklist
from cockpit.tui.sources import SourcesScreen
from tests.alertmanager_support import alert_json, free_port, running_alertmanager
from tests.tui_support import FROZEN_NOW, frozen_clock, make_app, settle, write_config

STORM = 5000


def _storm() -> tuple[Any, ...]:
    alerts = []
    for number in range(STORM):
        alert = parse_alert(
            {
                "fingerprint": f"{number:016x}",
                "labels": {"alertname": f"Storm{number}", "severity": "warning"},
                "startsAt": (FROZEN_NOW - timedelta(minutes=number % 60)).isoformat(),
                "status": {"state": "active"},
            },
            origin="am",
        )
        assert alert is not None
        alerts.append(alert)
    return tuple(alerts)


class PanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AlertsPanel(frozen_clock, id="alerts-panel")


async def test_an_alert_storm_lists_the_incidents_alert_first_and_counts_the_rest() -> None:
    """Thousands of alerts are never laid out one by one on the UI thread: the panel lists
    MAX_ROWS (the incident's own first) and says how many more `cockpit alerts` would show."""
    alerts = _storm()
    ours = alerts[-1]  # the oldest, the weakest: it would sort last
    opened = Event(
        seq=1,
        id="e1",
        incident_id="i1",
        ts=FROZEN_NOW,
        author="alice",
        kind=Kind.ALERT_ATTACHED,
        payload=opened_payload(ours, "alice"),
    )
    app = PanelApp()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(AlertsPanel)
        panel.incident = IncidentState.from_events([opened])
        panel.report = AlertsReport(
            alerts=alerts, statuses=(AlertmanagerStatus("am", "http://am", count=STORM),)
        )
        panel._render_rows()
        await pilot.pause()
        options = app.query_one(AlertList).options
        assert len(options) == MAX_ROWS + 1
        assert str(options[0].prompt).startswith(f"● WARN {ours.alertname} ")
        last = options[-1]
        assert last.disabled
        assert str(last.prompt) == (
            f"… {STORM - MAX_ROWS} more alerts not listed here (`cockpit alerts` lists them all)"
        )
        # The keys act on listed alerts only: the count line is never an alert.
        app.query_one(AlertList).focus()
        app.query_one(AlertList).highlighted = MAX_ROWS - 1
        await pilot.press("down")
        selected = panel.selected()
        assert selected is not None and selected.alert is not None


@pytest.fixture
def held_discovery(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> threading.Event:
    """A config-less start on an empty host whose discovery waits for the test's release."""
    import cockpit.core.discovery as discovery

    empty = tmp_path / "host"
    empty.mkdir()
    monkeypatch.setenv("COCKPIT_DISCOVERY_ROOT", str(empty))
    monkeypatch.setenv("ALERTMANAGER_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    monkeypatch.delenv("LOKI_ADDR", raising=False)
    monkeypatch.chdir(tmp_path)
    release = threading.Event()
    real = discovery.discover

    def held_discover(**kwargs: Any) -> Any:
        release.wait(30)  # a liveness bound: the test releases it
        return real(refresh=True, deadline=10, probe_timeout=3, **kwargs)

    monkeypatch.setattr(discovery, "discover", held_discover)
    return release


async def test_sources_opened_before_discovery_answered_waits_for_it(
    tmp_path: Path, held_discovery: threading.Event
) -> None:
    config = write_config(tmp_path)
    app = make_app(config, discover=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.discovering
        await pilot.press("I")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SourcesScreen)
        summary = str(screen.query_one("#sources-summary").render())
        assert "discovering" in summary and "From the config" not in summary
        held_discovery.set()
        await settle(pilot)
        summary = str(screen.query_one("#sources-summary").render())
        assert summary.startswith("No config file: discovered on this host")
        rows = "\n".join(str(w.render()) for w in screen.query(".source-row"))
        assert "(discovered)" in rows and "is not in a git repository" in rows
        await pilot.press("I")  # the key that opened it closes it
        await pilot.pause()
        assert not isinstance(app.screen, SourcesScreen)


async def test_the_no_alertmanager_note_names_the_sources_key_as_remapped(
    tmp_path: Path, held_discovery: threading.Event
) -> None:
    config = write_config(tmp_path, extra='[keymap]\nsources = "F"\n')
    app = make_app(config, discover=True)
    # Every notice said, whether or not it has timed out yet (a loaded machine is slow).
    messages: list[str] = []
    notify = app.notify

    def recording_notify(message: str, *args: Any, **kwargs: Any) -> None:
        messages.append(str(message))
        notify(message, *args, **kwargs)

    app.notify = recording_notify  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        held_discovery.set()
        await settle(pilot)
        note = app.query_one(PhaseChecklist).alerts_note
        assert note.startswith("no Alertmanager: nothing answered on http://127.0.0.1:")
        assert note.endswith("(F: sources)")
        assert any(m.startswith("discovered: 0 log sources") for m in messages), messages
        assert any(m.endswith("F shows why)") for m in messages), messages
        await pilot.press("F")
        await pilot.pause()
        assert isinstance(app.screen, SourcesScreen)


async def test_o_on_the_phases_pane_opens_the_incident_from_the_top_alert(
    tmp_path: Path,
) -> None:
    """At 80x24 the Phases pane opens with the checklist focused: `o` (as the footer and the
    key map say) still opens the incident from the highlighted alert, after the human's
    choice; in a phase that does not list alerts it does nothing."""
    with running_alertmanager(tmp_path / "am") as alertmanager:
        alertmanager.post(
            alert_json("KeyHighErrorRate", service="keycheckout", summary="\x1b[2J5xx")
        )
        alertmanager.wait_for(lambda alerts: len(alerts) == 1)
        config = write_config(tmp_path, extra=f'[[alertmanagers]]\nurl = "{alertmanager.url}"\n')
        app = make_app(config)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            phases = app.query_one(PhaseChecklist)
            assert app.focused is not None and app.focused.id == "checklist-items"
            phases.viewed = Phase.DIAGNOSE
            await pilot.pause()
            await pilot.press("o")
            await pilot.pause()
            assert not isinstance(app.screen, OpenFromAlertScreen)
            phases.viewed = Phase.ASSESS
            await pilot.pause()
            await pilot.press("o")
            await settle(pilot)
            assert isinstance(app.screen, OpenFromAlertScreen)
            await pilot.press("enter")
            await settle(pilot)
            assert app.state is not None
            assert app.state.title == "KeyHighErrorRate: keycheckout (critical)"
            assert app.state.events[-1].kind == Kind.ALERT_ATTACHED
            assert app.focused is not None and app.focused.id == "alerts-list"


def test_a_docker_hit_shows_its_text_not_a_64_character_container_id() -> None:
    """On a Docker host every json-file log is named after the container's 64-hex id: the
    results line names it as `docker ps` does, so the log text fits at 80 columns."""
    from cockpit.core.search.model import Hit
    from cockpit.tui.panes.hit_log import line_of

    container = "4f" * 32
    hit = Hit(
        "docker-web-1",
        "GET /cart 500",
        file=f"/var/lib/docker/containers/{container}/{container}-json.log.1",
        line_no=3,
    )
    assert line_of(hit) == "--:--:-- 4f4f4f4f4f4f-json.log.1:3 GET /cart 500"
    plain = Hit("syslog", "x", file="/var/log/4f4f.log", line_no=1)
    assert line_of(plain) == "--:--:-- 4f4f.log:1 x"
