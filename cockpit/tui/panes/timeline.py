"""The timeline: every event, live, with UTC date and time, author and kind; repeats folded
into one row with a count, and a kind filter (`f`)."""

from __future__ import annotations

import zlib
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, RichLog, Static
from textual.widgets.option_list import Option

from cockpit.core.incident import describe
from cockpit.core.sanitize import visible
from cockpit.core.store import Event
from cockpit.core.timeline import (
    SEARCHES,
    TimelineRow,
    filter_kinds,
    fold_repeats,
    kinds_present,
)
from cockpit.tui.keys import key_for
from cockpit.tui.panes.base import Pane

AUTHOR_STYLES = ("cyan", "magenta", "green", "yellow", "blue", "bright_cyan", "bright_magenta")
KIND_STYLES = {
    "incident.declared": "bold red",
    "incident.contained": "bold yellow",
    "incident.resolved": "bold green",
    "command.copied": "bold",
    "alert.fired": "red",
    "alert.attached": "red",
    "alert.resolved": "green",
    "alert.refired": "bold reverse red",
}
ALL_KINDS = ""
BUT_SEARCHES = "-" + SEARCHES
"""The filter that hides only the searches (the usual noise)."""


def event_line(event: Event, repeats: str = "") -> Text:
    """One timeline row. Authors and payloads are outside text: sanitized, never markup."""
    line = Text(event.ts.strftime("%m-%d %H:%M:%SZ "), style="dim")
    author = visible(event.author, max_len=24)
    line.append(f"{author} ", style=AUTHOR_STYLES[zlib.crc32(author.encode()) % len(AUTHOR_STYLES)])
    line.append(visible(describe(event), max_len=600), style=KIND_STYLES.get(event.kind, ""))
    if repeats:
        line.append(repeats, style="bold dim")
    return line


def row_line(row: TimelineRow) -> Text:
    """A folded row: the last repeat's text, the count and the span."""
    return event_line(row.last, row.repeats())


def shown_events(events: tuple[Event, ...], kind_filter: str) -> list[Event]:
    """The events the filter lets through: all, all but one kind (`-kind`), or one kind."""
    if kind_filter == ALL_KINDS:
        return list(events)
    if kind_filter.startswith("-"):
        return filter_kinds(events, exclude=[kind_filter[1:]])
    return filter_kinds(events, include=[kind_filter])


def filter_label(kind_filter: str) -> str:
    if kind_filter == ALL_KINDS:
        return "all kinds"
    if kind_filter.startswith("-"):
        return f"all but {visible(kind_filter[1:], max_len=60)}"
    return f"only {visible(kind_filter, max_len=60)}"


class KindPickerScreen(ModalScreen[str | None]):
    """Pick which kinds of event the Timeline pane shows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="timeline-kind-cancel", tooltip="Keep the filter")
    ]

    def __init__(self, events: tuple[Event, ...], current: str) -> None:
        super().__init__()
        self.events = events
        self.current = current

    def compose(self) -> ComposeResult:
        counts = kinds_present(self.events)
        options = [Option(f"all kinds ({len(self.events)})", id="all")]
        if counts.get(SEARCHES):
            options.append(
                Option(f"all but searches ({len(self.events) - counts[SEARCHES]})", id="but")
            )
        options += [
            Option(Text(f"{visible(kind, max_len=60)} ({count})"), id=f"kind:{kind}")
            for kind, count in sorted(counts.items())
        ]
        with Vertical(classes="dialog"):
            yield Label("Show which events on the timeline? (Enter picks, Esc keeps)")
            yield OptionList(*options, id="timeline-kinds")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#timeline-kinds")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        ident = event.option.id or "all"
        if ident == "all":
            self.dismiss(ALL_KINDS)
        elif ident == "but":
            self.dismiss(BUT_SEARCHES)
        else:
            self.dismiss(ident.removeprefix("kind:"))

    def action_cancel(self) -> None:
        self.dismiss(None)


class TimelinePane(Pane):
    """Everything that happened, as it happens."""

    PANE_TITLE = "Timeline"
    HELP = """\
# Timeline

Every event of the incident, live, oldest first: date and time in **UTC**, who, and what.
Entries written by a pairing partner in another terminal appear within a second.
This is the raw material of the postmortem. A note is saved only once it is committed.

Repeats (the same search again and again) fold into one row with a count and a span,
`(x10, 14:02-14:09Z)`; the store and `cockpit timeline --json` keep every event. The kind
filter shows all kinds, all but searches, or one kind.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f",
            "pick_kinds",
            "Filter kinds",
            id="timeline-filter-kinds",
            show=False,  # the pane's first line says `f filter`; the footer keeps C R whole
            tooltip="Show all events, all but searches, or one kind",
        ),
        Binding(
            "end,G",
            "scroll_end",
            "Newest",
            id="timeline-newest",
            show=False,
            tooltip="Jump to the newest entry",
        ),
        Binding(
            "home,g",
            "scroll_home",
            "Oldest",
            id="timeline-oldest",
            show=False,
            tooltip="Jump to the oldest entry",
        ),
    ]

    kind_filter: reactive[str] = reactive(ALL_KINDS)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._rendered: list[TimelineRow] = []

    def compose(self) -> ComposeResult:
        yield Static(id="timeline-status")
        yield RichLog(
            id="timeline-log",
            wrap=True,
            markup=False,
            highlight=False,
            max_lines=20_000,
            min_width=20,
        )

    def on_resize(self) -> None:
        # RichLog wraps at write time: re-wrap everything when the pane changes width.
        self._redraw()

    def watch_kind_filter(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        self._rendered = []
        if self.is_mounted:
            self.query_one(RichLog).clear()
        self.watch_incident()

    def watch_incident(self) -> None:
        if self.incident is None or not self.is_mounted:
            return
        events = self.incident.events
        rows = fold_repeats(shown_events(events, self.kind_filter))
        log = self.query_one(RichLog)
        done = self._rendered
        # New rows are appended; when the last row shown took more repeats, it is redrawn.
        if done and (len(rows) < len(done) or rows[len(done) - 1] != done[-1]):
            log.clear()
            done = []
        for row in rows[len(done) :]:
            log.write(row_line(row))
        self._rendered = rows
        folded = len(events) - len(rows) if self.kind_filter == ALL_KINDS else None
        status = Text(f"{filter_label(self.kind_filter)} · ", style="dim")
        status.append(f"{len(rows)} rows", style="dim")
        if folded:
            status.append(f" ({folded} repeats folded)", style="dim")
        key = key_for(
            self.BINDINGS, "timeline-filter-kinds", self.config.keymap, self.app.get_key_display
        )
        if key:
            status.append(f" · {key} filter", style="dim")
        self.query_one("#timeline-status", Static).update(status)

    def action_pick_kinds(self) -> None:
        events = self.incident.events if self.incident else ()

        def picked(choice: str | None) -> None:
            if choice is not None:
                self.kind_filter = choice

        self.app.push_screen(KindPickerScreen(events, self.kind_filter), picked)

    def action_scroll_end(self) -> None:
        self.query_one(RichLog).scroll_end(animate=False)

    def action_scroll_home(self) -> None:
        self.query_one(RichLog).scroll_home(animate=False)
