"""The key map, declared once: the global keys, and every binding as rows for F1 help, the
command palette, `cockpit keys` and the README's generated key map.

Keys live only in `BINDINGS`. Everything that shows a key reads it from there, through the
user's `[keymap]` (Textual's `BindingsMap.apply_keymap`) and `App.get_key_display`, so a remap
changes every place that names the key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from textual.actions import parse as parse_action
from textual.binding import Binding, BindingsMap, BindingType

GLOBAL_KEYS: dict[str, str] = {
    **{str(n): "go to a pane" for n in range(1, 7)},
    **{f"alt+{n}": "go to a pane from a text box" for n in range(1, 7)},
    "ctrl+p": "command palette",
    "question_mark": "help",
    "f1": "help",
    "q": "quit",
    "n": "note",
    "p": "pin the selected thing as evidence",
    "y": "copy the selected thing",
    "slash": "search or filter in the focused pane",
    "escape": "back, close, dismiss",
    "z": "maximize the focused pane",
    "ctrl+y": "the last copy",
    "d": "declare",
    "S": "change severity",
    "T": "rename",
    "C": "contained",
    "R": "resolved",
    "N": "new incident",
    "H": "hand off",
    "O": "roles",
    "I": "sources",
    "enter": "open the selected item in full",
}
"""Keys that mean the same thing in every pane (the lead's key map). A pane never binds one of
them to anything else; `SHARED_VERBS` lists the ones a pane implements for its own selection."""

SHARED_VERBS: dict[str, tuple[str, ...]] = {
    "p": ("pin",),
    "y": ("copy",),
    "slash": ("focus_pattern", "search", "filter"),
    "escape": ("back", "stop", "close", "cancel", "leave_editor", "dismiss"),
    "enter": ("open", "details", "select", "edit"),
    "z": ("maximize",),
}
"""Global keys a pane binds itself, for the same verb on its own selection: the action name
must start with one of these (`copy_command('rollback')` is a copy)."""


def normalize_keys(keys: str) -> str:
    """`"?,N"` -> `"question_mark,N"`: the long key names Textual matches on."""
    return ",".join(binding.key for binding in Binding.make_bindings([Binding(keys, "noop")]))


def normalize_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    """A `[keymap]` table with its keys in long form, as `BindingsMap.apply_keymap` wants."""
    return {binding_id: normalize_keys(keys) for binding_id, keys in keymap.items()}


def remapped(bindings: Iterable[BindingType], keymap: Mapping[str, str]) -> list[Binding]:
    """`bindings` (a class's `BINDINGS`) one per key, with the user's `[keymap]` applied."""
    bindings_map = BindingsMap(bindings)
    if keymap:
        bindings_map.apply_keymap(normalize_keymap(keymap))
    return [binding for _, binding in bindings_map]


@dataclass(frozen=True)
class KeyRow:
    """One action and every key bound to it, as help, the palette and the README show it."""

    binding_id: str
    keys: tuple[str, ...]
    """Display forms (`?`, `F1`, `^p`), in binding order."""
    description: str
    tooltip: str
    action: str
    enabled: bool = True
    """False when the action does not apply now (the footer dims it)."""

    @property
    def key_text(self) -> str:
        """`?` / `F1`: every key of the row."""
        return " / ".join(self.keys)


def key_rows(
    bindings: Iterable[tuple[Binding, bool]], key_display: Callable[[Binding], str]
) -> list[KeyRow]:
    """Group (binding, enabled) pairs by binding id (or action), keeping first-seen order."""
    rows: dict[str, KeyRow] = {}
    for binding, enabled in bindings:
        ident = binding.id or binding.action
        shown = key_display(binding)
        row = rows.get(ident)
        if row is None:
            rows[ident] = KeyRow(
                ident,
                (shown,),
                binding.description,
                binding.tooltip,
                binding.action,
                enabled,
            )
        elif shown not in row.keys:
            rows[ident] = KeyRow(
                ident, (*row.keys, shown), row.description, row.tooltip, row.action, row.enabled
            )
    return list(rows.values())


def key_display(binding: Binding) -> str:
    """How a key is written without a running app: what `App.get_key_display` gives."""
    if binding.key_display:
        return binding.key_display
    from textual.keys import format_key

    *modifiers, key = binding.key.split("+")
    key = format_key(key)
    if "ctrl" in modifiers:
        modifiers.remove("ctrl")
        key = f"^{key}"
    return "+".join([*modifiers, key])


def action_name(action: str) -> str:
    """`copy_command('rollback')` -> `copy_command`."""
    _, name, _ = parse_action(action)
    return name


def collisions(bindings: Iterable[Binding]) -> list[str]:
    """Pane bindings that reuse a global key for another verb: one line each."""
    found = []
    for binding in bindings:
        if binding.key not in GLOBAL_KEYS:
            continue
        verbs = SHARED_VERBS.get(binding.key, ())
        if not action_name(binding.action).startswith(verbs) or not verbs:
            found.append(
                f"{binding.id or binding.action}: {binding.key} is global "
                f"({GLOBAL_KEYS[binding.key]})"
            )
    return found


def key_for(
    bindings: Iterable[BindingType],
    binding_id: str,
    keymap: Mapping[str, str],
    display: Callable[[Binding], str] = key_display,
) -> str:
    """The key bound to `binding_id` now (keymap applied), for a hint such as "t runs triage";
    "" when it has none."""
    for binding in remapped(bindings, keymap):
        if binding.id == binding_id:
            return display(binding)
    return ""
