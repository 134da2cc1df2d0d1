"""Pilot tests of the Logs pane: search, live statuses, hostile lines, patterns, pinning."""

from __future__ import annotations

import asyncio
import html
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input, OptionList, Static

from cockpit.core.config import Config, FileSource, LogSource
from cockpit.core.search.model import SourceState
from cockpit.tui.messages import PinRequested
from cockpit.tui.panes.hit_log import HitLog
from cockpit.tui.panes.log_search import LogSearchPane
from tests.tui_support import workers_done

NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
STYLES = Path(__file__).parent.parent / "styles" / "log_search.tcss"

APP_LOG = "".join(
    f'2026-11-28T13:{m:02d}:00Z level=error msg="timeout after {m * 10}ms" status=503\n'
    f"2026-11-28T13:{m:02d}:30Z level=info status=200\n"
    for m in range(10, 60)
) + (
    '2026-11-28T13:59:59Z level=error msg="\x1b]52;c;ZXZpbA==\x07 [bold]markup[/bold] '
    '\x1b[2J\u202egnp.exe" status=500\n'
)
OLD_LOG = '2026-11-28T10:00:00Z level=error msg="ancient" status=500\n'


class PaneApp(App[None]):
    CSS_PATH = [STYLES]

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config

    def compose(self) -> ComposeResult:
        yield LogSearchPane(self.config, lambda: NOW, id="logs")


def make_config(tmp_path: Path, *, fifo: bool = False) -> Config:
    (tmp_path / "app.log").write_text(APP_LOG)
    (tmp_path / "old.log").write_text(OLD_LOG)
    sources: list[LogSource] = [
        FileSource(name="app", service="checkout", paths=["app.log", "old.log"]),
    ]
    if fifo:
        os.mkfifo(tmp_path / "pipe.log")
        sources.append(FileSource(name="broken", service="edge", paths=["pipe.log"]))
    return Config(sources=sources, source_path=tmp_path / "cockpit.toml")


async def search(pilot, pattern: str) -> LogSearchPane:
    pane = pilot.app.query_one(LogSearchPane)
    box = pilot.app.query_one("#log-search-pattern", Input)
    box.focus()
    box.value = ""
    await pilot.press(*pattern, "enter")
    await workers_done(pilot.app)
    await pilot.pause()
    await pilot.pause()
    return pane


def log_text(app: App[None]) -> list[str]:
    return list(app.query_one("#log-search-results", HitLog).lines)


async def test_search_shows_counts_statuses_and_lines(tmp_path: Path) -> None:
    app = PaneApp(make_config(tmp_path, fifo=True))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await search(pilot, "level=error")
        # Default window: the last hour, so old.log's line is out.
        assert pane.total == 51
        assert pane.statuses["app"].state == SourceState.DONE
        assert pane.statuses["app"].count == 51
        assert pane.statuses["broken"].state == SourceState.ERROR
        assert "FIFO" in (pane.statuses["broken"].error or "")
        lines = log_text(app)
        assert len(lines) == 51
        assert any("timeout after 100ms" in line for line in lines)
        summary = app.query_one("#log-search-summary", Static).render()
        assert "51 matching lines" in str(summary) and "1 failed" in str(summary)
        sources = app.query_one("#log-search-sources", DataTable)
        assert sources.row_count == 2


