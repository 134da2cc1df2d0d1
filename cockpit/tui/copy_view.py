"""The last-copy view (`ctrl+y`): the newest copy on the timeline in full, with its flags.

The COPIED banner shrinks to one line and can be dismissed; this view brings the whole text
back from the event log (a partner's copy too), wrapped, sanitized, never markup.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from cockpit.core.incident import IncidentState, Kind
from cockpit.core.sanitize import visible, visible_lines
from cockpit.core.store import Event
from cockpit.core.timefmt import hhmm_z
from cockpit.tui.messages import PROSE_KINDS, CopyRequested


def last_copy_event(state: IncidentState | None) -> Event | None:
    """The newest `command.copied` event of the incident, or None."""
    if state is None:
        return None
    return next((e for e in reversed(state.events) if e.kind == Kind.COMMAND_COPIED), None)


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def copy_text(event: Event | None) -> Text:
    """The copy as the view shows it: what, who, when, the flags, then the text in full."""
    if event is None:
        return Text("Nothing has been copied in this incident yet.", style="italic")
    payload = event.payload
    raw_detail = payload.get("detail")
    detail: dict[str, Any] = raw_detail if isinstance(raw_detail, dict) else {}
    prose = detail.get("kind") in PROSE_KINDS
    shown = Text()
    shown.append(" COPIED " if prose else " COPIED, NOT EXECUTED ", style="bold reverse")
    purpose = visible(str(payload.get("purpose") or "command"), max_len=80)
    shown.append(f" {purpose}", style="bold")
    shown.append(f" · by {visible(event.author, max_len=40)} at {hhmm_z(event.ts)}", style="dim")
    flags = [f"lint: {item}" for item in _strings(detail.get("lint"))]
    flags += _strings(payload.get("findings"))
    for flag in flags:
        shown.append("\n⚠ ", style="bold")
        shown.append(visible(flag, max_len=400), style="bold")
    if prose and not flags:
        shown.append("\nlint: clean", style="dim")
    shown.append("\n\n")
    text = str(payload.get("text", ""))
    # Prose keeps its lines; a command shows an embedded newline as a visible \n.
    body = "\n".join(visible_lines(text, 4000)) if prose else visible(text, max_len=20_000)
    shown.append(body)
    return shown


HINTS = (("last-copy-copy", "copy again"), ("last-copy-close", "close"))
"""The keys the view names under the text, by binding id."""


class LastCopyScreen(ModalScreen[None]):
    """The newest copy in full. `y` copies it again (recorded again); `Esc` closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="last-copy-close", tooltip="Close this view"),
        Binding(
            "y",
            "copy_again",
            "Copy again",
            id="last-copy-copy",
            tooltip="Copy this text again (recorded on the timeline again; never executed)",
        ),
    ]

    def __init__(self, state: IncidentState | None) -> None:
        super().__init__()
        self.event = last_copy_event(state)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog last-copy"):
            with VerticalScroll(id="last-copy-body"):
                yield Static(copy_text(self.event), id="last-copy-text")
            yield Static(classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#last-copy-body").focus()
        self.call_after_refresh(self._show_hint)

    def _show_hint(self) -> None:
        # From the live bindings, so a [keymap] remap shows here too.
        keys = {
            active.binding.id: self.app.get_key_display(active.binding)
            for active in self.active_bindings.values()
            if active.enabled
        }
        parts = [f"{keys[ident]} {what}" for ident, what in HINTS if ident in keys]
        hint = " · ".join([*parts, "the timeline keeps every copy"])
        self.query_one(".dialog-hint", Static).update(Text(hint, style="dim"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_again":
            return True if self.event is not None else None
        return True

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_again(self) -> None:
        event = self.event
        if event is None:
            self.notify("nothing to copy yet", severity="warning")
            return
        detail = event.payload.get("detail")
        self.post_message(
            CopyRequested(
                str(event.payload.get("text", "")),
                str(event.payload.get("purpose") or "command"),
                dict(detail) if isinstance(detail, dict) else {},
            )
        )
        self.dismiss(None)
