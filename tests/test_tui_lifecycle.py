"""Lifecycle from the keyboard at 80x24: declare, change severity, contain, resolve with what
is missing said, roles, a new incident, a resolved incident never silently reopened, quitting
a drill. Each test presses the keys a person would and reads what the screen shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input, RichLog, Static

from cockpit.core.config import Config
from cockpit.core.incident import Kind
from cockpit.core.review.events import ACTION_ITEM_ADDED, action_item_payload
from cockpit.core.store import EventStore
from cockpit.tui.app import CockpitApp
from cockpit.tui.messages import CopyRequested, ErrorsRead
from cockpit.tui.panes.checklist import PhaseChecklist
from cockpit.tui.screens import (
    ChoiceScreen,
    ConfirmScreen,
    NewIncidentScreen,
    RolesScreen,
    SeverityScreen,
)
from cockpit.tui.widgets import IncidentHeader
from tests.tui_support import RUNBOOK, make_app, settle, write_config

RUNBOOK_WITH_DECISIONS = RUNBOOK.replace(
    "## Assess\n",
    "## Assess\n- Declare the incident and set a severity\n- Name one incident lead\n",
)


def config_with_runbook(tmp_path: Path, extra: str = "") -> Config:
    config = write_config(tmp_path, extra=extra)
    (tmp_path / "runbook.md").write_text(RUNBOOK_WITH_DECISIONS)
    return config


def header(app: CockpitApp) -> str:
    return str(app.query_one(IncidentHeader).render())


def timeline(app: CockpitApp) -> str:
    lines = app.query_one("#timeline-log", RichLog).lines
    return " ".join(" ".join(strip.text for strip in lines).split())


def stored(config: Config, incident_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    with EventStore(config.store_path) as store:
        return [(e.kind, e.author, e.payload) for e in store.events(incident_id)]


async def declare(pilot: Any, severity: str = "2") -> None:
    await pilot.press("d", "enter", severity, "enter")  # name kept, severity, no description
    await settle(pilot)


async def test_declaring_ticks_the_runbooks_declare_item_and_the_header_says_it(
    tmp_path: Path,
) -> None:
    config = config_with_runbook(tmp_path)
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "OPEN, NOT DECLARED  phase Assess  Checkout 5xx" in header(app)
        await declare(pilot)
        assert app.state is not None and app.state.severity == "SEV2"
        assert app.state.is_checked(app.state.phase, "Declare the incident and set a severity")
        assert "DECLARED SEV2  phase Assess  Checkout 5xx" in header(app)
        strip = str(app.query_one("#phase-strip", Static).render())
        assert "Assess 1/4" in strip
    kinds = [kind for kind, _, _ in stored(config, app.state.incident_id)]
    assert kinds[-2:] == [Kind.DECLARED, Kind.ITEM_CHECKED]


async def test_s_changes_the_severity_with_a_reason_and_everything_uses_the_latest(
    tmp_path: Path,
) -> None:
    config = config_with_runbook(tmp_path)
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await declare(pilot, "2")
        await pilot.press("S")
        await pilot.pause()
        assert isinstance(app.screen, SeverityScreen)
        await pilot.press("2", "enter")  # the same severity: refused, says so
        await pilot.pause()
        error = str(app.screen.query_one(".dialog-error").render())
        assert error == "it is SEV2 already: pick another severity"
        await pilot.press("1")  # SEV1, then on to the reason
        await pilot.press("enter")  # no reason: refused
        await pilot.pause()
        assert "say why" in str(app.screen.query_one(".dialog-error").render())
        await pilot.press(*"EU customers fail too", "enter")
        await settle(pilot)
        assert app.state is not None and app.state.severity == "SEV1"
        assert "DECLARED SEV1" in header(app)
        await pilot.press("6")
        await settle(pilot)
        assert "severity changed SEV2 -> SEV1: EU customers fail too" in timeline(app)
        await pilot.press("5")
        await settle(pilot)
        facts = app.query_one("#comms-facts")
        impact = " ".join(str(o.prompt) for o in facts.options)  # type: ignore[attr-defined]
        assert "Major outage" in impact and "changed from SEV2 by alice" in impact
    (change,) = [
        p for k, _, p in stored(config, app.state.incident_id) if k == Kind.SEVERITY_CHANGED
    ]
    assert change == {"from": "SEV2", "to": "SEV1", "reason": "EU customers fail too"}


async def test_contained_offers_the_rollback_just_copied(tmp_path: Path) -> None:
    config = config_with_runbook(tmp_path)
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        detail = {"service": "checkout", "target_sha": "7f3a2c1deadbeef", "executed": False}
        app.post_message(
            CopyRequested("kubectl rollout undo deployment/checkout", "rollback command", detail)
        )
        await settle(pilot)
        await pilot.press("C")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        offered = app.screen.query_one("#confirm-detail", Input).value
        assert offered.startswith("rolled back checkout to 7f3a2c1 (copied 14:45 UTC by alice)")
        await pilot.press("enter")
        await settle(pilot)
        assert app.state is not None and app.state.contained is not None
        assert app.state.contained.detail == offered


async def test_resolving_before_the_health_data_is_read_says_so(tmp_path: Path) -> None:
    """R pressed before Deploys has read the error ratios: the warning says they are not
    read yet, instead of passing over them as if every service were healthy."""
    config = config_with_runbook(tmp_path)
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await declare(pilot)
        app.service_errors = None  # as at start, before Deploys' first reading
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        warning = str(app.screen.query_one(".dialog-warning").render())
        assert warning.startswith("Missing: error ratios not read yet (3 Deploys reads them);")
        await pilot.press("escape")
        await pilot.pause()
        app.post_message(ErrorsRead({"checkout": 0.001}))  # read: healthy
        await settle(pilot)
        await pilot.press("R")
        await pilot.pause()
        warning = str(app.screen.query_one(".dialog-warning").render())
        assert "not read yet" not in warning and "checkout" not in warning


async def test_resolving_without_verification_names_what_is_missing_and_records_it(
    tmp_path: Path,
) -> None:
    config = config_with_runbook(tmp_path)
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await declare(pilot)
        app.post_message(ErrorsRead({"checkout": 0.29, "payments": 0.001}))  # Deploys' reading
        await settle(pilot)
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        warning = str(app.screen.query_one(".dialog-warning").render())
        assert warning == (
            "Missing: checkout errors still 29%; no verification recorded; never marked contained"
        )
        assert "Resolve anyway" in str(app.screen.query_one("#dialog-save-button").render())
        await pilot.press("escape")  # the human thinks again: nothing recorded
        await settle(pilot)
        assert app.state is not None and app.state.resolved is None
        await pilot.press("R", "tab", "enter")  # Enter on "Resolve anyway"
        await settle(pilot)
        assert app.state.resolved is not None
        await pilot.press("6")
        await settle(pilot)
        assert (
            "incident marked RESOLVED WITHOUT VERIFICATION: checkout errors still 29%; "
            "no verification recorded; never marked contained" in timeline(app)
        )
    resolved = [p for k, _, p in stored(config, app.state.incident_id) if k == Kind.RESOLVED]
    assert resolved[0]["unverified"][0] == "checkout errors still 29%"


async def test_resolving_after_a_verification_asks_plainly(tmp_path: Path) -> None:
    config = config_with_runbook(tmp_path)
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await declare(pilot)
        await pilot.press("C", "enter")
        await settle(pilot)
        app.post_message(ErrorsRead({"checkout": 0.001}))
        for _ in range(4):  # view Verify, check its item: a recorded verification
            await pilot.press("right")
        await pilot.press("space")
        await settle(pilot)
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert not app.screen.query(".dialog-warning")
        await pilot.press(*"5xx back to 0.1% for 15 min", "enter")
        await settle(pilot)
        assert app.state is not None and app.state.resolve_warnings == ()
        assert app.state.resolved is not None
        assert "RESOLVED" in header(app)


async def test_roles_are_set_by_a_human_recorded_and_shown_in_the_header(tmp_path: Path) -> None:
    config = config_with_runbook(tmp_path)
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("O")
        await pilot.pause()
        assert isinstance(app.screen, RolesScreen)
        await pilot.press(*"alice", "enter", *"bob", "enter")
        await settle(pilot)
        assert "· lead alice · comms bob" in header(app)
        assert app.state is not None
        assert app.state.is_checked(app.state.phase, "Name one incident lead")
        await pilot.press("6")
        await settle(pilot)
        assert "incident lead is now alice" in timeline(app)
        assert "comms lead is now bob" in timeline(app)
    roles = [
        (a, p["role"], p["who"])
        for k, a, p in stored(config, app.state.incident_id)
        if k == Kind.ROLE_ASSIGNED
    ]
    assert roles == [("alice", "incident_lead", "alice"), ("alice", "comms_lead", "bob")]


async def test_n_opens_a_new_incident_and_switches_every_pane_to_it(tmp_path: Path) -> None:
    config = config_with_runbook(tmp_path)
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n", *"old note", "enter")
        await settle(pilot)
        assert app.state is not None
        first = app.state.incident_id
        await pilot.press("N")
        await pilot.pause()
        assert isinstance(app.screen, NewIncidentScreen)
        await pilot.press(*"Search slow", "enter")
        await settle(pilot, rounds=10)
        assert app.state is not None and app.state.incident_id != first
        assert app.state.title == "Search slow" and app.state.notes == ()
        assert "OPEN, NOT DECLARED  phase Assess  Search slow" in header(app)
        await pilot.press("6")
        await settle(pilot)
        assert "old note" not in timeline(app)  # fresh panes: nothing of the old one lingers
        await pilot.press("n", *"new note", "enter")
        await settle(pilot)
    with EventStore(config.store_path) as store:
        titles = {i.id: i.title for i in store.incidents()}
        assert titles[first] == "Checkout 5xx" and len(titles) == 2
        assert [
            e.payload.get("text") for e in store.events(first) if e.kind == Kind.NOTE_ADDED
        ] == ["old note"]


async def test_a_resolved_current_incident_is_never_silently_reopened(tmp_path: Path) -> None:
    config = config_with_runbook(tmp_path)
    with EventStore(config.store_path) as store:
        done = store.create_incident("Checkout 5xx", "alice")
        store.append(done.id, Kind.RESOLVED, {"detail": "fixed"}, "alice")
    app = make_app(config)  # plain `cockpit`
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        shown = str(app.screen.query_one("Static").render())
        assert "The current incident is RESOLVED: Checkout 5xx" in shown
        await pilot.press("enter")  # "Review it": the postmortem and action items, not a reopen
        await settle(pilot)
        assert app.state is not None and app.state.incident_id == done.id
        assert "RESOLVED" in header(app)
    app = make_app(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "enter")  # "New incident"
        await pilot.pause()
        assert isinstance(app.screen, NewIncidentScreen)
        await pilot.press("enter")  # no name yet: named when declared
        await settle(pilot, rounds=10)
        assert app.state is not None and app.state.incident_id != done.id
        assert app.state.title == "Untitled incident" and app.state.resolved is None


async def test_q_during_a_drill_asks_before_ending_it(tmp_path: Path) -> None:
    config = config_with_runbook(tmp_path, extra="drill = true\n")
    app = make_app(config, new_incident_title="game day")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.check_action("new_incident", ()) is False  # a drill has one incident
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "End the drill?" in str(app.screen.query_one("Static").render())
        await pilot.press("enter")  # the focused answer is "Keep drilling"
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, ChoiceScreen)
        await pilot.press("q", "tab", "enter")  # "End the drill"
        await pilot.pause()
        assert not app.is_running


async def test_q_outside_a_drill_quits_at_once(tmp_path: Path) -> None:
    app = make_app(config_with_runbook(tmp_path), new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_comms_lists_the_action_items(tmp_path: Path) -> None:
    config = config_with_runbook(tmp_path)
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.state is not None
        with EventStore(config.store_path) as store:
            payload = action_item_payload("Lint client timeouts [x](y)", "dave", "2026-12-05")
            store.append(app.state.incident_id, ACTION_ITEM_ADDED, payload, "bob")
        app._poll_store()
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
        text = str(app.screen.query_one("#action-items-text").render())
        assert "Action items (1)" in text and "Lint client timeouts [x](y)" in text
        assert "owner dave · due 2026-12-05 · added by bob" in text


async def test_viewing_the_current_phase_dims_enter_phase(tmp_path: Path) -> None:
    app = make_app(config_with_runbook(tmp_path), new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        checklist = app.query_one(PhaseChecklist)
        assert checklist.check_action("enter_viewed_phase", ()) is None
        assert checklist.check_action("view_phase", (-1,)) is None  # Assess is the first
        await pilot.press("right")
        assert checklist.check_action("enter_viewed_phase", ()) is True
