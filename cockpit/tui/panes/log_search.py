"""Logs: parallel search over every configured source, streamed live, with error patterns.

The search runs in an exclusive thread worker; the engine coalesces hits into one batch per
~50 ms and this pane posts one message per batch, never one per line. A new search cancels the
old one. Every log line is outside text: sanitized with `visible` in the worker thread, then
appended to a `Log` widget as plain text (never markup); the matches are highlighted lazily as
lines are painted, so 5000 lines cost the UI thread almost nothing. Lines and signatures can be
pinned to the timeline as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import ContentSwitcher, DataTable, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from cockpit.core.deploys.model import Deploy
from cockpit.core.incident import Kind
from cockpit.core.sanitize import visible
from cockpit.core.search.model import Hit, Query, SourceStatus
from cockpit.tui.messages import PinRequested, RecordRequested
from cockpit.tui.panes.base import Pane
from cockpit.tui.panes.deploy_picker import DeployPickerScreen, deploy_label
from cockpit.tui.panes.hit_log import HitLog, line_evidence
from cockpit.tui.panes.log_keys import BINDINGS
from cockpit.tui.panes.log_options import WINDOWS, SearchOptions, services_of
from cockpit.tui.panes.log_stream import (
    LinesFound,
    PatternRow,
    PatternsFound,
    SearchDone,
    SearchUpdate,
    SourcesChanged,
    search_run_payload,
    search_updates,
    summary_line,
)
from cockpit.tui.panes.pattern_table import PatternTable, signature_context, signature_evidence
from cockpit.tui.panes.source_table import SourceTable

MAX_LINES = 5000
"""Lines kept in the results view (the newest); counts stay exact."""


class LogSearchPane(Pane):
    """Search every log source at once; live per-source status, lines and error patterns."""

    PANE_TITLE = "Logs"
    HELP = """\
# Logs

Type a pattern and press **Enter**: every configured source (files, journald, Loki,
Elasticsearch) is searched in parallel. Each source shows its own state (running, done,
error), its exact count and any warnings (a skipped binary file, a truncated .gz). The newest
5000 lines are shown, with matches highlighted; counts are always exact.

The pattern is a **regex** by default (linear-time: no pattern can hang the search), or a
literal string; matching is case-sensitive or not. Times are **UTC**. The time window is
15m, 1h, 6h, since the incident started, all, or custom (`2h`, or `A..B` in ISO times); the
service filter narrows to one service.

The patterns view clusters the matching lines into signatures with counts and a per-minute
trend. A signature marked **NEW** was first seen after the mark (a deploy you pick, or a time
you type) and never before it in the window. Pin a line or a signature as evidence.

Letter keys work when the pattern box is not focused; the `alt+` keys work everywhere.

