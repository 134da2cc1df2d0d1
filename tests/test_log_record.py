"""Reading log lines at 80x24 (issue 12, item 3): the first result is selected when the results
get focus, `enter` opens the whole record (wrapped, sanitized, with source, file:line, time and
its continuation lines), `p` pins, `y` copies, `Esc` goes back; `w` wraps the results;
`Home`/`End` move the selection."""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

from textual.widgets import Input

from cockpit.core.incident import Kind
from cockpit.core.search.model import Hit
from cockpit.core.search.record import MAX_AFTER, read_record
from cockpit.tui.panes.hit_log import HitLog
from cockpit.tui.panes.log_record import LogRecordScreen
from cockpit.tui.widgets import CopyNotice
from tests.tui_support import make_app, settle, write_config
from tests.ux_support import flowing_text, screen_lines, screen_text

LONG = (
    "2026-11-28T14:31:00Z level=error service=checkout request_id=9f2c41aa method=POST"
    " path=/api/checkout/confirm status=500 duration_ms=812"
    " msg=\"unhandled KeyError: 'currency' in create_checkout\" upstream=payments"
)
TRACE = [
    "Traceback (most recent call last):",
    '  File "/app/checkout/app.py", line 56, in handle',
    "    result = payments.call(endpoint, body, timeout_ms=800)",
    "KeyError: 'currency' \x1b[2J",
]
LOG = "\n".join(
    [
        '2026-11-28T14:30:00Z level=info service=checkout msg="ok" status=200',
        LONG,
        *TRACE,
        '2026-11-28T14:32:00Z level=info service=checkout msg="ok" status=200',
        *[f"2026-11-28T14:33:{s:02d}Z level=info service=checkout status=200" for s in range(40)],
    ]
)


def logs_config(tmp_path: Path) -> Any:
    (tmp_path / "checkout.log").write_text(LOG + "\n")
    return write_config(
        tmp_path,
        extra='[[sources]]\nkind = "files"\nname = "checkout-files"\nservice = "checkout"\n'
        'paths = ["checkout.log"]\n',
    )


def hit_at(path: Path, line_no: int, text: str) -> Hit:
    return Hit("checkout-files", text, "checkout", str(path), line_no)


# -- the record, read from the file ------------------------------------------------------------


def test_a_record_is_its_line_and_the_continuation_lines_after_it(tmp_path: Path) -> None:
    (tmp_path / "checkout.log").write_text(LOG + "\n")
    record = read_record(hit_at(tmp_path / "checkout.log", 2, LONG))
    assert [line.number for line in record.lines] == [2, 3, 4, 5, 6]
    assert [line.text for line in record.lines] == [LONG, *TRACE]
    assert [line.matched for line in record.lines] == [True, False, False, False, False]
    assert record.ts is not None and record.ts.hour == 14 and record.ts.minute == 31
    assert not record.notes


def test_a_match_in_a_stack_frame_opens_from_the_records_first_line(tmp_path: Path) -> None:
    (tmp_path / "checkout.log.gz").write_bytes(gzip.compress((LOG + "\n").encode()))
    record = read_record(hit_at(tmp_path / "checkout.log.gz", 5, TRACE[2]))
    assert [line.number for line in record.lines] == [2, 3, 4, 5, 6]
    assert [line.matched for line in record.lines] == [False, False, False, True, False]
    assert record.ts is not None and record.ts.minute == 31


def test_a_changed_file_a_fifo_and_a_long_record_say_so(tmp_path: Path) -> None:
    path = tmp_path / "checkout.log"
    path.write_text(LOG + "\n")
    changed = read_record(hit_at(path, 2, "something else entirely"))
    assert [line.text for line in changed.lines] == ["something else entirely"]
    assert "changed since the search" in changed.notes[0]

    os.mkfifo(tmp_path / "pipe.log")
    fifo = read_record(hit_at(tmp_path / "pipe.log", 1, "x"))  # must not block
    assert [line.text for line in fifo.lines] == ["x"] and "not a regular file" in fifo.notes[0]

    frames = "\n".join(f"  at frame {n}" for n in range(MAX_AFTER + 50))
    path.write_text(f"{LONG}\n{frames}\n2026-11-28T14:40:00Z next\n")
    long = read_record(hit_at(path, 1, LONG))
    assert len(long.lines) == MAX_AFTER + 1 and "cut after" in long.notes[0]


def test_an_entry_from_a_source_without_files_is_shown_as_returned() -> None:
    record = read_record(Hit("journal", "first line\nsecond line", "payments"))
    assert [line.text for line in record.lines] == ["first line", "second line"]
    assert [line.number for line in record.lines] == [None, None]


# -- the pane, as a person uses it -------------------------------------------------------------


