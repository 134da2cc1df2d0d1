"""Logs: parallel search over every configured source, streamed live, with error patterns.

The search runs in an exclusive thread worker; the engine coalesces hits into one batch per
~50 ms and this pane posts one message per batch, never one per line. A new search cancels the
old one. Every log line is outside text: sanitized with `visible` in the worker thread, then
appended to a `Log` widget as plain text (never markup); the matches are highlighted lazily as
lines are painted, so 5000 lines cost the UI thread almost nothing. Lines and signatures can be
pinned to the timeline as evidence.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from rich.highlighter import Highlighter
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import ContentSwitcher, DataTable, Input, Label, Log, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from cockpit.core.config import Config
from cockpit.core.deploys.model import Deploy
from cockpit.core.incident import Kind
from cockpit.core.patterns.display import short_templates
from cockpit.core.sanitize import safe_text, visible
from cockpit.core.search.model import Hit, Query, SourceState, SourceStatus
from cockpit.tui.messages import PinRequested, RecordRequested
from cockpit.tui.panes.base import Pane

MAX_LINES = 5000
"""Lines kept in the results view (the newest); counts stay exact."""
MAX_SIGNATURES_SHOWN = 200
"""Signatures listed in the patterns view (the most frequent); a row counts the rest."""
PATTERN_LINE_LIMIT = 1_000_000
"""Matching lines grouped into signatures per search: bounds the CPU a flood costs (a few
microseconds a line); counts per source stay exact."""
TEMPLATE_MIN_CHARS = 24
TEMPLATE_MAX_CHARS = 200
PATTERN_REFRESH_SECONDS = 0.3
"""How often the patterns view is refreshed while a search runs."""
LINE_CHARS = 1000
"""Characters of one log line shown (sanitized; the rest is cut with a marker)."""
WINDOWS: tuple[str, ...] = ("15m", "1h", "6h", "incident", "all", "custom")
"""The time-window choices, in the order the window key cycles through them."""
STATE_STYLES = {
    SourceState.PENDING: "dim",
    SourceState.RUNNING: "bold",
    SourceState.DONE: "green",
    SourceState.ERROR: "bold red",
}
MATCH_STYLE = "bold reverse"
RECENT_DEPLOYS = timedelta(hours=24)
"""How far back the deploy picker lists deploys."""
UI_SWITCH_INTERVAL = 0.001
"""GIL switch interval while searching. Python's 5 ms default lets search threads keep the
event loop waiting for the GIL (measured 65 ms stalls); 1 ms keeps it under ~35 ms."""


@dataclass(frozen=True)
class PatternRow:
    """One signature as the patterns view shows it (an immutable snapshot)."""

    key: str
    """The template, variable parts as `<*>`."""
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    trend: str
    new: bool
    example: Hit


def _hhmm(ts: datetime | None) -> str:
    return ts.strftime("%H:%M:%S") if ts else "--:--:--"


def _minute(ts: datetime | None) -> str:
    return ts.strftime("%H:%M") if ts else "--:--"


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat().replace("+00:00", "Z") if ts else None


def line_of(hit: Hit) -> str:
    """One results line: `HH:MM:SS file:line text`, sanitized (one line, no controls)."""
    where = hit.source if hit.file is None else f"{hit.file.rsplit('/', 1)[-1]}:{hit.line_no}"
    return f"{_hhmm(hit.ts)} {visible(where, max_len=60)} {visible(hit.text, max_len=LINE_CHARS)}"


class MatchHighlighter(Highlighter):
    """Styles a results line as it is painted: dim time, the file, and the matches."""

    def __init__(self, spans: Any = None) -> None:
        self.spans = spans

    def highlight(self, text: Text) -> None:
        plain = text.plain
        text.stylize("dim", 0, 8)
        body = plain.find(" ", 9) + 1
        if body <= 0:
            return
        text.stylize("cyan", 9, body - 1)
        if self.spans is not None:
            for start, end in self.spans(plain[body:]):
                text.stylize(MATCH_STYLE, body + start, body + end)


class HitLog(Log):
    """The results view: a fast `Log` (lines painted lazily, highlighted as they show) whose
    up/down keys move a selection, for pinning."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "up,k",
            "move(-1)",
            "Up",
            id="log-search-line-up",
            show=False,
            tooltip="Select the previous line",
        ),
        Binding(
            "down,j",
            "move(1)",
            "Down",
            id="log-search-line-down",
            show=False,
            tooltip="Select the next line",
        ),
        Binding(
            "pageup",
            "move(-10)",
            "Page up",
            id="log-search-page-up",
            show=False,
            tooltip="Select ten lines up",
        ),
        Binding(
            "pagedown",
            "move(10)",
            "Page down",
            id="log-search-page-down",
            show=False,
            tooltip="Select ten lines down",
        ),
    ]

    @dataclass
    class Moved(Message):
        """The user moved the selection by `delta` lines."""

        delta: int

    def action_move(self, delta: int) -> None:
        self.post_message(self.Moved(delta))


