"""Signatures show what tells them apart (issue 12, item 5): the prefix a row shares with its
siblings is elided to the end, `z` gives the Logs pane the screen, `enter` on a signature opens
its example's record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input

from cockpit.tui.panes.log_record import LogRecordScreen
from cockpit.tui.panes.pattern_table import shared_prefixes, signature_cell
from tests.tui_support import make_app, settle, write_config
from tests.ux_support import flowing_text, screen_text

MESSAGES = (
    "payments client error: upstream timeout calling payments after 800ms (attempt 3)",
    "payments client error: connection pool exhausted (max=50, waiting=12)",
    "payments client error: circuit breaker open for payments (failures=20 in 30s)",
)
"""Three failures of one client: the clusterer keeps the message (the header is left out),
and every template starts the same."""


def test_the_prefix_shared_with_a_sibling_is_elided() -> None:
    keys = [
        "error checkout: upstream timeout calling payments after <dur>",
        "error checkout: connection pool exhausted (max=<n>)",
        "error payments: acquirer declined",
        "GET /api/cart/<n> 502",
    ]
    assert shared_prefixes(keys) == ["error checkout:", "error checkout:", "", ""]
    # One word in common is too little to elide; a row is never elided to nothing.
    assert shared_prefixes(["error a", "error b"]) == ["", ""]
    assert shared_prefixes(["error checkout: x", "error checkout: x y"]) == [
        "error checkout:",
        "error checkout: x",
    ]
    cell = signature_cell(keys[0], "error checkout:")
    assert cell.plain == "…upstream timeout calling payments after <dur>  [error checkout:]"
    assert signature_cell(keys[3], "").plain == keys[3]


def errors_config(tmp_path: Path) -> Any:
    lines = [
        f"2026-11-28T14:{10 + n % 30:02d}:{n % 60:02d}Z level=error service=checkout"
        f' msg="{MESSAGES[n % 3]}" status=504'
        for n in range(90)
    ]
    (tmp_path / "checkout.log").write_text("\n".join(sorted(lines)) + "\n")
    return write_config(
        tmp_path,
        extra='[[sources]]\nkind = "files"\nname = "checkout-files"\nservice = "checkout"\n'
        'paths = ["checkout.log"]\n',
    )


async def patterns_of(pilot: Any, pattern: str) -> None:
    await pilot.press("2")
    await settle(pilot)
    pilot.app.query_one("#log-search-pattern", Input).focus()
    await pilot.press(*pattern, "enter")
    await settle(pilot)
    await pilot.press("v")
    await settle(pilot)


async def test_at_120x40_each_row_shows_what_tells_it_apart(tmp_path: Path) -> None:
    app = make_app(errors_config(tmp_path), new_incident_title="t")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await patterns_of(pilot, "level=error")
        shown = screen_text(app)
        # Before, every row read "payments client error: ..." cut at the narrow column's edge.
        for start in ("…upstream", "…connection", "…circuit"):
            assert start in shown
        await pilot.press("z")  # the Logs pane gets the whole screen
        await pilot.pause()
        words = flowing_text(app)
        # Fitted again to the wider column: the whole distinctive part, then the shared
        # prefix in brackets, cut where the column ends.
        assert "…upstream timeout calling payments after <*> (attempt <*>) [payments" in words


async def test_enter_on_a_signature_opens_its_example_with_the_whole_signature(
    tmp_path: Path,
) -> None:
    app = make_app(errors_config(tmp_path), new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await patterns_of(pilot, "circuit")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LogRecordScreen)
        words = flowing_text(app)
        assert "example of the signature payments client error: circuit breaker open" in words
        assert (
            'msg="payments client error: circuit breaker open for payments (failures=20 in 30s)"'
            in words
        )
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LogRecordScreen)
