"""`cockpit note "TEXT"`: append a note to the current incident from any shell.

Made for the pairing partner in another terminal: the note lands on the same event log the
TUI polls, and "saved" is printed only after the commit returned.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the note's text, the incident and the author."""
    parser.add_argument(
        "text",
        nargs="+",
        metavar="TEXT",
        help="the note (several words are joined with spaces; `-` reads it from stdin)",
    )
    parser.add_argument(
        "--incident",
        metavar="ID",
        help="incident id or unique id prefix (default: the current open incident)",
    )
    parser.add_argument(
        "--author", metavar="NAME", help="recorded author (default: from config, else user@host)"
    )


def run(args: argparse.Namespace) -> int:
    """Append one `note.added` event; print "saved: ..." once it is committed."""
    import sys

    from cockpit.commands._common import (
        fail,
        saved_word,
        store_from_config,
        store_settings_from_args,
    )
    from cockpit.commands.incidents import target_incident
    from cockpit.core.kinds import Kind  # not incident.py: no state to fold here
    from cockpit.core.sanitize import visible
    from cockpit.core.store import StoreError

    text = sys.stdin.read() if args.text == ["-"] else " ".join(args.text)
    text = text.strip()
    if not text:
        fail('the note is empty; write it as `cockpit note "TEXT"`')
    config = store_settings_from_args(args)
    author = (args.author or "").strip() or config.author
    try:
        with store_from_config(config) as store:
            incident = target_incident(store, args.incident, drill=config.drill)
            event = store.append(incident.id, Kind.NOTE_ADDED, {"text": text}, author)
            outage = store.sharing().error
    except StoreError as exc:
        fail(str(exc))
    number = "" if event.pending else f" #{event.seq}"
    title = visible(incident.title, 200)
    print(f"{saved_word(event.pending)}: note{number} to incident {incident.id} ({title})")
    if event.pending:
        print(
            f"cockpit: {store.location}: {outage or 'server unreachable'};"
            " the next cockpit command that reaches it shares the note",
            file=sys.stderr,
        )
    return 0
