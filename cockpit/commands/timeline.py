"""`cockpit timeline`: print an incident's events, one line each, or as JSON."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the incident and the output format."""
    parser.add_argument(
        "--incident",
        metavar="ID",
        help="incident id or unique id prefix (default: the current open incident)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON array of the events, payloads raw"
    )


def run(args: argparse.Namespace) -> int:
    """Print the timeline of the chosen incident."""
    from cockpit.commands._common import config_from_args, fail, store_from_config
    from cockpit.commands.incidents import target_incident
    from cockpit.core.store import StoreError

    config = config_from_args(args)
    hint = "pass --incident ID for a closed one (`cockpit incidents --all` lists them)"
    try:
        with store_from_config(config) as store:
            incident = target_incident(store, args.incident, drill=config.cockpit.drill, hint=hint)
            events = store.events(incident.id)
    except StoreError as exc:
        fail(str(exc))
    from cockpit.commands._output import emit, emit_json

    if args.json:
        # Exact values; DEL, C1 (CSI), bidi and zero-width characters as \u escapes.
        emit_json([event.to_json() for event in events])
        return 0
    from cockpit.core.incident import describe
    from cockpit.core.sanitize import visible

    for event in events:
        when = event.ts.strftime("%Y-%m-%d %H:%M:%SZ")
        author, kind = visible(event.author, 80), visible(event.kind, 80)
        emit(f"{when}  {author}  {kind}  {visible(describe(event))}")
    return 0
