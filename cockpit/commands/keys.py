"""`cockpit keys`: the key map, from the TUI's bindings with the config's `[keymap]` applied
(imports textual, in run only)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--markdown", action="store_true", help="Markdown tables (the README's key map)"
    )


def run(args: argparse.Namespace) -> int:
    from cockpit.commands._common import config_from_args
    from cockpit.tui.keymap import keymap_markdown, keymap_text

    config = config_from_args(args)
    render = keymap_markdown if args.markdown else keymap_text
    print(render(config.keymap), end="")
    return 0
