"""`cockpit deploys`: recent deploys from the configured sources, or from any git repo."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.commands._common import effective_config, fail

if TYPE_CHECKING:
    from cockpit.core.deploys.model import DeployListing

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `12h`, `30m`, `2w` before `now`, or an ISO date/time (UTC if no offset).

    Raises ArgumentTypeError (one line, naming `--since`) for anything else or a duration
    further back than `MAX_LOOKBACK`.
    """
    from cockpit.core.search.timewindow import TimeSpecError, lookback

    match = _DURATION.match(text.strip())
    if match:
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        try:
            return now - lookback(seconds, f"--since {text!r}")
        except TimeSpecError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--since {text!r}: expected a duration like 7d, 12h, 30m or an ISO date"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", metavar="S", help="only this service")
    parser.add_argument(
        "--since",
        default="7d",
        metavar="WHEN",
        help="how far back: 7d (default), 12h, 30m, or an ISO date",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--repo",
        type=Path,
        metavar="PATH",
        help="list deploys of any git repository, no config needed",
    )
    parser.add_argument(
        "--tag-pattern",
        metavar="GLOB",
        help="deploy tag glob with --repo (default deploy/*/*; `*` stops at `/`)",
    )
    parser.add_argument("--limit", type=int, default=200, help="most deploys to list (200)")


def format_listing(listing: DeployListing) -> list[str]:
    """The deploys as aligned text lines, every outside string made visible-safe."""
    from cockpit.core.sanitize import visible
    from cockpit.core.timefmt import iso_utc

    header = ("TIME (UTC)", "SERVICE", "SHA", "VERSION", "REV", "ACTOR", "STATUS", "SOURCE")
    rows = [header]
    subjects = [""]
    for deploy in listing.deploys:
        rows.append(
            (
                iso_utc(deploy.time).replace("T", " ").removesuffix("Z"),
                visible(deploy.service, 24),
                deploy.short_sha or "-",
                visible(deploy.version or "-", 24),
                visible(deploy.revision or "-", 8),
                visible(deploy.actor or "-", 20),
                visible(deploy.status or "-", 12),
                "+".join(deploy.all_sources),
            )
        )
        subjects.append(visible(deploy.subject or "", 72))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row, subject in zip(rows, subjects, strict=True):
        cells = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append(f"{cells}  {subject}".rstrip())
    return lines


def run(args: argparse.Namespace) -> int:
    from cockpit.core.deploys import list_deploys, list_repo_deploys

    now = datetime.now(UTC)
    try:
        since = parse_since(args.since, now)
    except argparse.ArgumentTypeError as exc:
        fail(str(exc))
    if args.repo is not None:
        listing = list_repo_deploys(
            args.repo, tag_pattern=args.tag_pattern, since=since, limit=args.limit
        )
        if args.service:
            listing.deploys = [d for d in listing.deploys if d.service == args.service]
    else:
        if args.tag_pattern:
            fail("--tag-pattern needs --repo PATH (configured services set tag_pattern in config)")
        config = effective_config(args)
        listing = list_deploys(config, service=args.service, since=since, limit=args.limit)
    from cockpit.commands._output import emit, emit_error, emit_json, emit_lines

    if args.json:
        emit_json(
            {
                "deploys": [d.to_json() for d in listing.deploys],
                "notes": listing.notes,
                "errors": listing.errors,
            }
        )
    else:
        from cockpit.core.sanitize import visible

        if listing.deploys:
            emit_lines(format_listing(listing))
        else:
            emit("no deploys found" + (f" since {args.since}" if args.since else ""))
            if since is not None and not listing.errors:
                # A checkout whose last change is older than the window lists nothing: say
                # what is there, so nobody concludes the history is empty.
                everything = (
                    list_repo_deploys(args.repo, tag_pattern=args.tag_pattern, limit=1)
                    if args.repo is not None
                    else list_deploys(config, service=args.service, limit=1)
                )
                if everything.deploys:
                    newest = everything.deploys[0].time
                    emit(
                        f"note: the newest is older, {newest:%Y-%m-%d %H:%M} UTC: "
                        f"--since {max(2, (now - newest).days + 1)}d lists it"
                    )
        for note in listing.notes:
            emit(f"note: {visible(note)}")
    for error in listing.errors:
        emit_error(error)
    return 2 if listing.errors and not listing.deploys else 0
