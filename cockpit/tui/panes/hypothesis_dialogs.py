"""The Hypotheses pane's dialogs: verify/refute with a note and pinned evidence, the request
preview, and a card in full."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from cockpit.core.ai.hypotheses import (
    HypothesisView,
)
from cockpit.core.incident import Pin
from cockpit.core.sanitize import visible, visible_lines
from cockpit.tui.panes.hypothesis_cards import DETAIL_COMMANDS_HINT, hypothesis_text, pin_reference
from cockpit.tui.screens import Dialog, Refused


class EvidencePicker(OptionList):
    """The pinned evidence, each row `[x]` chosen or `[ ]` not: the mark, never the highlight,
    says what is chosen. Enter or space toggles the highlighted row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "select", "Toggle", show=False, id="evidence-toggle"),
    ]

    def __init__(self, pins: list[Pin], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pins = pins
        self.chosen: list[int] = []
        self._paint()

    def _paint(self) -> None:
        highlighted = self.highlighted
        self.clear_options()
        for index, pin in enumerate(self.pins):
            chosen = index in self.chosen
            row = Text("[x] " if chosen else "[ ] ", style="bold" if chosen else "")
            row.append(visible(f"{pin.source}: {pin.text}", 100))
            self.add_option(Option(row))
        self.highlighted = highlighted if highlighted is not None else (0 if self.pins else None)

    @on(OptionList.OptionSelected)
    def _toggled(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = event.option_index
        if index in self.chosen:
            self.chosen.remove(index)
        else:
            self.chosen.append(index)
        self._paint()
        self.post_message(self.Toggled(self))

    @dataclass
    class Toggled(Message):
        """The chosen evidence changed."""

        picker: EvidencePicker


class JudgeScreen(Dialog[tuple[str, list[str]]]):
    """Verify or refute: a note and at least one pinned piece of evidence, both required."""

    AUTO_FOCUS = "#judge-note"

    def __init__(self, verb: str, claim: str, pins: list[Pin]) -> None:
        super().__init__()
        self.verb = verb
        self.claim = claim
        self.pins = pins

    def save_label(self) -> str:
        return f"{self.verb.capitalize()} it"

    def fields(self) -> Iterable[Widget]:
        yield Label(Text(f"{self.verb.capitalize()}: {visible(self.claim, 300)}"))
        yield Input(placeholder="note: what you checked and saw (required)", id="judge-note")
        yield Label("", id="judge-evidence-label")
        yield EvidencePicker(self.pins, id="judge-evidence")

    def on_mount(self) -> None:
        super().on_mount()
        self._count()

    def _count(self) -> None:
        chosen = len(self.query_one(EvidencePicker).chosen)
        label = (
            f"Evidence: {chosen} of {len(self.pins)} chosen (Enter or space toggles; one needed)"
        )
        if not self.pins:
            label = "Evidence: nothing pinned yet; pin a log line, deploy or diff first"
        self.query_one("#judge-evidence-label", Label).update(Text(label))

    @on(EvidencePicker.Toggled)
    def _toggled(self) -> None:
        self._count()

    @on(Input.Submitted, "#judge-note")
    def _note_done(self, event: Input.Submitted) -> None:
        self.focus_next_field(event.input)

    def answer(self) -> tuple[str, list[str]]:
        note = self.query_one("#judge-note", Input).value.strip()
        if not note:
            raise Refused("needs a note: what you checked and saw", "judge-note")
        if not self.pins:
            raise Refused("needs pinned evidence: pin a log line, deploy or diff first")
        chosen = self.query_one(EvidencePicker).chosen
        if not chosen:
            raise Refused(
                "needs at least one piece of evidence: mark it [x] with Enter or space",
                "judge-evidence",
            )
        return note, [pin_reference(self.pins[i]) for i in sorted(chosen)]


class PreviewScreen(ModalScreen[None]):
    """Exactly what would be sent to the API, after redaction."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="preview-close", tooltip="Close the preview"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="ai-preview"):
            yield Static(Text("\n".join(visible_lines(self.text, None))), id="ai-preview-text")

    def action_close(self) -> None:
        self.dismiss(None)


class DetailScreen(ModalScreen[None]):
    """One hypothesis in full: every piece of evidence, every command, every human judgement."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,e", "close", "Close", id="detail-close", tooltip="Close the details"),
    ]

    def __init__(self, view: HypothesisView, marked: int) -> None:
        super().__init__()
        self.view = view
        self.marked = marked

    def compose(self) -> ComposeResult:
        view = self.view
        text = Text(f"{view.status.value.upper()} {view.hypothesis.origin} hypothesis\n\n")
        text.append(
            hypothesis_text(
                view, self.marked, every_evidence=True, commands_hint=DETAIL_COMMANDS_HINT
            )
        )
        for judged in view.judgements:
            text.append(
                f"\n\n{judged.status.value} by {visible(judged.by, 30)} "
                f"at {judged.at:%Y-%m-%d %H:%M} UTC: " + visible(judged.note, 300)
            )
            for ref in judged.evidence:
                text.append("\n  with: " + visible(ref, 300))
        with VerticalScroll(classes="dialog", id="hypothesis-detail"):
            yield Static(text, id="hypothesis-detail-text")
            yield Label("Esc closes.", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
