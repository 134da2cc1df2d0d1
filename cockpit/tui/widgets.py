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
from cockpit.core.lifecycle import STATUS_WORDS, roles_line
from cockpit.core.sanitize import visible
from cockpit.core.store import Sharing

STATUS_STYLES = {
    Status.OPEN: "bold",
    Status.DECLARED: "bold reverse red",
    Status.CONTAINED: "bold reverse yellow",
    Status.RESOLVED: "bold reverse green",
}


class IncidentHeader(Static):
    """Status and phase side by side in words (`DECLARED SEV2 · phase Diagnose`), the title,
    who leads, the UTC clock, and a permanent DRILL banner in drills."""

    incident: reactive[IncidentState | None] = reactive(None)
    drill: reactive[bool] = reactive(False)
    sharing: reactive[Sharing | None] = reactive(None)
    """PostgreSQL store: whether the server is reachable and what waits to be shared."""

    def __init__(self, clock: Callable[[], datetime], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_header)
        self.refresh_header()

    def on_resize(self) -> None:
        self.refresh_header()  # the title gets what is left of the new width

    def watch_incident(self) -> None:
        self.refresh_header()

    def watch_drill(self) -> None:
        self.refresh_header()

    def watch_sharing(self) -> None:
        self.refresh_header()

    def refresh_header(self) -> None:
        state = self.incident
        line = Text()
        if self.drill or (state and state.drill):
            line.append(" DRILL ", style="bold reverse magenta")
            line.append(" ")
        offline = self.sharing is not None and self.sharing.shared and not self.sharing.online
        clock = f"  {self.clock():%H:%M:%SZ}"
        tail = sharing_text(self.sharing) if not offline or state is None else Text()
        if state is None:
            line.append("loading incident…", style="dim")
        else:
            severity = f" {state.severity}" if state.severity and state.declared else ""
            status = f" {STATUS_WORDS[state.status].upper()}{severity} "
            line.append(status, style=STATUS_STYLES[state.status])
            line.append(f" phase {state.phase.title} ", style="bold")
            if offline:  # before the title: at 80 columns the outage must not be cut off
                line.append(" ")
                line.append_text(sharing_text(self.sharing))
            roles = roles_line(state)
            roles_text = f" · {visible(roles, max_len=60)}" if roles else ""
            # The title gets what is left of the line; status, phase and roles never move.
            used = line.cell_len + len(roles_text) + len(clock) + tail.cell_len
            # Before its first layout (the incident can arrive first) the header has no size
            # yet: it will be as wide as the screen.
            width = self.size.width or self.app.size.width
            room = max(12, width - used - 3)
            title = Text(" " + visible(state.title, max_len=200))
            title.truncate(room, overflow="ellipsis")
            line.append_text(title)
            line.append(roles_text, style="italic")
        line.append(clock, style="dim")
        line.append_text(tail)
        self.update(line)


def sharing_text(sharing: Sharing | None) -> Text:
    """The header's word on a PostgreSQL store: nothing for SQLite, "shared" when live, and
    when the server is unreachable, what waits locally and when it was last heard from."""
    text = Text()
    if sharing is None or not sharing.shared:
        return text
    heard = f"{sharing.last_heard:%H:%M:%SZ}" if sharing.last_heard else "never"
    if not sharing.online:
        text.append(" OFFLINE ", style="bold reverse yellow")
        # What waits first, then when the server last answered: 80 columns keep both.
        if sharing.pending:
            text.append(f" {sharing.pending} saved locally; not yet shared ·", style="bold")
            short = f"{sharing.last_heard:%H:%MZ}" if sharing.last_heard else "never"
            text.append(f" last heard {short}", style="dim")
        else:
            text.append(f" server last heard {heard}", style="dim")
    elif sharing.pending:
        text.append(f"  sharing {sharing.pending} saved locally…", style="bold yellow")
    else:
        text.append("  shared", style="dim green")
    if sharing.rejected:
        text.append(f"  {sharing.rejected} refused by the server, kept locally", style="bold red")
    return text


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

    def _key(self, binding_id: str) -> str:
        """The key the app binds `binding_id` to now (a `[keymap]` remap shows)."""
        for active in self.screen.active_bindings.values():
            if active.binding.id == binding_id:
                return self.app.get_key_display(active.binding)
        return binding_id

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
        full, hide = self._key("last-copy"), self._key("dismiss-copy")
        if self.compact:
            notice.append(f" ({full} full text, {hide} hide): ", style="dim")
            notice.append(visible(copy.text, max_len=300))
            self.update(notice)
            return
        notice.append(" · saved to timeline" if self.saved else " · recording…", style="dim")
        notice.append(f" · {hide} hide", style="dim")
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
