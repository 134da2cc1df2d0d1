"""The timeline: every event, live, with UTC date and time, author and kind."""

from __future__ import annotations

import zlib
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import RichLog

from cockpit.core.incident import describe
from cockpit.core.sanitize import visible
from cockpit.core.store import Event
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


def event_line(event: Event) -> Text:
    """One timeline row. Authors and payloads are outside text: sanitized, never markup."""
    line = Text(event.ts.strftime("%m-%d %H:%M:%SZ "), style="dim")
    author = visible(event.author, max_len=24)
    line.append(f"{author} ", style=AUTHOR_STYLES[zlib.crc32(author.encode()) % len(AUTHOR_STYLES)])
    line.append(visible(describe(event), max_len=600), style=KIND_STYLES.get(event.kind, ""))
    return line


class TimelinePane(Pane):
    """Everything that happened, as it happens."""

    PANE_TITLE = "Timeline"
    HELP = """\
# Timeline

Every event of the incident, live, oldest first: date and time in **UTC**, who, and what.
Entries written by a pairing partner in another terminal appear within a second.
This is the raw material of the postmortem. A note is saved only once it is committed.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
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

    _shown_seq = 0

    def compose(self) -> ComposeResult:
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
        self._shown_seq = 0
        self.query_one(RichLog).clear()
        self.watch_incident()

    def watch_incident(self) -> None:
        if self.incident is None or not self.is_mounted:
            return
        log = self.query_one(RichLog)
        for event in self.incident.events:
            if event.seq > self._shown_seq:
                log.write(event_line(event))
                self._shown_seq = event.seq

    def action_scroll_end(self) -> None:
        self.query_one(RichLog).scroll_end(animate=False)

    def action_scroll_home(self) -> None:
        self.query_one(RichLog).scroll_home(animate=False)
