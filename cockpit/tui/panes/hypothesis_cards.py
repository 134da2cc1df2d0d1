"""Hypothesis cards: each hypothesis, UNVERIFIED until a named human judges it, with its
evidence and its commands as inert text (marked with `[`/`]`, copied with `y`, never run)."""

from __future__ import annotations

from collections import Counter

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ListItem, Static

from cockpit.core.ai.hypotheses import (
    UNVERIFIED_LABEL,
    Hypothesis,
    HypothesisView,
    Status,
)
from cockpit.core.incident import Pin
from cockpit.core.sanitize import visible

EVIDENCE_ON_CARD = 5
"""Evidence items shown on a card; the rest are counted there and listed in full by `e`."""


COMMAND_MARK = "▶ "


CARD_COMMANDS_HINT = "commands ([ ] mark one, y copies it; c copies containment; never run):"


DETAIL_COMMANDS_HINT = "commands (on the card, [ ] marks one and y copies it; never run):"


def card_commands(hypothesis: Hypothesis) -> list[tuple[str, str]]:
    """A card's copyable commands, in the order the cursor visits them: checks, containment."""
    commands = [("check", check) for check in hypothesis.checks]
    if hypothesis.containment:
        commands.append(("containment", hypothesis.containment))
    return commands


def hypothesis_text(
    view: HypothesisView,
    marked: int | None,
    *,
    every_evidence: bool = False,
    commands_hint: str = CARD_COMMANDS_HINT,
) -> Text:
    """A card's body, sanitized: claim, evidence, confirm/refute, commands (command `marked`
    flagged, if any), the last human note. `every_evidence` lists all evidence, not the first few.
    """
    h = view.hypothesis
    body = Text(visible(h.claim, 600), style="bold")
    shown = h.evidence if every_evidence else h.evidence[:EVIDENCE_ON_CARD]
    for ref in shown:
        body.append("\n  evidence: " + visible(ref, 300))
    hidden = len(h.evidence) - len(shown)
    if hidden:
        body.append(f"\n  +{hidden} more evidence (e shows all)", style="italic")
    if h.confirm_if:
        body.append("\n  confirms: " + visible(h.confirm_if, 300))
    if h.refute_if:
        body.append("\n  refutes: " + visible(h.refute_if, 300))
    commands = card_commands(h)
    if commands:
        body.append("\n  " + commands_hint, style="dim")
    for index, (kind, command) in enumerate(commands):
        if index == marked:
            body.append("\n  " + COMMAND_MARK, style="bold")
            body.append(f"{kind}: " + visible(command, 300), style="bold reverse")
        else:
            body.append(f"\n    {kind}: " + visible(command, 300))
    if view.judgements:
        judged = view.judgements[-1]
        body.append(f"\n  note by {visible(judged.by, 30)}: " + visible(judged.note, 300))
    return body


def pin_reference(pin: Pin) -> str:
    """How a pinned piece of evidence is cited in a judgement."""
    return f"pin {pin.source} by {pin.author} at {pin.at:%Y-%m-%dT%H:%M:%SZ}: {pin.text[:300]}"


class HypothesisCard(ListItem):
    """One hypothesis: badge, origin, claim, evidence, checks, containment."""

    def __init__(self, view: HypothesisView, marked: int = 0, *, active: bool = False) -> None:
        super().__init__(classes="hypothesis-card")
        self.view = view
        self.marked = marked
        """Which of the card's commands (`card_commands`) `y` copies."""
        self.active = active
        """Whether the card is under the list's cursor: only that card shows its mark."""

    def compose(self) -> ComposeResult:
        view = self.view
        h = view.hypothesis
        status = view.status
        with Horizontal(classes="card-head"):
            if status == Status.UNVERIFIED:
                yield Static(UNVERIFIED_LABEL, classes="badge -unverified")
            else:
                judged = view.judgements[-1]
                word = "VERIFIED" if status == Status.VERIFIED else "REFUTED"
                yield Static(
                    Text(f"{word} by {visible(judged.by, 30)}"), classes=f"badge -{status.value}"
                )
            yield Static(Text(h.origin), classes=f"origin -{h.origin}")
        yield Static(self._body(), classes="card-body")

    def _body(self) -> Text:
        return hypothesis_text(self.view, self.marked if self.active else None)

    def mark(self, index: int, *, active: bool = True) -> None:
        """Mark the command `y` copies; the mark shows while the card is under the cursor."""
        if (index, active) == (self.marked, self.active):
            return
        self.marked, self.active = index, active
        # Not composed yet: compose shows the new state.
        for body in self.query(".card-body").results(Static):
            body.update(self._body())


def verdict_counts(views: list[HypothesisView]) -> str:
    """`3 hypotheses: 1 verified, 2 UNVERIFIED`, or `2 hypotheses, all UNVERIFIED`."""
    counts = Counter(view.status for view in views)
    total = f"{len(views)} hypothes{'i' if len(views) == 1 else 'e'}s"
    if counts[Status.UNVERIFIED] == len(views):
        return f"{total}, all UNVERIFIED"
    parts = [
        f"{counts[status]} {status.value.upper() if status == Status.UNVERIFIED else status.value}"
        for status in (Status.VERIFIED, Status.REFUTED, Status.UNVERIFIED)
        if counts[status]
    ]
    return f"{total}: {', '.join(parts)}"
