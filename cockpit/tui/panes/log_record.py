"""The record view: `enter` on a result shows its whole record, wrapped, on the whole screen.

The record (its timestamped first line and its continuation lines, a stack trace say) is read
from the file in a thread worker (`core.search.record`); until then the line as found shows.
Every line is outside text: sanitized, never markup. `p` pins the line with its record, `y`
copies the line (through the app's clipboard service, recorded), `Esc` goes back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker

from cockpit.core.sanitize import visible, visible_lines
from cockpit.core.search.model import Hit, Query
from cockpit.core.search.record import Record, as_found, read_record
from cockpit.core.timefmt import iso_utc
from cockpit.tui.messages import CopyRequested, PinRequested
from cockpit.tui.panes.hit_log import MatchHighlighter, line_evidence

RECORD_LINE_CHARS = 8000
"""Characters of one record line shown (sanitized; the rest is cut with a marker)."""
PINNED_RECORD_CHARS = 4000
"""Characters of the record a pin carries as evidence."""


def where_of(hit: Hit) -> str:
    """`checkout · /var/log/checkout.log:14015`, sanitized."""
    where = hit.source
    if hit.file is not None:
        where += f" · {hit.file}" + (f":{hit.line_no}" if hit.line_no else "")
    return visible(where, max_len=300)


def record_head(record: Record) -> Text:
    """What the record is: source, file:line, time (UTC), and how many lines it has."""
    hit = record.hit
    head = Text(where_of(hit), style="bold")
    when = iso_utc(record.ts) if record.ts else "no timestamp"
    head.append(f" · {when}")
    numbers = [line.number for line in record.lines if line.number is not None]
    count = len(record.lines)
    if numbers and count > 1:
        head.append(f" · lines {numbers[0]}-{numbers[-1]} ({count} lines in the record)")
    elif count > 1:
        head.append(f" · {count} lines in the record")
    if hit.service:
        head.append(f" · service {visible(hit.service, max_len=60)}", style="dim")
    return head


def record_body(record: Record, highlighter: MatchHighlighter) -> Group:
    """The record's lines with their numbers, the matched line marked and highlighted; for a
    JSON record, its fields below, one per row (lnav-style)."""
    parts: list[Table | Text] = [record_lines(record, highlighter)]
    matched = next((line for line in record.lines if line.matched), None)
    fields = json_fields(matched.text) if matched is not None else []
    if fields:
        parts += [Text("\nfields (JSON)", style="bold dim"), fields_table(fields)]
    return Group(*parts)


def record_lines(record: Record, highlighter: MatchHighlighter) -> Table:
    """The record's lines with their numbers; the matched line marked and highlighted."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(justify="right", style="dim", no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    for line in record.lines:
        number = f"{line.number}" if line.number is not None else ""
        text = Text(visible(line.text, max_len=RECORD_LINE_CHARS))
        if highlighter.query is not None:
            highlighter.highlight_body(text)
        if line.matched:
            number = f"▶{number}"
            text.stylize("bold")
        table.add_row(Text(number, style="bold" if line.matched else "dim"), text)
    return table


MAX_FIELDS = 100
"""Fields of a JSON record listed at most (nested objects flattened with dotted keys)."""


def json_fields(text: str) -> list[tuple[str, str]]:
    """The fields of a JSON-lines record, flattened (`error.stack`), in order; [] for text
    that is not one JSON object. Values are raw outside text: sanitize before display."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return []
    try:
        data = json.loads(stripped)
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    fields: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any, depth: int) -> None:
        if len(fields) >= MAX_FIELDS:
            return
        if isinstance(value, dict) and depth < 4:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner, depth + 1)
        elif isinstance(value, str):
            fields.append((prefix, value))
        else:
            fields.append((prefix, json.dumps(value, ensure_ascii=False)))

    walk("", data, 0)
    return fields


def fields_table(fields: list[tuple[str, str]]) -> Table:
    """A JSON record's fields, one per row; a multi-line value (a stack trace) keeps its lines."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(justify="right", style="cyan", no_wrap=True, max_width=24)
    table.add_column(ratio=1, overflow="fold")
    for key, value in fields:
        lines = visible_lines(value, max_len=RECORD_LINE_CHARS) or [""]
        table.add_row(Text(visible(key, max_len=40)), Text("\n".join(lines)))
    return table


class LogRecordScreen(ModalScreen[None]):
    """One result's whole record on the whole screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="log-record-back", tooltip="Back to the results"),
        Binding(
            "p",
            "pin",
            "Pin",
            id="log-record-pin",
            tooltip="Pin this line (with its record) to the timeline as evidence",
        ),
        Binding(
            "y",
            "copy_line",
            "Copy line",
            id="log-record-copy",
            tooltip="Copy the matched line to the clipboard (recorded on the timeline)",
        ),
    ]

    @dataclass
    class RecordRead(Message):
        """The record was read from its source."""

        record: Record

    def __init__(self, hit: Hit, query: Query | None, *, context: Text | None = None) -> None:
        super().__init__()
        self.hit = hit
        self.pattern = query.pattern if query is not None else None
        self.highlighter = MatchHighlighter(query)
        self.context = context
        """A line about why this record is shown (the signature it is an example of)."""
        self.record: Record | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(where_of(self.hit), style="bold"), id="log-record-head")
        if self.context is not None:
            yield Static(self.context, id="log-record-context")
        with VerticalScroll(id="log-record-body"):
            yield Static(record_body(as_found(self.hit), self.highlighter), id="log-record-lines")
        yield Static(Text("reading the record…", style="dim"), id="log-record-notes")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#log-record-body").focus()
        self._read(self.hit)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="log-record",
        description="Reading the record",
    )
    def _read(self, hit: Hit) -> None:
        worker = get_current_worker()
        self.post_message(self.RecordRead(read_record(hit, cancel=worker.cancelled_event)))

    @on(RecordRead)
    def _record_read(self, message: RecordRead) -> None:
        record = self.record = message.record
        self.query_one("#log-record-head", Static).update(record_head(record))
        self.query_one("#log-record-lines", Static).update(record_body(record, self.highlighter))
        notes = self.query_one("#log-record-notes", Static)
        notes.update(Text(" · ".join(visible(note, max_len=300) for note in record.notes)))
        notes.display = bool(record.notes)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "log-record" and event.state == WorkerState.ERROR:
            notes = self.query_one("#log-record-notes", Static)
            notes.update(Text(f"the record could not be read: {event.worker.error}"))

    def action_back(self) -> None:
        self.dismiss(None)

    def action_pin(self) -> None:
        detail: dict[str, Any] = line_evidence(self.hit, self.pattern)
        if self.record is not None and len(self.record.lines) > 1:
            detail["record"] = visible(self.record.text, max_len=PINNED_RECORD_CHARS)
            detail["record_lines"] = len(self.record.lines)
        self.post_message(PinRequested("logs", visible(self.hit.text), detail))

    def action_copy_line(self) -> None:
        detail = {"kind": "log line", "file": self.hit.file, "line": self.hit.line_no}
        self.post_message(CopyRequested(self.hit.text, "log line", detail))
