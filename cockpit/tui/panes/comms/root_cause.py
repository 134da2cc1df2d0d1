"""The root-cause cross-check under the Comms draft: a widget that owns its workers and its
full-screen view.

It reads the deploy list (local sources only) and cross-checks the stated root cause against
the recorded evidence in thread workers, and redraws when any input changed: the statement,
the events (a pin or a verdict, from anyone) or the deploy list. UNVERIFIED and heuristic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

from cockpit.core.config import Config
from cockpit.core.deploys.model import Deploy
from cockpit.core.incident import IncidentState
from cockpit.core.review.events import ROOT_CAUSE_STATED, RootCause, root_cause, root_cause_payload
from cockpit.core.review.evidence import CrossCheck, crosscheck
from cockpit.core.sanitize import visible
from cockpit.core.timefmt import hhmm
from cockpit.tui.messages import RecordRequested
from cockpit.tui.screens import TextPromptScreen

LABEL_WIDTH = 13


class RootCauseCheckScreen(ModalScreen[None]):
    """The root-cause cross-check in full, scrollable; it follows new evidence while open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,x,q",
            "close",
            "Close",
            id="root-cause-check-close",
            tooltip="Close the cross-check",
        ),
    ]
    AUTO_FOCUS = "#root-cause-check-body"

    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="root-cause-check-body", classes="dialog help"):
            yield Static(self.text, id="root-cause-check-text")
            yield Label("↑ ↓ PgUp PgDn scroll · Esc closes", classes="dialog-hint")

    def show(self, text: Text) -> None:
        """Redraw with the latest cross-check (a pin or a verdict arrived)."""
        self.text = text
        self.query_one("#root-cause-check-text", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)


def root_cause_text(stated: RootCause, check: CrossCheck, deploys_status: str) -> Text:
    """The cross-check block: the statement, Supports, Contradicts, Missing, all outside text
    made visible and inert (rich Text, never markup)."""
    shown = Text("Root cause cross-check (UNVERIFIED, heuristic)", style="bold")
    shown.append(" · x: in full", style="dim")
    shown.append(f"\nstated by {visible(stated.by, max_len=40)} at ")
    shown.append(f"{hhmm(stated.at)} UTC")
    shown.append(": ")
    shown.append(visible(stated.text, max_len=500), style="italic")
    sections: list[tuple[str, str, list[tuple[str, str, str]]]] = [
        ("Supports", "+", [(item.source, item.text, item.why) for item in check.supporting]),
        (
            "Contradicts",
            "-",
            [(item.source, item.text, item.why) for item in check.contradicting],
        ),
        ("Missing", "?", [("", gap, "") for gap in check.missing]),
        ("Unrelated", "·", [(item.source, item.text, item.why) for item in check.unrelated]),
    ]
    for heading, mark, items in sections:
        if heading == "Unrelated" and not items:
            continue  # only pins and verdicts that bear on nothing are listed here
        shown.append(f"\n{heading} ({len(items)})", style="bold")
        if not items:
            shown.append("\n  none", style="dim")
        for source, text, why in items:
            shown.append(f"\n {mark} ")
            if source:
                shown.append(visible(source, max_len=120), style="bold")
                shown.append(": ")
            shown.append(visible(text, max_len=240))
            if why:
                shown.append(f" [{visible(why, max_len=160)}]", style="italic")
    shown.append(f"\n{visible(check.note, max_len=300)}; a human decides.", style="dim")
    shown.append(f"\n{visible(deploys_status, max_len=300)}", style="dim")
    return shown


