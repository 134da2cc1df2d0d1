"""`cockpit patterns`: group log lines into templates, headless, like the Logs pane's patterns.

With PATHs (files, directories, globs, .gz included) it reads them ad hoc, no config needed;
without, the config's `[[sources]]` (or, with no config file, what discovery found, as
`cockpit search` does; `--source` picks some). `--match PATTERN` (a regex, as
in `cockpit search`) keeps only the lines it matches; `--since` cuts the window.

The table lists each signature with its count, first and last seen (UTC), NEW when it was
first seen at or after `--new-since` (default: the current incident's start, when there is
one) and its template. `--json` prints one object per signature; `--members` adds the file
and 1-based line number of every line in it. Exit status as `cockpit search`: 0 when lines
were grouped, 1 when nothing matched, 2 on bad input or a failed source (what was read still
prints). Everything printed is outside text and goes through `commands._output`.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cockpit.commands._common import effective_config, fail

if TYPE_CHECKING:
    from cockpit.core.patterns import Signature
    from cockpit.core.search.model import Source

EXIT_MATCH, EXIT_NO_MATCH, EXIT_ERROR = 0, 1, 2
TEMPLATE_CHARS = 2000
"""Characters of a template printed in the table (sanitized; the rest is cut with a marker)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define `cockpit patterns`' arguments."""
    parser.add_argument(
        "paths",
        metavar="PATH",
        nargs="*",
        help="files, directories or globs to read ad hoc (default: the configured sources)",
    )
    parser.add_argument(
        "--match",
        metavar="PATTERN",
        help="group only the lines this regex matches (as in `cockpit search`)",
    )
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="only lines at or after WHEN: a duration ago (15m, 1h, 2d) or ISO time",
    )
    parser.add_argument(
        "--source",
        metavar="NAME",
        action="append",
        default=[],
        help="read only this configured source (repeatable)",
    )
    parser.add_argument(
        "--new-since",
        metavar="WHEN",
        help="mark signatures first seen at or after WHEN as NEW "
        "(default: the current incident's start)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per signature")
    parser.add_argument(
        "--members",
        action="store_true",
        help="with --json: the file and 1-based line of every line of each signature",
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _sources(args: argparse.Namespace) -> tuple[list[Source], datetime | None]:
    """The sources to read, and the current incident's start (None without one)."""
    from cockpit.core.search.engine import adhoc_sources, make_sources

    if args.paths:
        if args.source:
            fail("--source names configured sources; it cannot be combined with PATHs")
        return adhoc_sources(args.paths), None
    config = effective_config(args)
    sources = make_sources(config)
    if not sources:
        where = (
            "in the config"
            if config.source_path is not None
            else "configured or discovered (`cockpit sources` says why)"
        )
        fail(f"no log sources {where}: give PATHs to read, or add [[sources]] to the config")
    if args.source:
        known = {s.name for s in sources}
        unknown = [name for name in args.source if name not in known]
        if unknown:
            fail(f"unknown source {unknown[0]!r} (configured: {', '.join(sorted(known))})")
        sources = [s for s in sources if s.name in args.source]
    return sources, _incident_start(config)


def _incident_start(config: Any) -> datetime | None:
    """When the current incident opened, if the config's store (an SQLite file or a PostgreSQL
    server) has one. Never creates a store."""
    from cockpit.core.config import ConfigError
    from cockpit.core.incident import IncidentState
    from cockpit.core.store import StoreError, store_exists
    from cockpit.core.stores import open_store

    try:
        target = config.store_target
        if not store_exists(target):
            return None
        with open_store(target, mode=config.store_file_mode) as store:
            record = store.current_incident(drill=config.cockpit.drill)
            if record is None:
                return None
            return IncidentState.from_events(store.events(record.id)).opened_at
    except (StoreError, ConfigError) as exc:
        fail(str(exc))


def _clock(moment: datetime | None) -> str:
    from cockpit.core.timefmt import as_utc

    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _row(signature: Signature, new: bool) -> str:
    from cockpit.core.sanitize import visible

    template = visible(signature.template, max_len=TEMPLATE_CHARS)  # cut with a marker
    return (
        f"{signature.count:>9,}  {_clock(signature.first_seen):<19}  "
        f"{_clock(signature.last_seen):<19}  {'NEW' if new else '':<3}  {template}"
    )


def _record(signature: Signature, new: bool, members: bool) -> dict[str, Any]:
    record: dict[str, Any] = signature.to_json(members=members)
    record["new"] = new
    return record


def run(args: argparse.Namespace) -> int:
    """Read the lines, group them, print the signatures; return rg's exit codes."""
    from cockpit.commands._output import emit, emit_error, emit_json, emit_lines
    from cockpit.core.patterns import PatternIndex
    from cockpit.core.search.engine import HitsFound, SearchEvent, run_search
    from cockpit.core.search.matcher import PatternError, validate
    from cockpit.core.search.model import Query
    from cockpit.core.search.timewindow import TimeSpecError, parse_time_spec

    if args.members and not args.json:
        fail("--members lists every line of a signature: use it with --json")
    now = _now()
    try:
        since = parse_time_spec(args.since, now) if args.since else None
        new_since = parse_time_spec(args.new_since, now) if args.new_since else None
    except TimeSpecError as exc:
        fail(str(exc))
    query = Query(args.match if args.match is not None else "", regex=True, since=since)
    try:
        validate(query)
    except PatternError as exc:
        fail(str(exc))
    sources, incident_start = _sources(args)
    if new_since is None:
        new_since = incident_start
    index = PatternIndex(new_since=new_since, keep_members=args.members)

    def on_event(event: SearchEvent) -> None:
        if isinstance(event, HitsFound):
            # A blank line has nothing to group.
            index.add_many(hit for hit in event.hits if hit.text and not hit.text.isspace())

    result = run_search(sources, query, on_event, max_hits=0, lossless=True)
    # Names and messages carry file names, which are outside text too.
    for status in result.statuses.values():
        for warning in status.warnings:
            emit_error(f"warning: {warning}")
        if status.error:
            emit_error(f"error: {status.error}")
    signatures = index.signatures()
    if args.json:
        for signature in signatures:  # one object a line (inert: see `_output.json_text`)
            emit_json(_record(signature, index.is_new(signature), args.members), indent=None)
    elif signatures:
        emit(f"{'count':>9}  {'first seen (UTC)':<19}  {'last seen (UTC)':<19}  new  template")
        emit_lines(_row(signature, index.is_new(signature)) for signature in signatures)
    if index.untracked:
        emit_error(
            f"{index.untracked:,} lines of more distinct shapes than the index tracks "
            "were counted but not grouped"
        )
    if result.errors:
        return EXIT_ERROR
    return EXIT_MATCH if index.total else EXIT_NO_MATCH
