"""`cockpit export`: the postmortem draft, action items for a tracker, or the whole incident.

    cockpit export postmortem [-o FILE] [--incident ID] [--no-logs] [--redact] [--mode 0600]
    cockpit export actions --format json|csv [-o FILE] [--incident ID] [--redact]
    cockpit export json [-o FILE] [--incident ID] [--redact]

Writes to stdout (every line made inert for a terminal) unless `-o FILE` is given; a file is
created 0600 (or `--mode`), never through a symlink, replacing only a regular file of yours.
`--redact` replaces secrets and personal data with the same redactor, and the same incident
placeholders, as every AI request; if redaction fails nothing is written. Reads only: the
store, and the logs (for the facts of the postmortem) unless `--no-logs`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


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
    parser.add_argument(
        "--redact",
        action="store_true",
        help="replace secrets and personal data with placeholders (the AI path's redactor)",
    )
    parser.add_argument(
        "--mode",
        default="0600",
        metavar="OCTAL",
        help="mode of the file written with -o (default 0600: owner only)",
    )


def run(args: argparse.Namespace) -> int:
    """Export the chosen incident; one line on stderr and exit 2 on any user error."""
    from datetime import UTC, datetime

    from cockpit.commands._common import config_from_args, fail, say_if_offline, store_from_config
    from cockpit.commands.incidents import target_incident
    from cockpit.core.incident import IncidentState
    from cockpit.core.safe_files import parse_mode

    try:
        mode = parse_mode(args.mode)
    except ValueError as exc:
        fail(f"--mode {exc}")
    config = config_from_args(args)
    redactor = None
    with store_from_config(config) as store:
        record = target_incident(store, args.incident, drill=config.cockpit.drill)
        events = store.events(record.id)
        say_if_offline(store)
        if args.redact:
            from cockpit.core.ai.redact import Redactor, config_secret_names

            salt = store.redaction_salt(record.id)  # the incident's placeholders, as the AI's
            redactor = Redactor(extra_secret_names=config_secret_names(config), salt=salt)
    state = IncidentState.from_events(events)
    now = datetime.now(UTC)
    data: Any = None  # the JSON value of a JSON export (redacted value by value)
    if args.what == "json":
        from cockpit.core.review.exports import export_incident

        data = export_incident(record, events)
    elif args.what == "actions" and args.format == "json":
        import json

        from cockpit.core.review.exports import actions_json

        data = json.loads(actions_json(state))
    elif args.what == "actions":
        from cockpit.core.review.exports import actions_csv

        text = actions_csv(state)
    else:
        from cockpit.core.comms.facts import CommsFacts, log_window, read_log_facts
        from cockpit.core.review.postmortem import render_postmortem

        log_facts = None
        if not args.no_logs and config.sources:
            since, until = log_window(state, now)
            log_facts = read_log_facts(config, since, until)
        facts = CommsFacts.from_state(state, now=now, comms=config.comms, log_facts=log_facts)
        text = render_postmortem(state, facts, now=now)
    if redactor is not None:
        from cockpit.core.ai.redact import RedactionError

        try:
            if data is not None:
                data = redactor.redact_json(data)
            elif args.what == "actions":
                text = _redact_csv(text, redactor)
            else:
                text = redactor.redact(text)
        except RedactionError as exc:
            fail(f"redaction failed, nothing exported ({exc})")
    return _deliver(args, record.id, mode, data=data, text=None if data is not None else text)


def _redact_csv(text: str, redactor: Any) -> str:
    """The CSV with every cell redacted (redacting the text whole could eat a delimiter)."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([[redactor.redact(cell) for cell in row] for row in rows])
    return buffer.getvalue()


def _deliver(
    args: argparse.Namespace, incident_id: str, mode: int, *, data: Any, text: str | None
) -> int:
    from cockpit.commands._common import fail
    from cockpit.commands._output import emit, emit_document, emit_json, json_text
    from cockpit.core.safe_files import UnsafeFileError, write_private

    if args.output is None:
        if data is not None:
            emit_json(data)
        else:
            emit_document(text or "")
        return 0
    content = json_text(data, indent=2) + "\n" if data is not None else (text or "")
    try:
        # The user named this file: an earlier export of theirs is replaced, never a symlink,
        # a device or someone else's file.
        write_private(args.output, content, mode=mode, replace=True)
    except UnsafeFileError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{args.output}: cannot write the export ({exc.strerror or exc})")
    emit(f"wrote {args.what} of incident {incident_id} to {args.output} (mode {mode:04o})")
    return 0
