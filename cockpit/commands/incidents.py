"""`cockpit incidents`: list incidents, open one headless with `--new TITLE`, or `--rename`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.core.config_file import StoreSettings
    from cockpit.core.incident import IncidentState
    from cockpit.core.store import IncidentRecord, IncidentStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the listing options and `--new`."""
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.add_argument("--all", action="store_true", help="include closed incidents")
    parser.add_argument(
        "--new", metavar="TITLE", help="open a new incident with this title and print its id"
    )
    parser.add_argument(
        "--drill", action="store_true", help="with --new: open it as a game-day drill"
    )
    parser.add_argument(
        "--rename",
        metavar="TITLE",
        help="rename the current incident (or --incident ID); recorded on its timeline",
    )
    parser.add_argument(
        "--incident", metavar="ID", help="with --rename: incident id or unique id prefix"
    )


def run(args: argparse.Namespace) -> int:
    """List incidents, or open one and print its id."""
    from cockpit.commands._common import (
        fail,
        say_if_offline,
        store_from_config,
        store_settings_from_args,
    )
    from cockpit.core.store import StoreError

    if args.drill and args.new is None:
        fail("--drill only goes with --new TITLE")
    if args.incident and args.rename is None:
        fail("--incident only goes with --rename TITLE")
    if args.new is not None and args.rename is not None:
        fail("--new and --rename do not go together")
    config = store_settings_from_args(args)
    try:
        with store_from_config(config) as store:
            if args.new is not None:
                drill = args.drill or config.drill
                return _open_incident(store, args.new, config.author, drill)
            if args.rename is not None:
                return _rename_incident(store, args.incident, args.rename, config)
            records = store.incidents()
            current = store.current_incident(drill=config.drill)
            shown = [r for r in records if args.all or r.is_open]
            states = {r.id: _state(store, r.id) for r in shown}
            say_if_offline(store)
    except StoreError as exc:
        fail(str(exc))
    from cockpit.commands._output import emit, emit_json

    if args.json:
        rows = [
            _as_json(r, states[r.id], current is not None and r.id == current.id) for r in shown
        ]
        # Titles are outside text: DEL, C1, bidi and zero-width characters as \u escapes.
        emit_json(rows)
    elif not shown:
        scope = "incidents" if args.all else "open incidents"
        hint = "" if args.all else " (--all includes closed ones)"
        emit(f"no {scope} in {store.location}{hint}")
    else:
        for record in shown:
            is_current = current is not None and record.id == current.id
            emit(_as_line(record, states[record.id], is_current))
    return 0


def _state(store: IncidentStore, incident_id: str) -> IncidentState:
    """The incident as its events say: status (resolved is resolved), severity, phase."""
    from cockpit.core.incident import IncidentState

    return IncidentState.from_events(store.events(incident_id))


def _status(record: IncidentRecord, state: IncidentState) -> str:
    """`resolved`, `contained`, `declared`, `open`; `closed` once the store closed it."""
    return state.status.value if record.is_open else "closed"


def _open_incident(store: IncidentStore, title: str, author: str, drill: bool) -> int:
    from cockpit.commands._common import fail
    from cockpit.core.sanitize import visible

    title = title.strip()
    if not title:
        fail('the incident title is empty; use `cockpit incidents --new "TITLE"`')
    record = store.create_incident(title, author, drill=drill)  # StoreError: caller's one line
    # stdout carries only the id, for `ID=$(cockpit incidents --new ...)`; the rest to stderr.
    print(record.id)
    import sys

    from cockpit.commands._common import saved_word

    kind = "drill" if drill else "incident"
    said = saved_word(record.pending)
    print(f"{said}: opened {kind} {record.id} ({visible(record.title, 200)})", file=sys.stderr)
    return 0


def _rename_incident(
    store: IncidentStore, ref: str | None, title: str, config: StoreSettings
) -> int:
    from cockpit.commands._common import fail
    from cockpit.core.incident import Kind
    from cockpit.core.sanitize import visible

    title = title.strip()
    if not title:
        fail('the new title is empty; use `cockpit incidents --rename "TITLE"`')
    record = target_incident(store, ref, drill=config.drill)
    payload = {"title": title, "previous": record.title}
    event = store.append(record.id, Kind.RENAMED, payload, config.author)  # commits first
    from cockpit.commands._common import saved_word

    number = "" if event.pending else f" #{event.seq}"
    print(
        f"{saved_word(event.pending)}: renamed incident {record.id}{number}: "
        f"{visible(record.title, 200)} -> {visible(str(event.payload.get('title', title)), 200)}"
    )
    return 0


def _as_json(record: IncidentRecord, state: IncidentState, current: bool) -> dict[str, Any]:
    from cockpit.core.store import format_ts

    return {
        "id": record.id,
        "title": record.title,
        "opened_at": format_ts(record.created_at),
        "opened_by": record.created_by,
        "status": _status(record, state),
        "severity": state.severity if state.declared else None,
        "phase": state.phase.value,
        "closed_at": format_ts(record.closed_at) if record.closed_at else None,
        "drill": record.drill,
        "current": current,
    }


def _as_line(record: IncidentRecord, state: IncidentState, current: bool) -> str:
    """`* 3f2a9c1b7d0e  2026-11-28 14:31Z  resolved   SEV2  Review    checkout 500s [drill]`:
    status and phase side by side, in the words the cockpit's header uses."""
    from cockpit.core.sanitize import visible

    marker = "*" if current else " "
    opened = record.created_at.strftime("%Y-%m-%d %H:%MZ")
    severity = (state.severity or "-") if state.declared else "-"
    drill = "  [drill]" if record.drill else ""
    return (
        f"{marker} {record.id}  {opened}  {_status(record, state):<9}  {visible(severity, 8):<4}"
        f"  {state.phase.title:<8}  {visible(record.title, 200)}{drill}"
    )


def target_incident(
    store: IncidentStore, ref: str | None, *, drill: bool, hint: str | None = None
) -> IncidentRecord:
    """The incident named by `--incident` (id or unique prefix), else the current open one.

    Exits with one line when there is none, so `note` and `timeline` fail the same way;
    `hint` replaces the default advice on what to do then.
    """
    from cockpit.commands._common import fail
    from cockpit.core.sanitize import visible
    from cockpit.core.store import StoreError

    if ref:
        try:
            found = store.find_incident(ref)
        except StoreError as exc:
            fail(str(exc))
        if found is None:
            listing = "`cockpit incidents --all` lists them"
            where = f"{store.location}{_offline(store)}"
            fail(f"no incident '{visible(ref, 80)}' in {where}; {listing}")
        return found
    current = store.current_incident(drill=drill)
    if current is None:
        what = "open drill" if drill else "open incident"
        advice = hint or "open one with `cockpit incidents --new TITLE` or `cockpit`"
        fail(f"no {what} in {store.location}{_offline(store)}; {advice}")
    return current


def _offline(store: IncidentStore) -> str:
    """Why a shared store may not know an incident: only this machine's copy was looked in."""
    from cockpit.core.sanitize import visible

    sharing = store.sharing()
    if not sharing.shared or sharing.online:
        return ""
    reason = visible(sharing.error or "server unreachable", 200)
    return (
        f" as this machine last read it ({reason}: an incident it never read is not"
        " known here until the server answers)"
    )
