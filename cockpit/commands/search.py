"""`cockpit search`: search logs like rg, across files and every configured source.

With PATHs (files, directories, globs, .gz included) it searches them ad hoc, no config needed.
Without, it searches the config's `[[sources]]` in parallel (`--source` picks some).
The pattern is a regex by default, like rg; `-F/--literal` takes it literally.
Exit status, as rg: 0 when something matched, 1 when nothing did, 2 on an error (a bad
pattern, an unknown source, or a source that failed; its results still print).
"""

from __future__ import annotations

import argparse
import sys

from cockpit.commands._common import effective_config, fail

TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from cockpit.core.search.model import Hit, Source

EXIT_MATCH, EXIT_NO_MATCH, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define `cockpit search`'s arguments."""
    parser.add_argument("pattern", metavar="PATTERN", help="regex (default) or literal with -F")
    parser.add_argument(
        "paths",
        metavar="PATH",
        nargs="*",
        help="files, directories or globs to search ad hoc (no config needed)",
    )
    parser.add_argument(
        "--since",
        metavar="TIME",
        help="only lines at or after TIME: a duration ago (15m, 1h, 2d) or ISO time",
    )
    parser.add_argument("--until", metavar="TIME", help="only lines before TIME (same forms)")
    parser.add_argument(
        "--source",
        metavar="NAME",
        action="append",
        default=[],
        help="search only this configured source (repeatable)",
    )
    parser.add_argument(
        "--service",
        metavar="S",
        action="append",
        default=[],
        help="search only sources of this service (repeatable)",
    )
    parser.add_argument("-i", "--ignore-case", action="store_true", help="case-insensitive")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument(
        "--regex",
        dest="literal",
        action="store_false",
        help="PATTERN is a regex (the default, as in rg)",
    )
    kind.add_argument(
        "-F", "--literal", dest="literal", action="store_true", help="PATTERN is a literal string"
    )
    parser.add_argument(
        "-c",
        "--count",
        action="store_true",
        help="print the number of matching lines per source and the total",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="JSON output: one object per hit, or one object with --count",
    )
    parser.add_argument(
        "--max", type=int, metavar="N", default=None, help="stop after printing N hits"
    )
    parser.set_defaults(literal=False)


def _now() -> datetime:
    from datetime import UTC, datetime  # only for --since/--until: `--count PATH` needs none

    return datetime.now(UTC)


def _choose_sources(args: argparse.Namespace) -> list[Source]:
    from cockpit.core.search.engine import adhoc_sources, make_sources

    if args.paths:
        if args.source:
            fail("--source names configured sources; it cannot be combined with PATHs")
        if args.service:
            fail("--service picks configured sources; it cannot be combined with PATHs")
        return adhoc_sources(args.paths)
    config = effective_config(args)
    sources = make_sources(config)
    if not sources:
        where = (
            "in the config"
            if config.source_path is not None
            else "configured or discovered (`cockpit sources` says why)"
        )
        fail(f"no log sources {where}: give PATHs to search, or add [[sources]] to the config")
    if args.source:
        known = {s.name for s in sources}
        unknown = [name for name in args.source if name not in known]
        if unknown:
            fail(f"unknown source {unknown[0]!r} (configured: {', '.join(sorted(known))})")
    if args.service:
        # Checked against every configured source, before --source narrows them.
        services = {s.service for s in sources if s.service is not None}
        unknown = [name for name in args.service if name not in services]
        if unknown:
            listed = ", ".join(sorted(services)) if services else "no source names a service"
            fail(f"unknown service {unknown[0]!r} (known: {listed})")
    if args.source:
        sources = [s for s in sources if s.name in args.source]
    return sources


def _clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _format_hit(hit: Hit) -> str:
    from cockpit.commands._output import safe_line

    where = f"{hit.file}:{hit.line_no}" if hit.file is not None else hit.source
    return safe_line(f"{where}:{hit.text}")


