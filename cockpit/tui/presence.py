"""Pairing in the TUI: a presence bar ("alice@host (Logs) · bob@host (Deploys)") and the
driver/navigator hand-off dialog.

Wiring (the app does three things):

- compose: `yield PresenceBar(clock=self.clock, id="presence-bar")` under the header;
- once the incident is open: `presence_bar.join(store_target, incident_id, author)` (the SQLite
  file's path or a PostgreSQL target, `Config.store_target`);
- when the visible pane changes: `presence_bar.pane_changed(pane.PANE_TITLE)`.

The bar runs its own timer and does all its I/O in a thread worker (its own SQLite
connection, never the event store's). The hand-off is recorded by the app:
`HandoffScreen` returns the `pairing.handoff` payload and the app appends it as an event.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from cockpit.core.presence import HEARTBEAT_SECONDS, Presence, PresenceError, handoff_payload
from cockpit.core.sanitize import visible
from cockpit.core.store import Clock, utc_now
from cockpit.core.store_target import PgTarget
from cockpit.core.stores import open_board
from cockpit.tui.screens import Dialog, Refused

LABEL_MAX = 60
"""Longest `who (pane)` label shown for one person; authors are outside input."""


class PresenceBar(Static):
    """Who has this incident open, in which pane, and who drives. One line."""

    DEFAULT_CSS = """
    PresenceBar {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    """

    @dataclass
    class Seen(Message):
        """A heartbeat finished: everyone present now (this process included), and the driver."""

        people: list[Presence]
        driver: str | None
        error: str | None = None

    def __init__(
        self,
        *,
        clock: Clock = utc_now,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        host: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.heartbeat_seconds = heartbeat_seconds
        self.host = host
        self.store_path: Path | PgTarget | None = None
        self.incident_id: str | None = None
        self.author = ""
        self.pane = ""
        self.people: list[Presence] = []
        """Everyone seen at the last heartbeat, this process included."""
        self.driver: str | None = None
        """Who drives, from the latest `pairing.handoff` event; None before any hand-off."""
        self._board: Any = None
        """A `PresenceBoard` (SQLite) or `PgPresenceBoard` (PostgreSQL)."""
        self._board_target: Path | PgTarget | None = None
        self._board_lock = threading.Lock()  # a beat and a pane change may overlap

    def on_mount(self) -> None:
        self.update(Text("pairing: joining…", style="dim"))
        self.set_interval(self.heartbeat_seconds, self.beat)

    def join(self, store_path: Path | PgTarget, incident_id: str, author: str) -> None:
        """Start showing (and announcing) presence in `incident_id` of the store at `store_path`."""
        self.store_path = store_path if isinstance(store_path, PgTarget) else Path(store_path)
        self.incident_id = incident_id
        self.author = author
        self.beat()

    def pane_changed(self, pane: str) -> None:
        """The visible pane changed (its title, e.g. "Logs"): announce it now, not next beat."""
        if pane != self.pane:
            self.pane = pane
            self.beat()

    def others(self) -> list[Presence]:
        """Everyone present except this process."""
        pid_host = (self._board.pid, self._board.host) if self._board else None
        return [p for p in self.people if (p.pid, p.host) != pid_host]

    def beat(self) -> None:
        """Refresh this process's presence row and read everyone's (in a thread worker)."""
        if self.store_path is None or self.incident_id is None:
            return
        self._beat(self.store_path, self.incident_id, self.author, self.pane)

    def look(self) -> None:
        """Read everyone's presence now without announcing ours (a partner moved)."""
        if self.store_path is None or self.incident_id is None:
            return
        self._beat(self.store_path, self.incident_id, self.author, self.pane, announce=False)

    @work(thread=True, exclusive=True, group="presence", exit_on_error=False)
    def _beat(
        self,
        store_path: Path | PgTarget,
        incident_id: str,
        author: str,
        pane: str,
        announce: bool = True,
    ) -> None:
        try:
            with self._board_lock:
                if self._board is None or self._board_target != store_path:
                    if self._board is not None:
                        self._board.close()
                    target = (
                        store_path if isinstance(store_path, PgTarget) else store_path.expanduser()
                    )
                    self._board = open_board(target, clock=self.clock, host=self.host)
                    self._board_target = store_path
                board = self._board
            if announce:
                board.beat(incident_id, author, pane)
            people = board.present(incident_id)
            driver = board.driver(incident_id)
        except PresenceError as exc:
            self.post_message(self.Seen([], None, str(exc)))
            return
        self.post_message(self.Seen(people, driver))

    @on(Seen)
    def _seen(self, message: Seen) -> None:
        # Not stopped: the app shows the bar only once a partner is seen (it decides layout).
        if message.error:
            self.update(Text(f"pairing: {visible(message.error, 200)}", style="dim"))
            return
        self.people = message.people
        self.driver = message.driver
        self.update(self.presence_text())

    def presence_text(self) -> Text:
        """The bar's text: `driver: bob · here: alice@host (Logs) · bob@host (Deploys)`."""
        line = Text()
        if self.driver:
            line.append("driver: ", style="dim")
            line.append(visible(self.driver, LABEL_MAX), style="bold")
            line.append(" · ", style="dim")
        line.append("here: ", style="dim")
        mine = (self._board.pid, self._board.host) if self._board else None
        for index, person in enumerate(self.people):
            if index:
                line.append(" · ", style="dim")
            you = (person.pid, person.host) == mine
            line.append(visible(person.label(), LABEL_MAX), style="bold" if you else "")
            if you:
                line.append(" (you)", style="dim")
        return line

    def on_unmount(self) -> None:
        # Quitting: say goodbye so the partner's bar updates now, not after the TTL.
        board, self._board = self._board, None
        if board is not None:
            with contextlib.suppress(PresenceError):  # else the row simply expires
                board.leave()
            board.close()


class HandoffScreen(Dialog[dict[str, Any]]):
    """Driver/navigator hand-off: who takes over? Returns the `pairing.handoff` payload.

    `me` is this process's author; `driver` the current driver if a hand-off was recorded
    (else `me` is taken to be driving); `candidates` the other people present.
    """

    DEFAULT_CSS = """
    HandoffScreen OptionList {
        height: auto;
        max-height: 8;
    }
    """

    AUTO_FOCUS = "#handoff-to"
    SAVE_LABEL = "Hand off"

    def __init__(self, me: str, candidates: list[str], driver: str | None = None) -> None:
        super().__init__()
        self.me = me
        self.driver = driver or me
        self.candidates = [c for c in dict.fromkeys(candidates) if c != self.driver]

    def fields(self) -> Iterable[Widget]:
        yield Label(Text(f"Driver hand-off: {visible(self.driver, LABEL_MAX)} hands over to…"))
        yield Input(
            value=self.candidates[0] if self.candidates else "",
            placeholder="who takes over the keyboard (name or user@host)",
            id="handoff-to",
        )
        if self.candidates:
            yield OptionList(
                *[
                    Option(Text(visible(c, LABEL_MAX)), id=f"c{i}")
                    for i, c in enumerate(self.candidates)
                ],
                id="handoff-candidates",
            )

    @on(Input.Submitted, "#handoff-to")
    def _typed(self) -> None:
        self.action_save()

    @on(OptionList.OptionSelected, "#handoff-candidates")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#handoff-to", Input).value = self.candidates[event.option_index]
        self.action_save()

    def answer(self) -> dict[str, Any]:
        to = self.query_one("#handoff-to", Input).value.strip()
        if not to:
            raise Refused("name who takes over, or cancel", "handoff-to")
        if to == self.driver:
            raise Refused(f"{visible(to, LABEL_MAX)} is already driving; name someone else")
        return handoff_payload(self.driver, to)
