"""The cockpit app: one screen, every pane, the store link, and the copy-never-execute service.

At 80 columns the panes collapse behind a tab bar (keys 1-6); from 120 columns they share the
screen. Panes get the incident state pushed down and post requests up; only the app writes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from textual import events, on, work
from textual.actions import SkipAction
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Tab, Tabs
from textual.worker import Worker, WorkerState

from cockpit.core.clipboard import check_command, check_prose, osc52_sequences
from cockpit.core.config import Config, ConfigError, load_config_file
from cockpit.core.incident import UNTITLED, IncidentState, Kind
from cockpit.core.presence import HANDOFF_KIND
from cockpit.core.runbook import Runbook, RunbookError, load_runbook
from cockpit.core.store import Clock, Event, EventStore, StoreError, utc_now
from cockpit.resources import data_dir
from cockpit.tui.messages import PROSE_KINDS, CopyRequested, PinRequested, RecordRequested
from cockpit.tui.panes.base import Pane
from cockpit.tui.panes.checklist import PhaseChecklist
from cockpit.tui.panes.slot import PaneSlot, PaneSpec
from cockpit.tui.presence import HandoffScreen, PresenceBar
from cockpit.tui.screens import (
    ConfirmScreen,
    DeclareScreen,
    DialogAnswer,
    HelpScreen,
    TextPromptScreen,
)
from cockpit.tui.widgets import CopiedText, CopyNotice, IncidentHeader, inject_toast

GRID_ORDER = ("phases", "logs", "hypotheses", "timeline", "deploys", "comms")
"""DOM order of the panes: the wide layout's grid fills row by row (3 columns, 2 rows)."""

POLL_SECONDS = 0.25
"""How often the store is checked for events written by another process (pairing)."""

# (pane id, pane class, key): the order of the tabs and of the 1-6 keys.
PANES: tuple[PaneSpec, ...] = (
    PaneSpec("phases", "1", "Phases", "cockpit.tui.panes.checklist:PhaseChecklist"),
    PaneSpec("logs", "2", "Logs", "cockpit.tui.panes.log_search:LogSearchPane"),
    PaneSpec("deploys", "3", "Deploys", "cockpit.tui.panes.deploys:DeploysPane"),
    PaneSpec("hypotheses", "4", "Hypotheses", "cockpit.tui.panes.hypotheses:HypothesesPane"),
    PaneSpec("comms", "5", "Comms", "cockpit.tui.panes.comms:CommsPane"),
    PaneSpec("timeline", "6", "Timeline", "cockpit.tui.panes.timeline:TimelinePane"),
)
"""The panes in tab order. Phases is mounted at once (the first frame shows it); the others
sit in slots until their modules are imported right after the first frame."""

TITLES = {spec.pane_id: spec.title for spec in PANES}

APP_HELP = """\
# Cockpit

A terminal incident cockpit. It reads in parallel, records everything, drafts the words,
and **never executes a command**: suggested commands are copied to your clipboard (OSC 52)
and recorded on the timeline. You run them.

| Key | Action |
| --- | --- |
| `1`-`6` | go to a pane: Phases, Logs, Deploys, Hypotheses, Comms, Timeline |
| `alt+1`-`alt+6` | the same, from inside a text box |
| `tab` / `shift+tab` | move focus |
| `n` | add a note to the timeline |
| `d` | declare the incident, with a name and a severity |
| `T` | rename the incident |
| `C` / `R` | mark contained / resolved |
| `ctrl+p` | command palette: every action by name |
| `F1` | help for the focused pane |
| `q` | quit (everything saved is already on disk) |

Inside tmux, `set -g set-clipboard on` lets copies reach your own machine's clipboard.
"""


@dataclass
class IncidentLoaded(Message):
    """The store is open and the incident's events are read."""

    state: IncidentState
    runbook: Runbook | None
    runbook_error: str | None = None


@dataclass
class EventsArrived(Message):
    """New committed events, from this process or another one."""

    events: Sequence[Event]


@dataclass
class EventSaved(Message):
    """An event this process wrote is committed: only now may the UI say "saved"."""

    event: Event
    saved_message: str | None
    copy: CopiedText | None = field(default=None)


