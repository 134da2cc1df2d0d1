"""The cockpit app: one screen, every pane, the store link, and the copy-never-execute service.

At 80 columns the panes collapse behind a tab bar (keys 1-6); from 120 columns they share the
screen. Panes get the incident state pushed down and post requests up; only the app writes.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.actions import SkipAction
from textual.actions import parse as parse_action
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Container, HorizontalGroup
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Tab, Tabs
from textual.worker import Worker, WorkerState, get_current_worker

from cockpit.core.clipboard import check_command, check_prose, osc52_sequences
from cockpit.core.config_file import CheckedConfig, ConfigError, StartSettings
from cockpit.core.incident import UNTITLED, IncidentState, Kind
from cockpit.core.lifecycle import ServiceErrors
from cockpit.core.runbook import Runbook, RunbookError, load_runbook
from cockpit.core.sanitize import visible
from cockpit.core.store import Clock, Event, EventStore, IncidentStore, Sharing, StoreError, utc_now
from cockpit.core.stores import open_store
from cockpit.resources import data_dir
from cockpit.tui.decisions import IncidentDecisions
from cockpit.tui.keys import key_for
from cockpit.tui.messages import (
    PROSE_KINDS,
    CopyRequested,
    ErrorsRead,
    PinRequested,
    RecordRequested,
)
from cockpit.tui.panes.alerts import AlertsPanel
from cockpit.tui.panes.base import Pane
from cockpit.tui.panes.checklist import PhaseChecklist
from cockpit.tui.panes.slot import PaneSlot, PaneSpec
from cockpit.tui.presence import PresenceBar
from cockpit.tui.screens import ChoiceScreen
from cockpit.tui.widgets import CopiedText, CopyNotice, IncidentHeader, inject_toast

if TYPE_CHECKING:
    from cockpit.core.config import Config
    from cockpit.core.discovery.model import Discovery

GRID_ORDER = ("phases", "logs", "hypotheses", "timeline", "deploys", "comms")
"""DOM order of the panes: the wide layout's grid fills row by row (3 columns, 2 rows)."""

POLL_SECONDS = 0.25
"""How often the store is checked for events written by another process (pairing)."""

WATCH_SECONDS = 0.5
"""PostgreSQL: the longest the LISTEN loop waits before checking the outbox and the server."""

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
SPECS = {spec.pane_id: spec for spec in PANES}

APP_PROSE = """\
A terminal incident cockpit. It reads in parallel, records everything, drafts the words,
and **never executes a command**: suggested commands are copied to your clipboard (OSC 52)
and recorded on the timeline. You run them.
"""


@dataclass
class IncidentLoaded(Message):
    """The store is open and the incident's events are read."""

    state: IncidentState
    runbook: Runbook | None
    runbook_error: str | None = None
    resumed: bool = False
    """Opened as the current incident (not by id, not new): a resolved one asks first."""


@dataclass
class EventsArrived(Message):
    """New committed events, from this process or another one."""

    events: Sequence[Event]
    replace: bool = False
    """`events` is the whole log (shared, then pending): rebuild the state from it. Sent while
    writes wait in the outbox, whose provisional seqs move when partners' events arrive."""


@dataclass
class SharingChanged(Message):
    """PostgreSQL: the server went away or came back, or the outbox grew or drained."""

    sharing: Sharing


@dataclass
class PresenceChanged(Message):
    """PostgreSQL: someone joined, left or changed pane (a NOTIFY): refresh the bar now."""


@dataclass
class EventSaved(Message):
    """An event this process wrote is committed: only now may the UI say "saved"."""

    event: Event
    saved_message: str | None
    copy: CopiedText | None = field(default=None)


@dataclass
class IncidentOpenedElsewhere(Message):
    """A new incident was created (from an alert): the app switches to it."""

    incident_id: str


@dataclass
class ConfigValidated(Message):
    """The typed config is built (started from a config text checked before)."""


@dataclass
class SourcesDiscovered(Message):
    """Discovery finished (no config file was found): the config the panes use now."""

    discovery: Discovery


@dataclass(frozen=True)
class Batch:
    """What a read of the store brought: new events, or (`replace`) the whole log."""

    events: list[Event]
    replace: bool = False


