"""One file's diff on the whole screen (`enter` on a file of the suspect diff).

At 80x24 the suspect diff's own view leaves a file's diff a few lines; here it gets every row,
wrapped. `[` / `]` move to the previous / next file of the range, `p` pins the diff (with this
file) as evidence, `esc` goes back. Diff lines are outside text: sanitized, never markup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Footer, RichLog, Static

from cockpit.core.sanitize import safe_text
from cockpit.tui.messages import PinRequested

DIFF_LINE_CHARS = 2000


def diff_line(line: str) -> Text:
    """One diff line, coloured by its kind (added, removed, hunk header)."""
    style = ""
    if line.startswith("+") and not line.startswith("+++"):
        style = "green"
    elif line.startswith("-") and not line.startswith("---"):
        style = "red"
    elif line.startswith("@@"):
        style = "cyan"
    return safe_text(line, DIFF_LINE_CHARS, style=style)


class FileDiffScreen(ModalScreen[None]):
    """A file's diff, full screen; asks its view for the previous or next file."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="diff-file-back", tooltip="Back to the suspect diff"),
        Binding(
            "right_square_bracket",
            "step(1)",
            "Next file",
            id="diff-file-next",
            tooltip="The next changed file of the range",
        ),
        Binding(
            "left_square_bracket",
            "step(-1)",
            "Prev file",
            id="diff-file-previous",
            tooltip="The previous changed file of the range",
        ),
        Binding(
            "p",
            "pin",
            "Pin",
            id="diff-file-pin",
            tooltip="Pin the suspect diff, with this file, to the timeline as evidence",
        ),
    ]

    def __init__(
        self,
        heading: str,
        step: Callable[[int], None],
        evidence: Callable[[], tuple[str, dict[str, Any]] | None],
    ) -> None:
        super().__init__()
        self.heading = heading
        self._step = step
        self._evidence = evidence

    def compose(self) -> ComposeResult:
        heading = safe_text(self.heading, 300, style="bold")
        heading.append(" · reading the diff…", style="dim")
        yield Static(heading, id="diff-file-head")
        yield RichLog(
            id="diff-file-body", markup=False, highlight=False, wrap=True, auto_scroll=False
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RichLog).focus()

    def show(self, heading: str, lines: list[str], note: str | None) -> None:
        """Show a file's diff (the view calls this when it has read one)."""
        self.query_one("#diff-file-head", Static).update(safe_text(heading, 300, style="bold"))
        body = self.query_one(RichLog)
        body.clear()
        for line in lines:
            body.write(diff_line(line))
        if not lines:
            body.write(Text("no textual changes (a binary file, or a mode change)", style="dim"))
        if note:
            body.write(Text(note, style="dim italic"))
        body.scroll_home(animate=False)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_step(self, delta: int) -> None:
        self._step(delta)

    def action_pin(self) -> None:
        evidence = self._evidence()
        if evidence is None:
            self.notify("no diff to pin yet: it is still being read", severity="warning")
            return
        text, detail = evidence
        self.post_message(PinRequested(source="diff", text=text, detail=detail))
