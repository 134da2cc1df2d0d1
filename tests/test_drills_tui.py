"""A drill end to end in the cockpit at speed 10: drill clock, DRILL banner, injects on the
timeline as the replay records them, and the debrief of what was done in the app."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.widgets import RichLog

from cockpit.core.config import load_config_file
from cockpit.core.drills.debrief import debrief_sandbox
from cockpit.core.drills.runner import DrillClock, DrillReplay, open_drill_incident
from cockpit.core.drills.scenarios import find_scenario
from cockpit.core.incident import Kind
from cockpit.core.store import EventStore
from cockpit.tui.app import CockpitApp
from cockpit.tui.panes.deploys import DeploysPane
from cockpit.tui.widgets import IncidentHeader
from tests.drills_support import NOW, ManualClock, build
from tests.tui_support import settle, workers_done


def timeline_text(app: CockpitApp) -> str:
    """The timeline's text with its wrapping undone (single spaces)."""
    text = " ".join(strip.text for strip in app.query_one("#timeline-log", RichLog).lines)
    return " ".join(text.split())


async def test_a_drill_at_speed_10_in_the_cockpit(tmp_path: Path) -> None:
    scenario = find_scenario("checkout-5xx")
    info = build(tmp_path / "box", scenario)
    wall = ManualClock(NOW)
    clock = DrillClock(info.now, speed=10, wall=wall)
    clock.start()
    incident_id = open_drill_incident(info, scenario, speed=10, clock=clock)
    config = load_config_file(info.config_path)
    store = EventStore(config.store_path, clock=clock)
    replay = DrillReplay(info, scenario, store, incident_id)
    app = CockpitApp(config, clock=clock, incident_id=incident_id)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.state is not None and app.state.drill
        assert " DRILL " in str(app.query_one(IncidentHeader).render())
        wall.moment += timedelta(seconds=24)  # 4 drill minutes: the first inject is due
        assert replay.step(clock()).injects == [scenario.injects[0].text]
        app._poll_store()  # what the app's poll interval does
        await settle(pilot)
        assert scenario.injects[0].text in timeline_text(app)
        assert "14:35:00Z drill-facilitator drill.inject: Support:" in timeline_text(app)
        # A decision taken in the app is stamped in drill time.
        app.record(Kind.DECLARED, {"severity": "SEV2"})
        await settle(pilot)
        wall.moment += timedelta(seconds=48)  # 12 drill minutes: the second inject
        assert replay.step(clock()).injects == [scenario.injects[1].text]
        app._poll_store()
        await settle(pilot)
        assert scenario.injects[1].text in timeline_text(app)
        assert "14:43:00Z" in str(app.query_one(IncidentHeader).render())  # drill time
        # The Deploys pane's top candidate, copied (never run), then the human decision.
        deploys = app.query_one(DeploysPane)
        await workers_done(app)
        assert deploys.selected() is not None
        deploys.action_copy_command("rollback")
        await settle(pilot)
        app.record(Kind.CONTAINED, {"detail": "rolled back checkout"})
        await settle(pilot)
        wall.moment += timedelta(seconds=30)
        assert replay.step(clock()).recovered  # the right rollback ends the fault
    store.close()
    report = debrief_sandbox(info.directory)
    assert report.times["declare"] == 4.0
    assert report.part("declare").points == 5
    assert report.part("severity").points == 5  # SEV2 fits a third of checkouts failing
    assert report.part("rollback target").points == 20
    assert report.part("contain").points == 10 and report.times["contain"] == 12.0
    assert "1 command(s)" in report.executed_nothing
