"""Recovery comes from the data (issue 12, item 7): the error ratio back under the threshold, or
the incident's alerts resolved; UNVERIFIED until a human verifies it; time to recover uses it;
the share of requests hit counts only the impact window (comms facts, postmortem, debrief)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.core.alerts.incident import attached_payload, incident_alerts, resolved_payload
from cockpit.core.alerts.model import error_rate_alert
from cockpit.core.comms.facts import CommsFacts, read_log_facts
from cockpit.core.config import Config, HealthConfig, load_config_file
from cockpit.core.deploys.health import find_burst, find_recovery, series_from_counts
from cockpit.core.drills.debrief import impact_lines
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.review.postmortem import render_postmortem
from cockpit.core.store import EventStore
from tests.tui_support import FROZEN_NOW, make_app, settle
from tests.ux_support import flowing_text


def at(hhmmss: str) -> datetime:
    hour, minute, second = (int(part) for part in hhmmss.split(":"))
    return datetime(2026, 11, 28, hour, minute, second, tzinfo=UTC)


def write_logs(directory: Path, *, failing_until: int = 41, last_minute: int = 60) -> Config:
    """checkout in logfmt: 20 requests a minute from 14:00; 6 of them 5xx from 14:31 until
    `failing_until`, healthy after it."""
    lines = []
    for minute in range(last_minute):
        moment = at("14:00:00") + timedelta(minutes=minute)
        failing = 31 <= minute < failing_until
        for index in range(20):
            status = 503 if failing and index < 6 else 200
            stamp = (moment + timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            lines.append(f"{stamp} level=info service=checkout path=/api/checkout status={status}")
    (directory / "checkout.log").write_text("\n".join(lines) + "\n")
    (directory / "cockpit.toml").write_text(
        '[cockpit]\nstore = "incidents.db"\nauthor = "alice"\n\n'
        '[[sources]]\nkind = "files"\nname = "checkout"\nservice = "checkout"\n'
        'paths = ["checkout.log"]\n'
    )
    return load_config_file(directory / "cockpit.toml")


def incident(config: Config, *, verified: bool = False, resolved: bool = True) -> IncidentState:
    clock = [at("14:33:00")]
    store = EventStore(config.store_path, clock=lambda: clock[0])
    record = store.create_incident("Checkout 5xx", "alice")

    def add(when: str, kind: str, payload: dict[str, object]) -> None:
        clock[0] = at(when)
        store.append(record.id, kind, payload, "alice")

    add("14:35:00", Kind.DECLARED, {"severity": "SEV2"})
    add("14:38:00", Kind.CONTAINED, {"detail": "rolled back checkout"})
    if verified:
        add("14:50:00", Kind.ITEM_CHECKED, {"phase": "verify", "item": "5xx back", "checked": True})
    if resolved:
        add("14:55:00", Kind.RESOLVED, {"detail": "looks fine"})
    state = IncidentState.from_events(store.events(record.id))
    store.close()
    return state


def test_a_burst_recovers_when_errors_stay_under_the_threshold() -> None:
    health = HealthConfig()
    minutes = [at("14:00:00") + timedelta(minutes=n) for n in range(60)]

    def series(bad: set[int]) -> object:
        requests = {m: 20 for m in minutes}
        errors = {m: 6 for n, m in enumerate(minutes) if n in bad}
        return series_from_counts("checkout", requests, errors)

    step = series(set(range(31, 41)))
    burst = find_burst(step, health)  # type: ignore[arg-type]
    assert burst is not None
    assert find_recovery(step, burst, health) == at("14:41:00")  # type: ignore[arg-type]
    ongoing = series(set(range(31, 60)))
    assert find_recovery(ongoing, find_burst(ongoing, health), health) is None  # type: ignore[arg-type]
    # A lull of three minutes is not a recovery: the next stretch of five is.
    lull = series({*range(31, 41), *range(44, 50)})
    lull_burst = find_burst(lull, health)  # type: ignore[arg-type]
    assert lull_burst is not None
    assert find_recovery(lull, lull_burst, health) == at("14:50:00")  # type: ignore[arg-type]


def test_recovery_and_the_impact_window_come_from_the_logs(tmp_path: Path) -> None:
    config = write_logs(tmp_path)
    logs = read_log_facts(config, at("12:33:00"), at("15:00:00"))
    assert logs.recovered == at("14:41:00")
    assert logs.window == (at("14:31:00"), at("14:41:00"))
    # 10 minutes of 6 errors in 20 requests: 60 of 200. Counting to 15:00 would say 60 of 580.
    assert (logs.errors, logs.requests) == (60, 200)
    state = incident(config)
    facts = CommsFacts.from_state(state, now=at("15:00:00"), log_facts=logs)
    assert facts["share"].value == "about 30% of checkout requests"
    assert "impact window 14:31Z-14:41Z (onset to recovery)" in facts["share"].source
    recovered = facts["recovered"]
    assert recovered.value == "14:41 UTC" and recovered.at == at("14:41:00")
    assert recovered.source == (
        "from logs: errors back under the threshold (checkout 14:41Z);"
        " UNVERIFIED: no human has verified recovery yet"
    )
    (tmp_path / "v").mkdir()
    verified = incident(write_logs(tmp_path / "v"), verified=True)
    facts = CommsFacts.from_state(verified, now=at("15:00:00"), log_facts=logs)
    assert facts["recovered"].source.endswith(
        "; verified: 1 Verify checklist item(s) checked, the last by alice at 14:50Z"
    )


def test_still_failing_says_so(tmp_path: Path) -> None:
    config = write_logs(tmp_path, failing_until=60)
    logs = read_log_facts(config, at("12:33:00"), at("15:00:00"))
    assert logs.recovered is None
    facts = CommsFacts.from_state(
        incident(config, resolved=False), now=at("15:00:00"), log_facts=logs
    )
    assert facts["recovered"].value == ""
    assert facts["recovered"].source == (
        "not recovered yet: checkout not back under the error threshold for 5 minutes"
    )


def test_resolved_alerts_are_recovery_when_no_logs_say_so(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "s.db", clock=lambda: FROZEN_NOW)
    record = store.create_incident("Checkout 5xx", "alertmanager")
    for service in ("checkout", "gateway"):
        page = error_rate_alert(service, at("14:20:00"))
        store.append(record.id, Kind.ALERT_ATTACHED, attached_payload(page, "same"), "alice")

    def resolve(service: str, when: datetime) -> IncidentState:
        state = IncidentState.from_events(store.events(record.id))
        (tracked,) = (
            t for t in incident_alerts(state.events).tracked if t.alert.service == service
        )
        store.append(record.id, Kind.ALERT_RESOLVED, resolved_payload(tracked, now=when), "am")
        return IncidentState.from_events(store.events(record.id))

    one = resolve("checkout", at("14:40:00"))
    assert CommsFacts.from_state(one, now=FROZEN_NOW)["recovered"].value == ""  # gateway fires
    both = resolve("gateway", FROZEN_NOW)
    store.close()
    recovered = CommsFacts.from_state(both, now=FROZEN_NOW)["recovered"]
    assert recovered.value == "14:45 UTC"
    assert recovered.source.startswith("from the alerts: every alert resolved (Alertmanager")
    assert "UNVERIFIED" in recovered.source


def test_the_postmortem_and_debrief_tell_recovery_from_the_resolve(tmp_path: Path) -> None:
    config = write_logs(tmp_path)
    logs = read_log_facts(config, at("12:33:00"), at("15:00:00"))
    state = incident(config)
    facts = CommsFacts.from_state(state, now=at("15:00:00"), log_facts=logs)
    text = render_postmortem(state, facts, now=at("15:00:00"))
    assert (
        "| Time to recover | impact start 14:31Z | recovered 14:41Z (from logs, UNVERIFIED)"
        " | 10 min |" in text
    )
    assert "| Time to resolve | impact start 14:31Z | resolved 14:55Z by alice | 24 min |" in text
    assert "| Requests hit | about 30% of checkout requests |" in text
    lines = impact_lines(state.events, logs)
    assert lines[0] == "errors began 14:31Z on checkout"
    assert lines[1].startswith("recovered 14:41Z (10 min after the errors began): from logs")
    assert "UNVERIFIED" in lines[1]
    assert lines[2] == "resolved 14:55Z by alice (the decision)"
    assert lines[3].startswith("requests hit: about 30% of checkout requests")


async def test_the_comms_pane_shows_the_recovery_from_the_data_unverified(tmp_path: Path) -> None:
    config = write_logs(tmp_path, failing_until=37, last_minute=45)  # healthy 14:37-14:44
    incident(config, resolved=False)
    app = make_app(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot, rounds=10)
        await pilot.press("down", "down", "down", "down")  # `5` lands on the facts: to Recovered
        await pilot.pause()
        words = flowing_text(app)
        assert "Recovered 14:37 UTC from logs: errors back under the threshold" in words
        assert "UNVERIFIED: no human has verified recovery yet" in words


def test_a_chronically_noisy_service_recovers_to_its_usual_level() -> None:
    """Recovery is judged against the burst's own bar (the effect floors: the threshold, and
    the jump over the service's usual ratio), not a fixed ratio: a service that always has one
    error a minute in 60 requests (1.7%) recovers when it is back there."""
    health = HealthConfig()
    minutes = [at("12:00:00") + timedelta(minutes=n) for n in range(180)]
    requests = {m: 60 for m in minutes}
    errors = {m: 18 if 151 <= n < 161 else 1 for n, m in enumerate(minutes)}
    series = series_from_counts("checkout", requests, errors)
    burst = find_burst(series, health)
    assert burst is not None and burst.usual > health.error_ratio_threshold
    assert find_recovery(series, burst, health) == at("14:41:00")
