"""The Deploys pane's keys: copy a candidate's commands (never run), the suspect diff, pin,
refresh."""

from __future__ import annotations

from textual.binding import Binding, BindingType

BINDINGS: list[BindingType] = [
    Binding(
        "y",
        "copy_command('rollback')",
        "Copy rollback",
        id="deploys-copy-rollback",
        tooltip="Copy the selected candidate's rollback command (not executed)",
    ),
    Binding(
        "Y",
        "copy_command('dry run')",
        "Copy dry run",
        id="deploys-copy-dry-run",
        tooltip="Copy the dry-run variant of the rollback command (not executed)",
    ),
    Binding(
        "g",
        "copy_command('git revert')",
        "Copy revert",
        id="deploys-copy-revert",
        show=False,
        tooltip="Copy the git revert command (not executed)",
    ),
    Binding(
        "c",
        "pick_command",
        "Copy…",
        id="deploys-copy-pick",
        tooltip="Pick any filled command of the selected candidate, custom ones "
        "included, and copy it (not executed)",
    ),
    Binding(
        "s",
        "suspect_diff",
        "Suspect diff",
        id="deploys-suspect-diff",
        tooltip="Commits and files between the rollback target and the current deploy",
    ),
    Binding(
        "f",
        "filter_paths",
        "Service paths",
        id="deploys-filter-paths",
        show=False,
        tooltip="In the suspect diff: only the service's paths (config `paths`) or the whole range",
    ),
    Binding(
        "escape",
        "back",
        "Back",
        id="deploys-back",
        show=False,
        tooltip="Back from the suspect diff to the deploy list",
    ),
    Binding(
        "p",
        "pin",
        "Pin",
        id="deploys-pin",
        show=False,
        tooltip="Pin the selected candidate's explanation, or in the suspect diff the diff",
    ),
    Binding(
        "r", "refresh", "Refresh", id="deploys-refresh", tooltip="Read deploys and health again"
    ),
]
