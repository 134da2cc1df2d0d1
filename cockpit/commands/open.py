"""`cockpit` / `cockpit open`: the TUI on the current incident (imports textual only in run)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--incident", metavar="ID", help="open this incident instead of the current one"
    )
    parser.add_argument("--new", metavar="TITLE", help="open a new incident with this title")


def run(args: argparse.Namespace) -> int:
    from cockpit.commands._common import config_from_args
    from cockpit.core.config import find_config_file
    from cockpit.tui.app import run_tui

    config = config_from_args(args)
    # No config file anywhere in the search order: the app discovers the host's sources
    # in the background (the first frame does not wait for it).
    discover = find_config_file(getattr(args, "config", None)) is None
    return run_tui(
        config.source_path,
        config=config,
        incident_id=args.incident,
        new_incident_title=args.new,
        discover=discover,
    )
