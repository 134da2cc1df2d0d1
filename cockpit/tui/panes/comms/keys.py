"""The Comms pane's keys: facts, drafts, copy (never sent), root cause, action items, the
postmortem."""

from __future__ import annotations

from textual.binding import Binding, BindingType

BINDINGS: list[BindingType] = [
    Binding(
        "e",
        "edit_fact",
        "Edit fact",
        id="comms-edit-fact",
        show=False,
        tooltip="Edit the highlighted fact (recorded with your name)",
    ),
    Binding(
        "t",
        "toggle_draft",
        "Update/email",
        id="comms-toggle-draft",
        tooltip="Switch between the status update and the customer email",
    ),
    Binding(
        "y",
        "copy_draft",
        "Copy draft",
        id="comms-copy",
        tooltip="Copy the draft to the clipboard; recorded with its lint findings",
    ),
    Binding(
        "w",
        "ai_rewrite",
        "AI rewrite",
        id="comms-ai-rewrite",
        show=False,
        tooltip="Ask the model to reword the draft (redacted; the result is UNVERIFIED)",
    ),
    Binding(
        "g",
        "regenerate",
        "Redraft",
        id="comms-regenerate",
        show=False,
        tooltip="Redraft from the facts, dropping edits to the draft",
    ),
    Binding(
        "D",
        "toggle_diff",
        "Diff",
        id="comms-diff",
        show=False,
        tooltip="Show the diff against the last copied status update",
    ),
    Binding(
        "s",
        "state_root_cause",
        "State root cause",
        id="comms-root-cause",
        show=False,
        tooltip="State the root cause in your words; cross-checked (UNVERIFIED, heuristic)",
    ),
    Binding(
        "x",
        "show_root_cause_check",
        "Cross-check",
        id="comms-root-cause-check",
        show=False,
        tooltip="Open the root-cause cross-check in full (UNVERIFIED, heuristic)",
    ),
    Binding(
        "a",
        "add_action_item",
        "Add action item",
        id="comms-action-item",
        show=False,
        tooltip="Add an action item with owner and due date",
    ),
    Binding(
        "A",
        "list_action_items",
        "Action items",
        id="comms-action-items",
        show=False,
        tooltip="List the action items: what, owner, due date, who added it",
    ),
    Binding(
        "m",
        "write_postmortem",
        "Write postmortem",
        id="comms-postmortem",
        tooltip="Write the postmortem draft to a Markdown file",
    ),
    Binding(
        "r",
        "read_logs",
        "Re-read logs",
        id="comms-read-logs",
        show=False,
        tooltip="Read the logs again for the start time and share of requests",
    ),
    Binding(
        "escape",
        "leave_editor",
        "Leave editor",
        id="comms-leave-editor",
        show=False,
        tooltip="Move focus from the draft back to the facts",
    ),
]
