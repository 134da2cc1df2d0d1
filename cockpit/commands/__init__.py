"""Headless subcommands. Each module has `add_arguments(parser)` and `run(args) -> int`.

Modules here import only what `--help` needs at top level; heavy imports go inside `run`.
None of them imports textual, except `open`/`demo`/`drill` when they start the TUI.
"""
