"""Modal screens: the explicit human decisions, notes, a new incident, and F1 help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from cockpit.core.incident import SEVERITIES

SEVERITY_MEANINGS = {
    "SEV1": "critical: customers broadly affected, all hands",
    "SEV2": "major: a key feature degraded for many customers",
    "SEV3": "minor: limited impact, workaround exists",
    "SEV4": "low: no customer impact yet",
}


@dataclass(frozen=True)
class DialogAnswer:
    """What a decision dialog returns: the choice and the human's words."""

    detail: str
    severity: str | None = None
    title: str = ""


class _Dialog(ModalScreen[DialogAnswer | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog-cancel", tooltip="Close without saving"),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)


class DeclareScreen(_Dialog):
    """Declaring the incident: a human names it, says what is broken, picks the severity."""

    def __init__(self, title: str = "", *, untitled: bool = False) -> None:
        super().__init__()
        self.incident_title = title
        self.untitled = untitled

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Declare the incident: a human decision, recorded with your name.")
            yield Input(
                value=self.incident_title,
                placeholder="the incident's name, e.g. Checkout 5xx after the 14:31 deploy",
                id="declare-title",
            )
            yield Input(
                placeholder="one line: what is broken, who is affected (optional)",
                id="declare-detail",
            )
            yield OptionList(
                *[Option(Text(f"{sev}  {SEVERITY_MEANINGS[sev]}"), id=sev) for sev in SEVERITIES],
                id="severity",
            )
            yield Label(
                "Enter moves on; Enter on a severity declares. Esc cancels.",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        # An incident opened without a name starts the dialog on its name, as incident.io does.
        self.query_one("#declare-title" if self.untitled else "#declare-detail", Input).focus()

    @on(OptionList.OptionSelected, "#severity")
    def _declare(self, event: OptionList.OptionSelected) -> None:
        detail = self.query_one("#declare-detail", Input).value.strip()
        title = self.query_one("#declare-title", Input).value.strip()
        self.dismiss(DialogAnswer(detail=detail, severity=event.option.id, title=title))

    @on(Input.Submitted, "#declare-title")
    def _title_done(self) -> None:
        self.query_one("#declare-detail", Input).focus()

    @on(Input.Submitted, "#declare-detail")
    def _detail_done(self) -> None:
        self.query_one("#severity", OptionList).focus()


class ConfirmScreen(_Dialog):
    """Confirming a decision such as "contained" or "resolved", with an optional note."""

    def __init__(self, question: str, placeholder: str) -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question)
            yield Input(placeholder=self.placeholder, id="confirm-detail")
            yield Label("Enter confirms. Esc cancels.", classes="dialog-hint")

    @on(Input.Submitted, "#confirm-detail")
    def _confirm(self, event: Input.Submitted) -> None:
        self.dismiss(DialogAnswer(detail=event.value.strip()))


class TextPromptScreen(ModalScreen[str | None]):
    """One line of text: a note, or a new incident's title."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt-cancel", tooltip="Close without saving"),
    ]

    def __init__(self, prompt: str, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self.prompt = prompt
        self.placeholder = placeholder
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.prompt)
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Label("Enter saves. Esc cancels.", classes="dialog-hint")

    @on(Input.Submitted, "#prompt-input")
    def _submit(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """F1: help for the focused pane."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "Close", id="help-close", tooltip="Close help"),
    ]

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it costs ~0.1 s: only when F1 is pressed

        with VerticalScroll(classes="dialog help"):
            yield Markdown(self.markdown)

    def action_close(self) -> None:
        self.dismiss(None)
