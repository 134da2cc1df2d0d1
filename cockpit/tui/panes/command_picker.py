"""Copy one of a rollback candidate's commands: every command in full, its flags, never run."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from cockpit.core.deploys.rollback import Candidate, FilledCommand
from cockpit.core.sanitize import safe_text


def _command_tag(command: FilledCommand) -> tuple[str, str]:
    """The flag shown before a command, and its style."""
    if not command.filled:
        return " not filled ", "reverse yellow"
    if command.prod_changing:
        return " PROD-CHANGING ", "bold reverse red"
    return (" dry run " if command.dry_run else " no prod change "), "reverse"


def command_line(command: FilledCommand) -> Text:
    line = Text()
    line.append(*_command_tag(command))
    line.append(safe_text(f" {command.label}: ", 110, style="bold"))
    line.append(safe_text(command.text, 600))
    if command.filled:
        line.append("  (copy only, never executed)", style="dim")
    if command.missing:
        line.append(f"  fill in: {', '.join(command.missing)}", style="bold yellow")
    if command.note and command.prod_changing:
        line.append(f"  {command.note}", style="dim")
    return line


class CommandPickerScreen(ModalScreen[FilledCommand | None]):
    """Every command of one candidate, in full; `enter` returns the one to copy (never run).

    A template that could not be filled is listed disabled, as a note: it is never offered.
    """

    AUTO_FOCUS = "#deploys-picker-commands"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="deploys-picker-cancel",
            tooltip="Close; nothing is copied",
        ),
    ]

    def __init__(self, candidate: Candidate) -> None:
        super().__init__()
        self.candidate = candidate

    def compose(self) -> ComposeResult:
        candidate = self.candidate
        target = candidate.target
        title = Text("Copy a command: ", style="bold")
        title.append(safe_text(candidate.service, 30))
        if target is not None:
            title.append(" back to ")
            title.append(safe_text(target.label, 30))
        with Vertical():
            yield Label(title)
            yield OptionList(
                *[
                    Option(
                        command_line(command), id=f"command-{index}", disabled=not command.filled
                    )
                    for index, command in enumerate(candidate.commands)
                ],
                id="deploys-picker-commands",
            )
            yield Label(
                Text("enter copies (recorded, never executed) · esc closes"),
                classes="dialog-hint",
            )

    @on(OptionList.OptionSelected, "#deploys-picker-commands")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        command = self.candidate.commands[event.option_index]
        if command.filled:
            self.dismiss(command)

    def action_cancel(self) -> None:
        self.dismiss(None)
