"""What the 80x24 walkthrough of issue 12 tripped over, pressed as a new user would."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from cockpit.core.config import Config
from tests.tui_support import make_app, settle, write_config
from tests.ux_support import flowing_text, screen_lines


def logs_config(tmp_path: Path) -> Config:
    lines = [
        f"2026-11-28T14:{10 + n % 30:02d}:{n % 60:02d}Z level=error service=checkout"
        f' path=/api/cart/{n} status=504 msg="upstream timeout calling payments"'
        for n in range(40)
    ]
    (tmp_path / "checkout.log").write_text("\n".join(sorted(lines)) + "\n")
    return write_config(
        tmp_path,
        extra='[[sources]]\nkind = "files"\nname = "checkout-files"\nservice = "checkout"\n'
        'paths = ["checkout.log"]\n',
    )


async def test_slash_after_2_searches_instead_of_typing_a_slash(tmp_path: Path) -> None:
    """`2` puts the focus in the pattern box; a k9s/less/vim hand then presses `/` to search.
    That `/` is the search key, not the first character of the pattern: `2 / status=5 Enter`
    finds the lines. A pattern that starts with `/` is typed `//`."""
    app = make_app(logs_config(tmp_path), new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        box = app.query_one("#log-search-pattern", Input)
        assert box.has_focus
        await pilot.press("slash", *"status=5", "enter")
        await settle(pilot)
        assert box.value == "status=5"
        assert "40 matching lines" in flowing_text(app)
        await pilot.press("slash")  # from the results: back to the box
        await pilot.pause()
        assert box.has_focus
        await pilot.press("ctrl+u", "slash", "slash", *"api", "enter")
        await settle(pilot)
        assert box.value == "/api"
        assert "40 matching lines" in flowing_text(app)


async def test_a_cut_signature_uses_the_columns_up_to_the_panes_edge(tmp_path: Path) -> None:
    """At 80x24 (and in the 80-column Logs pane at 160x48) a long signature was cut at 32
    characters with five blank columns after it: room for no NEW mark and no scrollbar."""
    lines = [
        f"2026-11-28T14:{10 + n % 30:02d}:{n % 60:02d}Z level=error service=checkout"
        f' msg="upstream timeout calling payments after 800ms while confirming basket {n}"'
        for n in range(40)
    ]
    (tmp_path / "checkout.log").write_text("\n".join(sorted(lines)) + "\n")
    config = write_config(
        tmp_path,
        extra='[[sources]]\nkind = "files"\nname = "c"\nservice = "checkout"\n'
        'paths = ["checkout.log"]\n',
    )
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press(*"level=error", "enter")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        row = next(line for line in screen_lines(app) if "upstream timeout" in line)
        assert "upstream timeout calling payments af…" in row, row
        assert row.endswith("…  │"), row  # the cell's padding, the pane's, its border