class RootCauseCheck(Static):
    """The stated root cause's cross-check (UNVERIFIED, heuristic), redrawn as its inputs change.

    `follow(state)` is called with every new incident state; the check runs in a thread worker
    and the deploy list is read in another, joining when it arrives.
    """

    @dataclass
    class Checked(Message):
        """The root cause `statement` was cross-checked (in a worker) from the inputs `key`."""

        key: tuple[str, int, int]
        statement: str
        text: Text

    @dataclass
    class DeploysRead(Message):
        """The deploy list was read (in a worker) to cross-check the root cause `statement`."""

        statement: str
        deploys: list[Deploy]
        notes: list[str]

    def __init__(self, config: Config, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.config = config
        self._state: IncidentState | None = None
        self._deploys: list[Deploy] | None = None
        """The deploy list for the cross-check; None until read (in a worker)."""
        self._deploys_read_for: str | None = None
        """The root cause the deploys were last read for: a restatement reads them again."""
        self._deploy_notes: list[str] = []
        self._wanted: tuple[str, int, int] | None = None
        """What the cross-check is drawn from (statement, last event, deploys read)."""
        self._shown: str | None = None
        """The statement whose cross-check is on screen."""
        self._drawn = False

    def follow(self, state: IncidentState | None) -> None:
        """Ask for the cross-check of the stated root cause when its inputs changed: the
        statement, the events (a pin, a verdict, from anyone) or the deploy list."""
        self._state = state
        stated = root_cause(state.events) if state is not None else None
        self.set_class(stated is not None, "-shown")
        if state is None or stated is None:
            self._wanted = self._shown = None
            self._drawn = state is not None
            return
        if self.config.services and self._deploys_read_for != stated.text:
            self._deploys_read_for = stated.text
            self._read_deploys(stated.text, state.opened_at or stated.at)
        key = (stated.text, state.last_seq, -1 if self._deploys is None else len(self._deploys))
        if key == self._wanted:
            return
        self._wanted = key
        if self._shown is None:
            self.update(Text("Root cause cross-check: checking the evidence…", style="dim"))
        self._check(key, state, self._deploys, self._deploys_status())

    def ask_statement(self, state: IncidentState | None) -> None:
        """Ask a human for the root cause in their words; saved as `review.root_cause`."""
        current = root_cause(state.events) if state else None
        hint = "in your words; checked against the evidence (UNVERIFIED)"
        if current is not None:
            hint = f"now: {visible(current.text, 60)}"

        def save(text: str | None) -> None:
            if text:
                self.post_message(
                    RecordRequested(
                        ROOT_CAUSE_STATED, root_cause_payload(text), "saved: root cause"
                    )
                )

        self.app.push_screen(TextPromptScreen("State the root cause", hint), save)

    def show_full(self) -> bool:
        """Open the cross-check in full; False when no root cause is stated yet."""
        if self._wanted is None or not isinstance(self.content, Text):
            return False
        self.app.push_screen(RootCauseCheckScreen(self.content))
        return True

    @work(
        thread=True,
        exclusive=True,
        group="comms-root-cause-check",
        exit_on_error=False,
        description="Cross-checking the root cause against the evidence",
    )
    def _check(
        self,
        key: tuple[str, int, int],
        state: IncidentState,
        deploys: list[Deploy] | None,
        deploys_status: str,
    ) -> None:
        stated = root_cause(state.events)  # the snapshot is immutable: safe in this thread
        if stated is None:
            return
        check = crosscheck(stated.text, state, deploys=deploys)
        self.post_message(
            self.Checked(key, stated.text, root_cause_text(stated, check, deploys_status))
        )

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        if message.key != self._wanted:
            return  # older than the evidence on screen's inputs: a newer check is coming
        self.update(message.text)
        if isinstance(self.app.screen, RootCauseCheckScreen):
            self.app.screen.show(message.text)
        restated = message.statement != self._shown
        self._shown = message.statement
        if restated and self._drawn:
            # Just stated here or by a partner: bring the check into view.
            self.call_after_refresh(self.scroll_visible, animate=False)
        self._drawn = True

    def _deploys_status(self) -> str:
        if not self.config.services:
            return "deploy list: no services configured, so named deploys are not looked up"
        if self._deploys is None:
            return "deploy list: reading (local sources)…"
        notes = "; ".join(self._deploy_notes)
        return f"deploy list: {len(self._deploys)} deploys read (local sources)" + (
            f"; {notes}" if notes else ""
        )

    @work(
        thread=True,
        exclusive=True,
        group="comms-root-cause",
        exit_on_error=False,
        description="Reading the deploy list for the root-cause cross-check",
    )
    def _read_deploys(self, statement: str, since: datetime) -> None:
        from cockpit.core.deploys import DEPLOY_HISTORY
        from cockpit.core.signals import local_deploys

        found = local_deploys(self.config, since - DEPLOY_HISTORY)
        self.post_message(self.DeploysRead(statement, found.deploys, found.problems))

    @on(DeploysRead)
    def _deploys_read(self, message: DeploysRead) -> None:
        self._deploys = message.deploys
        self._deploy_notes = message.notes
        self.follow(self._state)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.notify(
                f"comms: {event.worker.description} failed: {event.worker.error!r}",
                severity="error",
                timeout=10,
            )
