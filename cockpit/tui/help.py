"""F1 / `?`: the focused pane's prose and a key table built from the live bindings.

The table comes from `screen.active_bindings` (what the keys do right now, with the user's
`[keymap]` applied and `check_action` saying what applies) and `app.get_key_display`, as
posting's help screen does; no key is written by hand. While a text box has focus it takes the
letter keys, so the pane's other keys are listed from its bindings, marked as working once the
focus leaves the box.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, TextArea

from cockpit.tui.keys import KeyRow, key_rows, remapped

if TYPE_CHECKING:
    from cockpit.tui.panes.base import Pane


class HelpScreen(ModalScreen[None]):
    """Help for the focused pane, then the keys that work everywhere."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q,question_mark", "close", "Close", id="help-close", tooltip="Close"),
    ]

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it costs ~0.1 s: only when help opens

        with VerticalScroll(classes="dialog help"):
            yield Markdown(self.markdown)

    def action_close(self) -> None:
        self.dismiss(None)


def cockpit_bindings(cls: type[DOMNode]) -> list[BindingType]:
    """The BINDINGS a cockpit class declares, its own and its cockpit base classes'."""
    found: list[BindingType] = []
    for base in reversed(cls.__mro__):
        if base.__module__.startswith("cockpit.") and "BINDINGS" in base.__dict__:
            found.extend(base.__dict__["BINDINGS"])
    return found


def class_rows(cls: type[DOMNode], keymap: dict[str, str], app: App[Any]) -> list[KeyRow]:
    """Every binding of a cockpit class as rows, keymap applied (enabled: unknown, so True)."""
    return key_rows(
        ((b, True) for b in remapped(cockpit_bindings(cls), keymap)), app.get_key_display
    )


def _table(rows: Iterable[KeyRow], note: str = "") -> list[str]:
    lines = ["| Key | Action | What it does |", "| --- | --- | --- |"]
    for row in rows:
        what = row.tooltip or row.description
        if not row.enabled:
            what += " *(not now)*"
        if note:
            what += f" *({note})*"
        keys = " / ".join(f"`{k}`" for k in row.keys)
        lines.append(f"| {keys} | {row.description} | {what.replace('|', '/')} |")
    return lines


def _in(node: DOMNode, container: DOMNode) -> bool:
    return node is container or container in node.ancestors


def help_markdown(app: App[Any], pane: Pane | None, keymap: dict[str, str], prose: str) -> str:
    """The help page: the pane's prose, its keys, then the keys that work everywhere."""
    screen = app.screen
    active = list(screen.active_bindings.values())
    focused = screen.focused
    in_text_box = isinstance(focused, Input | TextArea)
    # The heading, then the keys (what a person at 3 AM looks for), then the pane's prose.
    heading, _, body = prose.strip().partition("\n")
    lines = [heading, ""]
    if pane is not None:
        live = key_rows(
            ((a.binding, a.enabled) for a in active if _in(a.node, pane)), app.get_key_display
        )
        lines += [f"## Keys in {pane.PANE_TITLE or 'this pane'}", "", *_table(live)]
        if in_text_box:
            shown = {row.binding_id for row in live}
            nodes: list[Widget] = [pane, *pane.query("*")]
            hidden = [
                row
                for cls in dict.fromkeys(type(node) for node in nodes)
                for row in class_rows(cls, keymap, app)
                if row.binding_id not in shown and row.description
            ]
            if hidden:
                lines += _table(hidden, "once the focus leaves the text box: Esc or Tab")[2:]
        lines.append("")
    everywhere = key_rows(
        ((a.binding, a.enabled) for a in active if a.node is app and a.binding.description),
        app.get_key_display,
    )
    if in_text_box:
        shown = {row.binding_id for row in everywhere}
        everywhere += [
            row
            for row in class_rows(type(app), keymap, app)
            if row.binding_id not in shown and row.description
        ]
    lines += ["## Everywhere", "", *_table(everywhere), ""]
    if body.strip():
        lines += ["## About this pane" if pane is not None else "## About", "", body.strip(), ""]
    palette = next((row for row in everywhere if row.action == "command_palette"), None)
    if palette is not None:
        lines.append(
            f"`{palette.keys[0]}` opens the command palette: every action above by name, with "
            "its key. Inside tmux, `set -g set-clipboard on` lets copies reach your machine."
        )
    return "\n".join(lines)
