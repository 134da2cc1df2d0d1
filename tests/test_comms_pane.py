"""The Comms pane in a small test app: edit a fact, edit and copy a draft, add items, diff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.widgets import Input, Label, OptionList, Static, TextArea

from cockpit.core.comms.events import COMMS_KIND, FACT_SET
from cockpit.core.config import Config
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.review.events import ACTION_ITEM_ADDED, ROOT_CAUSE_STATED
from cockpit.core.store import EventStore
from cockpit.resources import data_dir
from cockpit.tui.messages import CopyRequested, RecordRequested
from cockpit.tui.panes.comms import CommsPane
from tests.comms_support import SteppingClock, at, build_demo_incident
from tests.tui_support import settle, workers_done, write_config


class PaneApp(App[None]):
    """Hosts the pane; writes RecordRequested to a real store, collects CopyRequested."""

    CSS_PATH = [data_dir("styles") / "cockpit.tcss", data_dir("styles") / "comms.tcss"]

    def __init__(
        self,
        store: EventStore,
        incident_id: str,
        clock: SteppingClock,
        config: Config | None = None,
    ) -> None:
        super().__init__()
        self.config = config or Config()
        self.store = store
        self.incident_id = incident_id
        self.clock = clock
        self.copies: list[CopyRequested] = []
        self.records: list[RecordRequested] = []

    def compose(self) -> ComposeResult:
        yield CommsPane(self.config, self.clock, id="comms")

    def on_mount(self) -> None:
        self.push_state()
        self.query_one("#comms-facts", OptionList).focus()

    def push_state(self) -> None:
        self.query_one(CommsPane).incident = IncidentState.from_events(
            self.store.events(self.incident_id)
        )

    @on(RecordRequested)
    def _record(self, message: RecordRequested) -> None:
        self.records.append(message)
        self.store.append(self.incident_id, message.kind, message.payload, "carol")
        self.push_state()

    @on(CopyRequested)
    def _copy(self, message: CopyRequested) -> None:
        self.copies.append(message)
        payload: dict[str, Any] = {
            "text": message.text,
            "purpose": message.purpose,
            "findings": [],
            "detail": message.detail,
        }
        self.store.append(self.incident_id, Kind.COMMAND_COPIED, payload, "carol")
        self.push_state()


def make_app(
    tmp_path: Path, until: str | None = "14:39:40", config: Config | None = None
) -> PaneApp:
    store, incident_id, clock = build_demo_incident(tmp_path / "s.db", until=until)
    clock.now = at("14:42:00") if until else at("15:20:00")
    return PaneApp(store, incident_id, clock, config)


def static_text(app: PaneApp, selector: str) -> str:
    content = app.query_one(selector, Static).render()
    return content.plain if isinstance(content, Text) else str(content)


async def test_edit_a_fact_then_copy_the_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(CommsPane)
        draft = app.query_one("#comms-draft", TextArea)
        assert draft.text.startswith("Since 14:31 UTC, about 10% of requests to checkout")
        assert "lint: clean" in static_text(app, "#comms-lint")
        # One next-update time: the header, the Next-update fact and the draft agree.
        assert static_text(app, "#comms-cadence") == (
            "Investigating · first update due 15:05 UTC, in 23:00"
        )
        next_row = app.query_one("#comms-facts", OptionList).get_option_at_index(7).prompt
        assert str(next_row).startswith("Next update   15:05 UTC")
        assert draft.text.endswith("We will post the next update by 15:05 UTC.")
        assert "AI rewrite: not available (no AI configured)" in static_text(
            app, "#comms-draft-title"
        )
        # Edit the "Services" fact through the prompt.
        facts = app.query_one("#comms-facts", OptionList)
        facts.highlighted = 6
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"checkout, payments", "enter")
        await pilot.pause()
        (record,) = app.records
        assert record.kind == FACT_SET
        assert record.payload["name"] == "services"
        assert record.payload["value"] == "checkout, payments"
        assert "edited by carol" in str(facts.get_option_at_index(6).prompt)
        assert "requests to checkout and payments" in draft.text
        # Copy (y, as everywhere): one CopyRequested with the (empty) lint findings in its detail.
        await pilot.press("y")
        await pilot.pause()
        (copy,) = app.copies
        assert copy.purpose == "status update"
        assert copy.text == draft.text
        assert copy.detail["kind"] == COMMS_KIND
        assert copy.detail["lint"] == []
        assert copy.detail["next_update"] == "2026-11-28T15:05:00+00:00"
        assert "next update due 15:05 UTC, in 23:00" in static_text(app, "#comms-cadence")
        assert pane.facts is not None


async def test_a_flagged_draft_can_still_be_copied_with_its_findings(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        draft = app.query_one("#comms-draft", TextArea)
        draft.focus()
        draft.move_cursor(draft.document.end)
        await pilot.press(*" It was caused by db-01.")
        await pilot.pause()
        lint_text = static_text(app, "#comms-lint")
        assert "2 finding(s)" in lint_text
        assert "'caused by'" in lint_text and "'db-01'" in lint_text
        assert app.query_one("#comms-lint").has_class("-flagged")
        assert "(edited)" in static_text(app, "#comms-draft-title")
        await pilot.press("escape", "y")  # leave the editor, then copy
        await pilot.pause()
        (copy,) = app.copies
        assert copy.text.endswith("It was caused by db-01.")
        assert len(copy.detail["lint"]) == 2
        assert any("caused by" in message for message in copy.detail["lint"])


async def test_email_diff_and_redraft(tmp_path: Path) -> None:
    app = make_app(tmp_path, until="14:41:00")  # a status update was copied at 14:41
    async with app.run_test(size=(160, 48)) as pilot:
        draft = app.query_one("#comms-draft", TextArea)
        await pilot.press("D")
        await pilot.pause()
        diff = static_text(app, "#comms-diff")
        assert "-We are investigating and working to restore service;" in diff
        assert "+We have identified a likely cause and are working on a fix;" in diff
        await pilot.press("t")
        await pilot.pause()
        assert draft.text.startswith("We are writing to let you know")
        assert static_text(app, "#comms-draft-title").startswith("Customer email")
        draft.load_text("My own words.")
        await pilot.pause()
        assert draft.text == "My own words."
        app.query_one("#comms-facts", OptionList).focus()
        await pilot.press("g")
        await pilot.pause()
        assert draft.text.startswith("We are writing to let you know")


async def test_root_cause_and_action_item_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path, until=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        await pilot.press(*"Client timeout too low", "enter")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"Add a timeout lint", "enter", *"dave", "enter", *"2026-12-24", "enter")
        await pilot.pause()
        assert [(r.kind, r.payload["text"]) for r in app.records] == [
            (ROOT_CAUSE_STATED, "Client timeout too low"),
            (ACTION_ITEM_ADDED, "Add a timeout lint"),
        ]
        assert app.records[1].payload["owner"] == "dave"
        assert app.records[1].payload["due"] == "2026-12-24"
        assert "no update cadence: Resolved" in static_text(app, "#comms-cadence")


async def test_action_item_needs_an_owner_and_a_real_due_date(tmp_path: Path) -> None:
    app = make_app(tmp_path, until=None)  # the clock says 2026-11-28
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"Add a timeout lint", "enter", "enter", *"next_week", "enter")
        await pilot.pause()
        error = app.screen.query_one(".dialog-error", Label)
        assert error.display
        assert str(error.render()) == "owner is required: a person or a team"
        assert app.screen.focused is not None and app.screen.focused.id == "action-item-owner"
        await pilot.press(*"dave", "enter", "enter")
        await pilot.pause()
        assert str(error.render()) == (
            "due date 'next_week' is not a date: use YYYY-MM-DD, or +3d / 1w"
        )
        assert app.records == []  # nothing saved while a field is wrong
        due = app.screen.query_one("#action-item-due", Input)
        due.value = "+3d"
        await pilot.press("enter")
        await pilot.pause()
        (record,) = app.records
        assert record.kind == ACTION_ITEM_ADDED
        assert (record.payload["owner"], record.payload["due"]) == ("dave", "2026-12-01")


async def test_invalid_status_edit_is_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(CommsPane).set_fact("status", "on fire")
        await pilot.pause()
        assert app.records == []
        app.query_one(CommsPane).set_fact("status", "auto")
        await pilot.pause()
        assert app.records[0].payload["value"] == ""


async def test_postmortem_key_writes_a_file(tmp_path: Path) -> None:
    app = make_app(tmp_path, until=None)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(CommsPane)
        pane.export_dir = tmp_path
        await pilot.press("m")
        await workers_done(app)
        await pilot.pause()
        written = list(tmp_path.glob("postmortem-*.md"))
        assert len(written) == 1
        assert written[0].read_text().startswith("# Postmortem: Checkout: elevated 5xx errors")


async def test_countdown_follows_the_clock(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "in 23:00" in static_text(app, "#comms-cadence")
        app.clock.now = at("15:06:30")
        app.query_one(CommsPane)._tick()
        await pilot.pause()
        assert "OVERDUE by 1:30" in static_text(app, "#comms-cadence")
        assert app.query_one("#comms-cadence").has_class("-overdue")
        # The update now drafted is the overdue one: it promises the next a cadence from now,
        # and the header names that same time.
        assert static_text(app, "#comms-cadence").endswith(
            "this draft promises the one after by 15:40 UTC"
        )
        draft = app.query_one("#comms-draft", TextArea).text
        assert draft.endswith("We will post the next update by 15:40 UTC.")


async def test_in_the_cockpit_a_copy_reaches_the_clipboard_and_the_timeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cockpit.tui.app as app_module

    config = write_config(tmp_path)
    store, incident_id, clock = build_demo_incident(config.store_path, until="14:39:40")
    store.close()
    clock.now = at("14:42:00")
    app = app_module.CockpitApp(config, clock=clock, incident_id=incident_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        draft = app.query_one("#comms-draft", TextArea).text
        await pilot.press("y")
        await settle(pilot)
        assert app.clipboard == draft
    with EventStore(config.store_path) as check:
        last = check.events(incident_id)[-1]
    assert last.kind == Kind.COMMAND_COPIED
    assert last.author == "alice"
    assert last.payload["text"] == draft
    assert last.payload["purpose"] == "status update"
    assert last.payload["detail"]["kind"] == COMMS_KIND
    assert last.payload["detail"]["lint"] == []


async def test_facts_from_logs_are_read_in_a_worker(tmp_path: Path) -> None:
    from tests.test_comms_facts import write_logs

    app = make_app(tmp_path, until="14:36:00", config=write_logs(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await workers_done(app)
        await pilot.pause()
        pane = app.query_one(CommsPane)
        assert pane.facts is not None
        assert pane.facts["start"].source == "from logs: first errors of the burst on checkout"
        assert pane.facts["share"].value == "about 30% of checkout requests"
        draft = app.query_one("#comms-draft", TextArea).text
        assert draft.startswith("Since 14:31 UTC, about 30% of checkout requests")


async def test_typing_survives_an_incident_update_and_a_copy_resets_edits(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        draft = app.query_one("#comms-draft", TextArea)
        draft.insert(" Extra words.", draft.document.end)
        app.push_state()  # an event arrives before the editor's Changed message is handled
        await pilot.pause()
        assert draft.text.endswith(" Extra words.")
        app.query_one(CommsPane).set_fact("share", "about 12%")  # facts change: edit kept
        await pilot.pause()
        assert draft.text.endswith(" Extra words.") and "about 10%" in draft.text
        await pilot.press("y")
        await pilot.pause()
        assert app.copies[-1].text.endswith(" Extra words.")
        app.query_one(CommsPane).set_fact("share", "about 15%")  # after a copy: redrafted
        await pilot.pause()
        assert "about 15% of requests" in draft.text
        assert not draft.text.endswith(" Extra words.")


async def test_draft_and_lint_are_visible_at_80x24_and_160x48(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cockpit.tui.app as app_module

    config = write_config(tmp_path)
    store, incident_id, clock = build_demo_incident(config.store_path, until="14:41:00")
    store.close()
    for size in ((80, 24), (160, 48)):
        app = app_module.CockpitApp(config, clock=clock, incident_id=incident_id)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await pilot.press("5")
            await settle(pilot)
            # `5` lands on the facts, and one Tab reaches the draft.
            assert app.focused is not None and app.focused.id == "comms-facts", size
            await pilot.press("tab")
            assert app.focused is not None and app.focused.id == "comms-draft", size
            body = app.query_one("#comms-body")
            visible_region = body.content_region
            for selector in ("#comms-cadence", "#comms-draft-title", "#comms-draft", "#comms-lint"):
                region = app.query_one(selector).region
                assert region.height >= 1, (size, selector)
                assert visible_region.contains_region(region), (size, selector, region)
