"""The Comms draft editor: the draft generated from the facts, and what a human (or the AI
rewrite) made of it, per draft (status update, customer email)."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.message import Message
from textual.widgets import TextArea

from cockpit.core.comms.events import CUSTOMER_EMAIL, STATUS_UPDATE


class DraftEditor(TextArea):
    """Edits one draft at a time; a human's words are never overwritten by a redraft."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            soft_wrap=True, tab_behavior="focus", show_line_numbers=False, compact=True, **kwargs
        )
        self.purpose = STATUS_UPDATE
        """The draft shown: `STATUS_UPDATE` or `CUSTOMER_EMAIL`."""
        self.generated: dict[str, str] = {}
        self.edited: dict[str, str] = {}
        """Human edits of each draft, kept until `g` or a copy."""
        self.ai_rewritten: set[str] = set()
        """Drafts whose current text came from the AI rewrite (UNVERIFIED until copied)."""
        self.baseline: dict[str, str] = {}
        """The text last put into the editor per draft; anything else was typed by a human."""

    class Blurred(Message):
        """The human left the editor: a moment to save their edit."""

    def on_blur(self) -> None:
        self.post_message(self.Blurred())

    def restore(self, saved: dict[str, str]) -> None:
        """Bring back edits saved before a restart (`comms.draft_edited`), per draft."""
        self.edited.update(saved)
        if self.purpose in saved:
            self.show(saved[self.purpose], baseline="")

    def show(self, text: str, baseline: str | None = None) -> None:
        """Show `text`; differing from `baseline` later means a human edited it."""
        self.baseline[self.purpose] = text if baseline is None else baseline
        self.load_text(text)

    def redraft(self, generated: dict[str, str]) -> None:
        """New drafts from the facts: shown unless the draft on screen was edited."""
        self.generated = generated
        baseline = self.baseline.get(self.purpose)
        if baseline is not None and self.text != baseline:
            # Typed but not yet seen by `_typed`: never overwrite a human's words.
            self.edited[self.purpose] = self.text
        text = self.generated[self.purpose]
        if self.purpose not in self.edited and self.text != text:
            self.show(text)

    def switch(self) -> None:
        """Show the other draft, as it was left."""
        self.purpose = CUSTOMER_EMAIL if self.purpose == STATUS_UPDATE else STATUS_UPDATE
        generated = self.generated.get(self.purpose, "")
        self.show(self.edited.get(self.purpose, generated), generated)

    def regenerate(self) -> None:
        """Drop the edits (and an AI rewrite): the draft from the facts again."""
        self.edited.pop(self.purpose, None)
        self.ai_rewritten.discard(self.purpose)
        self.show(self.generated.get(self.purpose, ""))

    def copied(self) -> None:
        """The draft was copied: its edits were for that copy, and the next facts redraft it."""
        self.edited.pop(self.purpose, None)
        self.ai_rewritten.discard(self.purpose)
        self.baseline[self.purpose] = self.text

    def rewritten(self, text: str) -> None:
        """Show the AI's rewrite of the draft on screen (UNVERIFIED until a human copies it)."""
        self.ai_rewritten.add(self.purpose)
        self.edited[self.purpose] = text
        self.show(text, self.generated.get(self.purpose, ""))

    @on(TextArea.Changed)
    def _typed(self) -> None:
        if self.text == self.baseline.get(self.purpose):
            self.edited.pop(self.purpose, None)
        else:
            self.edited[self.purpose] = self.text