async def test_enter_moves_to_the_results_and_slash_goes_back(tmp_path: Path) -> None:
    app = PaneApp(make_config(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await search(pilot, "level=error")
        assert app.focused is app.query_one("#log-search-results", HitLog)  # `p` now pins
        await pilot.press("slash")
        assert app.focused is app.query_one("#log-search-pattern", Input)
        await search(pilot, "(unclosed")  # an invalid pattern keeps you in the box to fix it
        assert app.focused is app.query_one("#log-search-pattern", Input)


async def test_hostile_lines_are_escaped_never_interpreted(tmp_path: Path) -> None:
    app = PaneApp(make_config(tmp_path))
    async with app.run_test(size=(200, 30)) as pilot:
        await search(pilot, "markup")
        (line,) = log_text(app)
        assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line
        assert "\\x1b]52;c;ZXZpbA==\\x07" in line
        assert "[bold]markup[/bold]" in line  # shown literally, not parsed as markup
        assert "\\u202e" in line
        # What is painted: the markup stays literal text, the escapes stay visible.
        svg = app.export_screenshot()
        painted = html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")
        assert "[bold]markup[/bold]" in painted and "\\x1b[2J" in painted


async def test_literal_case_window_and_service_options(tmp_path: Path) -> None:
    app = PaneApp(make_config(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(LogSearchPane)
        pane.regex = False
        pane.ignore_case = True
        pane = await search(pilot, "LEVEL=ERROR")
        assert pane.total == 51
        pane.window = "all"
        pane = await search(pilot, "status=50.")  # literal: the dot is a dot
        assert pane.total == 0
        pane.regex = True
        pane = await search(pilot, "status=50.")
        assert pane.total == 52
        pane.service = "payments"
        pane = await search(pilot, "status")
        assert pane.total == 0 and pane.statuses == {}


async def test_invalid_regex_is_an_inline_error(tmp_path: Path) -> None:
    app = PaneApp(make_config(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await search(pilot, "(unclosed")
        # Right under the box it was typed in, not at the foot of the pane.
        error = app.query_one("#log-search-error", Static)
        assert "invalid regex '(unclosed'" in str(error.render()) and error.display
        assert error.region.y == app.query_one("#log-search-pattern").region.bottom
        assert "fix the pattern above" in str(app.query_one("#log-search-summary").render())
        assert pane.total == 0
        await pilot.press("backspace")  # editing the pattern clears it
        assert not error.display


async def test_patterns_view_and_pinning(tmp_path: Path) -> None:
    app = PaneApp(make_config(tmp_path))
    messages: list = []
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        pane = await search(pilot, "level=error")
        pane.new_since = datetime(2026, 11, 28, 13, 59, tzinfo=UTC)
        pane = await search(pilot, "level=error")
        rows = pane.pattern_rows
        assert rows[0].count == 50 and rows[0].key == "timeout after <*>"
        assert rows[0].trend.strip() and not rows[0].new
        assert rows[1].count == 1 and rows[1].new
        # Pin the selected line: focus selects the first line in view; End selects the
        # newest, and up the one before it.
        app.query_one("#log-search-results").focus()
        await pilot.pause()
        await pilot.press("end", "up", "p")
        await pilot.press("v")
        assert pane.view == "patterns"
        await pilot.press("p")
        await pilot.pause()
        # The hook sees a bubbling message once per level: keep each message once.
        pins = list({id(m): m for m in messages if isinstance(m, PinRequested)}.values())
        assert len(pins) == 2
        line_pin, signature_pin = pins
        assert line_pin.source == "logs" and line_pin.detail["kind"] == "log line"
        assert line_pin.detail["file"].endswith("app.log") and line_pin.detail["line"] == 99
        assert signature_pin.detail["kind"] == "log signature"
        assert signature_pin.detail["count"] == 50


async def test_new_search_replaces_the_old_one(tmp_path: Path) -> None:
    app = PaneApp(make_config(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(LogSearchPane)
        pane.start_search("status")
        pane.start_search("level=info")
        # The first worker was cancelled by the second: wait for both to finish.
        while app.workers:
            await workers_done(app)
            await pilot.pause()
        await pilot.pause()
        await pilot.pause()
        assert pane.total == 50
        assert all("level=info" in line for line in log_text(app))


async def test_pane_counts_match_rg_on_the_demo_corpus(tmp_path: Path) -> None:
    import subprocess

    from cockpit.core.config import load_config_file
    from cockpit.core.demo.sandbox import build_sandbox
    from cockpit.core.search.paths import find_rg

    info = build_sandbox(tmp_path / "demo", seed=5, now=NOW, log_mb=2)
    config = load_config_file(info.config_path)
    rg = find_rg()
    assert rg is not None
    out = subprocess.run(
        [rg, "-z", "-c", "--no-filename", r"status=5\d\d", str(config.base_dir / "logs")],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    expected = sum(int(n) for n in out.split())
    assert expected > 0
    app = PaneApp(config)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(LogSearchPane)
        pane.window = "all"
        pane = await search(pilot, r"status=5\d\d")
        assert pane.total == expected
        assert all(s.state == SourceState.DONE for s in pane.statuses.values())
        app.save_screenshot(str(tmp_path / "shot.svg"))


async def test_window_keys_custom_window_and_incident_start(tmp_path: Path) -> None:
    from cockpit.core.incident import IncidentState

    app = PaneApp(make_config(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(LogSearchPane)
        app.query_one("#log-search-results").focus()
        assert pane.window == "1h"
        await pilot.press("t")
        assert pane.window == "6h"  # "incident" is skipped: no incident start known
        pane.incident = IncidentState(opened_at=datetime(2026, 11, 28, 13, 50, tzinfo=UTC))
        await pilot.press("t")
        assert pane.window == "incident"
        pane = await search(pilot, "level=error")
        assert pane.total == 11  # 13:50 .. 13:59:59
        app.query_one("#log-search-results").focus()
        await pilot.press("t", "t")
        assert pane.window == "custom"
        custom = app.query_one("#log-search-custom", Input)
        assert app.focused is custom
        await pilot.press(*"2026-11-28T13:10..2026-11-28T13:20", "enter")
        assert custom.has_class("-hidden")
        pane = await search(pilot, "level=error")
        assert pane.total == 10
        options = str(app.query_one("#log-search-options", Static).render())
        assert "window 2026-11-28T13:10..2026-11-28T13:20" in options
        app.query_one("#log-search-results").focus()
        await pilot.press("s")
        assert pane.service == "checkout"
        await pilot.press("s")
        assert pane.service is None


async def test_bad_custom_window_is_refused_inline(tmp_path: Path) -> None:
    app = PaneApp(make_config(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(LogSearchPane)
        pane.action_cycle_window()
        while pane.window != "custom":
            pane.action_cycle_window()
        await pilot.pause()
        await pilot.press(*"yesterday", "enter")
        assert not app.query_one("#log-search-custom", Input).has_class("-hidden")
        assert pane.custom_window == ""


async def test_without_sources_the_pane_says_what_to_configure() -> None:
    app = PaneApp(Config())
    async with app.run_test(size=(80, 24)) as pilot:
        await search(pilot, "error")
        summary = str(app.query_one("#log-search-summary", Static).render())
        assert "no log sources configured" in summary


async def test_escape_stops_a_running_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cockpit.core.search import engine

    started = threading.Event()

    class Slow:
        """A source that streams until it is cancelled."""

        name: str = "slow"
        service: str | None = None

        def search(self, query, sink, cancel) -> None:
            started.set()
            cancel.wait(30)

    monkeypatch.setattr(engine, "make_sources", lambda config: [Slow()])
    app = PaneApp(make_config(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(LogSearchPane)
        pane.start_search("anything")
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        await pilot.pause()
        assert pane.running
        app.query_one("#log-search-results").focus()
        await pilot.press("escape")
        while app.workers:
            await workers_done(app)
            await pilot.pause()
        await pilot.pause()
        assert not pane.running
        assert "stopped" in str(app.query_one("#log-search-summary", Static).render())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from cockpit.core.demo.sandbox import build_sandbox

    return build_sandbox(
        tmp_path_factory.mktemp("demo"),
        seed=7,
        now=datetime(2026, 3, 1, 15, 0, tzinfo=UTC),
        log_mb=2,
    )


class DemoApp(App[None]):
    CSS_PATH = [STYLES]

    def __init__(self, config: Config, now: datetime) -> None:
        super().__init__()
        self.config = config
        self.now = now

    def compose(self) -> ComposeResult:
        yield LogSearchPane(self.config, lambda: self.now, id="logs")


async def test_picking_the_bad_deploy_marks_the_burst_new_and_older_signatures_not(demo) -> None:
    from cockpit.core.config import load_config_file
    from cockpit.tui.panes.deploy_picker import DeployPickerScreen

    truth = demo.truth
    bad = truth.bad_deploy
    assert bad is not None and bad.short_sha
    app = DemoApp(load_config_file(demo.config_path), demo.now)
    async with app.run_test(size=(100, 40)) as pilot:
        pane = await search(pilot, "status=5")
        await pilot.press("alt+v")
        assert pane.pattern_rows
        await pilot.press("m")
        await workers_done(app)
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, DeployPickerScreen)
        times = [d.time for d in picker.deploys]
        assert times == sorted(times, reverse=True)  # newest first
        choices = [str(o.prompt) for o in picker.query_one(OptionList).options]
        wanted = [d.sha for d in picker.deploys].index(bad.sha)
        assert choices[wanted] == f"{bad.time:%H:%M} {bad.service} {bad.short_sha} {bad.version}"
        await pilot.press(*["down"] * wanted, "enter")
        await pilot.pause()
        assert app.screen is not picker

        options = str(app.query_one("#log-search-options", Static).render())
        assert f"new since {bad.service} {bad.short_sha} {bad.time:%H:%M}" in options
        rows = pane.pattern_rows
        for template in truth.error_signatures:
            # The template as a regex (each `{placeholder}` varies), matched on the examples.
            shape = ".+?".join(map(re.escape, re.split(r"\{\w+\}", template)))
            burst = [row for row in rows if re.search(shape, row.example.text)]
            assert burst, template
            assert all(row.new for row in burst)
        older = [row for row in rows if row.first_seen is not None and row.first_seen < bad.time]
        assert older  # background errors from before the deploy
        assert not any(row.new for row in older)
        assert all(
            row.new == (row.first_seen is not None and row.first_seen >= bad.time) for row in rows
        )
        table = app.query_one("#log-search-patterns", DataTable)
        marks = [str(table.get_row_at(i)[1]) for i in range(len(rows))]
        assert marks == ["NEW" if row.new else "" for row in rows]

        # Esc leaves the mark as it was.
        await pilot.press("m")
        await workers_done(app)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert pane.new_since == bad.time


async def test_picking_a_deploy_without_services_is_not_offered(tmp_path: Path) -> None:
    app = PaneApp(make_config(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one("#log-search-results").focus()
        pane = app.query_one(LogSearchPane)
        assert pane.check_action("pick_deploy", ()) is None  # dimmed: nothing to pick from
        await pilot.press("m")
        await pilot.pause()
        assert app.screen is app.screen_stack[0] and not app._notifications


async def test_patterns_view_shows_first_and_last_before_the_signature_at_80x24(
    tmp_path: Path,
) -> None:
    app = PaneApp(make_config(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await search(pilot, "level=error")
        await pilot.press("alt+v")
        await pilot.pause()
        table = app.query_one("#log-search-patterns", DataTable)
        labels = [str(column.label) for column in table.ordered_columns]
        assert labels == ["Count", "", "First", "Last", "Trend", "Signature"]
        first_row = [str(cell) for cell in table.get_row_at(0)]
        assert first_row[:4] == ["50", "", "13:10", "13:59"]
        # Every column but the (long) signature fits in 80 columns, and the signature starts.
        widths = [column.get_render_width(table) for column in table.ordered_columns]
        assert sum(widths[:5]) < 50 < table.region.width
