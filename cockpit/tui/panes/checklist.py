"""The phase checklist: six phases, the current one highlighted, items checked from the keyboard."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cockpit.core.incident import Kind, describe
from cockpit.core.runbook import Phase, Runbook
from cockpit.core.sanitize import visible
from cockpit.tui.messages import RecordRequested
from cockpit.tui.panes.alerts import AlertsPanel
from cockpit.tui.panes.base import Pane

if TYPE_CHECKING:
    from cockpit.core.config import AlertmanagerConfig

PHASES = list(Phase)


class ChecklistItems(OptionList):
    """The viewed phase's items (the pane's bindings act on the highlighted one)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "down,j",
            "cursor_down",
            "Down",
            show=False,
            id="checklist-down",
            tooltip="Highlight the next item",
        ),
        Binding(
            "up,k",
            "cursor_up",
            "Up",
            show=False,
            id="checklist-up",
            tooltip="Highlight the previous item",
        ),
    ]


LATEST_EVENTS = 3
PHASE_KEYS = Binding.Group("Phase")
"""Previous and next phase belong together (in help); the footer leaves them to the arrows
and the phase strip, so 80 columns hold the decisions and `? Help`."""


class PhaseChecklist(Pane):
    """Assess, Contain, Diagnose, Fix, Verify, Review, with the runbook's items for each."""

    PANE_TITLE = "Phases"
    HELP = """\
# Phase checklist

The incident loop: **Assess, Contain, Diagnose, Fix, Verify, Review**. The current phase is
highlighted; its checklist comes from the team's runbook (`[cockpit] runbook` in the config).
Checking an item is recorded with who and when. Viewing another phase does not change the
incident's phase: **Enter phase** does, and that is recorded too.

Each phase shows what the AI is for in it, and what stays human. Declaring, containing and
resolving are human decisions, confirmed and recorded (see *Everywhere* below); declaring
ticks the runbook's "declare" item, and naming an incident lead its "incident lead" item.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "x,space",
            "toggle_item",
            "Check",
            id="checklist-toggle",
            tooltip="Check or uncheck the highlighted item (recorded on the timeline)",
        ),
        Binding(
            "left,h",
            "view_phase(-1)",
            "Prev phase",
            id="checklist-prev-phase",
            group=PHASE_KEYS,
            show=False,
            tooltip="View the previous phase's checklist",
        ),
        Binding(
            "right,l",
            "view_phase(1)",
            "Next phase",
            id="checklist-next-phase",
            group=PHASE_KEYS,
            show=False,
            tooltip="View the next phase's checklist",
        ),
        Binding(
            "o",
            "open_from_alert",
            "Open incident",
            id="alerts-open-incident",
            tooltip="Open an incident from the highlighted alert (you decide; recorded)",
        ),
        Binding(
            "P",
            "enter_viewed_phase",
            "Enter phase",
            id="checklist-set-phase",
            show=False,
            tooltip="Make the viewed phase the incident's current phase (recorded)",
        ),
    ]

    runbook: reactive[Runbook | None] = reactive(None, always_update=True)
    runbook_error: reactive[str] = reactive("")
    """Why the runbook did not load (a FIFO, too big, no checklist): shown in place of items,
    so the pane says why it is empty for as long as it is."""
    viewed: reactive[Phase] = reactive(Phase.ASSESS)
    alertmanagers: reactive[tuple[AlertmanagerConfig, ...]] = reactive(())
    """Where firing alerts are read from (set by the app: config or discovery)."""
    alerts_note: reactive[str] = reactive("")
    """Why there is no Alertmanager to read, when discovery found none."""

    def compose(self) -> ComposeResult:
        yield Static(id="phase-strip")
        yield Static(id="phase-reminder")
        yield ChecklistItems(id="checklist-items")
        yield AlertsPanel(self.clock, id="alerts-panel")
        yield Static(id="phase-latest")

    # -- alerts: shown where Assess is worked, and in Verify (resolved, or fired again) ---

    def watch_alertmanagers(self) -> None:
        for panel in self.query(AlertsPanel):
            panel.alertmanagers = self.alertmanagers

    def watch_alerts_note(self) -> None:
        for panel in self.query(AlertsPanel):
            panel.note = self.alerts_note

    def _show_alerts(self) -> None:
        for panel in self.query(AlertsPanel):
            panel.incident = self.incident
            panel.set_class(self.viewed in (Phase.ASSESS, Phase.VERIFY), "-phase")

    def watch_incident(self) -> None:
        if self.incident is not None and not getattr(self, "_followed_phase", False):
            # Open on the incident's current phase once; afterwards the human steers the view.
            self._followed_phase = True
            self.viewed = self.incident.phase
        self._refresh_view()

    def watch_runbook(self) -> None:
        self._refresh_view()

    def watch_runbook_error(self) -> None:
        self._refresh_view()

    def watch_viewed(self) -> None:
        self._refresh_view()
        self.refresh_bindings()

    def _items(self) -> tuple[str, ...]:
        return self.runbook.checklist(self.viewed) if self.runbook else ()

    def _refresh_view(self) -> None:
        if not self.is_mounted:
            return
        self._show_alerts()
        state = self.incident
        current = state.phase if state else Phase.ASSESS
        strip = Text()
        for index, phase in enumerate(PHASES):
            items = self.runbook.checklist(phase) if self.runbook else ()
            done = sum(1 for item in items if state and state.is_checked(phase, item))
            label = f" {phase.title} {done}/{len(items)} "
            style = ""
            if phase == current:
                style = "bold reverse"
            elif phase == self.viewed:
                style = "underline"
            if index:
                strip.append("›", style="dim")
            strip.append(label, style=style)
        self.query_one("#phase-strip", Static).update(strip)
        viewing = "" if self.viewed == current else f"viewing {self.viewed.title} · "
        self.query_one("#phase-reminder", Static).update(
            Text(viewing + self.viewed.reminder, style="italic")
        )
        self._show_latest()
        option_list = self.query_one(ChecklistItems)
        highlighted = option_list.highlighted
        option_list.clear_options()
        items = self._items()
        if not items:
            empty = (
                Text(f"runbook not loaded: {visible(self.runbook_error)}", style="bold")
                if self.runbook_error and self.runbook is None
                else Text("(no items for this phase in the runbook)")
            )
            option_list.add_option(Option(empty, disabled=True))
            return
        for item in items:
            checked = bool(state and state.is_checked(self.viewed, item))
            mark = "[x] " if checked else "[ ] "
            prompt = Text(mark, style="bold" if checked else "")
            prompt.append(visible(item), style="strike dim" if checked else "")
            option_list.add_option(Option(prompt))
        if highlighted is not None:
            option_list.highlighted = min(highlighted, len(items) - 1)
        else:
            option_list.highlighted = 0

    def _show_latest(self) -> None:
        """The newest timeline entries, so the narrow layout's first screen shows what is
        happening (the wide one hides this: the Timeline pane is on screen there)."""
        from cockpit.core.timeline import latest_rows

        events = self.incident.events if self.incident else ()
        rows = latest_rows(events, LATEST_EVENTS)
        text = Text(
            f"latest on the timeline ({len(events)} events; 6 shows all):", style="bold dim"
        )
        for row in reversed(rows):
            text.append(f"\n{row.last.ts:%H:%M:%SZ} ", style="dim")
            text.append(visible(row.author, max_len=24) + " ")
            text.append(visible(describe(row.last), max_len=200))
            text.append(row.repeats(), style="dim")
        self.query_one("#phase-latest", Static).update(text if events else "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim what cannot apply: no item to check, no phase further that way, the viewed
        phase already the current one."""
        if action == "toggle_item":
            return True if self._items() else None
        if action == "view_phase" and parameters:
            index = PHASES.index(self.viewed) + int(str(parameters[0]))
            return True if 0 <= index < len(PHASES) else None
        if action == "open_from_alert":
            # Shown while an alert not yet on the incident is listed, so `o` works from the
            # checklist too (not only once the alert list has focus); the human confirms.
            panel = self.query_one(AlertsPanel)
            listed = panel.has_class("-shown") and panel.has_class("-phase")
            return listed and any(row.tracked is None for row in panel.rows)
        if action == "enter_viewed_phase":
            return None if self.incident and self.incident.phase == self.viewed else True
        return True

    def action_toggle_item(self) -> None:
        items = self._items()
        index = self.query_one(ChecklistItems).highlighted
        if index is None or index >= len(items):
            return
        item = items[index]
        checked = bool(self.incident and self.incident.is_checked(self.viewed, item))
        verb = "unchecked" if checked else "checked"
        self.post_message(
            RecordRequested(
                Kind.ITEM_CHECKED,
                {"phase": self.viewed.value, "item": item, "checked": not checked},
                saved_message=f"saved: {verb} '{item}'",
            )
        )

    def action_view_phase(self, step: int) -> None:
        index = PHASES.index(self.viewed) + step
        self.viewed = PHASES[max(0, min(len(PHASES) - 1, index))]

    def action_open_from_alert(self) -> None:
        """The highlighted alert (the top one until the human moves): focus goes to the list,
        so the dialog's alert is the one seen highlighted there."""
        panel = self.query_one(AlertsPanel)
        panel.query_one("#alerts-list").focus()
        panel.action_open_incident()

    def action_enter_viewed_phase(self) -> None:
        self.post_message(
            RecordRequested(
                Kind.PHASE_CHANGED,
                {"phase": self.viewed.value},
                saved_message=f"saved: phase is now {self.viewed.title}",
            )
        )

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_toggle_item()
