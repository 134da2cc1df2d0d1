"""Small app-wide widgets: the incident header and the "copied, not executed" notice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
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
            room = max(12, self.size.width - used - 3)
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


class CopyNotice(Static):
    """Shows the last copied text in full, marked "copied, not executed", with its findings."""

    def show_copy(self, copy: CopiedText, *, saved: bool) -> None:
        text, purpose, findings = copy.text, copy.purpose, copy.findings
        notice = Text()
        notice.append(" COPIED, NOT EXECUTED ", style="bold reverse")
        notice.append(f" {purpose}", style="bold")
        notice.append(" · saved to timeline" if saved else " · recording…", style="dim")
        notice.append("\n")
        notice.append(visible(text, max_len=4000))
        for finding in findings:
            notice.append("\n⚠ ", style="bold")
            notice.append(finding, style="bold")
        if findings:
            notice.append("\nRead the flagged parts before you paste it anywhere.", style="italic")
        self.update(notice)
        self.add_class("-shown")
        self.set_class(bool(findings), "-flagged")
