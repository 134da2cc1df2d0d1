"""The Hypotheses pane's dialogs: verify/refute with a note and pinned evidence, the request
preview, and a card in full."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, SelectionList, Static

from cockpit.core.ai.hypotheses import (
    HypothesisView,
)
from cockpit.core.incident import Pin
from cockpit.core.sanitize import visible, visible_lines
from cockpit.tui.panes.hypothesis_cards import DETAIL_COMMANDS_HINT, hypothesis_text, pin_reference


class JudgeScreen(ModalScreen[tuple[str, list[str]] | None]):
    """Verify or refute: a note and at least one pinned piece of evidence, both required."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="judge-cancel", tooltip="Close without saving"),
        Binding("ctrl+s", "save", "Save", id="judge-save", tooltip="Save the judgement"),
    ]
    AUTO_FOCUS = "#judge-note"

    def __init__(self, verb: str, claim: str, pins: list[Pin]) -> None:
        super().__init__()
        self.verb = verb
        self.claim = claim
        self.pins = pins

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="judge-dialog"):
            yield Label(Text(f"{self.verb.capitalize()}: {visible(self.claim, 300)}"))
            yield Input(placeholder="note: what you checked and saw (required)", id="judge-note")
            yield Label("Evidence (space selects; at least one pinned item):")
            yield SelectionList[int](
                *[
                    (Text(visible(f"{p.source}: {p.text}", 100)), i)
                    for i, p in enumerate(self.pins)
                ],
                id="judge-evidence",
            )
            yield Label("", id="judge-error")
            yield Label("ctrl+s saves. Esc cancels.", classes="dialog-hint")

    @on(Input.Submitted, "#judge-note")
    def _note_done(self) -> None:
        self.query_one("#judge-evidence", SelectionList).focus()

    def action_save(self) -> None:
        note = self.query_one("#judge-note", Input).value.strip()
        chosen = self.query_one("#judge-evidence", SelectionList).selected
        if not note or not chosen:
            missing = "a note" if not note else "at least one piece of pinned evidence"
            if not self.pins:
                missing = "pinned evidence: pin a log line, deploy or diff first"
            self.query_one("#judge-error", Label).update(Text(f"needs {missing}"))
            return
        self.dismiss((note, [pin_reference(self.pins[i]) for i in chosen]))

    def action_cancel(self) -> None:
        self.dismiss(None)


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
