"""Panes whose capability is not built yet: they say what will be there, and never fake data."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit.tui.panes.base import Pane


class PlannedPane(Pane):
    """A pane that states what it will show once its issue lands."""

    PLAN = ""

    def compose(self) -> ComposeResult:
        yield Static(Text(self.PLAN), classes="planned")


class HypothesesPane(PlannedPane):
    PANE_TITLE = "Hypotheses"
    HELP = "# Hypotheses\n\nNot built yet: see the [AI] issue."
    PLAN = (
        "Not built yet. Here the AI will propose hypotheses from the logs, deploys and diffs "
        "through read-only tools. Every one stays UNVERIFIED until a named human verifies or "
        "refutes it with evidence. Offline, labelled heuristics take the model's place."
    )
