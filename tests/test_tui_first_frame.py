"""The TUI's first frame (issue 16): built from a config text validated before without its typed
model, with the incident already read, and only the pane that shows at 80 columns.

Timing is measured by bench/bench_startup.py; these tests check what the first frame holds
and that everything the later frames need still arrives, validated as strictly as before.
"""

from __future__ import annotations

from pathlib import Path

from cockpit.core.config import Config, load_config_file
from cockpit.core.config_file import checked_config
from cockpit.tui.app import GRID_ORDER, CockpitApp, open_incident
from cockpit.tui.panes.slot import PaneSlot
from cockpit.tui.screens import TextPromptScreen
from cockpit.tui.widgets import IncidentHeader
from tests.tui_support import frozen_clock, settle, write_config

LONG_TITLE = "Checkout: elevated 5xx errors"
"""Longer than the 12 columns a header without a size gave it; it fits at 80."""


class FirstFrameProbe(CockpitApp):
    """Notes which panes the app composed for its first frame."""

    panes_at_mount: list[str | None] = []

    def on_mount(self) -> None:  # Textual calls CockpitApp.on_mount too
        self.panes_at_mount = [pane.id for pane in self.panes()]


def test_the_pydantic_free_view_of_a_checked_config_matches_the_typed_one(
    tmp_path: Path,
) -> None:
    config = write_config(
        tmp_path, extra='drill = true\nstore_mode = "0600"\n[keymap]\nadd-note = "N"\n'
    )
    path = tmp_path / "cockpit.toml"
    checked = checked_config(path)
    assert checked is not None  # write_config validated it: its verdict is remembered
    assert checked.start_settings == config.start_settings
    settings = checked.start_settings
    assert (settings.drill, settings.author, dict(settings.keymap)) == (
        True,
        "alice",
        {"add-note": "N"},
    )
    assert settings.runbook_path == tmp_path / "runbook.md"
    assert settings.store_target == tmp_path / "incidents.db"
    path.write_text(path.read_text() + "# edited\n")
    assert checked_config(path) is None  # a new text: validated in full by the caller first


async def test_a_checked_config_is_typed_after_the_first_frame_and_reaches_every_pane(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, extra='[keymap]\nadd-note = "N"\n')
    path = tmp_path / "cockpit.toml"
    checked = checked_config(path)
    assert checked is not None
    app = CockpitApp(checked, clock=frozen_clock, new_incident_title="db down")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.config, Config)
        assert app.config == load_config_file(path)
        logs = app.pane_content("logs")
        assert not isinstance(logs, PaneSlot)  # loaded once the typed config was there
        assert logs.config == app.config
        await pilot.press("N")  # the key map came from the TOML, before pydantic
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)


async def test_the_incident_read_before_the_app_starts_is_in_its_first_frame(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    opened = open_incident(
        config.start_settings,
        clock=frozen_clock,
        incident_id=None,
        new_incident_title=LONG_TITLE,
        author="alice",
    )
    app = FirstFrameProbe(config, clock=frozen_clock, opened=opened)
    async with app.run_test(size=(80, 24)) as pilot:
        # Before any worker or pause: the state was handed over in on_mount.
        assert app.state is not None and app.state.title == LONG_TITLE
        assert not [w for w in app.workers if w.group == "store-open"]
        # The header gives the title the screen's width, though it had no size of its own yet.
        assert LONG_TITLE in str(app.query_one(IncidentHeader).render())
        # At 80 columns only Phases shows: the other slots come right after the first frame.
        assert app.panes_at_mount == ["phases"]
        await settle(pilot)
        assert [p.id for p in app.panes()] == list(GRID_ORDER)
        assert not isinstance(app.pane_content("timeline"), PaneSlot)
        await pilot.press("6")
        await settle(pilot)
        assert app.query_one("#timeline").has_class("-active")


async def test_wide_terminals_get_every_pane_in_the_first_frame(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = FirstFrameProbe(config, clock=frozen_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        assert app.panes_at_mount == list(GRID_ORDER)
        assert app.screen.has_class("-wide") and not app.screen.has_class("-narrow")
        await settle(pilot)
        assert all(not isinstance(app.pane_content(p), PaneSlot) for p in GRID_ORDER)