def _hit_json(hit: Hit) -> str:
    from cockpit.commands._output import json_text

    record: dict[str, Any] = {
        "source": hit.source,
        "service": hit.service,
        "file": hit.file,
        "line": hit.line_no,
        "ts": hit.ts.isoformat().replace("+00:00", "Z") if hit.ts else None,
        "text": hit.text,
    }
    return json_text(record)


def run(args: argparse.Namespace) -> int:
    """Run the search; print hits or counts; return rg's exit codes."""
    import threading

    from cockpit.core.search.engine import HitsFound, SearchEvent, run_search
    from cockpit.core.search.matcher import (
        PatternError,
        confirm_checked,
        leave_check_to_rg,
        validate,
    )
    from cockpit.core.search.model import Query

    since = until = None
    if args.since or args.until:
        from cockpit.core.search.timewindow import TimeSpecError, parse_time_spec

        now = _now()
        try:
            since = parse_time_spec(args.since, now) if args.since else None
            until = parse_time_spec(args.until, now) if args.until else None
        except TimeSpecError as exc:
            fail(str(exc))
    if since is not None and until is not None and since >= until:
        fail(
            f"--since {args.since} ({_clock(since)}) is not before --until {args.until} "
            f"({_clock(until)}): the time window is empty"
        )
    if args.max is not None and args.max < 0:
        fail("--max must be 0 or more")
    query = Query(
        args.pattern,
        regex=not args.literal,
        ignore_case=args.ignore_case,
        since=since,
        until=until,
        services=frozenset(args.service) if args.service else None,
    )
    # Counting files named on the command line: the counting rg checks the regex itself (one
    # process fewer at start-up), and rg's verdict is asked after the search only if none ran.
    left_to_rg = False
    try:
        if args.count and args.paths and not (args.source or args.service):
            left_to_rg = leave_check_to_rg(query)
        else:
            validate(query)
    except PatternError as exc:
        fail(str(exc))
    sources = _choose_sources(args)

    out = sys.stdout
    cancel = threading.Event()
    printed = 0

    def on_event(event: SearchEvent) -> None:
        nonlocal printed
        if not isinstance(event, HitsFound) or cancel.is_set():
            return
        lines = []
        for hit in event.hits:
            if args.max is not None and printed >= args.max:
                cancel.set()
                break
            lines.append(_hit_json(hit) if args.json else _format_hit(hit))
            printed += 1
        if lines:
            out.write("\n".join(lines) + "\n")
            out.flush()

    try:
        result = run_search(
            sources,
            query,
            None if args.count else on_event,
            cancel,
            max_hits=0,
            count_only=args.count,
            lossless=True,
        )
    except BaseException:
        if left_to_rg:
            confirm_checked(query, check=False)  # interrupted: nothing to say about the regex
        raise
    if left_to_rg:
        try:
            confirm_checked(query)
        except PatternError as exc:
            fail(str(exc))  # what each source said about it is moot
    from cockpit.commands._output import emit_error, emit_json
    from cockpit.core.sanitize import visible

    # Names and messages carry file names, which are outside text too.
    for status in result.statuses.values():
        for warning in status.warnings:
            emit_error(f"warning: {visible(warning)}")
        if status.error:
            emit_error(f"error: {visible(status.error)}")
    if args.count:
        counts = {name: status.count for name, status in result.statuses.items()}
        if args.json:
            emit_json({"total": result.total, "sources": counts}, indent=None)
        else:
            shown = {visible(name, max_len=200): count for name, count in counts.items()}
            width = max((len(name) for name in shown), default=0)
            for name, count in shown.items():
                print(f"{name:<{width}}  {count}")
            print(f"{'total':<{width}}  {result.total}")
    if result.errors:
        return EXIT_ERROR
    return EXIT_MATCH if result.total > 0 or printed > 0 else EXIT_NO_MATCH
