"""The human decisions, as app-wide actions: note, declare, severity, rename, contained,
resolved, roles, a new incident, the hand-off, and quitting a drill.

Each is an explicit, confirmed, recorded act of a named person; nothing here decides on its
own. `check_action` says which apply now, so the footer and the palette offer only those.
The `CockpitApp` below this class does the writing (`record`, `record_batch`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from cockpit.core.config_file import StartSettings
from cockpit.core.incident import ROLES, UNTITLED, IncidentState, Kind
from cockpit.core.lifecycle import ServiceErrors, matching_item, resolve_gaps, status_line
from cockpit.core.presence import HANDOFF_KIND
from cockpit.core.runbook import Runbook
from cockpit.core.sanitize import visible
from cockpit.tui.screens import (
    ChoiceScreen,
    ConfirmScreen,
    DeclareScreen,
    DialogAnswer,
    NewIncidentScreen,
    RolesScreen,
    SeverityScreen,
    TextPromptScreen,
)

DECISION_KEYS = Binding.Group("Contain/Resolve")
"""The two closing decisions share one footer entry (each still asks for confirmation)."""

if TYPE_CHECKING:
    from cockpit.core.config import Config


class IncidentDecisions(App[int]):
    """The app's decision actions and their bindings (global keys: the same in every pane)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "add_note", "Note", id="add-note", tooltip="Add a note to the timeline"),
        Binding(
            "d",
            "declare",
            "Declare",
            id="declare",
            tooltip="Declare the incident: its name and a severity (a recorded human decision)",
        ),
        Binding(
            "S",
            "change_severity",
            "Change severity",
            id="change-severity",
            tooltip="Change the severity, with a reason (recorded: from, to, who, when)",
        ),
        Binding(
            "C",
            "mark_contained",
            "Mark contained",
            id="mark-contained",
            group=DECISION_KEYS,
            tooltip="Mark the incident contained (a recorded human decision)",
        ),
        Binding(
            "R",
            "mark_resolved",
            "Mark resolved",
            id="mark-resolved",
            group=DECISION_KEYS,
            tooltip="Mark the incident resolved; says what is missing first (a human decision)",
        ),
        Binding(
            "T",
            "rename",
            "Rename incident",
            id="rename",
            show=False,
            tooltip="Rename the incident (recorded on the timeline)",
        ),
        Binding(
            "O",
            "roles",
            "Roles",
            id="roles",
            show=False,
            tooltip="Set the incident lead and the comms lead (recorded, shown in the header)",
        ),
        Binding(
            "N",
            "new_incident",
            "New incident",
            id="new-incident",
            show=False,
            tooltip="Open a new incident and switch to it (a resolved one is never reopened)",
        ),
        Binding(
            "H",
            "hand_off",
            "Hand off",
            id="hand-off",
            show=False,
            tooltip="Record a driver/navigator hand-off to a partner",
        ),
    ]

    config: Config
    settings: StartSettings
    author: str
    state: IncidentState | None
    runbook: Runbook | None = None
    service_errors: dict[str, ServiceErrors] | None
    """Each failing service's error ratio now, as the Deploys pane last read it."""

    # -- provided by the app -----------------------------------------------------------------

    def record(
        self, kind: str, payload: dict[str, Any], saved_message: str | None = "saved"
    ) -> Any:
        """Append one event (in a worker); the UI says `saved_message` once it is committed."""
        raise NotImplementedError

    def record_batch(self, items: list[tuple[str, dict[str, Any]]], saved_message: str) -> Any:
        """Append several events in this order (in one worker)."""
        raise NotImplementedError

    def start_new_incident(self, title: str) -> None:
        """Open a new incident in the store and switch every pane to it."""
        raise NotImplementedError

    def present_others(self) -> tuple[list[str], str | None]:
        """The partners present (not this process) and the driver, from the presence bar."""
        raise NotImplementedError

    # -- what applies now --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide `d` once declared and `S` before; dim what cannot apply to the incident now."""
        state = self.state
        declared = bool(state and state.declared)
        if action == "declare":
            return not declared
        if action == "change_severity":
            return declared
        if action == "mark_contained":
            return None if state is None or state.contained or state.resolved else True
        if action == "mark_resolved":
            return None if state is None or state.resolved else True
        if action == "new_incident":
            return not self.settings.drill  # a drill has exactly one incident
        if action in ("rename", "roles", "add_note"):
            return True if state is not None else None
        return True

    # -- decisions ---------------------------------------------------------------------------

    def action_add_note(self) -> None:
        def save(text: str | None) -> None:
            if text:
                self.record(Kind.NOTE_ADDED, {"text": text}, "saved: note")

        self.push_screen(
            TextPromptScreen("Add a note to the timeline", "what you saw or did"), save
        )

    def _tick(self, *words: str) -> list[tuple[str, dict[str, Any]]]:
        """The runbook item a decision completes (e.g. Assess "Declare the incident..."),
        as a `checklist.checked` event, unless it is checked already."""
        if self.runbook is None or self.state is None:
            return []
        found = matching_item(self.runbook.items, *words)
        if found is None or self.state.is_checked(*found):
            return []
        phase, item = found
        return [(Kind.ITEM_CHECKED, {"phase": phase.value, "item": item, "checked": True})]

    def action_declare(self) -> None:
        title = self.state.title if self.state else ""

        def save(decision: DialogAnswer | None) -> None:
            if decision is None:
                return
            events: list[tuple[str, dict[str, Any]]] = []
            if decision.title and decision.title != title:
                events.append((Kind.RENAMED, {"title": decision.title, "previous": title}))
            events.append(
                (Kind.DECLARED, {"severity": decision.severity, "detail": decision.detail})
            )
            events += self._tick("declare")
            self.record_batch(events, f"saved: incident declared {decision.severity}")

        self.push_screen(DeclareScreen("" if title in ("", UNTITLED) else title), save)

    def action_change_severity(self) -> None:
        current = self.state.severity if self.state else None

        def save(answer: DialogAnswer | None) -> None:
            if answer is not None and answer.severity:
                payload = {"from": current, "to": answer.severity, "reason": answer.detail}
                self.record(
                    Kind.SEVERITY_CHANGED,
                    payload,
                    f"saved: severity {current} -> {answer.severity}",
                )

        self.push_screen(SeverityScreen(current), save)

    def action_rename(self) -> None:
        title = self.state.title if self.state else ""

        def save(new_title: str | None) -> None:
            if new_title and new_title != title:
                self.record(
                    Kind.RENAMED,
                    {"title": new_title, "previous": title},
                    f"saved: incident renamed {new_title}",
                )

        self.push_screen(
            TextPromptScreen(
                "Rename the incident (recorded on the timeline)",
                "e.g. Checkout 5xx after the 14:31 deploy",
                "" if title == UNTITLED else title,
            ),
            save,
        )

    def action_mark_contained(self) -> None:
        def save(decision: DialogAnswer | None) -> None:
            if decision is not None:
                self.record(
                    Kind.CONTAINED, {"detail": decision.detail}, "saved: incident contained"
                )

        self.push_screen(
            ConfirmScreen(
                "Mark the incident CONTAINED? Customers should no longer be hurt.",
                "how it was contained, e.g. rolled back checkout to 7f3a2c1",
                value=self._copied_rollback(),
                save_label="Mark contained",
            ),
            save,
        )

    def _copied_rollback(self) -> str:
        """The rollback just copied, in words, offered as how it was contained."""
        for event in reversed(self.state.events if self.state else []):
            detail = event.payload.get("detail")
            if event.kind != Kind.COMMAND_COPIED or not isinstance(detail, dict):
                continue
            if "rollback" not in str(event.payload.get("purpose", "")) or not detail.get("service"):
                continue
            target = str(detail.get("target_sha") or detail.get("target_revision") or "")[:7]
            to = f" to {target}" if target else ""
            return visible(
                f"rolled back {detail['service']}{to} (copied {event.ts:%H:%M} UTC "
                f"by {event.author})",
                max_len=200,
            )
        return ""

    def action_mark_resolved(self) -> None:
        if self.state is None:
            return
        gaps = resolve_gaps(
            self.state,
            None if self.service_errors is None else self.service_errors.values(),
            self.config.health.error_ratio_threshold,
        )

        def save(decision: DialogAnswer | None) -> None:
            if decision is None:
                return
            payload: dict[str, Any] = {"detail": decision.detail}
            if gaps:
                payload["unverified"] = gaps
            said = "saved: incident resolved" + (" (warning recorded)" if gaps else "")
            self.record(Kind.RESOLVED, payload, said)

        if gaps:
            screen = ConfirmScreen(
                "Resolve WITHOUT a recorded verification? The warning goes on the timeline.",
                "why it is safe anyway (optional)",
                warnings=gaps,
                save_label="Resolve anyway",
            )
        else:
            screen = ConfirmScreen(
                "Mark the incident RESOLVED? Prod is verified healthy.",
                "what verified it, e.g. 5xx back to 0.2% for 30 min",
                save_label="Mark resolved",
            )
        self.push_screen(screen, save)

    def action_roles(self) -> None:
        state = self.state
        current = {role: holder.who for role, holder in (state.roles if state else {}).items()}

        def save(changed: dict[str, str] | None) -> None:
            if not changed:
                return
            events: list[tuple[str, dict[str, Any]]] = [
                (Kind.ROLE_ASSIGNED, {"role": role, "who": who, "previous": current.get(role)})
                for role, who in changed.items()
            ]
            if changed.get("incident_lead"):
                events += self._tick("incident", "lead")
            said = ", ".join(f"{ROLES[role]} {who or 'nobody'}" for role, who in changed.items())
            self.record_batch(events, f"saved: {said}")

        self.push_screen(RolesScreen(current, self.author), save)

    def action_new_incident(self) -> None:
        state = self.state
        if state is None:
            return
        now = f"Now: {visible(state.title, 80)} ({status_line(state)})."
        if state.resolved is None:
            now += " It stays open: `cockpit --incident ID` or `cockpit incidents` finds it."

        def save(title: str | None) -> None:
            if title is not None:
                self.start_new_incident(title)

        self.push_screen(NewIncidentScreen(now), save)

    def action_hand_off(self) -> None:
        from cockpit.tui.presence import HandoffScreen

        others, driver = self.present_others()

        def save(payload: dict[str, Any] | None) -> None:
            if payload:
                self.record(HANDOFF_KIND, payload, f"saved: {payload['summary']}")

        self.push_screen(HandoffScreen(self.author, others, driver), save)

    async def action_quit(self) -> None:
        """`q`: quits at once (everything saved is on disk), but asks first during a drill."""
        if not self.settings.drill:
            self.exit()
            return

        def answered(choice: str | None) -> None:
            if choice == "end":
                self.exit()

        self.push_screen(
            ChoiceScreen(
                "End the drill? Its events are saved; `cockpit drill debrief` scores it.",
                [("stay", "Keep drilling"), ("end", "End the drill")],
            ),
            answered,
        )
