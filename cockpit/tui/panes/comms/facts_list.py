"""The Comms facts, one per row: label, value (or `?`), and where it came from."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from cockpit.core.comms.events import FACT_SET, fact_set_payload
from cockpit.core.comms.facts import CommsFacts, CommsStatus
from cockpit.core.sanitize import visible
from cockpit.tui.messages import RecordRequested
from cockpit.tui.screens import TextPromptScreen

LABEL_WIDTH = 13
RESET_WORD = "auto"
"""Typed as a fact's new value, it drops the human edit and goes back to the derived value."""


class FactsList(OptionList):
    """The facts, every value and source shown as inert text; the highlight survives updates.
    Enter on a fact edits it; the edit goes up as a `RecordRequested`, recorded with its author."""

    facts: CommsFacts | None = None

    def show(self, facts: CommsFacts) -> None:
        self.facts = facts
        highlighted = self.highlighted
        self.clear_options()
        for fact in facts:
            row = Text(f"{fact.label:<{LABEL_WIDTH}} ", style="bold")
            row.append(
                visible(fact.value, max_len=120) if fact.known else "?",
                style="" if fact.known else "dim italic",
            )
            row.append(f"  {visible(fact.source, max_len=200)}", style="dim")
            self.add_option(Option(row, id=f"fact-{fact.name}"))
        self.highlighted = highlighted if highlighted is not None else 0

    def highlighted_fact(self) -> str | None:
        """The name of the highlighted fact, or None."""
        if self.highlighted is None:
            return None
        option_id = self.get_option_at_index(self.highlighted).id or ""
        return option_id.removeprefix("fact-") or None

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self.edit_highlighted()

    def edit_highlighted(self) -> None:
        """Ask for a new value of the highlighted fact."""
        name = self.highlighted_fact()
        if name is None or self.facts is None:
            return
        fact = self.facts[name]
        hint = f"now: {fact.value or 'unknown'}; '{RESET_WORD}' resets"
        if name == "status":
            hint = " / ".join(status.value for status in CommsStatus) + f"; '{RESET_WORD}' resets"

        def save(value: str | None) -> None:
            if value is not None:
                self.set_fact(name, value)

        self.app.push_screen(TextPromptScreen(f"Edit the fact '{fact.label}'", hint), save)

    def set_fact(self, name: str, value: str) -> None:
        """Record a human edit of fact `name` (`auto` resets it)."""
        if self.facts is None:
            return
        value = value.strip()
        if value.lower() == RESET_WORD:
            value = ""
        if (
            name == "status"
            and value
            and value.lower() not in {status.value.lower() for status in CommsStatus}
        ):
            self.notify(
                f"not a status: {visible(value, 40)} (Investigating, Identified,"
                " Monitoring or Resolved)",
                severity="error",
            )
            return
        self.post_message(
            RecordRequested(
                FACT_SET,
                fact_set_payload(name, self.facts[name].label, value),
                saved_message=f"saved: fact '{self.facts[name].label}'",
            )
        )