def deploy_label(deploy: Deploy) -> str:
    """`checkout b9c1d4e` (service and short sha, else version), sanitized."""
    what = deploy.short_sha or deploy.version or ""
    return visible(f"{deploy.service} {what}".strip(), max_len=60)


def deploy_choice(deploy: Deploy, now: datetime) -> str:
    """One picker line: `HH:MM service sha version`, sanitized; deploys of another (UTC) day
    than `now` start with their date, so the newest-first order reads right."""
    when = f"{deploy.time:%H:%M}"
    if deploy.time.date() != now.date():
        when = f"{deploy.time:%m-%d} {when}"
    fields = [when, deploy.service, deploy.short_sha or "-"]
    if deploy.version:
        fields.append(deploy.version)
    return visible(" ".join(fields), max_len=100)


class DeployPickerScreen(ModalScreen[Deploy | None]):
    """Pick one of the recent deploys (newest first); returns it, or None on Esc."""

    AUTO_FOCUS = "#log-search-deploy-list"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="log-search-deploy-cancel",
            tooltip="Close; the NEW mark stays as it was",
        ),
    ]

    @dataclass
    class Read(Message):
        """The deploys since `since`, newest first, and the first problem reading them."""

        deploys: tuple[Deploy, ...]
        problem: str | None

    def __init__(self, config: Config, now: datetime) -> None:
        super().__init__()
        self.config = config
        self.now = now
        self.since = now - RECENT_DEPLOYS
        self.deploys: tuple[Deploy, ...] = ()

    def compose(self) -> ComposeResult:
        with Vertical(id="log-search-deploy-box"):
            yield Label("Mark signatures new since which deploy?")
            yield OptionList(id="log-search-deploy-list")
            yield Label(Text("reading deploys…"), id="log-search-deploy-hint")

    def on_mount(self) -> None:
        self._read()

    @work(
        thread=True,
        exclusive=True,
        group="log-search-deploys",
        exit_on_error=False,
        description="Reading deploys",
    )
    def _read(self) -> None:
        from cockpit.core.deploys import list_deploys

        listing = list_deploys(self.config, since=self.since)
        problem = listing.errors[0] if listing.errors else None
        self.post_message(self.Read(tuple(listing.deploys), problem))

    @on(Read)
    def _deploys_read(self, message: Read) -> None:
        self.deploys = message.deploys
        options = self.query_one("#log-search-deploy-list", OptionList)
        options.add_options(Option(Text(deploy_choice(d, self.now))) for d in self.deploys)
        if self.deploys:
            options.highlighted = 0
            hint = "Enter: what first shows after it is NEW · Esc: cancel"
        else:
            hint = f"no deploys since {self.since:%Y-%m-%d %H:%M} UTC · Esc closes"
        if message.problem:
            hint = f"{visible(message.problem, max_len=100)} · {hint}"
        self.query_one("#log-search-deploy-hint", Label).update(Text(hint))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "log-search-deploys" and event.state == WorkerState.ERROR:
            error = visible(f"could not read deploys: {event.worker.error}", max_len=120)
            self.query_one("#log-search-deploy-hint", Label).update(Text(error, style="red"))

    @on(OptionList.OptionSelected, "#log-search-deploy-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.deploys[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class LogSearchPane(Pane):
    """Search every log source at once; live per-source status, lines and error patterns."""

    PANE_TITLE = "Logs"
    HELP = """\
# Logs

Type a pattern and press **Enter**: every configured source (files, journald, Loki,
Elasticsearch) is searched in parallel. Each source shows its own state (running, done,
error), its exact count and any warnings (a skipped binary file, a truncated .gz). The newest
5000 lines are shown, with matches highlighted; counts are always exact.

The pattern is a **regex** by default (linear-time: no pattern can hang the search); switch
to a literal with `alt+r`. Times are **UTC**.

| Key | Action |
| --- | --- |
| `enter` | search (in the pattern box) |
| `alt+r` / `r` | regex or literal |
| `alt+i` / `i` | case-sensitive or not |
| `alt+w` / `w` | time window: 15m, 1h, 6h, since the incident started, all, custom |
| `alt+s` / `s` | service filter: all, or one service |
| `alt+v` / `v` | lines or error patterns (signatures with counts and a per-minute trend) |
| `alt+n` / `n` | mark signatures new since a time (a deploy): `30m` or an ISO time |
| `alt+d` / `D` | mark signatures new since a deploy, picked from the recent ones |
| `up` / `down` | select a line (in the results) |
| `p` | pin the selected line or signature to the timeline as evidence |
| `/` | back to the pattern box |
| `escape` | stop the search |

A signature marked **NEW** was first seen after the mark and never before it in the window.
The letter keys work when the pattern box is not focused; the `alt+` keys work everywhere.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "alt+r,r",
            "toggle_regex",
            "Regex",
            id="log-search-toggle-regex",
            tooltip="Treat the pattern as a regex or as a literal string",
        ),
        Binding(
            "alt+i,i",
            "toggle_case",
            "Case",
            id="log-search-toggle-case",
            tooltip="Match case-sensitively or not",
        ),
        Binding(
            "alt+w,w",
            "cycle_window",
            "Window",
            id="log-search-window",
            tooltip="Time window: 15m, 1h, 6h, since the incident started, all, custom",
        ),
        Binding(
            "alt+s,s",
            "cycle_service",
            "Service",
            id="log-search-service",
            tooltip="Search all services or only one",
        ),
        Binding(
            "alt+v,v",
            "toggle_view",
            "Lines/Patterns",
            id="log-search-view",
            tooltip="Switch between matching lines and error patterns",
        ),
        Binding(
            "alt+n,n",
            "mark_new_since",
            "New since",
            id="log-search-new-since",
            show=False,
            tooltip="Mark signatures first seen after a time (e.g. a deploy)",
        ),
        Binding(
            "alt+d,D",
            "pick_deploy",
            "New since deploy",
            id="log-search-new-since-deploy",
            show=False,
            tooltip="Pick a recent deploy: signatures first seen after it are marked NEW",
        ),
        Binding(
            "p",
            "pin",
            "Pin",
            id="log-search-pin",
            tooltip="Pin the selected line or signature to the timeline as evidence",
        ),
        Binding(
            "slash",
            "focus_pattern",
            "Pattern",
            id="log-search-focus-pattern",
            show=False,
            tooltip="Go back to the pattern box",
        ),
        Binding(
            "escape",
            "stop",
            "Stop",
            id="log-search-stop",
            show=False,
            tooltip="Stop the running search",
        ),
    ]

    @dataclass
    class HitsArrived(Message):
        """A coalesced batch of matching lines from the running search."""

        generation: int
        hits: tuple[Hit, ...]
        lines: tuple[str, ...]
        """`line_of` each hit, built in the worker thread."""
        dropped: int

    @dataclass
    class StatusesChanged(Message):
        """Per-source progress changed."""

        generation: int
        statuses: tuple[SourceStatus, ...]

    @dataclass
    class PatternsUpdated(Message):
        """A fresh snapshot of the error patterns."""

        generation: int
        rows: tuple[PatternRow, ...]
        hidden: int
        """Signatures past the ones shown (the least frequent)."""
        untracked: int
        """Lines past the pattern index's bound on distinct shapes (counted, not grouped)."""
        total: int

    @dataclass
    class SearchEnded(Message):
        """The search finished, was stopped, or failed (`error`, one line)."""

        generation: int
        total: int
        elapsed: float
        cancelled: bool
        error: str | None = None
        hits: tuple[Hit, ...] = ()
        """The newest hits by timestamp, oldest first: the final, time-ordered view."""
        lines: tuple[str, ...] = ()

    regex: reactive[bool] = reactive(True)
    ignore_case: reactive[bool] = reactive(False)
    window: reactive[str] = reactive("1h")
    service: reactive[str | None] = reactive(None)
    view: reactive[str] = reactive("lines")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.custom_window = ""
        self.new_since: datetime | None = None
        """Signatures first seen after this are NEW; None: the incident's start."""
        self.new_since_label: str | None = None
        """The deploy `new_since` was picked from (`checkout b9c1d4e`, sanitized), if any."""
        self.generation = 0
        self.statuses: dict[str, SourceStatus] = {}
        self.total = 0
        self.running = False
        self.shown: deque[Hit] = deque(maxlen=MAX_LINES)
        """The hits in the results view, in display order (parallel to its lines)."""
        self.selected: int | None = None
        self.pattern_rows: tuple[PatternRow, ...] = ()
        self._patterns: LogSearchPane.PatternsUpdated | None = None
        self.last_query: Query | None = None
        self._custom_mode = "window"

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="log-search-bar"):
            yield Input(placeholder="search logs (regex), Enter", id="log-search-pattern")
        yield Static(id="log-search-options")
        yield Input(id="log-search-custom", classes="-hidden")
        yield DataTable(id="log-search-sources", cursor_type="none", show_cursor=False)
        with ContentSwitcher(initial="log-search-results", id="log-search-views"):
            yield HitLog(id="log-search-results", max_lines=MAX_LINES, highlight=True)
            yield DataTable(id="log-search-patterns", cursor_type="row", zebra_stripes=True)
        yield Static(id="log-search-selected", classes="-empty")
        yield Static(Text("type a pattern and press Enter"), id="log-search-summary")

    def on_mount(self) -> None:
        sources = self.query_one("#log-search-sources", DataTable)
        sources.add_column("Source", key="source")
        sources.add_column("State", key="state")
        sources.add_column("Count", key="count")
        sources.add_column("Note", key="note")
        patterns = self.query_one("#log-search-patterns", DataTable)
        # The short columns come first and the signature last: it can be long, and at 80
        # columns it is cut at the edge instead of pushing First/Last out of sight.
        for label in ("Count", "", "First", "Last", "Trend", "Signature"):
            patterns.add_column(label)
        self._show_options()

    # -- options -------------------------------------------------------------------------------

    def _services(self) -> list[str]:
        names = {s.service for s in self.config.sources if s.service}
        names.update(s.name for s in self.config.services)
        return sorted(names)

    def _window_label(self) -> str:
        if self.window == "incident":
            return "since incident start"
        if self.window == "all":
            return "all time"
        if self.window == "custom":
            return f"window {self.custom_window or '(unset)'}"
        return f"last {self.window}"

    def _show_options(self) -> None:
        parts = [
            "regex" if self.regex else "literal",
            "ignore case" if self.ignore_case else "match case",
            self._window_label(),
            f"service {self.service}" if self.service else "all services",
        ]
        mark = self._new_since()
        if mark is not None:
            deploy = f"{self.new_since_label} " if self.new_since_label else ""
            parts.append(f"new since {deploy}{mark:%H:%M}")
        self.query_one("#log-search-options", Static).update(Text("  ·  ".join(parts)))

    def watch_regex(self) -> None:
        self._options_changed()

    def watch_ignore_case(self) -> None:
        self._options_changed()

    def watch_window(self) -> None:
        self._options_changed()

    def watch_service(self) -> None:
        self._options_changed()

    def _options_changed(self) -> None:
        if self.is_mounted:
            self._show_options()

    def watch_view(self, view: str) -> None:
        if not self.is_mounted:
            return
        target = "log-search-results" if view == "lines" else "log-search-patterns"
        self.query_one("#log-search-views", ContentSwitcher).current = target

    def action_toggle_regex(self) -> None:
        self.regex = not self.regex

    def action_toggle_case(self) -> None:
        self.ignore_case = not self.ignore_case

    def action_cycle_window(self) -> None:
        choices = list(WINDOWS)
        if self.incident is None or self.incident.opened_at is None:
            choices.remove("incident")
        index = choices.index(self.window) if self.window in choices else -1
        self.window = choices[(index + 1) % len(choices)]
        if self.window == "custom":
            self._ask(
                "window",
                "time window: 2h, or 2026-11-28T13:00..2026-11-28T14:00",
                self.custom_window,
            )

    def action_cycle_service(self) -> None:
        choices: list[str | None] = [None, *self._services()]
        index = choices.index(self.service) if self.service in choices else 0
        self.service = choices[(index + 1) % len(choices)]

    def action_toggle_view(self) -> None:
        self.view = "patterns" if self.view == "lines" else "lines"
        widget = "#log-search-results" if self.view == "lines" else "#log-search-patterns"
        self.query_one(widget).focus()

    def action_mark_new_since(self) -> None:
        self._ask("new-since", "mark signatures new since: 30m ago, or an ISO time (a deploy)", "")

    def action_focus_pattern(self) -> None:
        self.query_one("#log-search-pattern", Input).focus()

    def _ask(self, mode: str, placeholder: str, value: str) -> None:
        self._custom_mode = mode
        box = self.query_one("#log-search-custom", Input)
        box.placeholder = placeholder
        box.value = value
        box.remove_class("-hidden")
        box.focus()

    @on(Input.Submitted, "#log-search-custom")
    def _custom_submitted(self, event: Input.Submitted) -> None:
        from cockpit.core.search.timewindow import TimeSpecError, parse_time, parse_window

        text = event.value.strip()
        try:
            if self._custom_mode == "window":
                parse_window(text, self.clock())  # validate now; resolved again at search time
                self.custom_window = text
            else:
                self.new_since = parse_time(text, self.clock()) if text else None
                self.new_since_label = None
        except TimeSpecError as exc:
            self.notify(str(exc), severity="error")
            return
        event.input.add_class("-hidden")
        self._show_options()
        self._paint_patterns()
        self.action_focus_pattern()

    def action_pick_deploy(self) -> None:
        if not self.config.services:
            self.notify(
                "no services configured, so no deploys to pick: add [[services]] "
                "(or press n to type a time)",
                severity="warning",
            )
            return
        self.app.push_screen(DeployPickerScreen(self.config, self.clock()), self._deploy_picked)

    def _deploy_picked(self, deploy: Deploy | None) -> None:
        if deploy is None:
            return
        self.new_since = deploy.time
        self.new_since_label = deploy_label(deploy)
        self._show_options()
        self._paint_patterns()

    def _new_since(self) -> datetime | None:
        if self.new_since is not None:
            return self.new_since
        return self.incident.opened_at if self.incident is not None else None

    def watch_incident(self) -> None:
        self._options_changed()

    # -- searching -----------------------------------------------------------------------------

    def _time_window(self) -> tuple[datetime | None, datetime | None]:
        from cockpit.core.search.timewindow import parse_duration, parse_window

        now = self.clock()
        if self.window == "all":
            return None, None
        if self.window == "incident":
            opened = self.incident.opened_at if self.incident is not None else None
            return (opened, None) if opened else (now - timedelta(hours=1), None)
        if self.window == "custom":
            return parse_window(self.custom_window, now)
        duration = parse_duration(self.window)
        return (now - duration if duration else None), None

    def build_query(self, pattern: str) -> Query:
        """The query the options describe (raises TimeSpecError for a bad custom window)."""
        since, until = self._time_window()
        return Query(
            pattern,
            regex=self.regex,
            ignore_case=self.ignore_case,
            since=since,
            until=until,
            services=frozenset({self.service}) if self.service else None,
        )

    @on(Input.Submitted, "#log-search-pattern")
    def _pattern_submitted(self, event: Input.Submitted) -> None:
        if self.start_search(event.value):
            # Like lnav and less: Enter moves to the results, `/` goes back to the pattern.
            widget = "#log-search-results" if self.view == "lines" else "#log-search-patterns"
            self.query_one(widget).focus()

    def start_search(self, pattern: str) -> bool:
        """Validate the pattern and start a new search (cancelling any running one).

        Returns False, with the reason shown inline, when no search was started.
        """
        if sys.getswitchinterval() > UI_SWITCH_INTERVAL:
            sys.setswitchinterval(UI_SWITCH_INTERVAL)  # the UI thread gets the GIL back sooner
        from cockpit.core.search.matcher import PatternError, validate
        from cockpit.core.search.timewindow import TimeSpecError

        summary = self.query_one("#log-search-summary", Static)
        if not pattern:
            summary.update(Text("type a pattern first"))
            return False
        if not self.config.sources:
            summary.update(Text("no log sources configured: add [[sources]] to the config"))
            return False
        try:
            query = self.build_query(pattern)
            validate(query)
        except (PatternError, TimeSpecError) as exc:
            summary.update(Text(str(exc), style="bold red"))  # the inline error
            return False
        self.generation += 1
        self.last_query = query
        self._reset_results(query)
        self.running = True
        summary.update(Text(f"searching {self._window_label()}…"))
        self._search(self.generation, query, self._new_since())
        return True

    def _reset_results(self, query: Query) -> None:
        self.statuses = {}
        self.total = 0
        self.shown.clear()
        self.selected = None
        self.pattern_rows = ()
        self._patterns = None
        log = self.query_one("#log-search-results", HitLog)
        log.clear()
        log.highlighter = MatchHighlighter(_make_highlighter(query))
        self.query_one("#log-search-sources", DataTable).clear()
        self.query_one("#log-search-patterns", DataTable).clear()
        selected = self.query_one("#log-search-selected", Static)
        selected.update(Text(""))
        selected.add_class("-empty")

    @work(
        thread=True,
        exclusive=True,
        group="log-search",
        exit_on_error=False,
        description="Searching logs",
    )
    def _search(self, generation: int, query: Query, new_since: datetime | None) -> None:
        from cockpit.core.patterns import PatternIndex
        from cockpit.core.search.engine import (
            HitsFound,
            SearchEvent,
            StatusChanged,
            make_sources,
            run_search,
        )

        worker = get_current_worker()
        cancel = threading.Event()
        index = PatternIndex(new_since=new_since)
        last_patterns = 0.0

        def poll() -> None:
            if worker.is_cancelled:
                cancel.set()

        def post_patterns() -> None:
            start, end = index.first_seen, index.last_seen
            signatures = index.signatures(MAX_SIGNATURES_SHOWN)  # only these are built
            rows = tuple(
                PatternRow(
                    sig.template,
                    sig.count,
                    sig.first_seen,
                    sig.last_seen,
                    sig.sparkline(start, end, 12) if start and end else "",
                    index.is_new(sig),
                    sig.example,
                )
                for sig in signatures
            )
            hidden = max(0, index.group_count - MAX_SIGNATURES_SHOWN)
            self.post_message(
                self.PatternsUpdated(generation, rows, hidden, index.untracked, index.total)
            )

        def on_event(event: SearchEvent) -> None:
            nonlocal last_patterns
            if worker.is_cancelled:
                cancel.set()
                return
            if isinstance(event, HitsFound):
                room = PATTERN_LINE_LIMIT - index.total
                if room > 0:
                    index.add_many(event.hits[:room])
                lines = tuple(line_of(hit) for hit in event.hits)
                self.post_message(self.HitsArrived(generation, event.hits, lines, event.dropped))
                now = time.monotonic()
                if now - last_patterns > PATTERN_REFRESH_SECONDS:
                    last_patterns = now
                    post_patterns()
            elif isinstance(event, StatusChanged):
                self.post_message(self.StatusesChanged(generation, event.statuses))

        sources = make_sources(self.config)
        result = run_search(sources, query, on_event, cancel, max_hits=MAX_LINES, poll=poll)
        post_patterns()
        final = tuple(result.hits)
        self.post_message(
            self.SearchEnded(
                generation,
                result.total,
                result.elapsed,
                result.cancelled,
                hits=final,
                lines=tuple(line_of(hit) for hit in final),
            )
        )

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "log-search" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        message = f"search failed: {type(error).__name__}: {error}"
        self.post_message(self.SearchEnded(self.generation, self.total, 0.0, False, message))

    def action_stop(self) -> None:
        if self.running:
            self.workers.cancel_group(self, "log-search")
            self.query_one("#log-search-summary", Static).update(Text("stopping…"))

    # -- results -------------------------------------------------------------------------------

    @on(HitsArrived)
    def _hits_arrived(self, message: HitsArrived) -> None:
        if message.generation != self.generation:
            return
        log = self.query_one("#log-search-results", HitLog)
        log.write_lines(message.lines[-MAX_LINES:])
        self.shown.extend(message.hits[-MAX_LINES:])
        if self.selected is not None:
            # Lines dropped off the top move the selection up with them.
            self.selected = max(0, self.selected - max(0, len(self.shown) - MAX_LINES))

    def _render_hit(self, hit: Hit) -> Text:
        text = Text(line_of(hit), no_wrap=True)
        self.query_one("#log-search-results", HitLog).highlighter.highlight(text)
        return text

    @on(StatusesChanged)
    def _statuses_changed(self, message: StatusesChanged) -> None:
        if message.generation != self.generation:
            return
        table = self.query_one("#log-search-sources", DataTable)
        for status in message.statuses:
            state = Text(status.state.value, style=STATE_STYLES.get(status.state, ""))
            note = status.error or (status.warnings[-1] if status.warnings else "")
            if status.warnings and not status.error and len(status.warnings) > 1:
                note = f"{note} (+{len(status.warnings) - 1} warnings)"
            cells = (
                safe_text(status.source, max_len=30),
                state,
                Text(f"{status.count:,}"),
                safe_text(note, max_len=200, style="red" if status.error else "yellow"),
            )
            if status.source in self.statuses:
                for column, value in zip(("source", "state", "count", "note"), cells, strict=True):
                    table.update_cell(status.source, column, value)
            else:
                table.add_row(*cells, key=status.source)
            self.statuses[status.source] = status
        self.total = sum(s.count for s in self.statuses.values())
        if self.running:
            self._summarize(running=True)

    @on(PatternsUpdated)
    def _patterns_updated(self, message: PatternsUpdated) -> None:
        if message.generation != self.generation:
            return
        self._patterns = message
        self._paint_patterns()

    def _paint_patterns(self) -> None:
        """Fill the patterns view from the last snapshot, marking NEW against today's mark."""
        message = self._patterns
        if message is None:
            return
        mark = self._new_since()
        # Same rule as PatternIndex.is_new: a signature's first_seen is its earliest line, so
        # "first seen at or after the mark" means "never seen before it". Recomputed here so
        # a mark chosen after the search (a deploy) applies at once.
        self.pattern_rows = tuple(
            replace(
                row,
                new=mark is not None and row.first_seen is not None and row.first_seen >= mark,
            )
            for row in message.rows
        )
        table = self.query_one("#log-search-patterns", DataTable)
        cursor = table.cursor_row
        table.clear()
        # The template column gets what the short columns leave; a long template keeps the
        # tokens that tell it from its neighbours (`pam_unix(sshd:auth): … user=<*>`).
        shown = short_templates([row.key for row in self.pattern_rows], self._template_chars(table))
        for row, template in zip(self.pattern_rows, shown, strict=True):
            table.add_row(
                Text(f"{row.count:,}"),
                Text("NEW", style="bold yellow") if row.new else Text(""),
                Text(_minute(row.first_seen)),
                Text(_minute(row.last_seen)),
                Text(row.trend, style="cyan"),
                safe_text(template, max_len=TEMPLATE_MAX_CHARS),
            )
        blank = Text("")
        if message.total >= PATTERN_LINE_LIMIT:
            note = f"(signatures from the first {PATTERN_LINE_LIMIT:,} matching lines only)"
            table.add_row(blank, blank, blank, blank, blank, Text(note, style="dim"))
        if message.hidden:
            note = f"({message.hidden:,} more signatures not shown, each rarer than these)"
            table.add_row(blank, blank, blank, blank, blank, Text(note, style="dim"))
        if message.untracked:
            table.add_row(
                Text(f"{message.untracked:,}"),
                blank,
                blank,
                blank,
                blank,
                Text("(lines of more distinct shapes than the index tracks)", style="dim"),
            )
        if message.rows:
            table.move_cursor(row=min(cursor, len(message.rows) - 1))

    def _template_chars(self, table: DataTable[Any]) -> int:
        """What the template column can show: the table's width less the short columns
        (each with its padding) and a scrollbar."""
        # The views' switcher has its width even while the table is hidden (lines view).
        width = table.size.width or self.query_one("#log-search-views").size.width
        count = max([5, *(len(f"{row.count:,}") for row in self.pattern_rows)])
        short = count + len("NEW") + len("--:--") * 2 + 12  # 12: the trend
        return max(TEMPLATE_MIN_CHARS, width - short - 2 * 6 - 2)

    @on(SearchEnded)
    def _search_ended(self, message: SearchEnded) -> None:
        if message.generation != self.generation:
            return
        self.running = False
        if message.error:
            self.query_one("#log-search-summary", Static).update(
                Text(visible(message.error), style="bold red")
            )
            return
        self.total = message.total
        if message.hits and not message.cancelled and list(self.shown) != list(message.hits):
            # Sources report in parallel, so lines arrived interleaved: show them in time order.
            log = self.query_one("#log-search-results", HitLog)
            log.clear()
            log.write_lines(message.lines)
            self.shown = deque(message.hits, maxlen=MAX_LINES)
            self.selected = None
        self._summarize(running=False, elapsed=message.elapsed, cancelled=message.cancelled)
        if not message.cancelled and self.last_query is not None:
            # The timeline (and a drill's debrief) records what was searched, quietly.
            pattern = self.last_query.pattern
            self.post_message(
                RecordRequested(
                    Kind.SEARCH_RUN,
                    {
                        "query": pattern,
                        "regex": self.last_query.regex,
                        "hits": message.total,
                        "summary": f"searched logs for {pattern!r}: {message.total:,} lines",
                    },
                    saved_message=None,
                )
            )

    def _summarize(self, *, running: bool, elapsed: float = 0.0, cancelled: bool = False) -> None:
        errors = sum(1 for s in self.statuses.values() if s.state == SourceState.ERROR)
        shown = min(self.total, MAX_LINES)
        text = f"{self.total:,} matching lines"
        if self.total > shown:
            text += f" (newest {shown:,} shown)"
        text += f" in {len(self.statuses)} sources"
        if errors:
            text += f", {errors} failed"
        if running:
            text += " · searching…"
        elif cancelled:
            text += " · stopped"
        else:
            text += f" · {elapsed:.2f}s"
        self.query_one("#log-search-summary", Static).update(Text(text))

    # -- selection and pinning -----------------------------------------------------------------

    @on(HitLog.Moved)
    def _line_moved(self, message: HitLog.Moved) -> None:
        if not self.shown:
            return
        last = len(self.shown) - 1
        current = last if self.selected is None else self.selected
        self.selected = max(0, min(last, current + message.delta))
        log = self.query_one("#log-search-results", HitLog)
        if not log.scroll_offset.y <= self.selected < log.scroll_offset.y + log.size.height:
            log.scroll_to(y=max(0, self.selected - log.size.height // 2), animate=False)
        hit = self.shown[self.selected]
        preview = Text("▶ ", style="bold")
        preview.append_text(self._render_hit(hit))
        selected = self.query_one("#log-search-selected", Static)
        selected.update(preview)
        selected.remove_class("-empty")

    def action_pin(self) -> None:
        if self.view == "patterns":
            self._pin_signature()
        else:
            self._pin_line()

    def _pin_line(self) -> None:
        if not self.shown:
            self.notify("nothing to pin: no lines yet", severity="warning")
            return
        hit = self.shown[self.selected if self.selected is not None else len(self.shown) - 1]
        self.post_message(
            PinRequested(
                source="logs",
                text=visible(hit.text),
                detail={
                    "kind": "log line",
                    "source": hit.source,
                    "service": hit.service,
                    "file": hit.file,
                    "line": hit.line_no,
                    "ts": _iso(hit.ts),
                    "query": self.last_query.pattern if self.last_query else None,
                },
            )
        )

    def _pin_signature(self) -> None:
        table = self.query_one("#log-search-patterns", DataTable)
        if not self.pattern_rows or not 0 <= table.cursor_row < len(self.pattern_rows):
            self.notify("nothing to pin: no signature selected", severity="warning")
            return
        row = self.pattern_rows[table.cursor_row]
        self.post_message(
            PinRequested(
                source="logs",
                text=visible(row.key),
                detail={
                    "kind": "log signature",
                    "count": row.count,
                    "first_seen": _iso(row.first_seen),
                    "last_seen": _iso(row.last_seen),
                    "new": row.new,
                    "example": visible(row.example.text),
                    "example_source": row.example.source,
                    "query": self.last_query.pattern if self.last_query else None,
                },
            )
        )


def _make_highlighter(query: Query) -> Any:
    """A function giving the match spans in a (sanitized) line, using linear-time RE2."""
    import re2

    from cockpit.core.search.matcher import re2_options, regex_of

    try:
        compiled = re2.compile(regex_of(query), options=re2_options(ignore_case=query.ignore_case))
    except re2.error:
        return None

    def spans(text: str) -> list[tuple[int, int]]:
        found = []
        for match in compiled.finditer(text):
            if match.end() > match.start():
                found.append((match.start(), match.end()))
            if len(found) >= 20:
                break
        return found

    return spans