class StoreLink:
    """The app's one store connection, used from worker threads one at a time.

    SQLite: `PRAGMA data_version` says cheaply whether another process committed. PostgreSQL:
    the app's LISTEN loop says when to read; events come by seq, and while writes wait in
    the local outbox every read returns the whole log (shared + pending) to rebuild from.
    """

    def __init__(self, store: IncidentStore, incident_id: str) -> None:
        self.store = store
        self.incident_id = incident_id
        self.lock = threading.Lock()
        self.shared = store.sharing().shared
        self.data_version = store.data_version() if isinstance(store, EventStore) else 0
        self.last_seq = 0
        self.wrote = False
        """Our own commit since the last read: `data_version` only counts other connections'."""
        self.confirmed: list[Event] = []
        """PostgreSQL: every shared event read so far (the base a pending rebuild starts from)."""
        self.had_pending = False

    def append(self, kind: str, payload: dict[str, Any], author: str) -> Event:
        with self.lock:
            event = self.store.append(self.incident_id, kind, payload, author)
            self.wrote = True
            return event

    def new_events(self, *, force: bool = False) -> list[Event]:
        """Events committed since the last call; cheap when nothing changed elsewhere."""
        return self.read(force=force).events

    def read(self, *, force: bool = False) -> Batch:
        """What is new since the last read (see the class docstring)."""
        if self.shared:
            return self._read_shared()
        with self.lock:
            assert isinstance(self.store, EventStore)
            version = self.store.data_version()
            # A forced read can be cancelled before it starts (the poll is exclusive), so our
            # own writes are remembered here rather than trusted to that read.
            if version == self.data_version and not force and not self.wrote:
                return Batch([])
            self.data_version = version
            self.wrote = False
            events = self.store.events(self.incident_id, after_seq=self.last_seq)
            if events:
                self.last_seq = events[-1].seq
            return Batch(events)

    def _read_shared(self) -> Batch:
        with self.lock:
            self.wrote = False
            events = self.store.events(self.incident_id, after_seq=self.last_seq)
            known = {e.id for e in self.confirmed}
            shared = [e for e in events if not e.pending and e.id not in known]
            pending = [e for e in events if e.pending and e.id not in known]
            self.confirmed += shared
            if shared:
                self.last_seq = shared[-1].seq
            if pending or self.had_pending:
                self.had_pending = bool(pending)
                base = self.last_seq
                renumbered = [e.replace(seq=base + n) for n, e in enumerate(pending, start=1)]
                return Batch(self.confirmed + renumbered, replace=True)
            return Batch(shared)

    def sharing(self) -> Sharing:
        with self.lock:
            return self.store.sharing()

    def sync(self) -> int:
        """PostgreSQL: push the outbox if the server answers; 0 when it does not."""
        from cockpit.core.pg.store import PostgresStore

        if not isinstance(self.store, PostgresStore):
            return 0
        with self.lock:
            if self.store.outbox.count() == 0 and self.store.sharing().online:
                return 0
            if not self.store.sharing().online:
                self.store.try_reconnect()
            return self.store.sync_quietly()

    def outbox_version(self) -> int:
        """PostgreSQL: changes when another process of this user wrote to the outbox."""
        from cockpit.core.pg.store import PostgresStore

        if not isinstance(self.store, PostgresStore):
            return 0
        return self.store.outbox.data_version()


class CockpitFooter(Footer):
    """The footer, with help pinned at the right beside the palette: at 80 columns the
    pane's keys may be cut, but `? Help` always shows."""

    _shown: tuple[Any, ...] | None = None

    def __init__(self) -> None:
        super().__init__()
        # The keys known at compose (the app's) are in the first frame; Footer would wait
        # for the screen's first bindings update, a frame or more later.
        self.set_reactive(Footer._bindings_ready, True)

    async def recompose(self) -> None:
        # Each pane refreshes its bindings when a partner's event lands, and Footer rebuilds
        # every key each time: rebuild only when what it shows changed (a partner's event
        # cost the UI thread four footer rebuilds, a third of its work at 80x24).
        if not self.is_attached:
            return
        shown = self._bindings_shown()
        if shown == self._shown:
            return
        self._shown = shown
        await super().recompose()

    def _bindings_shown(self) -> tuple[Any, ...]:
        keys = tuple(
            (b.key, b.action, b.description, b.show, b.group, enabled, tooltip,
             self.app.get_key_display(b))
            for _node, b, enabled, tooltip in self.screen.active_bindings.values()
        )  # fmt: skip
        return (self._bindings_ready, self.show_command_palette, self.compact, keys)

    def compose(self) -> ComposeResult:
        pinned = []
        for widget in super().compose():
            if getattr(widget, "action", None) in ("pane_help", "command_palette"):
                widget.add_class("-pinned")
                pinned.append(widget)
            else:
                yield widget
        with HorizontalGroup(id="footer-pinned"):
            yield from sorted(pinned, key=lambda w: getattr(w, "action", "") != "pane_help")


