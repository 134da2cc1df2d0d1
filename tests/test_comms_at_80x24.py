"""Comms at 80x24 (issue 12, item 14): the lint is on screen where the draft is and on the
COPIED banner; a next-update time is no unbacked ETA while Monitoring; draft edits are saved as
events and survive a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cockpit.core.comms.events import DRAFT_EDITED, saved_drafts
from cockpit.core.comms.lint import LintContext, lint
from cockpit.core.config import Config
from cockpit.core.incident import Kind
from cockpit.core.store import EventStore
from cockpit.tui.panes.comms import CommsPane
from cockpit.tui.panes.comms.pane import DRAFT_SAVE_SECONDS
from tests.test_copy_banner import FakeTimers, notice_rows
from tests.tui_support import make_app, settle, write_config
from tests.ux_support import flowing_text

PROMISE = " This will never happen again."


def test_a_next_update_time_while_monitoring_is_no_unbacked_eta() -> None:
    monitoring = LintContext(require_next_update=False, next_update=None)
    for text in (
        "A fix is in place and we are monitoring. We will post the next update by 15:30 UTC.",
        "We are monitoring the results and will share an update in 45 minutes.",
    ):
        assert lint(text, monitoring) == [], text
    # A time for the fix is still an ETA with nothing behind it, and so is a vague one.
    for text in ("The fix will be live by 15:30, and we will post an update.", "Back soon."):
        assert [f.code for f in lint(text, monitoring)] == ["eta"], text
    # With a cadence, the next update must be the time the facts promise.
    investigating = LintContext(require_next_update=True)
    assert "eta" in [f.code for f in lint("Next update by 15:30 UTC.", investigating)]


def stored(config: Config) -> list[Any]:
    store = EventStore(config.store_path)
    try:
        incident = store.current_incident()
        assert incident is not None
        return store.events(incident.id)
    finally:
        store.close()


async def to_the_draft(pilot: Any) -> None:
    await pilot.press("5")
    await settle(pilot)
    await pilot.press("tab")  # `5` lands on the facts; one Tab reaches the draft
    await pilot.pause()


async def test_a_promise_shows_its_lint_above_the_draft_and_on_the_banner(tmp_path: Path) -> None:
    app = make_app(write_config(tmp_path), new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await to_the_draft(pilot)
        await pilot.press(*PROMISE)
        await settle(pilot)
        words = flowing_text(app)
        assert "Status update (edited) · ⚠ 1 lint: promise: 'will never happen again'" in words
        await pilot.press("escape", "y")  # leave the editor, copy
        await settle(pilot)
        banner = " ".join(" ".join(notice_rows(app)).split())
        assert "COPIED status update ⚠ 1 flagged" in banner
        assert "⚠ lint: promise: 'will never happen again'" in banner


async def test_draft_edits_are_events_and_come_back_after_a_restart(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="Checkout 5xx")
    timers = FakeTimers()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await to_the_draft(pilot)
        pane = app.query_one(CommsPane)
        pane.set_timer = timers.set_timer  # type: ignore[method-assign,assignment]
        await pilot.press(*PROMISE)
        await pilot.pause()
        assert [delay for delay, _ in timers.pending] == [DRAFT_SAVE_SECONDS]
        timers.fire()  # a pause in typing: saved
        await settle(pilot)
        edited = [e for e in stored(config) if e.kind == DRAFT_EDITED]
        assert len(edited) == 1 and PROMISE.strip() in edited[0].payload["text"]
        await pilot.press("space", "x", "escape")  # more typing, then leave: saved at once
        await settle(pilot)
        text = saved_drafts(stored(config))["status update"]
        assert text.count(PROMISE.strip()) == 1 and " x" in text

    again = make_app(config)  # a restart (or a crash and a new cockpit)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        words = flowing_text(again)
        assert "Status update (edited)" in words and "This will never happen again." in words
        await pilot.press("g")  # back to the draft from the facts: recorded too
        await settle(pilot)
    assert saved_drafts(stored(config)) == {}
    kinds = [e.kind for e in stored(config)]
    assert kinds.count(DRAFT_EDITED) == 3 and Kind.COMMAND_COPIED not in kinds
