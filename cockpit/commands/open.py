"""`cockpit` / `cockpit open`: the TUI on the current incident (imports textual only in run)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--incident", metavar="ID", help="open this incident instead of the current one"
    )
    parser.add_argument("--new", metavar="TITLE", help="open a new incident with this title")


def run(args: argparse.Namespace) -> int:
    from cockpit.commands._common import config_from_args, store_from_config
    from cockpit.commands.incidents import target_incident

    config = config_from_args(args)
    incident_id = args.incident
    if incident_id:
        # An unknown id is one line and exit 2 here, before the screen switches.
        with store_from_config(config) as store:
            incident_id = target_incident(store, incident_id, drill=config.cockpit.drill).id
    from cockpit.tui.app import run_tui

    return run_tui(
        config.source_path, config=config, incident_id=incident_id, new_incident_title=args.new
    )
