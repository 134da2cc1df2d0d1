"""The root-cause cross-check agrees with the postmortem's evidence table, plus what is missing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cockpit.core.deploys.model import Deploy
from cockpit.core.review.events import root_cause
from cockpit.core.review.evidence import check_root_cause, crosscheck, evidence_items, shas
from tests.comms_support import ROOT_CAUSE, demo_state


def test_supports_and_contradicts_are_the_postmortems_verdicts(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db")
    stated = root_cause(state.events)
    assert stated is not None and stated.text == ROOT_CAUSE
    result = crosscheck(stated.text, state)
    table = check_root_cause(stated.text, evidence_items(state))
    # Same evidence, same verdicts: the pane and the postmortem never disagree.
    assert {item.source for item in result.supporting} == {
        label for check in table for label in check.supporting
    }
    assert {item.source for item in result.contradicting} == {
        label for check in table for label in check.contradicting
    }
    assert result.supporting and result.contradicting  # the demo has both
    note = next(item for item in result.contradicting if item.source.startswith("note by bob"))
    assert note.text.startswith("payments latency normal the whole time")
    assert result.label == "UNVERIFIED"
    assert "no hypothesis has been verified by a human" in result.missing
    assert not any("containment" in gap for gap in result.missing)  # it was contained


def test_a_claim_nothing_supports_is_missing_like_the_postmortem_says(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db")
    statement = "The checkout deploy lowered the timeout. Gremlins chewed the rack cabling."
    result = crosscheck(statement, state)
    verdicts = [check.verdict for check in check_root_cause(statement, evidence_items(state))]
    assert verdicts == ["supported", "unsupported"]
    assert any(
        gap.startswith("no recorded evidence supports: Gremlins chewed the rack cabling.")
        for gap in result.missing
    )
    assert not any("lowered the timeout" in gap for gap in result.missing)


def test_named_shas_are_looked_up_on_the_timeline_and_in_the_deploy_list(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db", until="14:36:00")  # nothing pinned yet
    deploy = Deploy("checkout", datetime(2026, 11, 28, 14, 29, tzinfo=UTC), sha="3f9e2ab" * 5)
    statement = "Deploy 3f9e2ab of checkout, or was it 1234abc, lowered the payments timeout"
    result = crosscheck(statement, state, deploys=[deploy])
    assert [str(item) for item in result.supporting] == [
        "deploy list: checkout 3f9e2ab at 2026-11-28 14:29Z [deploy 3f9e2ab is in the deploy list]"
    ]
    assert "1234abc is not in the deploy list (1 deploys read)" in result.missing
    assert "nothing on the timeline mentions 3f9e2ab: pin the deploy or its diff" in result.missing
    assert "no pinned evidence (log lines, deploys, diffs) on the timeline" in result.missing
    # Without a deploy list nothing is claimed about it.
    unread = crosscheck(statement, state)
    assert unread.supporting == []
    assert not any("deploy list" in gap for gap in unread.missing)


def test_hex_looking_words_are_not_taken_for_commits(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db", until="14:36:00")
    result = crosscheck("The defaced cache held 20261128 stale rows", state, deploys=[])
    assert not any("deploy list" in gap or "timeline mentions" in gap for gap in result.missing)


def test_shas_of_digits_only_and_of_mostly_letters_are_still_shas() -> None:
    assert shas("deploys 5026385, abcdefa123 and 3f9e2ab0c1 went out") == {
        "5026385",
        "abcdefa",
        "3f9e2ab",
    }
    assert shas("the defaced cache held 20261128 rows since 1764340000") == set()