**Enter opens the selected line's (or a signature's example's) whole record**: wrapped,
sanitized, with its source, file:line, time and continuation lines; from there pin it, copy
the line, or go back. The results wrap long lines on request.
"""

    BINDINGS: ClassVar[list[BindingType]] = BINDINGS
    VIEWS = (("a line's record", "cockpit.tui.panes.log_record:LogRecordScreen"),)

    @dataclass
    class SearchProgressed(Message):
        """The running search (number `generation`) has something new to show."""

        generation: int
        update: SearchUpdate

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
        self._patterns: PatternsFound | None = None
        self.last_query: Query | None = None
        self._custom_mode = "window"
        self._mark_seen: object = None
        """The NEW mark last taken from (or sent to) the timeline."""

    @property
    def pattern_rows(self) -> tuple[PatternRow, ...]:
        """The signatures in the patterns view, in row order."""
        return self.query_one("#log-search-patterns", PatternTable).rows_shown

    def compose(self) -> ComposeResult:
        with Horizontal(id="log-search-bar"):
            yield Input(placeholder="search logs (regex), Enter", id="log-search-pattern")
        yield Static(id="log-search-error", classes="-hidden")
        yield Static(id="log-search-options")
        yield Input(id="log-search-custom", classes="-hidden")
        yield SourceTable(id="log-search-sources")
        with ContentSwitcher(initial="log-search-results", id="log-search-views"):
            yield HitLog(id="log-search-results", max_lines=MAX_LINES, highlight=True)
            yield PatternTable(id="log-search-patterns")
        yield Static(Text("type a pattern and press Enter"), id="log-search-summary")

    def on_mount(self) -> None:
        self._show_options()

    # -- options -------------------------------------------------------------------------------

    def options(self) -> SearchOptions:
        """The options as they stand."""
        return SearchOptions(
            self.regex, self.ignore_case, self.window, self.custom_window, self.service
        )

    def _show_options(self) -> None:
        line = self.options().describe(self._new_since(), self.new_since_label)
        self.query_one("#log-search-options", Static).update(Text(line))

    # Any option changed (or the incident, whose start is the default NEW mark): redescribe.
    watch_regex = watch_ignore_case = watch_window = watch_service = lambda self: (
        self._options_changed()
    )

    def watch_incident(self) -> None:
        if self.is_mounted:
            self._follow_new_mark()
        self._options_changed()

    def _options_changed(self) -> None:
        if self.is_mounted:
            self._show_options()

    def watch_view(self, view: str) -> None:
        if not self.is_mounted:
            return
        target = "log-search-results" if view == "lines" else "log-search-patterns"
        self.query_one("#log-search-views", ContentSwitcher).current = target
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim what has nothing to act on: pin with no line or signature selected, re-run
        before a search, stop when nothing runs (Esc then goes on to the app), a deploy pick
        without services."""
        if action == "pin":
            return True if self._pin_target() else None
        if action == "rerun":
            return True if self.last_query is not None and not self.running else None
        if action == "stop":
            return True if self.running else None
        if action == "pick_deploy":
            return True if self.config.services else None
        return True

    def _pin_target(self) -> bool:
        if not self.is_mounted:
            return False
        if self.view == "patterns":
            return self.query_one("#log-search-patterns", PatternTable).selected() is not None
        return self.query_one("#log-search-results", HitLog).current() is not None

    def action_rerun(self) -> None:
        if self.last_query is not None:
            self.start_search(self.last_query.pattern)

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
        choices: list[str | None] = [None, *services_of(self.config)]
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
        from cockpit.core.search.timewindow import TimeSpecError, parse_time_spec, parse_window

        text = event.value.strip()
        try:
            if self._custom_mode == "window":
                parse_window(text, self.clock())  # validate now; resolved again at search time
                self.custom_window = text
            else:
                self._set_new_mark(parse_time_spec(text, self.clock()) if text else None, None)
        except TimeSpecError as exc:
            self.notify(str(exc), severity="error")
            return
        event.input.add_class("-hidden")
        self._show_options()
        self._paint_patterns()
        self.action_focus_pattern()

    def action_pick_deploy(self) -> None:
        self.app.push_screen(DeployPickerScreen(self.config, self.clock()), self._deploy_picked)

    def _deploy_picked(self, deploy: Deploy | None) -> None:
        if deploy is None:
            return
        self._set_new_mark(deploy.time, deploy_label(deploy))
        self._show_options()
        self._paint_patterns()

    def _set_new_mark(self, at: datetime | None, label: str | None) -> None:
        """Mark NEW from `at` here at once, and record it: it survives a restart and a
        partner's Logs pane follows it."""
        from cockpit.core.search.marks import NEW_MARK_SET, NewMark, new_mark_payload

        self.new_since, self.new_since_label = at, label
        self._mark_seen = NewMark(at, label)
        self.post_message(RecordRequested(NEW_MARK_SET, new_mark_payload(at, label), None))

    def _follow_new_mark(self) -> None:
        """Take the NEW mark last recorded (by anyone) when it differs from the one shown."""
        from cockpit.core.search.marks import latest_new_mark

        mark = latest_new_mark(self.incident.events) if self.incident else None
        if mark is not None and mark != self._mark_seen:
            self._mark_seen = mark
            self.new_since, self.new_since_label = mark.at, mark.label
            self._paint_patterns()

    def _new_since(self) -> datetime | None:
        if self.new_since is not None:
            return self.new_since
        return self.incident.opened_at if self.incident is not None else None

    # -- searching -----------------------------------------------------------------------------

    def build_query(self, pattern: str) -> Query:
        """The query the options describe (raises TimeSpecError for a bad custom window)."""
        opened = self.incident.opened_at if self.incident is not None else None
        return self.options().query(pattern, self.clock(), opened)

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
            self._pattern_error(str(exc))  # right under the box, where the fix is typed
            summary.update(Text("no search: fix the pattern above", style="dim"))
            return False
        self._pattern_error(None)
        self.generation += 1
        self.last_query = query
        self._reset_results(query)
        self.running = True
        self.refresh_bindings()
        summary.update(Text(f"searching {self.options().window_label()}…"))
        self._search(self.generation, query, self._new_since())
        return True

    def _pattern_error(self, error: str | None) -> None:
        box = self.query_one("#log-search-error", Static)
        box.update(Text(f"✗ {visible(error, max_len=300)}", style="bold") if error else "")
        box.set_class(error is None, "-hidden")
        self.query_one("#log-search-pattern", Input).set_class(error is not None, "-invalid")

    @on(Input.Changed, "#log-search-pattern")
    def _pattern_edited(self) -> None:
        self._pattern_error(None)

    def _reset_results(self, query: Query) -> None:
        self.statuses = {}
        self.total = 0
        self._patterns = None
        self.query_one("#log-search-results", HitLog).forget(query)
        self.query_one("#log-search-sources", SourceTable).clear()
        self.query_one("#log-search-patterns", PatternTable).forget()

    @work(
        thread=True,
        exclusive=True,
        group="log-search",
        exit_on_error=False,
        description="Searching logs",
    )
    def _search(self, generation: int, query: Query, new_since: datetime | None) -> None:
        from cockpit.core.search.engine import make_sources

        worker = get_current_worker()
        # Cancellation flows down: a new search or Esc sets the event every source checks.
        for update in search_updates(
            make_sources(self.config),
            query,
            worker.cancelled_event,
            new_since=new_since,
            max_hits=MAX_LINES,
        ):
            self.post_message(self.SearchProgressed(generation, update))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "log-search" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        message = f"search failed: {type(error).__name__}: {error}"
        done = SearchDone(self.total, 0.0, False, error=message)
        self.post_message(self.SearchProgressed(self.generation, done))

    def action_stop(self) -> None:
        if self.running:
            self.workers.cancel_group(self, "log-search")
            self.query_one("#log-search-summary", Static).update(Text("stopping…"))

    # -- results -------------------------------------------------------------------------------

    @on(SearchProgressed)
    def _search_progressed(self, message: SearchProgressed) -> None:
        if message.generation != self.generation:
            return  # an older search, still winding down
        update = message.update
        if isinstance(update, LinesFound):
            log = self.query_one("#log-search-results", HitLog)
            first = not log.hits
            log.add_hits(update.hits, update.lines)
            if first:
                self.refresh_bindings()  # something to pin now
        elif isinstance(update, SourcesChanged):
            self._statuses_changed(update)
        elif isinstance(update, PatternsFound):
            first = self._patterns is None
            self._patterns = update
            self._paint_patterns()
            if first:
                self.refresh_bindings()
        else:
            self._search_ended(update)

    def _statuses_changed(self, message: SourcesChanged) -> None:
        table = self.query_one("#log-search-sources", SourceTable)
        for status in message.statuses:
            table.show(status, known=status.source in self.statuses)
            self.statuses[status.source] = status
        self.total = sum(s.count for s in self.statuses.values())
        if self.running:
            self._summarize(running=True)

    def _paint_patterns(self) -> None:
        """Fill the patterns view from the last snapshot, marking NEW against today's mark."""
        if self._patterns is not None:
            self.query_one(PatternTable).paint(self._patterns, self._new_since())

    def _search_ended(self, message: SearchDone) -> None:
        self.running = False
        self.refresh_bindings()
        if message.error:
            self.query_one("#log-search-summary", Static).update(
                Text(visible(message.error), style="bold red")
            )
            return
        self.total = message.total
        log = self.query_one("#log-search-results", HitLog)
        if message.hits and not message.cancelled and list(log.hits) != list(message.hits):
            # Sources report in parallel, so lines arrived interleaved: show them in time order.
            log.replace_hits(message.hits, message.lines)
        self._summarize(running=False, elapsed=message.elapsed, cancelled=message.cancelled)
        if not message.cancelled and self.last_query is not None:
            # The timeline (and a drill's debrief) records what was searched, quietly.
            payload = search_run_payload(self.last_query, message.total)
            self.post_message(RecordRequested(Kind.SEARCH_RUN, payload, saved_message=None))

    def _summarize(self, *, running: bool, elapsed: float = 0.0, cancelled: bool = False) -> None:
        line = summary_line(
            self.total, self.statuses.values(), MAX_LINES, running, elapsed, cancelled
        )
        self.query_one("#log-search-summary", Static).update(Text(line))

    # -- selection and pinning -----------------------------------------------------------------

    @on(HitLog.Selected)
    def _line_selected(self) -> None:
        self.refresh_bindings()  # pin and copy apply to the selected line

    @on(HitLog.Opened)
    def _line_opened(self, message: HitLog.Opened) -> None:
        self._open_record(message.hit)

    @on(DataTable.RowSelected, "#log-search-patterns")
    def _signature_opened(self) -> None:
        # Enter on a signature opens its example line's record, the whole signature above it.
        if (row := self.query_one("#log-search-patterns", PatternTable).selected()) is not None:
            self._open_record(row.example, signature_context(row.key, row.count))

    def _open_record(self, hit: Hit, context: Text | None = None) -> None:
        from cockpit.tui.panes.log_record import LogRecordScreen

        self.app.push_screen(LogRecordScreen(hit, self.last_query, context=context))

    def action_pin(self) -> None:
        if self.view == "patterns":
            self._pin_signature()
        else:
            self._pin_line()

    def _pin_line(self) -> None:
        hit = self.query_one("#log-search-results", HitLog).current()
        if hit is None:
            return
        pattern = self.last_query.pattern if self.last_query else None
        self.post_message(PinRequested("logs", visible(hit.text), line_evidence(hit, pattern)))

    def _pin_signature(self) -> None:
        row = self.query_one("#log-search-patterns", PatternTable).selected()
        if row is None:
            return
        pattern = self.last_query.pattern if self.last_query else None
        self.post_message(PinRequested("logs", visible(row.key), signature_evidence(row, pattern)))