async def search_for(pilot: Any, pattern: str) -> HitLog:
    app = pilot.app
    await pilot.press("2")
    await settle(pilot)
    box = app.query_one("#log-search-pattern", Input)
    box.focus()
    await pilot.press(*pattern, "enter")
    await settle(pilot)
    return app.query_one(HitLog)


async def test_enter_opens_the_whole_record_wrapped_p_pins_y_copies_esc_goes_back(
    tmp_path: Path,
) -> None:
    app = make_app(logs_config(tmp_path), new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        results = await search_for(pilot, "currency")
        assert app.focused is results
        assert results.selected == 0  # the first result is selected when the results get focus
        # The list cuts the long line at 80 columns: status= and msg= are not on screen.
        assert "status=500" not in screen_text(app)

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LogRecordScreen)
        shown = screen_text(app)
        words = flowing_text(app)
        # The head names the file (its folder may wrap), the line and the record's time.
        assert "checkout.log:2·2026-11-28T14:31:00Z" in "".join(words.split())
        assert "lines 2-6 (5 lines in the record)" in words
        assert "status=500" in shown and 'msg="unhandled KeyError' in words  # wrapped, whole
        assert "Traceback (most recent call last):" in shown
        assert "KeyError: 'currency' \\x1b[2J" in shown  # sanitized: the escape is visible
        assert "\x1b" not in shown

        await pilot.press("p")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.clipboard == LONG
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LogRecordScreen)
        assert app.focused is results
        notice = "\n".join(screen_lines(app))
        assert " COPIED " in notice and "NOT EXECUTED" not in notice

    assert app.state is not None
    (pin,) = app.state.pins
    assert pin.text == LONG and pin.detail["line"] == 2 and pin.detail["record_lines"] == 5
    assert "Traceback (most recent call last):" in pin.detail["record"]
    (copy,) = [e for e in app.state.events if e.kind == Kind.COMMAND_COPIED]
    assert copy.payload["text"] == LONG and copy.payload["purpose"] == "log line"


async def test_w_wraps_the_results_and_home_end_move_the_selection(tmp_path: Path) -> None:
    app = make_app(logs_config(tmp_path), new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        results = await search_for(pilot, "status=")
        count = len(results.hits)
        assert count == 43
        assert results.selected is not None and results.selected > 0  # the view shows the tail

        await pilot.press("home")
        await pilot.pause()
        assert results.selected == 0
        assert "14:30:00 checkout.log:1 " in screen_text(app)

        await pilot.press("down", "w")
        await pilot.pause()
        assert results.wrap and results.selected == 1
        words = flowing_text(app)
        assert "status=500" in words and "upstream=payments" in words  # the long line, whole

        await pilot.press("end")
        await pilot.pause()
        assert results.selected == count - 1
        assert "14:33:39" in screen_text(app)

        await pilot.press("w")  # back to one row per line
        await pilot.pause()
        assert not results.wrap and "status=500" not in screen_text(app)


async def test_the_record_view_takes_the_whole_screen_at_160x48(tmp_path: Path) -> None:
    app = make_app(logs_config(tmp_path), new_incident_title="t")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await search_for(pilot, "result = payments")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LogRecordScreen)
        rows = screen_lines(app)
        assert "checkout.log:5" in rows[0]  # the match was a stack frame...
        assert "lines 2-6" in rows[0]  # ...and the record opens from its first line
        assert any(row.lstrip().startswith("2 2026-11-28T14:31:00Z") for row in rows)
        assert any(row.lstrip().startswith("▶5 ") for row in rows)
        assert not app.query_one(CopyNotice).display


async def test_a_json_record_lists_its_fields_and_a_stack_keeps_its_lines(tmp_path: Path) -> None:
    import json

    entry = {
        "time": "2026-11-28T14:40:00Z",
        "level": "error",
        "msg": "acquirer declined",
        "error": {
            "type": "RuntimeError",
            "stack": "Traceback (most recent call last):\n"
            '  File "/app/pay.py", line 9\nRuntimeError: declined \x1b[2J',
        },
    }
    (tmp_path / "payments.log").write_text(json.dumps(entry) + "\n")
    config = write_config(
        tmp_path,
        extra='[[sources]]\nkind = "files"\nname = "payments"\npaths = ["payments.log"]\n',
    )
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await search_for(pilot, "declined")
        await pilot.press("enter")
        await settle(pilot)
        rows = [row.strip() for row in screen_lines(app)]
        assert "fields (JSON)" in rows
        assert any(row.startswith("error.stack Traceback (most recent call last):") for row in rows)
        assert 'File "/app/pay.py", line 9' in rows  # the stack's own line, not a \n
        assert "RuntimeError: declined \\x1b[2J" in rows  # sanitized
