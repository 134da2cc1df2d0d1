"""`cockpit rollback`: ranked rollback candidates with explanations and filled commands.

The commands are printed for a human to check and run; the cockpit never executes them.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cockpit.commands._args import utc_time_arg
from cockpit.commands._common import effective_config, fail

if TYPE_CHECKING:
    from cockpit.core.deploys.rollback import RollbackReport

NOT_EXECUTED = "Commands are printed only: not executed. A human checks and runs them."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", metavar="S", help="only this service")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--now", help=argparse.SUPPRESS)  # ISO time, for tests and benchmarks


def format_report(report: RollbackReport) -> list[str]:
    """The report as text lines; outside text (versions, actors, subjects) made visible-safe."""
    from cockpit.core.deploys.rollback import NO_CORRELATION, pct
    from cockpit.core.sanitize import visible
    from cockpit.core.timefmt import hhmm

    lines: list[str] = []
    for analysis in report.analyses:
        burst = analysis.burst
        ended = f", over since {hhmm(burst.ended_at)} UTC" if burst.ended_at else ""
        lines.append(
            f"{analysis.service}: error burst from {hhmm(burst.onset)} UTC "
            f"({pct(burst.baseline)} -> {pct(burst.peak)}, from {burst.source}{ended}; "
            f"{burst.strength})"
        )
        if analysis.last_good is not None:
            good = analysis.last_good
            lines.append(
                f"  last known-good deploy: {visible(good.label)} at {hhmm(good.time)} UTC "
                f"{good.time:%Y-%m-%d}"
            )
        if analysis.recovery:
            lines.append(f"  recovered: {visible(analysis.recovery, 300)}")
        if burst.ended_at is not None and analysis.recovered_by is None:
            lines.append("  over on its own: nothing to roll back")
        elif not analysis.correlated and not analysis.recovery:
            lines.append(f"  {NO_CORRELATION}")
            if analysis.checked:
                lines.append(f"  checked: {visible('; '.join(analysis.checked), 400)}")
        for rank, candidate in enumerate(analysis.candidates, start=1):
            target = candidate.target
            goal = (
                f"roll back {candidate.service} to {visible(target.label)}"
                + (f" (rev {visible(target.revision)})" if target.revision else "")
                if target
                else f"no earlier {candidate.service} deploy to roll back to"
            )
            flag = "" if candidate.correlated or analysis.ended else "  [weak: not correlated]"
            if candidate.applied is not None:
                flag = "  [done: already rolled back]"
            lines.append(f"  {rank}. {goal}  score {candidate.score:.2f}{flag}")
            lines.append(f"     why: {visible(candidate.explanation, 400)}")
            lines.append(f"     score: {candidate.parts.describe()}")
            for command in candidate.commands:
                tag = "PROD-CHANGING, not executed" if command.prod_changing else "not executed"
                if command.custom:
                    tag = f"custom, {tag}"
                # A custom label is config text: made visible-safe like everything else shown.
                lines.append(
                    f"     {visible(command.label, 100)} ({tag}): {visible(command.text, 400)}"
                )
                if command.missing:
                    lines.append(f"       missing: {', '.join(command.missing)}: fill in by hand")
                if command.note:
                    lines.append(f"       note: {visible(command.note)}")
            if target is not None and not candidate.commands:
                lines.append(
                    f"     no rollback template for {candidate.service}: "
                    "set [services.rollback] command in the config"
                )
    if not report.analyses:
        if report.healthy_services:
            lines.append(
                "no error burst in " + ", ".join(report.healthy_services) + ": nothing to roll back"
            )
        if report.no_data_services:
            lines.append("no health data for " + ", ".join(report.no_data_services))
    for note in report.notes:
        lines.append(f"note: {visible(note)}")
    lines.append(NOT_EXECUTED)
    return lines


def only_service(report: RollbackReport, service: str) -> list[str]:
    """Keep only `service`'s own analysis in `report`; where another failing service has one of
    its deploys as a candidate, say so in one line instead (returned, for the notes; raw text:
    the caller prints it through `emit_lines` or `emit_json`)."""
    elsewhere = []
    for analysis in report.analyses:
        if analysis.service == service:
            continue
        for rank, candidate in enumerate(analysis.candidates, start=1):
            if candidate.service == service:
                elsewhere.append(
                    f"{service}'s deploy {candidate.suspect.label} is candidate {rank}"
                    f" for {analysis.service}'s errors (cockpit rollback --service"
                    f" {analysis.service})"
                )
    report.analyses = [a for a in report.analyses if a.service == service]
    return elsewhere


def run(args: argparse.Namespace) -> int:
    from cockpit.commands._output import emit_error, emit_json, emit_lines
    from cockpit.core.deploys import analyse_rollback

    config = effective_config(args)
    try:
        now = utc_time_arg(args.now) if args.now else datetime.now(UTC)
    except argparse.ArgumentTypeError as exc:
        fail(str(exc))
    listing, report = analyse_rollback(config, now=now, service=args.service)
    elsewhere = only_service(report, args.service) if args.service else []
    if args.json:
        emit_json(report.to_json() | {"note": NOT_EXECUTED, "candidate_elsewhere": elsewhere})
    else:
        lines = format_report(report)
        if args.service and not report.analyses:
            lines.insert(0, f"{args.service}: no error burst of its own")
        emit_lines([*lines[:-1], *(f"note: {line}" for line in elsewhere), lines[-1]])
    for error in report.errors:
        emit_error(error)
    # Nothing could be read at all (no services, every source broken): a usage-level failure.
    return 2 if report.errors and not listing.deploys else 0
