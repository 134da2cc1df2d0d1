"""The Comms pane's dialogs: the action item form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from cockpit.core.review.events import parse_due
from cockpit.core.sanitize import visible

LABEL_WIDTH = 13


@dataclass(frozen=True)
class ActionItemInput:
    """What the action item dialog returns."""

    text: str
    owner: str
    due: str


class ActionItemScreen(ModalScreen[ActionItemInput | None]):
    """Three fields: the action, its owner, its due date (checked before saving)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "cancel", "Cancel", id="action-item-cancel", tooltip="Close without saving"
        ),
    ]
    AUTO_FOCUS = "#action-item-text"

    def __init__(self, today: date) -> None:
        super().__init__()
        self.today = today
        """Relative due dates (`+3d`, `1w`) count from this day."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Add an action item to the postmortem")
            yield Input(placeholder="what will be done", id="action-item-text")
            yield Input(placeholder="owner (a person or team)", id="action-item-owner")
            yield Input(
                placeholder="due date: YYYY-MM-DD, or +3d / 1w from today", id="action-item-due"
            )
            yield Label("", id="action-item-error")
            yield Label(
                "Enter moves on; Enter on the due date saves. Esc cancels.", classes="dialog-hint"
            )

    @on(Input.Submitted, "#action-item-text")
    def _text_done(self) -> None:
        self.query_one("#action-item-owner", Input).focus()

    @on(Input.Submitted, "#action-item-owner")
    def _owner_done(self) -> None:
        self.query_one("#action-item-due", Input).focus()

    @on(Input.Submitted, "#action-item-due")
    def _save(self) -> None:
        text = self.query_one("#action-item-text", Input).value.strip()
        owner = self.query_one("#action-item-owner", Input).value.strip()
        if not text:
            self._refuse("action-item-text", "say what will be done")
            return
        if not owner:
            self._refuse("action-item-owner", "owner is required: a person or a team")
            return
        try:
            due = parse_due(self.query_one("#action-item-due", Input).value, self.today)
        except ValueError as exc:
            self._refuse("action-item-due", str(exc))
            return
        self.dismiss(ActionItemInput(text, owner, due.isoformat()))

    def _refuse(self, field: str, message: str) -> None:
        """One line under the fields says what is wrong; the cursor goes to that field."""
        error = self.query_one("#action-item-error", Label)
        error.update(Text(visible(message, max_len=120)))
        error.add_class("-shown")
        self.query_one(f"#{field}", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