class CockpitApp(IncidentDecisions):
    """The cockpit."""

    TITLE = "Cockpit"
    CSS_PATH = [data_dir("styles") / "cockpit.tcss"]
    PANE_CSS_PATH: ClassVar[list[Path]] = sorted(
        p for p in data_dir("styles").glob("*.tcss") if p.name != "cockpit.tcss"
    )
    """The lazily mounted panes' sheets: parsed when the slots are filled, after the first
    frame (parsing them first cost the first frame about 40 ms)."""
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    ENABLE_COMMAND_PALETTE = True
    ALLOW_IN_MAXIMIZED_VIEW = "IncidentHeader, CopyNotice, Footer"
    """A maximized pane (`z`) keeps the incident line (and the DRILL banner) and the footer."""
    VIEWS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("last copy", "cockpit.tui.copy_view:LastCopyScreen"),
    )
    """Full-screen views opened from anywhere (see `Pane.VIEWS`), for the key map."""

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
        Binding(
            "question_mark,f1",
            "pane_help",
            "Help",
            id="help",
            tooltip="Help for the focused pane: what it is for and its keys",
        ),
        Binding(
            "q",
            "quit",
            "Quit",
            id="quit",
            show=False,
            tooltip="Quit; everything saved is on disk (asks first during a drill)",
        ),
        Binding(
            "ctrl+p",
            "command_palette",
            "Palette",
            id="command-palette",
            show=False,
            priority=True,
            tooltip="Every action by name, with its key",
        ),
        Binding(
            "I",
            "show_sources",
            "Sources",
            id="sources",
            show=False,
            tooltip="Every source, configured or discovered, and why one was skipped",
        ),
        # Esc first hides the COPIED banner (when it shows, and no dialog is open); otherwise
        # the action skips and Esc goes on to the focused widget.
        Binding(
            "escape",
            "dismiss_copy",
            "Hide copy",
            id="dismiss-copy",
            show=False,
            priority=True,
            tooltip="Hide the COPIED banner (the copy stays on the timeline and in Last copy)",
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
            tooltip="Give the focused pane the whole screen (again, or Esc, to restore)",
        ),
    ]

    def __init__(
        self,
        config: Config | CheckedConfig,
        *,
        clock: Clock = utc_now,
        incident_id: str | None = None,
        new_incident_title: str | None = None,
        discover: bool = False,
        opened: tuple[StoreLink, IncidentLoaded] | None = None,
    ) -> None:
        super().__init__()
        self._opened = opened
        """The incident, already read from the store (see `run_tui`)."""
        self._config_lock = threading.Lock()
        self._checked: CheckedConfig | None = None
        self._config: Config | None = None
        if isinstance(config, CheckedConfig):
            # Checked before: the first frame needs only what the TOML says (no pydantic);
            # the typed model is built right after it (`_validate_config`).
            self._checked = config
            self.settings = config.start_settings
        else:
            self._config = config
            self.settings = config.start_settings
        self.discovering = discover
        """No config file was found: the panes wait for discovery (a worker) to fill it."""
        self.discovery: Discovery | None = None
        self.clock = clock
        self.author = self.settings.author
        self._incident_id = incident_id
        self._new_incident_title = new_incident_title
        self.link: StoreLink | None = None
        self.state: IncidentState | None = None
        self.runbook: Runbook | None = None
        self.service_errors: dict[str, ServiceErrors] | None = None
        """Each service's error ratio now, from Deploys; None until Deploys has read it."""
        self._poll_timer: Timer | None = None
        self.sharing_shown: Sharing | None = None
        """PostgreSQL: the sharing state the header shows (set on the UI thread only)."""
        if self.settings.keymap:
            self.set_keymap(dict(self.settings.keymap))

    @property
    def config(self) -> Config:
        """The validated, typed config. Started from a `CheckedConfig`, it is built after the
        first frame by a worker; whatever needs it sooner builds it here (same lock)."""
        with self._config_lock:
            if self._config is None:
                from cockpit.core.config import validate_checked  # pydantic: not before

                assert self._checked is not None
                self._config = validate_checked(self._checked)
            return self._config

    @config.setter
    def config(self, config: Config) -> None:
        with self._config_lock:
            self._config = config

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The breakpoint class Textual sets on the first resize, set before anything is
        # styled: the first frame has the right layout, and nothing is styled twice.
        current = _breakpoint_class(self.HORIZONTAL_BREAKPOINTS, self.size.width)
        for _width, name in self.HORIZONTAL_BREAKPOINTS:
            self.screen.set_class(name == current, name)
        yield IncidentHeader(self.clock, id="incident-header")
        yield PresenceBar(clock=self.clock, id="presence-bar")
        yield Tabs(
            *[Tab(f"{spec.key} {spec.title}", id=f"tab-{spec.pane_id}") for spec in PANES],
            id="pane-tabs",
        )
        # Narrow, only Phases shows: the other slots are mounted right after the first frame.
        self._slots_mounted = current != "-narrow"
        with Container(id="panes"):
            for pane_id in GRID_ORDER:
                # Before the typed config exists, a pane reads the app's when it needs it.
                if pane_id == "phases":
                    phases = PhaseChecklist(self._config, self.clock, id=pane_id)
                    phases.add_class("-active")  # before it is styled: once, not twice
                    yield phases
                elif self._slots_mounted:
                    yield PaneSlot(SPECS[pane_id], self._config, self.clock)
        yield CopyNotice(id="copy-notice")
        yield CockpitFooter()

    def on_mount(self) -> None:
        if not gc.isenabled():
            # Off for start-up (run_tui): start-up makes few cycles, and the first frame waits
            # for no collection.
            self.call_after_refresh(gc.enable)
        self.watch(self.screen, "maximized", self._maximized_changed, init=False)
        self._start()

    def _start(self) -> None:
        """Open the incident into freshly composed panes (at start, and for a new incident)."""
        self.query_one(IncidentHeader).drill = self.settings.drill
        if not self._slots_mounted:
            self.call_after_refresh(self._mount_slots)
        if self._opened is not None:
            # Read by run_tui before the app started (a local store, a few ms): the first
            # frame shows the incident.
            link, loaded = self._opened
            self._opened = None
            self._incident_opened(link)
            self.on_incident_loaded(loaded)
        else:
            self._open_incident()
        if self._config is None:
            # Once the first frame is painted, so pydantic never delays it.
            self.call_after_refresh(self._validate_config)
        else:
            self._config_ready()

    def _config_ready(self) -> None:
        if self.discovering:
            # Started once the first frame is painted, so it never competes with it.
            self.call_after_refresh(self._discover_sources)
        else:
            self.query_one(PhaseChecklist).alertmanagers = tuple(self.config.alertmanagers)
        self.call_after_refresh(self._load_slots)

    @work(thread=True, exclusive=True, group="config", exit_on_error=False)
    def _validate_config(self) -> None:
        self.config  # noqa: B018 - builds it (pydantic) off the UI thread
        self.post_message(ConfigValidated())

    def on_config_validated(self, _message: ConfigValidated) -> None:
        self._config_ready()

    # -- discovery (no config file) ----------------------------------------------------------

    @work(thread=True, exclusive=True, group="discovery", exit_on_error=False)
    def _discover_sources(self) -> None:
        from cockpit.core.discovery import discover

        self.post_message(SourcesDiscovered(discover()))

    def on_sources_discovered(self, message: SourcesDiscovered) -> None:
        found = message.discovery
        self.discovery = found
        # Discovery fills only what a config would: the store, author and runbook stay.
        self.config = self.config.model_copy(
            update={
                "sources": found.config.sources,
                "services": found.config.services,
                "prometheus": found.config.prometheus,
                "alertmanagers": found.config.alertmanagers,
            }
        )
        self.discovering = False
        for pane in self.query(PaneSlot):
            pane.config = self.config
        phases = self.query_one(PhaseChecklist)
        phases.config = self.config
        phases.alertmanagers = tuple(self.config.alertmanagers)
        sources_key = key_for(
            self.BINDINGS, "sources", dict(self.settings.keymap), self.get_key_display
        )
        if not self.config.alertmanagers:
            reason = next(
                (r.detail for r in found.reports if r.kind == "alertmanager"), "none found"
            )
            phases.alerts_note = f"no Alertmanager: {reason} ({sources_key}: sources)"
        self.notify(found.summary(f"{sources_key} shows why"), title="No config file", timeout=6)
        self._load_slots()

    # -- an incident from an alert (the human chooses) ---------------------------------------

    @on(AlertsPanel.OpenRequested)
    def _open_from_alert(self, message: AlertsPanel.OpenRequested) -> None:
        from cockpit.core.alerts.incident import attached_payload, incident_alerts, opened_payload
        from cockpit.tui.panes.alerts import OpenFromAlertScreen

        alert, state = message.alert, self.state
        if state is None:
            self.notify("the incident store is not open yet", severity="warning")
            return
        mine = incident_alerts(state.events)
        if mine.get(alert.fingerprint) is not None:
            self.notify("this alert is already on the incident")
            return
        fresh = state.title in ("", UNTITLED) and state.declared is None and not mine

        def chosen(choice: str | None) -> None:
            if choice == "adopt":
                self._record_in_order(
                    [
                        (Kind.RENAMED, {"title": alert.title(), "previous": state.title}),
                        (Kind.ALERT_ATTACHED, opened_payload(alert, self.author)),
                    ],
                    f"saved: incident opened from alert {alert.alertname}",
                )
            elif choice == "new":
                self._new_incident_from_alert(alert.title(), opened_payload(alert, self.author))
            elif choice == "attach":
                payload = attached_payload(alert, f"by {self.author}")
                self.record(Kind.ALERT_ATTACHED, payload, "saved: alert attached")

        self.push_screen(
            OpenFromAlertScreen(alert, current_title=state.title, fresh=fresh, now=self.clock()),
            chosen,
        )

    @work(thread=True, group="store-write", exit_on_error=False, description="Saving events")
    def _record_in_order(
        self, events: list[tuple[str, dict[str, Any]]], saved_message: str
    ) -> None:
        """Several events that belong together, appended in this order by one worker."""
        if self.link is None:
            raise StoreError("the incident store is not open yet; nothing was saved")
        last = None
        for kind, payload in events:
            last = self.link.append(kind, payload, self.author)
        if last is not None:
            self.post_message(EventSaved(last, saved_message))

    @work(thread=True, group="store-write", exit_on_error=False, description="Opening incident")
    def _new_incident_from_alert(self, title: str, payload: dict[str, Any]) -> None:
        if self.link is None:
            raise StoreError("the incident store is not open yet; nothing was saved")
        with self.link.lock:
            store = self.link.store
            record = store.create_incident(title, self.author, drill=self.settings.drill)
            store.append(record.id, Kind.ALERT_ATTACHED, payload, self.author)
        self.post_message(IncidentOpenedElsewhere(record.id))

    def on_incident_opened_elsewhere(self, message: IncidentOpenedElsewhere) -> None:
        self._incident_id = message.incident_id
        self._new_incident_title = None
        self.notify(f"saved: new incident {message.incident_id}; switching to it", timeout=5)
        self._open_incident()

    def action_show_sources(self) -> None:
        from cockpit.tui.sources import SourcesScreen

        self.push_screen(SourcesScreen(self.config, self.discovery, discovering=self.discovering))

    def _load_slots(self) -> None:
        """Fill every pane slot, once the first frame is on screen (and, with no config file,
        once discovery said what the panes read)."""
        if self.discovering or self._config is None:
            return
        self._mount_slots()  # narrow: those left out of the first frame (they load once mounted)
        self._load_pane_styles()
        for slot in self.query(PaneSlot):
            slot.load()
        active = next((p for p in self.panes() if p.has_class("-active")), None)
        if active is not None and self.focused is None:
            self.call_after_refresh(self._focus_pane, active)
        self._check_keymap()

    def _load_pane_styles(self) -> None:
        """Add the panes' sheets (`PANE_CSS_PATH`) once, before the first pane is mounted.
        After `CSS_PATH`'s, as when they were all read at start, so the same rules win."""
        sheets = [
            p for p in self.PANE_CSS_PATH if not self.stylesheet.has_source(os.path.abspath(p))
        ]
        if not sheets:
            return
        for sheet in sheets:
            self.stylesheet.read(sheet)
        self.stylesheet.parse()
        for screen in self.screen_stack:
            self.stylesheet.update(screen)

    def _check_keymap(self) -> None:
        """A `[keymap]` entry for a binding id that does not exist is a typo: say so."""
        unknown = sorted(set(self.settings.keymap) - known_binding_ids())
        if unknown:
            where = self.settings.source_path or "the config"
            self.notify(
                f"{where}: [keymap] has no binding id {', '.join(unknown)} "
                "(`cockpit keys` lists every id)",
                severity="warning",
                timeout=15,
            )

    def _focus_pane(self, pane: Pane) -> None:
        focusable = [w for w in pane.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()

    def _mount_slots(self) -> None:
        """Mount the slots left out of the first frame (narrow: hidden), in grid order."""
        if self._slots_mounted:
            return
        self._slots_mounted = True
        slots = [PaneSlot(SPECS[pane_id], self._config, self.clock) for pane_id in GRID_ORDER[1:]]
        # The incident as the other panes have it (a reactive set before mount reaches the
        # slot's watcher once it is mounted: PaneSlot.load hands it on).
        for slot in slots:
            slot.incident = self.state
        self.query_one("#panes").mount(*slots)

    def panes(self) -> Iterable[Pane]:
        """The top-level panes (or their slots) mounted so far, in screen order."""
        return self.query("#panes > Pane").results(Pane)

    def pane_content(self, pane_id: str) -> Pane:
        """The pane itself, inside its slot once loaded."""
        self._mount_slots()
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
        self._mount_slots()
        for pane in self.panes():
            pane.set_class(pane.id == pane_id, "-active")
        pane = self.query_one(f"#{pane_id}", Pane)
        if isinstance(pane, PaneSlot) and not self.discovering and self._config is not None:
            self._load_pane_styles()
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
        # A beat can land after the bar is gone (quitting, a new incident): query, not query_one.
        for bar in self.query(PresenceBar):
            bar.set_class(len(message.people) > 1 or message.driver is not None, "-pairing")

    # -- store -------------------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="store-open",
        exit_on_error=False,
        description="Opening the incident store",
    )
    def _open_incident(self) -> None:
        link, loaded = open_incident(
            self.settings,
            clock=self.clock,
            incident_id=self._incident_id,
            new_incident_title=self._new_incident_title,
            author=self.author,
        )
        self._incident_opened(link)
        self.post_message(loaded)

    def _incident_opened(self, link: StoreLink) -> None:
        self.link = link
        self._incident_id = link.incident_id  # from now on, this incident, whatever else opens

    def on_incident_loaded(self, message: IncidentLoaded) -> None:
        self.state = message.state
        self.runbook = message.runbook
        for pane in self.panes():
            if isinstance(pane, PhaseChecklist):
                pane.runbook = message.runbook
                pane.runbook_error = message.runbook_error or ""
        if message.runbook_error:
            self.notify(message.runbook_error, severity="error", timeout=10)
        self._push_state()
        target = self.settings.store_target
        # Announced once the first frame is painted: its thread would compete with it.
        bar = self.query_one(PresenceBar)
        self.call_after_refresh(bar.join, target, message.state.incident_id, self.author)
        if self.link is not None and self.link.shared:
            self.sharing_shown = self.link.sharing()
            self.query_one(IncidentHeader).sharing = self.sharing_shown
            self._watch_store(target)  # exclusive: a switch to another incident replaces it
        elif self._poll_timer is None:
            self._poll_timer = self.set_interval(POLL_SECONDS, self._poll_store)
        if message.resumed and message.state.resolved is not None:
            self._ask_about_resolved(message.state)

    def _ask_about_resolved(self, state: IncidentState) -> None:
        """`cockpit` on a resolved incident never reopens it silently: review it, or start a
        new one."""
        resolved = state.resolved
        assert resolved is not None
        question = Text("The current incident is ", style="")
        question.append("RESOLVED", style="bold")
        question.append(f": {visible(state.title, 80)}\n")
        question.append(
            f"resolved at {resolved.at:%Y-%m-%d %H:%M} UTC by {visible(resolved.by, 40)}. "
            "Review it (postmortem, action items), or open a new incident?"
        )

        def answered(choice: str | None) -> None:
            if choice == "new":
                self.action_new_incident()

        self.push_screen(
            ChoiceScreen(question, [("review", "Review it"), ("new", "New incident")]), answered
        )

    def _push_state(self) -> None:
        headers = self.query(IncidentHeader)
        if not headers:
            return  # events read back while the app quits: the screen is already gone
        headers.first().incident = self.state
        for pane in self.panes():
            pane.incident = self.state
        self.refresh_bindings()  # what applies (declare, severity, resolve...) follows the state

    def start_new_incident(self, title: str) -> None:
        """Open a new incident and switch every pane to it; the old one is left as it is."""
        self._incident_id = None
        self._new_incident_title = title or UNTITLED
        self.call_later(self._switch_incident)

    async def _switch_incident(self) -> None:
        old, self.link = self.link, None
        self.state = None
        self.service_errors = None
        self.screen_stack[0].minimize()  # a maximized pane of the old incident goes too
        await self.recompose()  # fresh panes: nothing of the old incident lingers in them
        if old is not None:
            with old.lock:
                old.store.close()
        self._start()

    def _poll_store(self) -> None:
        self._read_new_events()

    @work(thread=True, exclusive=True, group="store-poll", exit_on_error=False)
    def _read_new_events(self, force: bool = False) -> None:
        link = self.link
        if link is None:
            return
        batch = link.read(force=force)
        if batch.events or batch.replace:
            self.post_message(EventsArrived(batch.events, batch.replace))
        if link.shared:
            self.post_message(SharingChanged(link.sharing()))

    @work(thread=True, exclusive=True, group="store-watch", exit_on_error=False)
    def _watch_store(self, target: Any) -> None:
        """PostgreSQL: LISTEN for partners' commits and read them by seq; push the outbox
        as soon as the server answers again; keep the header's sharing state current."""
        from cockpit.core.pg.watch import ChangeWatcher

        link = self.link
        if link is None:
            return
        worker = get_current_worker()
        watcher = ChangeWatcher(target)
        outbox_version = link.outbox_version()
        try:
            while not worker.is_cancelled:
                wake = watcher.wait(WATCH_SECONDS)
                try:
                    outbox_version = self._watch_step(link, wake, outbox_version)
                except StoreError as exc:
                    # The local outbox or the server refused something: say it, keep watching.
                    self.post_message(SharingChanged(Sharing(True, online=False, error=str(exc))))
        finally:
            watcher.close()

    def _watch_step(self, link: StoreLink, wake: Any, outbox_version: int) -> int:
        """One turn of the LISTEN loop (in the watch thread); returns the new bookkeeping."""
        if link.incident_id in wake.events:
            # A partner's commit: read it first, bookkeeping after (latency).
            batch = link.read(force=True)
            if batch.events or batch.replace:
                self.post_message(EventsArrived(batch.events, batch.replace))
        read = wake.reconnected
        version = link.outbox_version()
        if version != outbox_version:  # `cockpit note` by this user, offline
            outbox_version, read = version, True
        sharing = link.sharing()
        if sharing.pending or not sharing.online:
            if link.sync():
                read = True
            sharing = link.sharing()
        if read:
            batch = link.read(force=True)
            if batch.events or batch.replace:
                self.post_message(EventsArrived(batch.events, batch.replace))
            sharing = link.sharing()
        if link.incident_id in wake.presence or wake.reconnected:
            self.post_message(PresenceChanged())
        # Compared with what the header shows, not with what this loop last sent: writes and
        # polls post their own state, and a stale OFFLINE from them must not stick.
        if _sharing_key(sharing) != _sharing_key(self.sharing_shown):
            self.post_message(SharingChanged(sharing))
        return outbox_version

    def on_sharing_changed(self, message: SharingChanged) -> None:
        self.sharing_shown = message.sharing
        for header in self.query(IncidentHeader):  # none while the app shuts down
            header.sharing = message.sharing

    def on_presence_changed(self, message: PresenceChanged) -> None:
        for bar in self.query(PresenceBar):
            bar.look()

    def on_events_arrived(self, message: EventsArrived) -> None:
        if self.state is None or self.link is None:
            return
        # Read just before a switch to a new incident: not this incident's events.
        events = [e for e in message.events if e.incident_id == self.link.incident_id]
        known = {event.id for event in self.state.events}
        if message.replace:
            self.state = IncidentState.from_events(events)
        else:
            self.state = self.state.apply(events)  # a new snapshot: panes redraw
        for event in events:
            if event.kind == Kind.INJECT and event.id not in known:
                # A facilitator's prompt in a drill: hard to miss.
                self.notify(
                    inject_toast(str(event.payload.get("summary", ""))),
                    title="DRILL inject",
                    severity="warning",
                    timeout=10,
                )
        self._push_state()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "config":
            # The text passed this validation before (its verdict is keyed on the code too):
            # a failure now is a bug, said as one line rather than used unchecked.
            error = event.worker.error
            text = str(error) if isinstance(error, ConfigError) else f"config error: {error!r}"
            self.exit(return_code=2, message=f"cockpit: {text}")
            return
        if event.state == WorkerState.ERROR and event.worker.group == "discovery":
            # Discovery is best effort: say so and open with what a config-less run has.
            self.notify(f"discovery failed: {event.worker.error!r}", severity="error", timeout=15)
            self.discovering = False
            self._load_slots()
            return
        if event.state != WorkerState.ERROR or event.worker.group not in (
            "store-open",
            "store-write",
            "store-poll",
            "store-watch",
        ):
            return
        error = event.worker.error
        text = str(error) if isinstance(error, StoreError) else f"store error: {error!r}"
        if event.worker.group == "store-write":
            text = f"NOT saved: {text}"
        if event.worker.group == "store-watch":
            text = f"live updates stopped: {text}"
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
        if message.event.pending:
            # The server is unreachable: durable here, but the partners do not have it yet.
            said = (message.saved_message or "saved").removeprefix("saved").lstrip(": ")
            text = "saved locally; not yet shared" + (f": {said}" if said else "")
            self.notify(text, severity="warning", timeout=5)
        elif message.copy is None and message.saved_message:
            self.notify(message.saved_message, timeout=3)
        self._read_new_events(force=True)

    @work(thread=True, group="store-write", exit_on_error=False, description="Saving events")
    def record_batch(self, items: list[tuple[str, dict[str, Any]]], saved_message: str) -> None:
        """Append several events in this order (one worker: threads would race)."""
        if self.link is None:
            raise StoreError("the incident store is not open yet; nothing was saved")
        event = None
        for kind, payload in items:
            event = self.link.append(kind, payload, self.author)
        if event is not None:
            self.post_message(EventSaved(event, saved_message))

    @on(ErrorsRead)
    def _errors_read(self, message: ErrorsRead) -> None:
        self.service_errors = {
            service: ServiceErrors(service, ratio) for service, ratio in message.errors.items()
        }

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

    def present_others(self) -> tuple[list[str], str | None]:
        bar = self.query_one(PresenceBar)
        return [p.who for p in bar.others()], bar.driver

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
        inner = self.pane_content(pane.id) if pane is not None and pane.id else None
        prose = inner.HELP if inner is not None and inner.HELP else f"# Cockpit\n\n{APP_PROSE}"
        from cockpit.tui.help import HelpScreen, help_markdown  # on `?`: not before the first frame

        markdown = help_markdown(self, inner, dict(self.settings.keymap), prose)
        self.push_screen(HelpScreen(markdown))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every action by name, from the bindings: the app's, then each pane's. The help
        line shows the key the action has now (keymap applied); what does not apply now
        (`check_action`) is left out, as the footer dims it."""
        from cockpit.tui.help import class_rows  # the palette opens after the first frame

        yield from super().get_system_commands(screen)
        keymap = dict(self.settings.keymap)
        for row in class_rows(type(self), keymap, self):
            name, params = _parsed(row.action)
            if name in ("show_pane", "command_palette") or not self.check_action(name, params):
                continue
            yield SystemCommand(
                row.description,
                f"{row.key_text} · {row.tooltip}",
                partial(self.run_action, row.action),
            )
        for spec in PANES:
            keys = next(
                r
                for r in class_rows(type(self), keymap, self)
                if r.binding_id == f"pane-{spec.pane_id}"
            )
            yield SystemCommand(
                f"Go to {spec.title}",
                f"{keys.key_text} · Show the {spec.title} pane",
                partial(self.action_show_pane, spec.pane_id),
            )
            pane = self.pane_content(spec.pane_id)
            if isinstance(pane, PaneSlot):
                continue  # not loaded yet
            for row in class_rows(type(pane), keymap, self):
                name, params = _parsed(row.action)
                if not row.description or not pane.check_action(name, params):
                    continue
                yield SystemCommand(
                    f"{spec.title}: {row.description}",
                    f"{row.key_text} in {spec.title} · {row.tooltip}",
                    partial(self._run_in_pane, spec.pane_id, row.action),
                )

    async def _run_in_pane(self, pane_id: str, action: str) -> None:
        """A pane's action from the palette: show the pane, then run it there."""
        self.action_show_pane(pane_id)
        await self.run_action(action, self.pane_content(pane_id))


