"""Drafts from the demo incident's facts: golden text, lint-clean, 2-3 sentences, one line."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.core.comms.drafts import (
    AI_REWRITE_STATUS,
    ai_rewrite_status,
    customer_email,
    status_update,
)
from cockpit.core.comms.facts import CommsFacts, CommsStatus
from cockpit.core.comms.lint import LintContext, lint, people_names
from cockpit.core.incident import IncidentState, Kind
from tests.comms_support import at, build_demo_incident, demo_state
from tests.golden_support import assert_golden

# (stage name, last event included, minutes after it that the draft is written)
STAGES = [
    ("opened", "14:33:00", 1),
    ("declared", "14:36:00", 2),
    ("facts edited", "14:39:40", 1),
    ("rollback copied", "14:41:00", 1),
    ("contained", "14:44:00", 2),
    ("resolved", "14:58:00", 2),
    ("review", None, 10),
]


def stage_facts(
    tmp_path: Path, until: str | None, minutes: int
) -> tuple[IncidentState, CommsFacts, LintContext]:
    state, clock = demo_state(tmp_path / "incidents.db", until=until)
    facts = CommsFacts.from_state(state, now=clock.now + timedelta(minutes=minutes))
    people = people_names(event.author for event in state.events)
    return state, facts, LintContext.from_facts(facts, people=people)


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def test_drafts_match_the_golden_file(tmp_path: Path) -> None:
    out = []
    for index, (name, until, minutes) in enumerate(STAGES):
        _state, facts, _context = stage_facts(tmp_path / str(index), until, minutes)
        out.append(f"## {name} ({facts.status.value})")
        for fact in facts:
            out.append(f"{fact.label}: {fact.value or '?'}  [{fact.source}]")
        out.append(f"status update: {status_update(facts)}")
        out.append(f"email: {customer_email(facts)}")
        out.append("")
    assert_golden("comms_drafts.txt", "\n".join(out))


@pytest.mark.parametrize(("name", "until", "minutes"), STAGES)
def test_drafts_are_lint_clean_short_and_single_line(
    tmp_path: Path, name: str, until: str | None, minutes: int
) -> None:
    _state, facts, context = stage_facts(tmp_path, until, minutes)
    update = status_update(facts)
    email = customer_email(facts)
    assert lint(update, context) == [], name
    assert lint(email, context) == [], name
    assert 2 <= len(sentences(update)) <= 3, update
    assert len(sentences(email)) >= 4
    assert "\n" not in update and "\n" not in email  # pasted as one line


def test_cause_is_under_investigation_until_review(tmp_path: Path) -> None:
    _state, facts, _ = stage_facts(tmp_path / "a", "14:58:00", 1)
    assert "the cause is under investigation" in status_update(facts)
    _state, facts, _ = stage_facts(tmp_path / "b", None, 1)
    assert "under investigation" not in status_update(facts)
    assert "reviewing the cause" in status_update(facts)


def test_drafts_follow_the_status(tmp_path: Path) -> None:
    _state, facts, _ = stage_facts(tmp_path / "a", "14:39:40", 1)
    assert facts.status == CommsStatus.INVESTIGATING
    assert status_update(facts).startswith("Since 14:31 UTC, about 10% of requests to checkout")
    assert "next update by 15:05 UTC" in status_update(facts)  # the first update's due time
    _state, facts, _ = stage_facts(tmp_path / "b", "14:44:00", 1)
    assert facts.status == CommsStatus.MONITORING
    assert "At 14:44 UTC we applied a mitigation" in status_update(facts)
    _state, facts, _ = stage_facts(tmp_path / "c", "14:58:00", 1)
    assert status_update(facts).startswith("From 14:31 UTC to 14:58 UTC")
    assert "next update" not in status_update(facts)


def test_unknown_facts_give_a_modest_draft(tmp_path: Path) -> None:
    _state, facts, _context = stage_facts(tmp_path, "14:33:00", 1)
    update = status_update(facts)
    assert "some requests have been failing" in update
    assert "%" not in update


def test_ai_rewrite_is_not_faked() -> None:
    assert AI_REWRITE_STATUS == "AI rewrite: not available (no AI configured)"
    assert ai_rewrite_status({}) == AI_REWRITE_STATUS
    with_key = ai_rewrite_status({"ANTHROPIC_API_KEY": "sk-ant-x"})
    assert with_key == "w: AI rewrite (redacted, UNVERIFIED)"


def test_draft_times_are_utc(tmp_path: Path) -> None:
    _state, facts, _ = stage_facts(tmp_path, "14:36:00", 0)
    assert facts["start"].at == at("14:35:00")
    assert "14:35 UTC" in status_update(facts)


def test_a_copied_rollback_is_not_claimed_as_applied(tmp_path: Path) -> None:
    # The rollback was copied at 14:40, nobody marked the incident contained yet.
    _state, facts, context = stage_facts(tmp_path, "14:41:00", 1)
    assert facts.status == CommsStatus.IDENTIFIED
    update, email = status_update(facts), customer_email(facts)
    assert "We have identified a likely cause and are working on a fix" in update
    for text in (update, email):
        assert "applying" not in text and "applied" not in text, text
        assert "mitigation" not in text, text
    assert lint(update, context) == []


def test_monitoring_without_a_containment_says_only_what_is_known(tmp_path: Path) -> None:
    store, incident_id, clock = build_demo_incident(tmp_path / "s.db", until="14:39:40")
    with store:
        clock.now = at("14:50:00")
        store.append(incident_id, Kind.PHASE_CHANGED, {"phase": "verify"}, "alice")
        state = IncidentState.from_events(store.events(incident_id))
    facts = CommsFacts.from_state(state, now=clock.now)
    assert facts.status == CommsStatus.MONITORING and not facts["contained"].known
    update = status_update(facts)
    assert "applied" not in update and "mitigation" not in update, update
    assert "We are monitoring the service closely" in update


def test_operating_normally_only_after_a_verification(tmp_path: Path) -> None:
    store, incident_id, clock = build_demo_incident(tmp_path / "s.db", until="14:44:00")
    with store:
        clock.now = at("14:50:00")
        store.append(incident_id, Kind.RESOLVED, {"detail": "looks fine"}, "alice")
        state = IncidentState.from_events(store.events(incident_id))
    facts = CommsFacts.from_state(state, now=clock.now)
    assert facts["recovered"].source == (
        "from the timeline: marked resolved at 14:50Z by alice (no verification recorded)"
    )
    assert "operating normally" not in status_update(facts) + customer_email(facts)
    assert "The issue is resolved;" in status_update(facts)
    _state, verified, _ = stage_facts(tmp_path / "v", "14:58:00", 1)  # Verify phase at 14:52
    assert verified.recovery_verified
    assert "Verify phase entered by alice at 14:52Z" in verified["recovered"].source
    assert "the service is operating normally" in status_update(verified)
