"""Comms facts: derived from the timeline and the logs, each with its source; humans edit them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.core.comms.events import FACT_SET, fact_set_payload
from cockpit.core.comms.facts import (
    CommsFacts,
    CommsStatus,
    LogFacts,
    ceil_minutes,
    log_window,
    parse_time_text,
    read_log_facts,
)
from cockpit.core.config import Config, load_config_file
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.signals import SuspectDeploy
from tests.comms_support import DAY, at, build_demo_incident, demo_state


def test_facts_from_the_timeline_name_their_source(tmp_path: Path) -> None:
    state, clock = demo_state(tmp_path / "s.db", until="14:36:00")
    facts = CommsFacts.from_state(state, now=clock.now)
    assert facts["start"].value == "14:35 UTC"
    assert facts["start"].source == "from the timeline: declared by alice at 14:35Z"
    assert facts["impact"].value == "Partial outage"
    assert "SEV2 declared by alice" in facts["impact"].source
    assert not facts["contained"].known and not facts["recovered"].known
    assert facts["share"].value == ""
    assert facts["share"].source.startswith("unknown")
    assert facts.status == CommsStatus.INVESTIGATING


def test_an_alert_that_says_when_the_failure_began_sets_the_start(tmp_path: Path) -> None:
    store, incident_id, clock = build_demo_incident(tmp_path / "s.db", until="14:36:00")
    with store:
        store.append(
            incident_id,
            "alert.fired",
            {"summary": "checkout 5xx", "started_at": "2026-11-28T14:21:00Z"},
            "alertmanager",
        )
        state = IncidentState.from_events(store.events(incident_id))
    facts = CommsFacts.from_state(state, now=clock.now)
    assert facts["start"].value == "14:21 UTC"
    assert facts["start"].source == "from the alert raised by alertmanager: failing since 14:21Z"


def test_logs_date_the_start_and_the_alert_is_named_beside_them(tmp_path: Path) -> None:
    """The first error in the logs is when customers were hit; the alert (which fires after
    its `for:` delay) is named in the same source, so nobody has to choose between them."""
    store, incident_id, clock = build_demo_incident(tmp_path / "s.db", until="14:36:00")
    with store:
        store.append(
            incident_id,
            "alert.fired",
            {"summary": "checkout 5xx", "started_at": "2026-11-28T14:21:00Z"},
            "alertmanager",
        )
        state = IncidentState.from_events(store.events(incident_id))
    logs = LogFacts(
        first_error=at("14:17:00"),
        first_error_service="checkout",
        errors=30,
        requests=100,
        window=(at("14:17:00"), at("14:36:00")),
    )
    facts = CommsFacts.from_state(state, now=clock.now, log_facts=logs)
    assert facts["start"].value == "14:17 UTC"
    assert facts["start"].source == (
        "from logs: first errors of the burst on checkout; "
        "the alert raised by alertmanager says failing since 14:21Z"
    )


def test_contained_needs_a_human_and_names_the_rollback(tmp_path: Path) -> None:
    state, clock = demo_state(tmp_path / "a.db", until="14:41:00")
    facts = CommsFacts.from_state(state, now=clock.now)
    assert not facts["contained"].known
    assert facts["contained"].source == (
        "rollback copied by bob at 14:40Z; not yet marked contained by a human"
    )
    assert facts.status == CommsStatus.IDENTIFIED
    state, clock = demo_state(tmp_path / "b.db", until="14:44:00")
    facts = CommsFacts.from_state(state, now=clock.now)
    assert facts["contained"].at == at("14:44:00")
    assert "rollback copied by bob at 14:40Z, marked contained by alice" in (
        facts["contained"].source
    )
    assert facts.status == CommsStatus.MONITORING


def test_contained_without_a_rollback_says_so(tmp_path: Path) -> None:
    store, incident_id, clock = build_demo_incident(tmp_path / "s.db", until="14:36:00")
    with store:
        clock.now = at("14:50:00")
        store.append(incident_id, Kind.CONTAINED, {"detail": "feature flag off"}, "carol")
        state = IncidentState.from_events(store.events(incident_id))
    facts = CommsFacts.from_state(state, now=clock.now)
    assert facts["contained"].value == "14:50 UTC"
    assert "marked contained by carol at 14:50Z (no rollback copy recorded)" in (
        facts["contained"].source
    )


def test_every_fact_can_be_edited_and_reset(tmp_path: Path) -> None:
    store, incident_id, clock = build_demo_incident(tmp_path / "s.db", until="14:36:00")
    with store:
        for name, value in [
            ("status", "identified"),
            ("impact", "Checkout slow for EU customers"),
            ("start", "2026-11-28 14:29"),
            ("contained", "14:45"),
            ("recovered", "shortly after 15:00"),
            ("share", "about 3%"),
            ("services", "checkout, payments"),
            ("next_update", "15:20 UTC"),
        ]:
            clock.now += timedelta(seconds=10)
            store.append(incident_id, FACT_SET, fact_set_payload(name, name, value), "bob")
        state = IncidentState.from_events(store.events(incident_id))
        facts = CommsFacts.from_state(state, now=clock.now)
        assert all(fact.edited and fact.source.startswith("edited by bob at ") for fact in facts)
        assert facts.status == CommsStatus.IDENTIFIED
        assert facts["start"].at == datetime(2026, 11, 28, 14, 29, tzinfo=UTC)
        assert facts["contained"].value == "14:45 UTC"
        assert facts["recovered"].at is None  # free text is kept as the human wrote it
        assert facts["recovered"].value == "shortly after 15:00"
        assert facts["next_update"].at == at("15:20:00")
        # An empty value drops the edit: the derived value and its source come back.
        store.append(incident_id, FACT_SET, fact_set_payload("start", "Started", ""), "bob")
        state = IncidentState.from_events(store.events(incident_id))
    facts = CommsFacts.from_state(state, now=clock.now)
    assert not facts["start"].edited
    assert facts["start"].source.startswith("from the timeline: declared by alice")


def test_an_edit_that_is_not_a_status_is_ignored_visibly(tmp_path: Path) -> None:
    store, incident_id, clock = build_demo_incident(tmp_path / "s.db", until="14:36:00")
    with store:
        store.append(incident_id, FACT_SET, fact_set_payload("status", "Status", "panic"), "bob")
        state = IncidentState.from_events(store.events(incident_id))
    facts = CommsFacts.from_state(state, now=clock.now)
    assert facts.status == CommsStatus.INVESTIGATING
    assert "edit 'panic' ignored" in facts["status"].source


def test_next_update_follows_the_cadence_until_monitoring(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "a.db", until="14:36:00")
    facts = CommsFacts.from_state(state, now=at("14:37:20"))
    # The first update is due 30 min after declaring (14:35): the draft promises that time.
    assert facts["next_update"].at == at("15:05:00")
    assert "first update, 30 min after the incident was declared" in facts["next_update"].source
    # Less than half a cadence before it is due, the draft is that update: it promises the
    # next one a cadence from now (14:52 + 30 min, up to 5 min).
    late = CommsFacts.from_state(state, now=at("14:52:00"))
    assert late["next_update"].at == at("15:25:00")
    assert "this draft is the update due 15:05 UTC" in late["next_update"].source
    state, clock = demo_state(tmp_path / "b.db", until="14:44:00")
    facts = CommsFacts.from_state(state, now=clock.now)
    assert not facts["next_update"].known
    assert "Monitoring" in facts["next_update"].source


def test_time_helpers() -> None:
    assert ceil_minutes(at("14:35:00")) == at("14:35:00")
    assert ceil_minutes(at("14:35:01")) == at("14:40:00")
    assert ceil_minutes(at("14:58:00")) == at("15:00:00")
    assert parse_time_text("14:31", DAY) == at("14:31:00")
    assert parse_time_text(" 9:05 utc ", DAY) == at("09:05:00")
    assert parse_time_text("2026-11-27T23:59Z", DAY) == datetime(2026, 11, 27, 23, 59, tzinfo=UTC)
    assert parse_time_text("25:00", DAY) is None
    assert parse_time_text("about 14:31", DAY) is None


def write_logs(directory: Path) -> Config:
    """A checkout log in logfmt: 20 requests a minute, 5xx from 14:31 on for 10 minutes."""
    lines = []
    for minute in range(40):
        moment = at("14:00:00") + timedelta(minutes=minute)
        failing = 31 <= minute < 41
        for index in range(20):
            status = 503 if failing and index < 6 else 200
            stamp = (moment + timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            lines.append(f"{stamp} level=info service=checkout path=/api/checkout status={status}")
    (directory / "checkout.log").write_text("\n".join(lines) + "\n")
    (directory / "cockpit.toml").write_text(
        '[cockpit]\nstore = "incidents.db"\n\n'
        '[[sources]]\nkind = "files"\nname = "checkout"\nservice = "checkout"\n'
        'paths = ["checkout.log"]\n'
    )
    return load_config_file(directory / "cockpit.toml")


def test_facts_from_the_logs(tmp_path: Path) -> None:
    config = write_logs(tmp_path)
    state, _clock = demo_state(tmp_path / "s.db", until="14:36:00")
    since, until = log_window(state, at("14:40:00"))
    assert since == at("12:33:00")
    log_facts = read_log_facts(config, since, until)
    assert log_facts.notes == ()
    assert log_facts.first_error == at("14:31:00")
    assert log_facts.services == ("checkout",)
    # 14:31..14:39 inclusive: 9 minutes of 6 errors in 20 requests.
    assert (log_facts.errors, log_facts.requests) == (54, 180)
    facts = CommsFacts.from_state(state, now=at("14:40:00"), log_facts=log_facts)
    assert facts["start"].value == "14:31 UTC"
    assert facts["start"].source == "from logs: first errors of the burst on checkout"
    assert facts["share"].value == "about 30% of checkout requests"
    assert facts["share"].source == (
        "from logs: 54 of 180 checkout request lines were errors in the impact window"
        " 14:31Z-14:40Z (onset to now)"
    )
    assert facts["services"].value == "checkout"


def test_logs_unavailable_become_notes_not_errors(tmp_path: Path) -> None:
    assert read_log_facts(Config(), at("14:00:00"), at("15:00:00")).notes == (
        "no log sources configured",
    )
    config = write_logs(tmp_path)
    quiet = read_log_facts(config, at("14:00:00"), at("14:20:00"))
    assert quiet.first_error is None and quiet.notes == ("no error burst found in the logs",)
    state, clock = demo_state(tmp_path / "s.db", until="14:36:00")
    facts = CommsFacts.from_state(state, now=clock.now, log_facts=quiet)
    assert facts["share"].source == "unknown: no error burst found in the logs"
    assert facts["start"].source.startswith("from the timeline")


def test_share_below_one_percent() -> None:
    facts = LogFacts(
        first_error=at("14:31:00"), errors=1, requests=1000, window=(at("14:31:00"), at("14:40:00"))
    )
    assert facts.share == 0.001


def write_two_services(directory: Path) -> Config:
    """checkout fails 30% of requests from 14:31; the gateway in front of it sees 15% from
    14:32 (it also serves other paths); a checkout deploy went out at 14:29."""
    for service, first, failing in (("checkout", 31, 6), ("gateway", 32, 3)):
        lines = []
        for minute in range(40):
            moment = at("14:00:00") + timedelta(minutes=minute)
            for index in range(20):
                status = 502 if minute >= first and index < failing else 200
                stamp = (moment + timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                lines.append(f"{stamp} level=info service={service} status={status}")
        (directory / f"{service}.log").write_text("\n".join(lines) + "\n")
    deploys = [
        '{"time": "2026-11-27T10:00:00Z", "service": "checkout", "sha": "0b202f1aaaa",'
        ' "actor": "dana.kim", "status": "succeeded"}',
        '{"time": "2026-11-28T14:29:12Z", "service": "checkout", "sha": "f6a4896bbbb",'
        ' "actor": "luis.ortega", "status": "succeeded"}',
    ]
    (directory / "deploys.jsonl").write_text("\n".join(deploys) + "\n")
    (directory / "cockpit.toml").write_text(
        '[cockpit]\nstore = "incidents.db"\n\n'
        '[[sources]]\nkind = "files"\nname = "gateway"\nservice = "gateway"\n'
        'paths = ["gateway.log"]\n\n'
        '[[sources]]\nkind = "files"\nname = "checkout"\nservice = "checkout"\n'
        'paths = ["checkout.log"]\n\n'
        '[[services]]\nname = "checkout"\n\n[services.deploys]\ndeploy_log = "deploys.jsonl"\n'
    )
    return load_config_file(directory / "cockpit.toml")


def test_the_share_is_per_service_never_blended(tmp_path: Path) -> None:
    config = write_two_services(tmp_path)
    log_facts = read_log_facts(config, at("13:00:00"), at("14:40:00"))
    assert log_facts.services == ("checkout", "gateway")  # the first to fail first
    assert [(s.service, s.onset, s.errors, s.requests) for s in log_facts.by_service] == [
        ("checkout", at("14:31:00"), 54, 180),
        ("gateway", at("14:32:00"), 24, 160),
    ]
    state, _clock = demo_state(tmp_path / "s.db", until="14:36:00")
    facts = CommsFacts.from_state(state, now=at("14:40:00"), log_facts=log_facts)
    # checkout's own share (30%), not (54 + 24) / (180 + 160) = 23% "of checkout and gateway".
    assert facts["share"].value == "about 30% of checkout requests"
    assert facts["share"].source == (
        "from logs: 54 of 180 checkout request lines were errors in the impact window"
        " 14:31Z-14:40Z (onset to now); not added to gateway: about 15% from 14:32Z"
        " (it may carry the same requests)"
    )
    assert facts["services"].value == "checkout, gateway"
    assert facts["services"].source == (
        "from logs: services with an error burst, first to fail first"
        " (checkout 14:31Z, then gateway 14:32Z)"
    )
    from cockpit.core.comms.drafts import customer_email, status_update

    assert status_update(facts).startswith(
        "Since 14:31 UTC, about 30% of checkout requests have been failing."
    )
    assert "about 30% of checkout requests have been failing" in customer_email(facts)
    # The deploy the top rollback candidate suspects, for the postmortem's timeline.
    assert log_facts.suspect == SuspectDeploy("checkout", "f6a4896", "luis.ortega", at("14:29:12"))


def test_each_service_is_counted_with_its_own_health_patterns(tmp_path: Path) -> None:
    """A service with `[services.health]` patterns is counted with them; every other service
    the logs name, with `[health]`'s (one not listed in [[services]] included)."""
    from cockpit.core.signals import read_signals

    write_logs(tmp_path)
    lines = []
    for minute in range(40):
        moment = at("14:00:00") + timedelta(minutes=minute)
        for index in range(10):
            code = 500 if minute >= 25 and index < 4 else 200
            stamp = (moment + timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            lines.append(f'{{"time": "{stamp}", "route": "/pay", "code": {code}}}')
    (tmp_path / "payments.log").write_text("\n".join(lines) + "\n")
    with (tmp_path / "cockpit.toml").open("a") as toml:
        toml.write(
            '[[sources]]\nkind = "files"\nname = "payments"\nservice = "payments"\n'
            'paths = ["payments.log"]\n'
            '[[services]]\nname = "payments"\n[services.health]\n'
            "request_pattern = '\"code\": \\d{3}'\nerror_pattern = '\"code\": 5\\d\\d'\n"
        )
    config = load_config_file(tmp_path / "cockpit.toml")
    signals = read_signals(config, at("14:00:00"), at("14:40:00"), suspect=False)
    assert signals.counted and signals.notes == []
    # [health]'s patterns never match payments' lines: its own do.
    assert sum(signals.requests["payments"].values()) == 400
    assert sum(signals.errors["payments"].values()) == 15 * 4
    assert sum(signals.requests["checkout"].values()) == 800
    assert sum(signals.errors["checkout"].values()) == 9 * 6
    assert set(signals.bursts) == {"checkout", "payments"}
    assert signals.bursts["payments"].onset == at("14:25:00")