def _breakpoint_class(breakpoints: Sequence[tuple[int, str]], width: int) -> str | None:
    """The class Textual gives the screen at `width` (the widest breakpoint it reaches)."""
    return next(
        (name for minimum, name in sorted(breakpoints, reverse=True) if width >= minimum), None
    )


def _sharing_key(sharing: Sharing | None) -> tuple[object, ...] | None:
    """What the header says about sharing: equal keys read the same."""
    if sharing is None:
        return None
    return (sharing.online, sharing.pending, sharing.rejected, sharing.error)


def _parsed(action: str) -> tuple[str, tuple[object, ...]]:
    _, name, params = parse_action(action)
    return name, params


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


def open_incident(
    settings: StartSettings,
    *,
    clock: Clock,
    incident_id: str | None,
    new_incident_title: str | None,
    author: str,
) -> tuple[StoreLink, IncidentLoaded]:
    """Open the store and the incident (by id; else a new one titled `new_incident_title`;
    else the current one, or a new untitled one) and read its events and the runbook.
    StoreError (one line) when the store cannot be opened or has no such incident."""
    try:
        target = settings.store_target
    except ConfigError as exc:
        raise StoreError(str(exc)) from None
    store = open_store(target, clock=clock, mode=settings.store_file_mode)
    drill = settings.drill
    record = store.incident(incident_id) if incident_id else None
    if incident_id and record is None:
        raise StoreError(f"{store.location}: no incident with id {incident_id!r}")
    resumed = False
    if record is None and new_incident_title is None:
        record = store.current_incident(drill=drill)
        resumed = record is not None
    if record is None:
        record = store.create_incident(new_incident_title or UNTITLED, author, drill=drill)
    link = StoreLink(store, record.id)
    state = IncidentState.from_events(link.read(force=True).events)
    runbook: Runbook | None = None
    runbook_error = None
    try:
        runbook = load_runbook(settings.runbook_path)
    except RunbookError as exc:
        runbook_error = str(exc)
    return link, IncidentLoaded(state, runbook, runbook_error, resumed)


