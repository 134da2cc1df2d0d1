"""`cockpit export`: the postmortem draft, action items for a tracker, or the whole incident.

    cockpit export postmortem [-o FILE] [--incident ID] [--no-logs]
    cockpit export actions --format json|csv [-o FILE] [--incident ID]
    cockpit export json [-o FILE] [--incident ID]

Writes to stdout unless `-o FILE` is given. Reads only: the store, and the logs (for the facts
of the postmortem) unless `--no-logs`.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare what to export, where, and from which incident."""
    parser.add_argument(
        "what",
        choices=("postmortem", "actions", "json"),
        help="postmortem: Markdown draft; actions: action items; json: the whole incident",
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout"
    )
    parser.add_argument(
        "--incident",
        metavar="ID",
        help="incident id or unique id prefix (default: the current open incident)",
    )
    parser.add_argument(
        "--format",
        choices=("json", "csv"),
        default="json",
        help="format of `actions` (default: json)",
    )
    parser.add_argument(
        "--no-logs",
        action="store_true",
        help="postmortem: do not read the logs for the start time and share of requests",
    )


def run(args: argparse.Namespace) -> int:
    """Export the chosen incident; one line on stderr and exit 2 on any user error."""
    from datetime import UTC, datetime

    from cockpit.commands._common import config_from_args, fail, store_from_config
    from cockpit.commands.incidents import target_incident
    from cockpit.core.incident import IncidentState

    config = config_from_args(args)
    with store_from_config(config) as store:
        record = target_incident(store, args.incident, drill=config.cockpit.drill)
        events = store.events(record.id)
    state = IncidentState.from_events(events)
    now = datetime.now(UTC)
    if args.what == "json":
        import json

        from cockpit.core.review.exports import export_incident

        text = json.dumps(export_incident(record, events), indent=2, ensure_ascii=True) + "\n"
    elif args.what == "actions":
        from cockpit.core.review.exports import actions_csv, actions_json

        text = actions_csv(state) if args.format == "csv" else actions_json(state)
    else:
        from cockpit.core.comms.facts import CommsFacts, log_window, read_log_facts
        from cockpit.core.review.postmortem import render_postmortem

        log_facts = None
        if not args.no_logs and config.sources:
            since, until = log_window(state, now)
            log_facts = read_log_facts(config, since, until)
        facts = CommsFacts.from_state(state, now=now, comms=config.comms, log_facts=log_facts)
        text = render_postmortem(state, facts, now=now)
    if args.output is None:
        print(text, end="")
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{args.output}: cannot write the export ({exc.strerror})")
    print(f"wrote {args.what} of incident {record.id} to {args.output}")
    return 0
