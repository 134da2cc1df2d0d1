"""Issue 12, polish: inject toasts stay short (details on the timeline), an invalid regex is
reported by the box, the NEW mark is an event (it survives a restart and reaches a partner)."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import Input

from cockpit.core.incident import Kind
from cockpit.core.store import EventStore
from cockpit.tui.widgets import inject_toast
from tests.tui_support import make_app, settle, write_config
from tests.ux_support import flowing_text, screen_lines

LONG_INJECT = (
    "Support: customers report failed checkouts on web and mobile, and the head of e-commerce"
    " asks whether the weekend campaign should be paused. Is there an ETA?"
)


def test_an_inject_toast_is_its_first_sentence_cut_short() -> None:
    short = inject_toast(LONG_INJECT)
    assert len(short) <= 80 and short.endswith("… (6: in full)")
    assert inject_toast("The gateway alert fires too.") == "The gateway alert fires too."
    assert "\x1b" not in inject_toast("evil \x1b[2J text")


async def test_an_inject_toast_takes_a_few_rows_and_the_timeline_has_it_all(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="Drill")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        assert app.state is not None
        store = EventStore(config.store_path)
        store.append(app.state.incident_id, Kind.INJECT, {"summary": LONG_INJECT}, "facilitator")
        store.close()
        app._poll_store()
        await settle(pilot)
        rows = [row for row in screen_lines(app) if "DRILL inject" in row or "(6: in" in row]
        toast = [i for i, row in enumerate(screen_lines(app)) if "DRILL inject" in row]
        assert toast and rows
        end = next(i for i, row in enumerate(screen_lines(app)) if "(6: in full)" in row)
        assert end - toast[0] <= 2  # a title and two lines, not half the pane
        await pilot.press("6")
        await settle(pilot)
        assert "Is there an ETA?" in flowing_text(app)


def first_key(widget_class: type[DOMNode], binding_id: str) -> str:
    """The key a person presses for `binding_id` (whatever letter the key map gives it)."""
    bindings = [b for b in widget_class.BINDINGS if isinstance(b, Binding)]
    return next(b for b in bindings if b.id == binding_id).key.split(",")[0]


async def test_an_invalid_regex_shows_right_under_the_box_at_80x24(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("2026-11-28T14:40:00Z level=error msg=x\n")
    config = write_config(
        tmp_path, extra='[[sources]]\nkind = "files"\nname = "app"\npaths = ["app.log"]\n'
    )
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        app.query_one("#log-search-pattern", Input).focus()
        await pilot.press(*"status=(5", "enter")
        await settle(pilot)
        rows = screen_lines(app)
        box = next(i for i, row in enumerate(rows) if "status=(5" in row)
        assert "✗ invalid regex 'status=(5'" in rows[box + 1]


async def test_the_new_mark_is_an_event_that_survives_a_restart_and_reaches_a_partner(
    tmp_path: Path,
) -> None:
    from cockpit.core.search.marks import NEW_MARK_SET, new_mark_payload
    from cockpit.core.timefmt import parse_iso
    from cockpit.tui.panes.log_search import LogSearchPane

    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        app.query_one("#log-search-results").focus()
        await pilot.press(first_key(LogSearchPane, "log-search-new-since"))
        await pilot.pause()
        await pilot.press(*"2026-11-28T14:30:00Z", "enter")
        await settle(pilot)
        assert app.state is not None
        (event,) = [e for e in app.state.events if e.kind == NEW_MARK_SET]
        assert event.payload["at"] == "2026-11-28T14:30:00Z"

    restarted = make_app(config)
    async with restarted.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        pane = restarted.query_one(LogSearchPane)
        assert pane.new_since == parse_iso("2026-11-28T14:30:00Z")
        assert "new since 14:30" in flowing_text(restarted)
        # A partner picks a deploy in their cockpit: this one follows.
        assert restarted.state is not None
        store = EventStore(config.store_path)
        at = parse_iso("2026-11-28T14:29:00Z")
        payload = new_mark_payload(at, "checkout b9c1d4e")
        store.append(restarted.state.incident_id, NEW_MARK_SET, payload, "bob")
        store.close()
        restarted._poll_store()
        await settle(pilot)
        assert pane.new_since == at and pane.new_since_label == "checkout b9c1d4e"
        assert "new since checkout b9c1d4e 14:29" in flowing_text(restarted)