def run_tui(
    config_path: Path | None,
    *,
    config: Config | CheckedConfig | None = None,
    incident_id: str | None = None,
    new_incident_title: str | None = None,
    clock: Callable[[], datetime] = utc_now,
    discover: bool = False,
) -> int:
    """Open the cockpit. Config and store problems are one line on stderr and exit code 2.

    `discover`: no config file was found; the app discovers the host's sources in a worker."""
    import sys

    try:
        if config is None:
            from cockpit.core.config import Config, load_config_file

            config = load_config_file(config_path) if config_path else Config()
        # Fail fast, before the screen switches (an unreachable server is not a failure: the
        # cockpit works from the outbox until it is back). A local SQLite store is read here
        # at once (a few ms), so the first frame shows the incident; a server, in a worker.
        settings = config.start_settings
        opened = None
        if isinstance(settings.store_target, Path):
            opened = open_incident(
                settings,
                clock=clock,
                incident_id=incident_id,
                new_incident_title=new_incident_title,
                author=settings.author,
            )
        else:
            open_store(settings.store_target, mode=settings.store_file_mode).close()
    except (ConfigError, StoreError) as exc:
        print(f"cockpit: {exc}", file=sys.stderr)
        return 2
    app = CockpitApp(
        config,
        clock=clock,
        incident_id=incident_id,
        new_incident_title=new_incident_title,
        discover=discover,
        opened=opened,
    )
    # What is loaded by now (modules, classes, the config) lives as long as the process: out
    # of the collector's sight (a full collection over every module cost the first frame about
    # 20 ms). The collector stays off until the first frame is painted (`on_mount`); `cockpit
    # open` turned it off before its imports.
    gc.freeze()
    gc.disable()
    app.run()
    return app.return_code or 0
