"""The live drill: drill clock, log minutes, injects and deploys at their scaled times,
recovery only after the right containment, and the background thread."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from cockpit.core.alerts.incident import incident_alerts
from cockpit.core.config import load_config_file
from cockpit.core.deploys import list_deploys
from cockpit.core.drills.runner import (
    ALERT_RESOLVE_DELAY,
    DRILL_MARKER,
    FACILITATOR,
    DrillClock,
    DrillReplay,
    ReplayThread,
    open_drill_incident,
)
from cockpit.core.drills.scenarios import find_scenario
from cockpit.core.incident import Kind
from cockpit.core.store import EventStore
from tests.drills_support import NOW, ManualClock, build, open_script


def test_drill_clock_scales_wall_time_from_the_sandbox_now() -> None:
    wall = ManualClock(NOW + timedelta(hours=3))
    clock = DrillClock(NOW, speed=10, wall=wall)
    assert clock() == NOW  # before the start, the drill stands at its `now`
    clock.start()
    wall.moment += timedelta(seconds=30)
    assert clock() == NOW + timedelta(minutes=5)


def test_injects_logs_and_deploys_arrive_at_their_scaled_times(tmp_path: Path) -> None:
    scenario = find_scenario("payments-503s")  # injects at 5 and 15 min, a deploy at 18 min
    info = build(tmp_path / "box", scenario)
    wall = ManualClock(NOW)
    clock = DrillClock(info.now, speed=10, wall=wall)
    clock.start()
    incident_id = open_drill_incident(info, scenario, speed=10, clock=clock)
    store = EventStore(info.directory / "incidents.db", clock=clock)
    replay = DrillReplay(info, scenario, store, incident_id)
    log = info.directory / "logs" / "payments" / "payments.log"
    size = log.stat().st_size
    deploy_lines = (info.directory / "deploys.jsonl").read_text().count("\n")

    def step_at(wall_seconds: float) -> list[str]:
        wall.moment = NOW + timedelta(seconds=wall_seconds)
        return replay.step(clock()).injects

    assert step_at(29) == [] and replay.replayer.next_minute == info.now + timedelta(minutes=4)
    assert log.stat().st_size > size  # four whole drill minutes were appended
    assert step_at(30) == [scenario.injects[0].text]  # 5 drill minutes = 30 s at x10
    assert step_at(89) == []
    assert (info.directory / "deploys.jsonl").read_text().count("\n") == deploy_lines
    assert step_at(90) == [scenario.injects[1].text]
    result = replay.step(clock() + timedelta(minutes=3))  # 18 drill minutes
    assert result.deploys == [
        "inventory revision " + result.deploys[0].split()[2] + " at 14:49 UTC by deploy-bot"
    ]
    last = json.loads((info.directory / "deploys.jsonl").read_text().splitlines()[-1])
    assert last["service"] == "inventory" and last["time"] == "2026-11-28T14:49:00Z"
    listing = list_deploys(load_config_file(info.config_path), service="inventory")
    assert listing.deploys[0].time == NOW + timedelta(minutes=18) and not listing.errors
    injects = [e for e in store.events(incident_id) if e.kind == Kind.INJECT]
    assert [e.payload["summary"] for e in injects] == [i.text for i in scenario.injects]
    assert all(e.author == FACILITATOR for e in injects)
    assert [e.ts for e in injects] == [NOW + timedelta(minutes=5), NOW + timedelta(minutes=15)]
    marker = json.loads((info.directory / DRILL_MARKER).read_text())
    assert marker["incident"] == incident_id and marker["speed"] == 10
    store.close()


def _error_ratio(lines: list[str]) -> float:
    requests = [line for line in lines if "status=" in line]
    errors = [line for line in requests if "status=5" in line]
    return len(errors) / max(1, len(requests))


def test_the_fault_stops_only_after_the_right_containment(tmp_path: Path) -> None:
    scenario = find_scenario("checkout-5xx")
    outcomes = {}
    rollbacks: dict[str, list[str]] = {}
    listings = {}
    targets = {}
    alerts = {}
    for case in ("right", "wrong"):
        info = build(tmp_path / case, scenario)
        script = open_script(info, scenario)
        replay = DrillReplay(info, scenario, script.store, script.incident_id)
        target = script.truth.target_sha if case == "right" else script.truth.culprit_sha
        targets[case] = target
        script.rollback(2, "checkout", target)
        script.at(3, Kind.CONTAINED, {"detail": "rolled back"})
        result = replay.step(NOW + timedelta(minutes=30))
        log = info.directory / "logs" / "checkout" / "checkout.log"
        # checkout's lines start with an ISO timestamp: keep drill minutes 10..30.
        tail = [line for line in log.read_text().splitlines() if line[:16] >= "2026-11-28T14:41"]
        outcomes[case] = (result.recovered, _error_ratio(tail))
        rollbacks[case] = result.deploys
        listings[case] = list_deploys(load_config_file(info.config_path), service="checkout")
        alerts[case] = incident_alerts(script.store.events(script.incident_id))
        script.store.close()
    assert outcomes["right"][0] is True and outcomes["right"][1] < 0.05
    assert outcomes["wrong"][0] is False and outcomes["wrong"][1] > 0.1
    # The right rollback also lands in the deploy log, attributed to whoever contained it.
    right = listings["right"].deploys[0]
    assert right.sha == targets["right"] and right.actor == "alice"
    assert right.time == NOW + timedelta(minutes=3)
    assert rollbacks["right"] == [
        f"checkout rolled back to {right.short_sha} at {right.time:%H:%M} UTC by alice"
    ]
    assert rollbacks["wrong"] == [] and listings["wrong"].deploys[0].time < NOW
    # The drill's page is a real alert: it resolves a few minutes after the right containment
    # (a fact for Verify), and keeps firing after the wrong one.
    (page,) = alerts["right"].tracked
    assert page.opened_from and page.alert.alertname == "HighErrorRate"
    assert page.resolved_at == NOW + timedelta(minutes=3) + ALERT_RESOLVE_DELAY
    assert not alerts["wrong"].tracked[0].resolved


def test_replay_thread_runs_until_the_drill_ends_and_can_be_stopped(tmp_path: Path) -> None:
    scenario = find_scenario("gateway-handshakes")
    info = build(tmp_path / "box", scenario)
    wall = ManualClock(NOW)
    clock = DrillClock(info.now, speed=10, wall=wall)
    clock.start()
    incident_id = open_drill_incident(info, scenario, speed=10, clock=clock)
    store = EventStore(info.directory / "incidents.db", clock=clock)
    wall.moment = NOW + timedelta(minutes=scenario.duration_minutes / 10)  # the drill's end
    thread = ReplayThread(DrillReplay(info, scenario, store, incident_id), clock=clock)
    thread.start()
    thread.join(timeout=30)  # finishes by itself: every inject is due
    assert not thread.is_alive() and thread.error is None
    injects = [e.payload for e in store.events(incident_id) if e.kind == Kind.INJECT]
    assert [p["summary"] for p in injects[:-1]] == [i.text for i in scenario.injects]
    assert injects[-1]["end"] is True and "40 minutes are up" in injects[-1]["summary"]
    # A thread that is still waiting stops at once when asked.
    wall.moment = NOW
    waiting = ReplayThread(DrillReplay(info, scenario, store, incident_id), clock=lambda: NOW)
    waiting.interval = 60
    waiting.start()
    waiting.stop()
    assert not waiting.is_alive()
    store.close()


def test_a_new_drill_closes_the_old_drill_incident_and_never_touches_real_ones(
    tmp_path: Path,
) -> None:
    scenario = find_scenario("checkout-5xx")
    info = build(tmp_path / "box", scenario)
    with EventStore(info.directory / "incidents.db") as store:
        real = store.create_incident("a real one", "alice")
    clock = ManualClock(NOW)
    first = open_drill_incident(info, scenario, speed=1, clock=clock)
    second = open_drill_incident(info, scenario, speed=1, clock=clock)
    with EventStore(info.directory / "incidents.db") as store:
        drills = store.incidents(drill=True)
        assert [d.id for d in drills if d.is_open] == [second]
        assert first in {d.id for d in drills}
        assert [r.id for r in store.incidents(drill=False)] == [real.id]
        assert store.current_incident(drill=False).id == real.id  # type: ignore[union-attr]
        assert store.current_incident(drill=True).id == second  # type: ignore[union-attr]
