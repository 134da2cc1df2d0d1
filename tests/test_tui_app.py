"""Pilot tests: the shell, the checklist, the timeline, human decisions, copy-never-execute."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, RichLog, Static

from cockpit.core.config import Config
from cockpit.core.incident import Kind
from cockpit.core.store import EventStore
from cockpit.tui.app import CockpitApp
from cockpit.tui.help import HelpScreen
from cockpit.tui.messages import CopyRequested
from cockpit.tui.panes.checklist import PhaseChecklist
from cockpit.tui.screens import DeclareScreen, TextPromptScreen
from cockpit.tui.widgets import CopyNotice, IncidentHeader
from tests.tui_support import FROZEN_NOW, make_app, settle, write_config


def stored_events(config: Config) -> list[tuple[str, str, dict[str, object]]]:
    store = EventStore(config.store_path)
    try:
        incident = store.current_incident()
        assert incident is not None
        return [(e.kind, e.author, e.payload) for e in store.events(incident.id)]
    finally:
        store.close()


def timeline_text(app: CockpitApp) -> str:
    log = app.query_one("#timeline-log", RichLog)
    return "\n".join(strip.text for strip in log.lines)


async def test_opens_a_new_incident_and_resumes_it(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.state is not None and app.state.title == "Checkout 5xx"
        first_id = app.state.incident_id
    resumed = make_app(config)
    async with resumed.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert resumed.state is not None and resumed.state.incident_id == first_id
        assert "Checkout 5xx" in str(resumed.query_one(IncidentHeader).render())


async def test_checking_an_item_is_recorded_with_author(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "space")
        await settle(pilot)
        assert app.state is not None
        assert app.state.is_checked(app.state.phase, "Check the deploys of the last two hours")
        await pilot.press("space")  # uncheck again
        await settle(pilot)
        assert not app.state.is_checked(app.state.phase, "Check the deploys of the last two hours")
    kinds = [
        (kind, author, payload.get("checked")) for kind, author, payload in stored_events(config)
    ]
    assert kinds[-2:] == [(Kind.ITEM_CHECKED, "alice", True), (Kind.ITEM_CHECKED, "alice", False)]


async def test_phase_navigation_and_entering_a_phase(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        checklist = app.query_one(PhaseChecklist)
        await pilot.press("right")
        assert checklist.viewed.value == "contain"
        assert app.state is not None and app.state.phase.value == "assess"
        await pilot.press("P")
        await settle(pilot)
        assert app.state.phase.value == "contain"
    assert stored_events(config)[-1][0] == Kind.PHASE_CHANGED


async def test_note_is_saved_and_hostile_text_stays_text(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press(*"rolled back [@click=app.quit]")
        await pilot.press("enter")
        await settle(pilot)
        assert app.state is not None
        # A partner's note with escape sequences, written straight into the store.
        partner = EventStore(config.store_path)
        partner.append(
            app.state.incident_id,
            Kind.NOTE_ADDED,
            {"text": "\x1b[2J\x1b]52;c;cm0gLXJmIC8=\x07 cleared?"},
            "mallory",
        )
        partner.close()
        app._poll_store()
        await pilot.press("6")
        await settle(pilot)
        text = timeline_text(app)
        assert "note: rolled back [@click=app.quit]" in text
        assert "mallory note: \\x1b[2J\\x1b]52;c;cm0gLXJmIC8=\\x07 cleared?" in text
        assert "\x1b" not in text and "\x07" not in text
        assert app.is_running  # the markup was not followed
    assert [kind for kind, _, _ in stored_events(config)][-2:] == [Kind.NOTE_ADDED] * 2


async def test_declare_contain_resolve_are_confirmed_human_decisions(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await pilot.press("escape")  # cancelled: nothing recorded
        await settle(pilot)
        assert app.state is not None and app.state.declared is None
        await pilot.press("d")
        await pilot.press("enter")  # the name "t" stays: on to the severity
        await pilot.press("enter")  # nothing picked: refused, and it says so
        await pilot.pause()
        assert isinstance(app.screen, DeclareScreen)
        assert "pick a severity first" in str(app.screen.query_one(".dialog-error").render())
        await pilot.press("down", "enter")  # SEV1, picked by a human
        await pilot.press(*"checkout 5xx for 30% of requests", "enter")
        await settle(pilot)
        assert app.state.severity == "SEV1"
        assert app.state.declared is not None and app.state.declared.by == "alice"
        assert app.state.declared.at == FROZEN_NOW
        assert app.state.declared.detail == "checkout 5xx for 30% of requests"
        await pilot.press("C")
        await pilot.press(*"rolled back", "enter")
        await settle(pilot)
        await pilot.press("R")
        await pilot.press("enter")  # "Resolve anyway": nothing verified was recorded
        await settle(pilot)
        assert app.state.contained is not None and app.state.contained.detail == "rolled back"
        assert app.state.resolved is not None
        assert app.state.status.value == "resolved"
        assert app.state.resolve_warnings == ("no verification recorded",)
    kinds = [kind for kind, _, _ in stored_events(config)]
    assert kinds[-3:] == [Kind.DECLARED, Kind.CONTAINED, Kind.RESOLVED]


async def test_an_untitled_incident_is_named_when_declared_and_renamed_later(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    app = make_app(config)  # `cockpit` with no open incident: "Untitled incident"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.state is not None and app.state.title == "Untitled incident"
        await pilot.press("d")
        assert app.focused is not None and app.focused.id == "declare-title"
        await pilot.press(*"Checkout 5xx", "enter")  # name, then on to the severity
        await pilot.press("2")  # SEV2, then on to what is broken
        await pilot.press(*"30% of checkouts fail", "enter")
        await settle(pilot)
        assert app.state.title == "Checkout 5xx" and app.state.severity == "SEV2"
        assert "Checkout 5xx" in str(app.query_one(IncidentHeader).render())
        await pilot.press("T")
        prompt = app.screen.query_one("#prompt-input", Input)
        assert prompt.value == "Checkout 5xx"  # the current name, to edit
        prompt.value = ""
        await pilot.press(*"Checkout 5xx after payments 1.42", "enter")
        await settle(pilot)
        assert app.state.title == "Checkout 5xx after payments 1.42"
        await pilot.press("6")
        await settle(pilot)
        shown = " ".join(timeline_text(app).split())  # the 80-column timeline wraps
        assert "renamed: Checkout 5xx -> Checkout 5xx after payments 1.42" in shown
    renames = [(a, p) for kind, a, p in stored_events(config) if kind == Kind.RENAMED]
    assert renames == [
        ("alice", {"title": "Checkout 5xx", "previous": "Untitled incident"}),
        ("alice", {"title": "Checkout 5xx after payments 1.42", "previous": "Checkout 5xx"}),
    ]
    with EventStore(config.store_path) as store:
        assert [i.title for i in store.incidents()] == ["Checkout 5xx after payments 1.42"]


async def test_declaring_a_named_incident_keeps_its_name(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="Search slow")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        # Same fields, same order, whatever the incident: the name first, pre-filled.
        assert app.focused is not None and app.focused.id == "declare-title"
        assert app.screen.query_one("#declare-title", Input).value == "Search slow"
        await pilot.press("enter", "enter")  # name kept; no severity picked: refused
        await pilot.pause()
        assert isinstance(app.screen, DeclareScreen)
        await pilot.press("3", "enter")  # SEV3; no description
        await settle(pilot)
        assert app.state is not None and app.state.severity == "SEV3"
    assert Kind.RENAMED not in [kind for kind, _, _ in stored_events(config)]


async def test_copy_shows_full_text_records_it_and_flags_lookalikes(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    command = "kubectl rollout undo deployment/checkout --to-revision=41 -n prod"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.query_one(PhaseChecklist).post_message(CopyRequested(command, "rollback command"))
        await settle(pilot)
        assert app.clipboard == command
        notice = str(app.query_one(CopyNotice).render())
        assert "COPIED, NOT EXECUTED" in notice and command in notice and "saved" in notice
        assert not app.query_one(CopyNotice).has_class("-flagged")
        spoofed = "kubесtl delete ns prod"  # Cyrillic е and с
        app.query_one(PhaseChecklist).post_message(CopyRequested(spoofed, "suggested command"))
        await settle(pilot)
        assert app.query_one(CopyNotice).has_class("-flagged")
    copies = [payload for kind, _, payload in stored_events(config) if kind == Kind.COMMAND_COPIED]
    assert copies[0]["text"] == command and copies[0]["findings"] == []
    assert copies[1]["text"] == spoofed and copies[1]["findings"]


async def test_events_from_another_process_appear_live(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.state is not None
        partner = EventStore(config.store_path)
        partner.append(app.state.incident_id, Kind.NOTE_ADDED, {"text": "from bob"}, "bob@host")
        partner.close()
        app._poll_store()  # what the 0.5 s interval does
        await settle(pilot)
        assert [n.text for n in app.state.notes] == ["from bob"]
        await pilot.press("6")
        await settle(pilot)
        assert "bob@host note: from bob" in timeline_text(app)


async def test_narrow_shows_one_pane_wide_shows_all(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = [p.id for p in app.panes() if p.display and p.region.width]
        assert shown == ["phases"]
        assert app.query_one("#pane-tabs").region.height == 2  # the tab bar is how you switch
        await pilot.press("2")  # the Logs pane: focus lands in its search box
        await pilot.pause()
        await pilot.press("3")  # typed into the box...
        await pilot.pause()
        assert [p.id for p in app.panes() if p.region.width] == ["logs"]
        await pilot.press("alt+3")  # ...while alt+3 switches from anywhere
        await pilot.pause()
        shown = [p.id for p in app.panes() if p.region.width]
        assert shown == ["deploys"]
    wide = make_app(config)
    async with wide.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert wide.query_one("#pane-tabs").region.height == 0
        assert sorted(p.id or "" for p in wide.panes() if p.region.width) == sorted(
            ["phases", "logs", "deploys", "hypotheses", "comms", "timeline"]
        )


async def test_f1_shows_help_for_the_focused_pane(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Phase checklist" in app.screen.markdown
        await pilot.press("escape")
        await pilot.press("6", "f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and "# Timeline" in app.screen.markdown


async def test_every_binding_has_id_and_tooltip() -> None:
    from cockpit.tui.app import PANES

    classes: list[type] = [CockpitApp, *[spec.load_class() for spec in PANES]]
    for cls in classes:
        for binding in getattr(cls, "BINDINGS", []):
            assert binding.id, f"{cls.__name__} binding {binding.key} has no id"
            if binding.show:
                assert binding.tooltip, f"{cls.__name__} binding {binding.key} has no tooltip"


async def test_store_problem_is_one_clear_error_and_the_app_survives(
    tmp_path: Path, monkeypatch: object
) -> None:
    import pytest

    config = write_config(tmp_path)
    mp = pytest.MonkeyPatch()
    mp.setattr("cockpit.core.store.filesystem_type", lambda path: "nfs4")
    try:
        app = make_app(config)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            messages = [n.message for n in app._notifications]
            assert any("nfs4" in m and "incidents.db" in m for m in messages)
            assert app.is_running
    finally:
        mp.undo()


async def test_a_keymap_entry_for_an_unknown_binding_id_is_reported(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra='\n[keymap]\nadd-note = "m"\nadd-nte = "M"\n')
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        warnings = [n.message for n in app._notifications if n.severity == "warning"]
        assert len(warnings) == 1
        assert warnings[0].startswith(f"{config.source_path}: [keymap] has no binding id add-nte")
        await pilot.press("m")  # the known entry still took effect
        assert isinstance(app.screen, TextPromptScreen)


def test_own_writes_are_read_back_even_if_the_forced_read_never_ran(tmp_path: Path) -> None:
    """The poll is an exclusive worker: a newer poll can cancel the forced read queued after our
    own commit before it starts, and `data_version` does not move for our own commits."""
    from cockpit.tui.app import StoreLink

    with EventStore(tmp_path / "i.db") as store:
        incident = store.create_incident("t", "alice")
        link = StoreLink(store, incident.id)
        assert [e.kind for e in link.new_events(force=True)] == [Kind.OPENED]
        assert link.new_events() == []  # nothing new: cheap
        saved = link.append(Kind.NOTE_ADDED, {"text": "mine"}, "alice")
        assert link.new_events() == [saved]  # a plain poll, not forced
        assert link.new_events() == []


async def test_the_narrow_phases_pane_shows_the_latest_timeline_entries(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for text in ("one", "two", "three \x1b[2J[@click=app.quit]"):
            await pilot.press("n")
            app.screen.query_one("#prompt-input", Input).value = text
            await pilot.press("enter")
            await settle(pilot)
        latest = app.query_one("#phase-latest", Static)
        lines = str(latest.render()).splitlines()
        assert lines[0] == "latest on the timeline (4 events; 6 shows all):"  # a real count
        assert [line.split(" ", 2)[2] for line in lines[1:]] == [
            "note: three \\x1b[2J[@click=app.quit]",
            "note: two",
            "note: one",
        ]
        assert latest.display
    async with make_app(config).run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert not pilot.app.query_one("#phase-latest").display  # the Timeline pane is there
