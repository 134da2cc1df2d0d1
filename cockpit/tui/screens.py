"""Dialogs: the explicit human decisions, notes, roles, a new incident.

Every dialog is a `Dialog`: its fields, one line saying what is wrong, and a Save button.
Enter on the button (or in the last field) saves, `ctrl+s` saves from anywhere in it, Esc
cancels. A dialog that cannot save says why in that line and puts the cursor where the fix is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from cockpit.core.incident import ROLES, SEVERITIES
from cockpit.core.sanitize import visible

SEVERITY_MEANINGS = {
    "SEV1": "critical: customers broadly affected, all hands",
    "SEV2": "major: a key feature degraded for many customers",
    "SEV3": "minor: limited impact, workaround exists",
    "SEV4": "low: no customer impact yet",
}

AnswerT = TypeVar("AnswerT")


@dataclass(frozen=True)
class DialogAnswer:
    """What a decision dialog returns: the choice and the human's words."""

    detail: str
    severity: str | None = None
    title: str = ""


class Refused(Exception):
    """A dialog cannot save yet: `message` says why, `field` is where the fix goes."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Dialog(ModalScreen[AnswerT | None], Generic[AnswerT]):
    """Fields, an error line and Save / Cancel. Subclasses yield `fields()` and implement
    `answer()`, which returns what to save or raises `Refused`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog-cancel", tooltip="Close; nothing saved"),
        Binding("ctrl+s", "save", "Save", id="dialog-save", tooltip="Save from any field"),
    ]
    SAVE_LABEL: ClassVar[str] = "Save"
    TITLE_TEXT: ClassVar[str] = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield from self.fields()
            yield Label("", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.save_label(), variant="primary", id="dialog-save-button")
                yield Button("Cancel", id="dialog-cancel-button")
            yield Label("", classes="dialog-hint")

    def fields(self) -> Iterable[Widget]:
        """The dialog's own widgets, top to bottom."""
        return ()

    def save_label(self) -> str:
        return self.SAVE_LABEL

    def answer(self) -> AnswerT:
        """What the dialog saves; raise `Refused` to say what is missing."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self.call_after_refresh(self._show_hint)

    def _show_hint(self) -> None:
        # From the live bindings, so a [keymap] remap of dialog-save shows here too.
        keys = {
            active.binding.id: self.app.get_key_display(active.binding)
            for active in self.active_bindings.values()
        }
        save = keys.get("dialog-save")
        parts = [f"Enter on {self.save_label()} saves"]
        if save:
            parts[0] += f" ({save} from any field)"
        if "dialog-cancel" in keys:
            parts.append(f"{keys['dialog-cancel']} cancels")
        for hint in self.query(".dialog-hint").results(Label):  # none once already dismissed
            hint.update(Text(" · ".join(parts)))

    def refuse(self, message: str, field: str | None = None) -> None:
        """Say what is wrong, in one line, and move the cursor to where it is fixed."""
        error = self.query_one(".dialog-error", Label)
        error.update(Text(visible(message, max_len=200)))
        error.add_class("-shown")
        if field:
            self.query_one(f"#{field}").focus()

    def action_save(self) -> None:
        try:
            value = self.answer()
        except Refused as refused:
            self.refuse(str(refused), refused.field)
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#dialog-save-button")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#dialog-cancel-button")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def focus_next_field(self, after: Widget) -> None:
        """Enter in a field: on to the next one (the Save button after the last)."""
        fields = [w for w in self.query("Input, OptionList, Button") if w.focusable]
        if after in fields and fields.index(after) + 1 < len(fields):
            fields[fields.index(after) + 1].focus()


class SeverityPicker(OptionList):
    """SEV1-SEV4 with their meanings; nothing is picked until a human picks (no default).

    Up/down move the highlight, Enter or space picks it, 1-4 pick directly. The pick is
    marked `(•)`, apart from the highlight, so what is chosen is never ambiguous.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "select", "Pick", show=False, id="severity-pick"),
        *[
            Binding(str(n), f"pick({n - 1})", f"SEV{n}", show=False, id=f"severity-{n}")
            for n in range(1, 5)
        ],
    ]

    @dataclass
    class Picked(Message):
        """A severity was picked."""

        picker: SeverityPicker
        severity: str

    @dataclass
    class Unpicked(Message):
        """Enter with nothing highlighted: nothing was picked."""

        picker: SeverityPicker

    def __init__(self, *, current: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.current = current
        """The severity now (changing it): marked, and not a valid pick."""
        self.picked: str | None = None
        self._paint()

    def _paint(self) -> None:
        highlighted = self.highlighted
        self.clear_options()
        for severity in SEVERITIES:
            mark = "(•) " if severity == self.picked else "( ) "
            row = Text(mark, style="bold" if severity == self.picked else "")
            row.append(severity, style="bold")
            row.append(f"  {SEVERITY_MEANINGS[severity]}")
            if severity == self.current:
                row.append("  (now)", style="italic")
            self.add_option(Option(row, id=severity))
        self.highlighted = highlighted

    def action_select(self) -> None:
        if self.highlighted is None:
            self.post_message(self.Unpicked(self))
            return
        self.action_pick(self.highlighted)

    def action_pick(self, index: int) -> None:
        self.highlighted = index
        self.picked = SEVERITIES[index]
        self._paint()
        self.post_message(self.Picked(self, self.picked))


PICK_SEVERITY = "pick a severity first: 1-4, or up/down and Enter"


class TextPromptScreen(Dialog[str]):
    """One line of text: a note, a new name, a fact's new value."""

    def __init__(self, prompt: str, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self.prompt = prompt
        self.placeholder = placeholder
        self.value = value

    def fields(self) -> Iterable[Widget]:
        yield Label(Text(self.prompt))
        yield Input(self.value, placeholder=self.placeholder, id="prompt-input")

    def answer(self) -> str:
        text = self.query_one("#prompt-input", Input).value.strip()
        if not text:
            raise Refused("type something first, or cancel", "prompt-input")
        return text

    @on(Input.Submitted, "#prompt-input")
    def _submit(self) -> None:
        self.action_save()


class DeclareScreen(Dialog[DialogAnswer]):
    """Declaring: always the same fields in the same order. The name (pre-filled when known),
    the severity (no default: a human picks it), then an optional description."""

    SAVE_LABEL = "Declare"

    def __init__(self, title: str = "") -> None:
        super().__init__()
        self.incident_title = title

    def fields(self) -> Iterable[Widget]:
        yield Label("Declare the incident: a human decision, recorded with your name.")
        yield Input(
            value=self.incident_title,
            placeholder="the incident's name, e.g. Checkout 5xx after the 14:31 deploy",
            id="declare-title",
        )
        yield Label("Severity:")
        yield SeverityPicker(id="severity")
        yield Input(
            placeholder="one line: what is broken, who is affected (optional)",
            id="declare-detail",
        )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#declare-title", Input).focus()

    def answer(self) -> DialogAnswer:
        title = self.query_one("#declare-title", Input).value.strip()
        if not title:
            raise Refused("name the incident first", "declare-title")
        severity = self.query_one(SeverityPicker).picked
        if severity is None:
            raise Refused(PICK_SEVERITY, "severity")
        detail = self.query_one("#declare-detail", Input).value.strip()
        return DialogAnswer(detail=detail, severity=severity, title=title)

    @on(Input.Submitted, "#declare-title")
    def _title_done(self, event: Input.Submitted) -> None:
        self.focus_next_field(event.input)

    @on(SeverityPicker.Picked)
    def _picked(self, event: SeverityPicker.Picked) -> None:
        self.query_one(".dialog-error", Label).remove_class("-shown")
        self.focus_next_field(event.picker)

    @on(SeverityPicker.Unpicked)
    def _unpicked(self) -> None:
        self.refuse(PICK_SEVERITY)

    @on(Input.Submitted, "#declare-detail")
    def _detail_done(self) -> None:
        self.action_save()


class SeverityScreen(Dialog[DialogAnswer]):
    """Changing the severity after declaring: the new one and a one-line reason, both needed."""

    SAVE_LABEL = "Change severity"

    def __init__(self, current: str | None) -> None:
        super().__init__()
        self.current = current

    def fields(self) -> Iterable[Widget]:
        yield Label(f"Change the severity (now {self.current or 'none'}): recorded with your name.")
        yield SeverityPicker(current=self.current, id="severity")
        yield Input(placeholder="why, in one line (required)", id="severity-reason")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(SeverityPicker).focus()

    def answer(self) -> DialogAnswer:
        severity = self.query_one(SeverityPicker).picked
        if severity is None:
            raise Refused(PICK_SEVERITY, "severity")
        if severity == self.current:
            raise Refused(f"it is {severity} already: pick another severity", "severity")
        reason = self.query_one("#severity-reason", Input).value.strip()
        if not reason:
            raise Refused("say why, in one line", "severity-reason")
        return DialogAnswer(detail=reason, severity=severity)

    @on(SeverityPicker.Picked)
    def _picked(self, event: SeverityPicker.Picked) -> None:
        self.query_one(".dialog-error", Label).remove_class("-shown")
        self.focus_next_field(event.picker)

    @on(SeverityPicker.Unpicked)
    def _unpicked(self) -> None:
        self.refuse(PICK_SEVERITY)

    @on(Input.Submitted, "#severity-reason")
    def _reason_done(self) -> None:
        self.action_save()


class ConfirmScreen(Dialog[DialogAnswer]):
    """Confirming a decision such as "contained" or "resolved", with an optional note, a value
    offered in it (the rollback just copied) and warnings (what is missing) above it."""

    def __init__(
        self,
        question: str,
        placeholder: str,
        *,
        value: str = "",
        warnings: Iterable[str] = (),
        save_label: str = "Confirm",
    ) -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder
        self.value = value
        self.warnings = tuple(warnings)
        self._save_label = save_label

    def save_label(self) -> str:
        return self._save_label

    def fields(self) -> Iterable[Widget]:
        yield Label(Text(self.question))
        if self.warnings:
            warning = Text("Missing: ", style="bold")
            warning.append("; ".join(visible(w, 200) for w in self.warnings))
            yield Static(warning, classes="dialog-warning")
        yield Input(self.value, placeholder=self.placeholder, id="confirm-detail")

    def answer(self) -> DialogAnswer:
        return DialogAnswer(detail=self.query_one("#confirm-detail", Input).value.strip())

    @on(Input.Submitted, "#confirm-detail")
    def _confirm(self) -> None:
        self.action_save()


class RolesScreen(Dialog[dict[str, str]]):
    """Who is incident lead and who is comms lead: set by a human, recorded. Returns the roles
    that changed (an empty name clears a role)."""

    SAVE_LABEL = "Save roles"

    def __init__(self, current: dict[str, str], suggestion: str) -> None:
        super().__init__()
        self.current = current
        self.suggestion = suggestion

    def fields(self) -> Iterable[Widget]:
        yield Label("Incident roles (recorded on the timeline; shown in the header):")
        for role, words in ROLES.items():
            yield Label(f"{words}:")
            yield Input(
                self.current.get(role, ""),
                placeholder=f"who is {words}, e.g. {self.suggestion}",
                id=f"role-{role.replace('_', '-')}",
            )

    def answer(self) -> dict[str, str]:
        changed = {}
        for role in ROLES:
            who = self.query_one(f"#role-{role.replace('_', '-')}", Input).value.strip()
            if who != self.current.get(role, ""):
                changed[role] = who
        if not changed:
            raise Refused("nothing changed: type a name, or cancel")
        return changed

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "role-comms-lead":
            self.action_save()
        else:
            self.focus_next_field(event.input)


class NewIncidentScreen(Dialog[str]):
    """A new incident, so a resolved one is never reopened by accident. Returns its name
    (empty: named when declared)."""

    SAVE_LABEL = "Open new incident"

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def fields(self) -> Iterable[Widget]:
        yield Label("Open a new incident. The cockpit switches to it.")
        yield Static(Text(self.current, style="italic"), classes="dialog-note")
        yield Input(placeholder="its name (optional: you name it when you declare)", id="new-title")

    def answer(self) -> str:
        return self.query_one("#new-title", Input).value.strip()

    @on(Input.Submitted, "#new-title")
    def _submit(self) -> None:
        self.action_save()


class ChoiceScreen(ModalScreen[str | None]):
    """A question with a few answers as buttons; Enter on the focused one answers, Esc is None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="choice-cancel", tooltip="Close; nothing done"),
    ]

    def __init__(self, question: Text | str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices
        """(answer id, button label), the first one focused."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.question) if isinstance(self.question, str) else self.question)
            with Horizontal(classes="dialog-buttons"):
                for index, (answer, label) in enumerate(self.choices):
                    yield Button(
                        label, id=f"choice-{answer}", variant="primary" if index == 0 else "default"
                    )
            yield Label("Enter answers with the focused button · Tab moves", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    @on(Button.Pressed)
    def _answered(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss((event.button.id or "").removeprefix("choice-"))

    def action_cancel(self) -> None:
        self.dismiss(None)
