"""The root-cause cross-check uses every pin and every human verdict (issue 12, item 6): deploy
shas short or long, the files of pinned diffs, and the words they share, with the reason for
each item; pins that bear on nothing are listed as unrelated, with why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cockpit.core.ai.hypotheses import Hypothesis, judgement_payload
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.review.evidence import check_root_cause, crosscheck, evidence_items, files_named
from cockpit.core.store import EventStore
from cockpit.tui.panes.comms.root_cause import RootCauseCheckScreen
from tests.tui_support import FROZEN_NOW, make_app, settle, write_config
from tests.ux_support import flowing_text

BAD = "4d15372a9e8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
GOOD = "38feaed0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6"
# What the drill's human wrote: a well-evidenced cause the old check called "unsupported".
STATEMENT = (
    "Deploy 4d15372 of checkout changed config.yaml and set the payments client timeout to"
    " 800ms, so calls to payments timed out."
)
SIGNATURE = "error checkout: upstream timeout calling payments after <dur> (attempt <n>)"


def events(store: EventStore, incident_id: str) -> None:
    def add(kind: str, payload: dict[str, Any], author: str = "alice") -> None:
        store.append(incident_id, kind, payload, author)

    add(
        Kind.PIN_ADDED,
        {
            "source": "diff",
            "text": f"checkout {GOOD[:7]}..{BAD[:7]} file config.yaml (1 commits, 1 file changed)",
            "detail": {
                "kind": "diff",
                "base": GOOD,
                "head": BAD,
                "file": "deploy/checkout/config.yaml",
                "files": ["deploy/checkout/config.yaml", "src/checkout/client.py"],
                "suspect_sha": BAD,
            },
        },
    )
    add(
        Kind.PIN_ADDED,
        {"source": "logs", "text": SIGNATURE, "detail": {"kind": "log signature", "count": 316}},
    )
    add(
        Kind.PIN_ADDED,
        {"source": "logs", "text": "inventory cache warmed in 3s", "detail": {"kind": "log line"}},
        "bob",
    )
    hypothesis = Hypothesis(
        id="h-1",
        origin="heuristic",
        claim="The latest checkout deploy broke checkout",
        evidence=[f"deploy {BAD} at 16:05 UTC by luis.ortega"],
    )
    add("hypothesis.proposed", hypothesis.payload(), "cockpit")
    add(
        "hypothesis.verified",
        judgement_payload(
            "h-1", "diff pinned, timeouts match", ["pinned diff"], "bob", verified=True
        ),
        "bob",
    )


def seeded(tmp_path: Path) -> tuple[Any, IncidentState]:
    config = write_config(tmp_path)
    store = EventStore(config.store_path, clock=lambda: FROZEN_NOW)
    incident = store.create_incident("Checkout timeouts", "alice")
    events(store, incident.id)
    state = IncidentState.from_events(store.events(incident.id))
    store.close()
    return config, state


def test_every_pin_and_verdict_is_weighed_with_a_reason(tmp_path: Path) -> None:
    _config, state = seeded(tmp_path)
    (check,) = check_root_cause(STATEMENT, evidence_items(state))
    assert check.verdict == "supported"
    reasons = check.reasons
    assert reasons["pin (diff) by alice 14:45Z"] == "names deploy 4d15372, as the claim does"
    assert reasons["pin (logs, log signature) by alice 14:45Z"].startswith("shares ")
    assert reasons["hypothesis verified by bob"] == (
        "names deploy 4d15372, as the claim does (hypothesis verified by a human)"
    )
    result = crosscheck(STATEMENT, state)
    assert {item.source for item in result.supporting} == set(reasons)
    (unrelated,) = result.unrelated
    assert unrelated.source == "pin (logs, log line) by bob 14:45Z"
    assert unrelated.why == "shares no deploy, file or two specific words with the claim"
    assert not any(gap.startswith("no recorded evidence supports") for gap in result.missing)
    assert not any("no hypothesis has been verified" in gap for gap in result.missing)


def test_a_file_a_long_sha_and_the_rollback_target_count(tmp_path: Path) -> None:
    _config, state = seeded(tmp_path)
    items = evidence_items(state)
    by_file = check_root_cause("The config.yaml change broke it.", items)[0]
    assert by_file.reasons["pin (diff) by alice 14:45Z"] == (
        "its diff changes config.yaml, which the claim names"
    )
    long_sha = check_root_cause(f"Commit {BAD} did it.", items)[0]
    assert "pin (diff) by alice 14:45Z" in long_sha.supporting
    blamed_the_target = check_root_cause(f"Deploy {GOOD[:7]} broke checkout.", items)[0]
    assert blamed_the_target.verdict == "contradicted"
    assert blamed_the_target.reasons["pin (diff) by alice 14:45Z"] == (
        "it has 38feaed as healthy (the rollback target or diff base)"
    )


def test_file_names_are_files_not_numbers() -> None:
    assert files_named("changed config.yaml and src/app/client.py, 1.5s and v2.3, e.g. this") == {
        "config.yaml",
        "client.py",
    }


async def test_the_comms_pane_shows_why_at_80x24(tmp_path: Path) -> None:
    config, _state = seeded(tmp_path)
    app = make_app(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("s")  # state the root cause
        await pilot.pause()
        await pilot.press(*STATEMENT, "enter")
        await settle(pilot)
        await pilot.press("x")  # the cross-check in full
        await settle(pilot)
        assert isinstance(app.screen, RootCauseCheckScreen)
        words = flowing_text(app)
        assert "Supports (3)" in words
        assert "[names deploy 4d15372, as the claim does]" in words
        assert "[names deploy 4d15372, as the claim does (hypothesis verified by a human)]" in words
        await pilot.press("end")
        await pilot.pause()
        words = flowing_text(app)
        assert "Unrelated (1)" in words and "inventory cache warmed in 3s" in words
