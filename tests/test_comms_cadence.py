"""Update cadence: due times, the countdown on a frozen clock, and the diff to the last copy."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cockpit.core.comms.cadence import cadence, diff_against_last, last_copy
from cockpit.core.comms.drafts import status_update
from cockpit.core.comms.events import COMMS_KIND, CUSTOMER_EMAIL, STATUS_UPDATE
from cockpit.core.comms.facts import CommsFacts, CommsStatus
from cockpit.core.incident import IncidentState, Kind
from tests.comms_support import FIRST_UPDATE, at, build_demo_incident, demo_state


def test_first_update_is_due_a_cadence_after_declaring(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db", until="14:36:00")
    due = cadence(state, CommsStatus.INVESTIGATING, 30)
    assert due.last is None
    assert due.due == at("15:05:00")
    assert due.countdown(at("14:40:00")) == "first update due 15:05 UTC, in 25:00"
    assert due.countdown(at("15:04:59")) == "first update due 15:05 UTC, in 0:01"


def test_countdown_from_the_last_copied_update(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db", until="14:41:00")
    due = cadence(state, CommsStatus.IDENTIFIED, 30)
    assert due.last is not None and due.last.author == "alice"
    assert due.due == at("15:15:00")  # the time that copy promised
    assert due.countdown(at("14:43:30")) == "next update due 15:15 UTC, in 31:30"
    assert not due.overdue(at("15:15:00"))
    assert due.overdue(at("15:18:10"))
    assert due.countdown(at("15:18:10")) == "next update was due 15:15 UTC: OVERDUE by 3:10"
    assert due.countdown(at("16:20:00")).endswith("OVERDUE by 1:05:00")


def test_without_a_promised_time_the_cadence_counts_from_the_copy(tmp_path: Path) -> None:
    store, incident_id, clock = build_demo_incident(tmp_path / "s.db", until="14:36:00")
    with store:
        clock.now = at("14:50:00")
        store.append(
            incident_id,
            Kind.COMMAND_COPIED,
            {
                "text": "Some requests are failing.",
                "purpose": STATUS_UPDATE,
                "detail": {"kind": COMMS_KIND, "lint": []},
            },
            "bob",
        )
        state = IncidentState.from_events(store.events(incident_id))
    assert cadence(state, CommsStatus.INVESTIGATING, 20).due == at("15:10:00")


def test_shell_command_copies_do_not_count_as_updates(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db", until="14:40:00")  # rollback copied only
    assert cadence(state, CommsStatus.IDENTIFIED, 30).last is None


def test_cadence_stops_at_monitoring(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db", until="14:44:00")
    for status in (CommsStatus.MONITORING, CommsStatus.RESOLVED):
        stopped = cadence(state, status, 30)
        assert stopped.due is None and stopped.remaining(at("15:00:00")) is None
        assert stopped.countdown(at("15:00:00")) == f"no update cadence: {status.value}"


def test_diff_against_the_last_copied_update() -> None:
    assert diff_against_last(None, FIRST_UPDATE).startswith("no status update copied yet")
    assert diff_against_last(FIRST_UPDATE, FIRST_UPDATE + " ") == (
        "no change since the last copied status update"
    )
    new = FIRST_UPDATE.replace(
        "We are investigating and working to restore service",
        "We have identified a likely cause and are working on a fix",
    )
    diff = diff_against_last(FIRST_UPDATE, new)
    assert diff.splitlines() == [
        "--- last copied",
        "+++ this draft",
        "-We are investigating and working to restore service;",
        "+We have identified a likely cause and are working on a fix;",
    ]


def test_cadence_minutes_default_is_thirty(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db", until="14:36:00")
    assert cadence(state, CommsStatus.INVESTIGATING).due == state.declared.at + timedelta(  # type: ignore[union-attr]
        minutes=30
    )


def test_diff_is_against_the_same_kind_of_draft(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db", until="14:41:00")
    assert last_copy(state, STATUS_UPDATE) is not None
    assert last_copy(state, CUSTOMER_EMAIL) is None
    assert diff_against_last(None, "Dear customer", CUSTOMER_EMAIL) == (
        "no customer email copied yet: nothing to compare"
    )


def test_countdown_fact_and_draft_name_the_same_time(tmp_path: Path) -> None:
    # Before any copy: the header, the Next-update fact and the draft all say 15:05.
    state, _clock = demo_state(tmp_path / "s.db", until="14:39:40")
    now = at("14:42:00")
    facts = CommsFacts.from_state(state, now=now)
    shown = cadence(state, facts.status, 30, now=now, promise=facts["next_update"].at)
    assert facts["next_update"].value == "15:05 UTC"
    assert shown.countdown(now) == "first update due 15:05 UTC, in 23:00"
    assert "We will post the next update by 15:05 UTC." in status_update(facts)
    # Late in the cycle the draft is the update that is due: the header names both times,
    # and the one the draft promises is the fact's.
    late = at("14:55:00")
    facts = CommsFacts.from_state(state, now=late)
    shown = cadence(state, facts.status, 30, now=late, promise=facts["next_update"].at)
    assert facts["next_update"].value == "15:25 UTC"
    assert shown.countdown(late) == (
        "first update due 15:05 UTC, in 10:00 · this draft promises the one after by 15:25 UTC"
    )
    assert "We will post the next update by 15:25 UTC." in status_update(facts)
    assert cadence(state, facts.status, 30, now=late).promise == at("15:25:00")