class StoreLink:
    """The app's one store connection, used from worker threads one at a time."""

    def __init__(self, store: EventStore, incident_id: str) -> None:
        self.store = store
        self.incident_id = incident_id
        self.lock = threading.Lock()
        self.data_version = store.data_version()
        self.last_seq = 0
        self.wrote = False
        """Our own commit since the last read: `data_version` only counts other connections'."""

    def append(self, kind: str, payload: dict[str, Any], author: str) -> Event:
        with self.lock:
            event = self.store.append(self.incident_id, kind, payload, author)
            self.wrote = True
            return event

    def new_events(self, *, force: bool = False) -> list[Event]:
        """Events committed since the last call; cheap when nothing changed elsewhere."""
        with self.lock:
            version = self.store.data_version()
            # A forced read can be cancelled before it starts (the poll is exclusive), so our
            # own writes are remembered here rather than trusted to that read.
            if version == self.data_version and not force and not self.wrote:
                return []
            self.data_version = version
            self.wrote = False
            events = self.store.events(self.incident_id, after_seq=self.last_seq)
            if events:
                self.last_seq = events[-1].seq
            return events


DECISION_KEYS = Binding.Group("Contain/Resolve")
"""The two closing decisions share one footer entry (each still asks for confirmation)."""


class CockpitApp(App[int]):
    """The cockpit."""

    TITLE = "Cockpit"
    CSS_PATH = [
        data_dir("styles") / "cockpit.tcss",
        *sorted(p for p in data_dir("styles").glob("*.tcss") if p.name != "cockpit.tcss"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    ENABLE_COMMAND_PALETTE = True
    ALLOW_IN_MAXIMIZED_VIEW = "IncidentHeader, CopyNotice, Footer"
    """A maximized pane (`z`) keeps the incident line (and the DRILL banner) and the footer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *[
            Binding(
                spec.key,
                f"show_pane('{spec.pane_id}')",
                spec.title,
                id=f"pane-{spec.pane_id}",
                show=False,
                tooltip=f"Go to the {spec.title} pane",
            )
            for spec in PANES
        ],
        # alt+1..6 work even while typing in a search box, where plain digits are text.
        *[
            Binding(
                f"alt+{spec.key}",
                f"show_pane('{spec.pane_id}')",
                spec.title,
                id=f"pane-{spec.pane_id}-alt",
                show=False,
                priority=True,
                tooltip=f"Go to the {spec.title} pane, from anywhere",
            )
            for spec in PANES
        ],
        Binding("n", "add_note", "Note", id="add-note", tooltip="Add a note to the timeline"),
        Binding(
            "d",
            "declare",
            "Declare",
            id="declare",
            tooltip="Declare the incident with a severity (a recorded human decision)",
        ),
        Binding(
            "C",
            "mark_contained",
            "Contained",
            id="mark-contained",
            group=DECISION_KEYS,
            tooltip="Mark the incident contained (a recorded human decision)",
        ),
        Binding(
            "R",
            "mark_resolved",
            "Resolved",
            id="mark-resolved",
            group=DECISION_KEYS,
            tooltip="Mark the incident resolved (a recorded human decision)",
        ),
        Binding(
            "T",
            "rename",
            "Rename",
            id="rename",
            show=False,
            tooltip="Rename the incident (recorded on the timeline)",
        ),
        Binding(
            "H",
            "hand_off",
            "Hand off",
            id="hand-off",
            show=False,
            tooltip="Record a driver/navigator hand-off to a partner",
        ),
        Binding("f1", "pane_help", "Help", id="help", tooltip="Help for the focused pane"),
        # Esc first hides the COPIED banner (when it shows, and no dialog is open); otherwise
        # the action skips and Esc goes on to the focused widget.
        Binding(
            "escape",
            "dismiss_copy",
            "Hide copy",
            id="dismiss-copy",
            show=False,
            priority=True,
            tooltip="Hide the COPIED banner (the copy stays on the timeline and in ctrl+y)",
        ),
        Binding(
            "ctrl+y",
            "last_copy",
            "Last copy",
            id="last-copy",
            show=False,
            tooltip="Show the last copied text in full, with what was flagged",
        ),
        Binding(
            "z",
            "maximize_pane",
            "Maximize",
            id="maximize-pane",
            show=False,
            tooltip="Give the focused pane the whole screen (z or Esc again to restore)",
        ),
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit; everything saved is on disk"),
    ]

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock = utc_now,
        incident_id: str | None = None,
        new_incident_title: str | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.clock = clock
        self.author = config.author
        self._incident_id = incident_id
        self._new_incident_title = new_incident_title
        self.link: StoreLink | None = None
        self.state: IncidentState | None = None
        if config.keymap:
            self.set_keymap(config.keymap)

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield IncidentHeader(self.clock, id="incident-header")
        yield PresenceBar(clock=self.clock, id="presence-bar")
        yield Tabs(
            *[Tab(f"{spec.key} {spec.title}", id=f"tab-{spec.pane_id}") for spec in PANES],
            id="pane-tabs",
        )
        specs = {spec.pane_id: spec for spec in PANES}
        with Container(id="panes"):
            for pane_id in GRID_ORDER:
                if pane_id == "phases":
                    yield PhaseChecklist(self.config, self.clock, id=pane_id)
                else:
                    yield PaneSlot(specs[pane_id], self.config, self.clock)
        yield CopyNotice(id="copy-notice")
        # Compact: at 80 columns every key of a pane and the app-wide decisions fit on one line.
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#phases").add_class("-active")
        self.query_one(IncidentHeader).drill = self.config.cockpit.drill
        self.watch(self.screen, "maximized", self._maximized_changed, init=False)
        self._open_incident()
        self.call_after_refresh(self._load_slots)

    def _load_slots(self) -> None:
        """Fill every pane slot, once the first frame is on screen."""
        for slot in self.query(PaneSlot):
            slot.load()
        active = next((p for p in self.panes() if p.has_class("-active")), None)
        if active is not None and self.focused is None:
            self.call_after_refresh(self._focus_pane, active)
        self._check_keymap()

    def _check_keymap(self) -> None:
        """A `[keymap]` entry for a binding id that does not exist is a typo: say so."""
        unknown = sorted(set(self.config.keymap) - known_binding_ids())
        if unknown:
            where = self.config.source_path or "the config"
            self.notify(
                f"{where}: [keymap] has no binding id {', '.join(unknown)} "
                "(ids: F1 help lists the keys, the example config lists the ids)",
                severity="warning",
                timeout=15,
            )

    def _focus_pane(self, pane: Pane) -> None:
        focusable = [w for w in pane.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()

    def panes(self) -> Iterable[Pane]:
        """The top-level panes (or their slots), in screen order."""
        return self.query("#panes > Pane").results(Pane)

    def pane_content(self, pane_id: str) -> Pane:
        """The pane itself, inside its slot once loaded."""
        pane = self.query_one(f"#{pane_id}", Pane)
        return pane.inner if isinstance(pane, PaneSlot) and pane.inner else pane

    # -- pane switching ----------------------------------------------------------------------

    def action_show_pane(self, pane_id: str) -> None:
        self.query_one("#pane-tabs", Tabs).active = f"tab-{pane_id}"

    @on(Tabs.TabActivated, "#pane-tabs")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id is None:
            return
        pane_id = event.tab.id.removeprefix("tab-")
        for pane in self.panes():
            pane.set_class(pane.id == pane_id, "-active")
        pane = self.query_one(f"#{pane_id}", Pane)
        if isinstance(pane, PaneSlot):
            pane.load()  # a key pressed before the slots were filled
        self.query_one(PresenceBar).pane_changed(TITLES[pane_id])
        self._focus_pane(pane)

    def _pane_of(self, widget: Widget | None) -> Pane | None:
        """The top-level pane (or slot) that holds `widget`."""
        if widget is None:
            return None
        return next(
            (
                a
                for a in widget.ancestors_with_self
                if isinstance(a, Pane) and a.parent is not None and a.parent.id == "panes"
            ),
            None,
        )

    @on(events.DescendantFocus)
    def _focus_moved(self, event: events.DescendantFocus) -> None:
        # Keep the tab bar in step when focus moves into another pane (tab key, mouse).
        pane = self._pane_of(event.widget)
        if pane is None or not pane.id:
            return
        tabs = self.query_one("#pane-tabs", Tabs)
        if tabs.active != f"tab-{pane.id}":
            for other in self.panes():
                other.set_class(other is pane, "-active")
            with tabs.prevent(Tabs.TabActivated):
                tabs.active = f"tab-{pane.id}"
            self.query_one(PresenceBar).pane_changed(TITLES[pane.id])

    @on(PresenceBar.Seen)
    def _presence_seen(self, message: PresenceBar.Seen) -> None:
        # Alone, the bar would only say "you": it shows once a partner (or a driver) exists.
        self.query_one(PresenceBar).set_class(
            len(message.people) > 1 or message.driver is not None, "-pairing"
        )

    # -- store -------------------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="store-open",
        exit_on_error=False,
        description="Opening the incident store",
    )
    def _open_incident(self) -> None:
        store = EventStore(
            self.config.store_path, clock=self.clock, mode=self.config.store_file_mode
        )
        drill = self.config.cockpit.drill
        record = store.incident(self._incident_id) if self._incident_id else None
        if self._incident_id and record is None:
            raise StoreError(f"{store.path}: no incident with id {self._incident_id!r}")
        if record is None and self._new_incident_title is None:
            record = store.current_incident(drill=drill)
        if record is None:
            title = self._new_incident_title or UNTITLED
            record = store.create_incident(title, self.author, drill=drill)
        link = StoreLink(store, record.id)
        state = IncidentState.from_events(link.new_events(force=True))
        runbook: Runbook | None = None
        runbook_error = None
        try:
            runbook = load_runbook(self.config.runbook_path)
        except RunbookError as exc:
            runbook_error = str(exc)
        self.link = link
        self.post_message(IncidentLoaded(state, runbook, runbook_error))

    def on_incident_loaded(self, message: IncidentLoaded) -> None:
        self.state = message.state
        for pane in self.panes():
            if isinstance(pane, PhaseChecklist):
                pane.runbook = message.runbook
        if message.runbook_error:
            self.notify(message.runbook_error, severity="error", timeout=10)
        self._push_state()
        self.query_one(PresenceBar).join(
            self.config.store_path, message.state.incident_id, self.author
        )
        self.set_interval(POLL_SECONDS, self._poll_store)

    def _push_state(self) -> None:
        self.query_one(IncidentHeader).incident = self.state
        for pane in self.panes():
            pane.incident = self.state

    def _poll_store(self) -> None:
        self._read_new_events()

    @work(thread=True, exclusive=True, group="store-poll", exit_on_error=False)
    def _read_new_events(self, force: bool = False) -> None:
        if self.link is None:
            return
        events = self.link.new_events(force=force)
        if events:
            self.post_message(EventsArrived(events))

    def on_events_arrived(self, message: EventsArrived) -> None:
        if self.state is None:
            return
        self.state = self.state.apply(message.events)  # a new snapshot: panes compare and redraw
        for event in message.events:
            if event.kind == Kind.INJECT:  # a facilitator's prompt in a drill: hard to miss
                self.notify(
                    inject_toast(str(event.payload.get("summary", ""))),
                    title="DRILL inject",
                    severity="warning",
                    timeout=10,
                )
        self._push_state()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or event.worker.group not in (
            "store-open",
            "store-write",
            "store-poll",
        ):
            return
        error = event.worker.error
        text = str(error) if isinstance(error, StoreError) else f"store error: {error!r}"
        if event.worker.group == "store-write":
            text = f"NOT saved: {text}"
        self.notify(text, severity="error", timeout=15)

    # -- writing -----------------------------------------------------------------------------

    @work(thread=True, group="store-write", exit_on_error=False, description="Saving an event")
    def record(
        self,
        kind: str,
        payload: dict[str, Any],
        saved_message: str | None = "saved",
        copy: CopiedText | None = None,
    ) -> None:
        """Append an event in a worker; the UI says "saved" only once the commit returned."""
        if self.link is None:
            raise StoreError("the incident store is not open yet; nothing was saved")
        event = self.link.append(kind, payload, self.author)
        self.post_message(EventSaved(event, saved_message, copy))

    def on_event_saved(self, message: EventSaved) -> None:
        if message.copy is not None:
            self.query_one(CopyNotice).show_copy(message.copy, saved=True)
        elif message.saved_message:
            self.notify(message.saved_message, timeout=3)
        self._read_new_events(force=True)

    @on(RecordRequested)
    def _record_requested(self, message: RecordRequested) -> None:
        self.record(message.kind, message.payload, message.saved_message)

    @on(PinRequested)
    def _pin_requested(self, message: PinRequested) -> None:
        self.record(
            Kind.PIN_ADDED,
            {"source": message.source, "text": message.text, "detail": message.detail},
            "saved: pinned to the timeline",
        )

    # -- copy, never execute -----------------------------------------------------------------

    @on(CopyRequested)
    def _copy_requested(self, message: CopyRequested) -> None:
        self.copy_command(message.text, message.purpose, message.detail)

    def copy_command(self, text: str, purpose: str, detail: dict[str, Any] | None = None) -> None:
        """Copy through OSC 52, show it in full, record it. Nothing here executes anything."""
        # Comms drafts are prose: only hidden and look-alike characters matter there.
        is_prose = (detail or {}).get("kind") in PROSE_KINDS
        check = check_prose if is_prose else check_command
        findings = [finding.message for finding in check(text)]
        self.copy_to_clipboard(text)
        lint = (detail or {}).get("lint") if is_prose else None
        lint_found = tuple(str(item) for item in lint) if isinstance(lint, list) else ()
        copy = CopiedText(text, purpose, tuple(findings), prose=is_prose, lint=lint_found)
        self.query_one(CopyNotice).show_copy(copy, saved=False)
        if findings:
            self.notify(
                "copied, but flagged: " + "; ".join(findings), severity="warning", timeout=10
            )
        payload = {"text": text, "purpose": purpose, "findings": findings, "detail": detail or {}}
        self.record(Kind.COMMAND_COPIED, payload, "saved", copy)

    def copy_to_clipboard(self, text: str) -> None:
        """OSC 52, plus tmux/screen passthrough wrappers when running inside them."""
        sequences = osc52_sequences(text, os.environ)
        super().copy_to_clipboard(text)  # the plain OSC 52, and app.clipboard for tests
        driver = self._driver  # no public way to write a raw sequence to the terminal
        if driver is not None:
            for sequence in sequences[1:]:
                driver.write(sequence)

    # -- human decisions ---------------------------------------------------------------------

    def action_add_note(self) -> None:
        def save(text: str | None) -> None:
            if text:
                self.record(Kind.NOTE_ADDED, {"text": text}, "saved: note")

        self.push_screen(
            TextPromptScreen("Add a note to the timeline", "what you saw or did"), save
        )

    def action_declare(self) -> None:
        if self.state and self.state.declared:
            self.notify(f"already declared {self.state.severity} by {self.state.declared.by}")
            return

        title = self.state.title if self.state else ""

        def save(decision: DialogAnswer | None) -> None:
            if decision is not None:
                if decision.title and decision.title != title:
                    self._record_rename(title, decision.title)
                self.record(
                    Kind.DECLARED,
                    {"severity": decision.severity, "detail": decision.detail},
                    f"saved: incident declared {decision.severity}",
                )

        untitled = title in ("", UNTITLED)
        self.push_screen(DeclareScreen("" if untitled else title, untitled=untitled), save)

    def action_rename(self) -> None:
        title = self.state.title if self.state else ""

        def save(new_title: str | None) -> None:
            if new_title and new_title != title:
                self._record_rename(title, new_title)

        self.push_screen(
            TextPromptScreen(
                "Rename the incident (recorded on the timeline)",
                "e.g. Checkout 5xx after the 14:31 deploy",
                "" if title == UNTITLED else title,
            ),
            save,
        )

    def _record_rename(self, previous: str, title: str) -> None:
        self.record(
            Kind.RENAMED, {"title": title, "previous": previous}, f"saved: incident renamed {title}"
        )

    def action_mark_contained(self) -> None:
        self._confirm_decision(
            Kind.CONTAINED,
            "contained",
            "Mark the incident CONTAINED? Customers should no longer be hurt.",
            "how it was contained, e.g. rolled back checkout to 7f3a2c1",
        )

    def action_mark_resolved(self) -> None:
        self._confirm_decision(
            Kind.RESOLVED,
            "resolved",
            "Mark the incident RESOLVED? Prod is verified healthy.",
            "what verified it, e.g. 5xx back to 0.2% for 30 min",
        )

    def _confirm_decision(self, kind: str, word: str, question: str, placeholder: str) -> None:
        def save(decision: DialogAnswer | None) -> None:
            if decision is not None:
                self.record(kind, {"detail": decision.detail}, f"saved: incident {word}")

        self.push_screen(ConfirmScreen(question, placeholder), save)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Notifications often carry outside text (file names, errors): never parse markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # -- help and commands -------------------------------------------------------------------

    def action_hand_off(self) -> None:
        bar = self.query_one(PresenceBar)

        def save(payload: dict[str, Any] | None) -> None:
            if payload:
                self.record(HANDOFF_KIND, payload, f"saved: {payload['summary']}")

        others = [p.who for p in bar.others()]
        self.push_screen(HandoffScreen(self.author, others, bar.driver), save)

    # -- the COPIED banner, the last copy, maximize ------------------------------------------

    def action_dismiss_copy(self) -> None:
        notice = self.query_one(CopyNotice)
        if not notice.shown or len(self.screen_stack) > 1:
            raise SkipAction()  # Esc goes on: back, close, stop
        notice.dismiss()

    def action_last_copy(self) -> None:
        from cockpit.tui.copy_view import LastCopyScreen

        self.push_screen(LastCopyScreen(self.state))

    def action_maximize_pane(self) -> None:
        """Toggle: the focused pane gets the whole screen (header, banner and footer stay)."""
        screen = self.screen
        if screen is not self.screen_stack[0]:
            return
        if screen.maximized is not None:
            screen.minimize()
            return
        pane = self._pane_of(self.focused) or next(
            (p for p in self.panes() if p.has_class("-active")), None
        )
        if pane is not None:
            screen.maximized = pane

    def _maximized_changed(self, before: Widget | None, after: Widget | None) -> None:
        # Say on the border how to get the other panes back (Esc also restores them).
        if isinstance(before, Pane):
            before.border_subtitle = ""
        if isinstance(after, Pane):
            after.border_subtitle = "maximized · z or esc restores"

    def action_pane_help(self) -> None:
        pane = self._pane_of(self.focused)
        if pane is None:
            pane = next((p for p in self.panes() if p.has_class("-active")), None)
        pane_help = pane.help_text if isinstance(pane, PaneSlot) else (pane.HELP if pane else "")
        self.push_screen(HelpScreen((pane_help or "") + "\n\n" + APP_HELP))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for spec in PANES:
            yield SystemCommand(
                f"Go to {spec.title}",
                f"Show the {spec.title} pane ({spec.key})",
                lambda pane_id=spec.pane_id: self.action_show_pane(pane_id),
            )
        yield SystemCommand("Add note", "Add a note to the timeline (n)", self.action_add_note)
        yield SystemCommand("Declare incident", "Declare with a severity (d)", self.action_declare)
        yield SystemCommand("Rename incident", "Give the incident a name (T)", self.action_rename)
        yield SystemCommand(
            "Mark contained",
            "Record that the incident is contained (C)",
            self.action_mark_contained,
        )
        yield SystemCommand(
            "Mark resolved", "Record that the incident is resolved (R)", self.action_mark_resolved
        )
        yield SystemCommand(
            "Hand off driving", "Record a driver/navigator hand-off (H)", self.action_hand_off
        )
        yield SystemCommand("Pane help", "Help for the focused pane (F1)", self.action_pane_help)


def known_binding_ids() -> set[str]:
    """The ids of every binding of the cockpit's widgets and screens imported so far."""
    ids: set[str] = set()
    pending: list[type[DOMNode]] = [DOMNode]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("cockpit.tui"):
            ids.update(b.id for b in cls.BINDINGS if isinstance(b, Binding) and b.id)
    return ids


def run_tui(
    config_path: Path | None,
    *,
    config: Config | None = None,
    incident_id: str | None = None,
    new_incident_title: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> int:
    """Open the cockpit. Config and store problems are one line on stderr and exit code 2."""
    import sys

    try:
        if config is None:
            config = load_config_file(config_path) if config_path else Config()
        EventStore(
            config.store_path, mode=config.store_file_mode
        ).close()  # fail fast, before the screen switches
    except (ConfigError, StoreError) as exc:
        print(f"cockpit: {exc}", file=sys.stderr)
        return 2
    app = CockpitApp(
        config, clock=clock, incident_id=incident_id, new_incident_title=new_incident_title
    )
    app.run()
    return app.return_code or 0
