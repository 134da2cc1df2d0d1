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
    parser.add_argument(
        "--kind",
        action="append",
        default=[],
        metavar="KIND",
        help="only events of this kind: a full kind (note.added) or its first part (note,"
        " incident); repeat for several; -KIND (--kind=-search) leaves a kind out",
    )
    parser.add_argument(
        "--no-fold",
        action="store_true",
        help="one line per event (by default neighbouring repeats fold into one, with a count)",
    )


def run(args: argparse.Namespace) -> int:
    """Print the timeline of the chosen incident."""
    from cockpit.commands._common import (
        fail,
        say_if_offline,
        store_from_config,
        store_settings_from_args,
    )
    from cockpit.commands.incidents import target_incident
    from cockpit.core.store import StoreError

    config = store_settings_from_args(args)
    hint = "pass --incident ID for a closed one (`cockpit incidents --all` lists them)"
    try:
        with store_from_config(config) as store:
            incident = target_incident(store, args.incident, drill=config.drill, hint=hint)
            events = store.events(incident.id)
            say_if_offline(store)
    except StoreError as exc:
        fail(str(exc))
    from cockpit.commands._output import emit, emit_json
    from cockpit.core.timeline import TimelineRow, filter_kinds, fold_repeats, unknown_kinds

    include = [kind for kind in args.kind if not kind.startswith("-")]
    exclude = [kind[1:] for kind in args.kind if kind.startswith("-")]
    unknown = unknown_kinds([*include, *exclude], events)
    if unknown:
        present = ", ".join(sorted({event.kind for event in events})) or "none"
        fail(f"--kind {unknown[0]!r}: no such event kind (kinds in this incident: {present})")
    events = filter_kinds(events, include, exclude)

    if args.json:
        # Exact values; DEL, C1 (CSI), bidi and zero-width characters as \u escapes.
        emit_json([event.to_json() for event in events])
        return 0
    from cockpit.core.incident import describe
    from cockpit.core.sanitize import visible

    rows = [TimelineRow(event, event) for event in events] if args.no_fold else fold_repeats(events)
    for row in rows:
        event = row.last
        when = event.ts.strftime("%Y-%m-%d %H:%M:%SZ")
        author, kind = visible(event.author, 80), visible(event.kind, 80)
        emit(f"{when}  {author}  {kind}  {visible(describe(event))}{row.repeats()}")
    return 0
