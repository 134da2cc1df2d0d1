"""Small app-wide widgets: the incident header and the "copied, not executed" notice."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static

from cockpit.core.incident import IncidentState, Status
from cockpit.core.sanitize import visible

STATUS_STYLES = {
    Status.OPEN: "bold",
    Status.DECLARED: "bold reverse red",
    Status.CONTAINED: "bold reverse yellow",
    Status.RESOLVED: "bold reverse green",
}


class IncidentHeader(Static):
    """Title, status, severity, phase, the UTC clock, and a permanent DRILL banner in drills."""

    incident: reactive[IncidentState | None] = reactive(None)
    drill: reactive[bool] = reactive(False)

    def __init__(self, clock: Callable[[], datetime], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_header)
        self.refresh_header()

    def watch_incident(self) -> None:
        self.refresh_header()

    def watch_drill(self) -> None:
        self.refresh_header()

    def refresh_header(self) -> None:
        state = self.incident
        line = Text()
        if self.drill or (state and state.drill):
            line.append(" DRILL ", style="bold reverse magenta")
            line.append(" ")
        if state is None:
            line.append("loading incident…", style="dim")
        else:
            line.append(f" {state.status.value.upper()} ", style=STATUS_STYLES[state.status])
            if state.severity:
                line.append(f" {state.severity}", style="bold")
            line.append(f"  {state.phase.title}  ", style="bold")
            line.append(visible(state.title, max_len=80))
        line.append(f"  {self.clock():%H:%M:%SZ}", style="dim")
        self.update(line)


@dataclass(frozen=True)
class CopiedText:
    """What was copied, for the notice: the full text, what it is, and what was flagged."""

    text: str
    purpose: str
    findings: tuple[str, ...] = ()
    prose: bool = False
    """A comms draft (words for people), not a command: "COPIED", never "NOT EXECUTED"."""
    lint: tuple[str, ...] = ()
    """The comms lint findings the draft was copied with."""

    @property
    def flags(self) -> tuple[str, ...]:
        """Everything worth a warning: lint findings first, then hidden or look-alike text."""
        return (*self.lint, *self.findings)


SHRINK_SECONDS = 8.0
"""How long the notice shows the copy in full before it shrinks to one line."""


class CopyNotice(Static):
    """The last copy in full, marked "COPIED, NOT EXECUTED" (a command) or "COPIED" (prose),
    with what was flagged. It shrinks to one line after `SHRINK_SECONDS`, and `Esc` dismisses
    it; the full text stays on the timeline and in the last-copy view (`ctrl+y`)."""

    copy: CopiedText | None = None
    saved = False
    compact = False

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shrink_timer: Timer | None = None

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    def show_copy(self, copy: CopiedText, *, saved: bool) -> None:
        """Show `copy` in full (again, once it is saved) and restart the shrink timer."""
        fresh = copy != self.copy or not self.shown
        self.copy, self.saved = copy, saved
        if fresh:
            self.compact = False
            if self._shrink_timer is not None:
                self._shrink_timer.stop()
            self._shrink_timer = self.set_timer(SHRINK_SECONDS, self.to_one_line)
        self.add_class("-shown")
        self.set_class(bool(copy.flags), "-flagged")
        self._paint()

    def to_one_line(self) -> None:
        """One line from now on: what was copied, and where the full text is."""
        self._shrink_timer = None
        if self.copy is not None and self.shown:
            self.compact = True
            self._paint()

    def dismiss(self) -> None:
        """Hide the notice (`Esc`); the copy stays on the timeline and in the last-copy view."""
        if self._shrink_timer is not None:
            self._shrink_timer.stop()
            self._shrink_timer = None
        self.remove_class("-shown", "-compact")

    def _paint(self) -> None:
        copy = self.copy
        if copy is None:
            return
        self.set_class(self.compact, "-compact")
        notice = Text(no_wrap=self.compact, overflow="ellipsis", end="")
        notice.append(" COPIED " if copy.prose else " COPIED, NOT EXECUTED ", style="bold reverse")
        notice.append(f" {visible(copy.purpose, max_len=60)}", style="bold")
        if copy.flags:
            notice.append(f" ⚠ {len(copy.flags)} flagged", style="bold")
        if self.compact:
            notice.append(" (ctrl+y full text, esc hide): ", style="dim")
            notice.append(visible(copy.text, max_len=300))
            self.update(notice)
            return
        notice.append(" · saved to timeline" if self.saved else " · recording…", style="dim")
        notice.append(" · esc hide", style="dim")
        for finding in copy.lint:
            notice.append("\n⚠ lint: ", style="bold")
            notice.append(visible(finding, max_len=300), style="bold")
        for finding in copy.findings:
            notice.append("\n⚠ ", style="bold")
            notice.append(visible(finding, max_len=300), style="bold")
        notice.append("\n")
        notice.append(visible(copy.text, max_len=4000))
        if copy.findings:
            notice.append("\nRead the flagged parts before you paste it anywhere.", style="italic")
        self.update(notice)


INJECT_TOAST_CHARS = 48
"""A drill inject's toast says this much (about two lines); the timeline has it in full."""


def inject_toast(summary: str) -> str:
    """A facilitator's inject as a short toast: its first sentence, cut to two lines at most,
    and where the rest is (the timeline, key 6)."""
    text = " ".join(visible(summary, max_len=2000).split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    if len(first) > INJECT_TOAST_CHARS:
        first = first[: INJECT_TOAST_CHARS - 1].rsplit(" ", 1)[0] + "…"
    more = " (6: in full)" if first != text else ""
    return first + more
