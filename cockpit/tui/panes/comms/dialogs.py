"""The Comms pane's dialogs: the action item form and the list of action items."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from cockpit.core.review.events import ActionItem, parse_due
from cockpit.core.sanitize import visible
from cockpit.tui.screens import Dialog, Refused

LABEL_WIDTH = 13


@dataclass(frozen=True)
class ActionItemInput:
    """What the action item dialog returns."""

    text: str
    owner: str
    due: str


class ActionItemScreen(Dialog[ActionItemInput]):
    """Three fields: the action, its owner, its due date (checked before saving)."""

    SAVE_LABEL = "Add action item"
    AUTO_FOCUS = "#action-item-text"

    def __init__(self, today: date) -> None:
        super().__init__()
        self.today = today
        """Relative due dates (`+3d`, `1w`) count from this day."""

    def fields(self) -> Iterable[Widget]:
        yield Label("Add an action item to the postmortem")
        yield Input(placeholder="what will be done", id="action-item-text")
        yield Input(placeholder="owner (a person or team)", id="action-item-owner")
        yield Input(
            placeholder="due date: YYYY-MM-DD, or +3d / 1w from today", id="action-item-due"
        )

    @on(Input.Submitted, "#action-item-text, #action-item-owner")
    def _next(self, event: Input.Submitted) -> None:
        self.focus_next_field(event.input)

    @on(Input.Submitted, "#action-item-due")
    def _due_done(self) -> None:
        self.action_save()

    def answer(self) -> ActionItemInput:
        text = self.query_one("#action-item-text", Input).value.strip()
        owner = self.query_one("#action-item-owner", Input).value.strip()
        if not text:
            raise Refused("say what will be done", "action-item-text")
        if not owner:
            raise Refused("owner is required: a person or a team", "action-item-owner")
        try:
            due = parse_due(self.query_one("#action-item-due", Input).value, self.today)
        except ValueError as exc:
            raise Refused(str(exc), "action-item-due") from None
        return ActionItemInput(text, owner, due.isoformat())


def action_items_text(items: list[ActionItem]) -> Text:
    """Every action item: what, owner, due, who added it and when (outside text made inert)."""
    shown = Text(f"Action items ({len(items)})", style="bold")
    for number, item in enumerate(items, start=1):
        shown.append(f"\n{number:>2}. ")
        shown.append(visible(item.text, max_len=300))
        shown.append(f"\n    owner {visible(item.owner, 60)} · due {visible(item.due, 20)}", "dim")
        shown.append(
            f" · added by {visible(item.added_by, 40)} {item.added_at:%Y-%m-%d %H:%M} UTC", "dim"
        )
    if not items:
        shown.append("\nnone yet", style="dim")
    return shown


class ActionItemsScreen(ModalScreen[None]):
    """The incident's action items, in the order they were added (the postmortem lists them)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="action-items-close", tooltip="Close the list"),
    ]
    AUTO_FOCUS = "#action-items-body"

    def __init__(self, items: list[ActionItem]) -> None:
        super().__init__()
        self.items = items

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="action-items-body", classes="dialog"):
            yield Static(action_items_text(self.items), id="action-items-text")
            yield Label("Esc closes", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
