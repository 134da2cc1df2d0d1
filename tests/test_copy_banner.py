"""The COPIED banner (issue 12, item 4): Esc hides it, it shrinks to one line after 8 s (a timer
the tests fire without sleeping), `ctrl+y` shows the last copy in full, prose says "COPIED"
and shows its lint findings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cockpit.core.incident import Kind
from cockpit.tui.app import CockpitApp
from cockpit.tui.copy_view import LastCopyScreen
from cockpit.tui.messages import CopyRequested
from cockpit.tui.panes.checklist import PhaseChecklist
from cockpit.tui.screens import TextPromptScreen
from cockpit.tui.widgets import SHRINK_SECONDS, CopyNotice
from tests.tui_support import make_app, settle, write_config
from tests.ux_support import flowing_text, screen_lines, screen_text

COMMAND = "kubectl rollout undo deployment/checkout -n prod --to-revision=41"


class FakeTimers:
    """Stands in for a widget's `set_timer`: records each timer; `fire` runs the pending ones."""

    def __init__(self) -> None:
        self.pending: list[tuple[float, Callable[[], Any]]] = []

    def set_timer(self, delay: float, callback: Callable[[], Any], **_: Any) -> Any:
        entry = (delay, callback)
        self.pending.append(entry)
        timers = self

        class Handle:
            def stop(self) -> None:
                if entry in timers.pending:
                    timers.pending.remove(entry)

        return Handle()

    def fire(self) -> None:
        pending, self.pending = self.pending, []
        for _delay, callback in pending:
            callback()


def notice_rows(app: CockpitApp) -> list[str]:
    region = app.query_one(CopyNotice).region
    return screen_lines(app)[region.y : region.y + region.height]


async def copied(pilot: Any, text: str, purpose: str, detail: dict[str, Any] | None = None) -> None:
    app = pilot.app
    app.query_one(PhaseChecklist).post_message(CopyRequested(text, purpose, detail or {}))
    await settle(pilot)


async def test_the_banner_shrinks_after_8_seconds_and_esc_hides_it(tmp_path: Path) -> None:
    app = make_app(write_config(tmp_path), new_incident_title="t")
    timers = FakeTimers()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.query_one(CopyNotice).set_timer = timers.set_timer  # type: ignore[method-assign,assignment]
        await copied(pilot, COMMAND, "rollback command")
        rows = notice_rows(app)
        assert len(rows) >= 4  # a border, the header line, the command in full
        assert "COPIED, NOT EXECUTED" in "\n".join(rows) and COMMAND in "\n".join(rows)
        assert [delay for delay, _ in timers.pending] == [SHRINK_SECONDS] == [8.0]

        timers.fire()  # 8 s later
        await pilot.pause()
        (row,) = notice_rows(app)  # one line
        assert "COPIED, NOT EXECUTED" in row and "^y full text" in row and "kubectl" in row

        await pilot.press("escape")
        await pilot.pause()
        assert not app.query_one(CopyNotice).display
        assert "COPIED" not in screen_text(app)
        # The full text is still on the timeline.
        await pilot.press("6")
        await settle(pilot)
        assert COMMAND in flowing_text(app)  # wrapped over rows


async def test_a_new_copy_shows_in_full_again_and_restarts_the_timer(tmp_path: Path) -> None:
    app = make_app(write_config(tmp_path), new_incident_title="t")
    timers = FakeTimers()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.query_one(CopyNotice).set_timer = timers.set_timer  # type: ignore[method-assign,assignment]
        await copied(pilot, COMMAND, "rollback command")
        timers.fire()
        await copied(pilot, "git log --oneline -5", "read-only check")
        assert len(notice_rows(app)) >= 3
        assert "git log --oneline -5" in screen_text(app)
        assert len(timers.pending) == 1


async def test_ctrl_y_shows_the_last_copy_in_full_and_esc_goes_back(tmp_path: Path) -> None:
    app = make_app(write_config(tmp_path), new_incident_title="t")
    long_command = COMMAND + " " + " ".join(f"--label=k{i}=v{i}" for i in range(30))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert isinstance(app.screen, LastCopyScreen)
        assert "Nothing has been copied" in screen_text(app)
        await pilot.press("escape")
        await copied(pilot, long_command, "rollback command")
        await pilot.press("escape")  # hide the banner
        await pilot.pause()
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert isinstance(app.screen, LastCopyScreen)
        shown = screen_text(app)
        assert "COPIED, NOT EXECUTED" in shown and "by alice" in shown
        assert "--label=k29=v29" in shown  # the whole text, wrapped
        await pilot.press("y")  # copy it again: recorded again
        await settle(pilot)
        assert not isinstance(app.screen, LastCopyScreen)
        assert app.state is not None
        assert [c.text for c in app.state.copies] == [long_command, long_command]


async def test_esc_in_a_dialog_closes_the_dialog_and_leaves_the_banner(tmp_path: Path) -> None:
    app = make_app(write_config(tmp_path), new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await copied(pilot, COMMAND, "rollback command")
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TextPromptScreen)
        assert app.query_one(CopyNotice).display


async def test_prose_says_copied_and_shows_its_lint_findings(tmp_path: Path) -> None:
    app = make_app(write_config(tmp_path), new_incident_title="t")
    draft = "Checkout failed for some customers. This will never happen again."
    lint = ["promise: 'will never happen again' (nobody can promise that)"]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await copied(pilot, draft, "status update", {"kind": "comms", "lint": lint})
        shown = "\n".join(notice_rows(app))
        assert " COPIED " in shown and "NOT EXECUTED" not in shown
        assert "⚠ lint: promise: 'will never happen again'" in shown
        assert app.query_one(CopyNotice).has_class("-flagged")
    assert app.state is not None
    (event,) = [e for e in app.state.events if e.kind == Kind.COMMAND_COPIED]
    assert event.payload["detail"]["lint"] == lint


async def test_z_gives_the_focused_pane_the_screen_and_z_or_esc_restores(tmp_path: Path) -> None:
    app = make_app(write_config(tmp_path), new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = app.query_one("#phases").region.height
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is app.query_one("#phases")
        shown = screen_lines(app)
        assert "OPEN" in shown[0]  # the incident line stays
        assert "2 Logs" not in "\n".join(shown)  # the tab bar gives way
        assert app.query_one("#phases").region.height > before
        assert "z or esc restores" in "\n".join(shown)
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None
        await pilot.press("z", "escape")
        await pilot.pause()
        assert app.screen.maximized is None
        assert "2 Logs" in screen_text(app)


async def test_z_in_the_wide_layout_leaves_one_pane(tmp_path: Path) -> None:
    app = make_app(write_config(tmp_path), new_incident_title="t")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("z")
        await pilot.pause()
        shown = screen_text(app)
        assert "Phases" in shown and "Timeline" not in shown and "Deploys" not in shown
        assert app.query_one("#phases").region.width == 160
