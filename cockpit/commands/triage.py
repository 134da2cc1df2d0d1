"""`cockpit triage`: the read-only triage report, for scripts and for pasting into chat.

Recent deploys with SHAs and times, error patterns of the window, the five most likely
rollback targets and hypotheses (heuristic; with `--ai` the model's too), all UNVERIFIED.
Nothing is executed. With `--ai`, tool calls are recorded on the current incident's timeline
when there is one, and redaction placeholders use the incident's salt, so they match the
cockpit's and every other run's on that incident (without one, they are this run's alone).
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from cockpit.commands._args import utc_time_arg
from cockpit.commands._common import effective_config, fail

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EARLIEST_NOW, _LATEST_NOW = 1970, 9000
"""Years a hidden `--now` may fall in."""


def parse_window(text: str) -> timedelta:
    """`90m`, `1h`, `2d` -> timedelta; raises ValueError with the expected form, or when the
    window reaches further back than `MAX_LOOKBACK`."""
    from cockpit.core.search.timewindow import lookback

    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"--since {text!r}: expected a duration like 30m, 1h or 2d")
    return lookback(int(match.group(1)) * _UNIT_SECONDS[match.group(2)], f"--since {text!r}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", default="1h", metavar="DURATION", help="window (default 1h)")
    parser.add_argument(
        "--ai", action="store_true", help="also ask the model (needs ANTHROPIC_API_KEY)"
    )
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print JSON")
    form.add_argument("--markdown", action="store_true", help="print Markdown")
    parser.add_argument("--now", help=argparse.SUPPRESS)  # ISO time, for tests and drills


NOT_RECORDED = (
    "cockpit: no open incident: the model's tool calls are not recorded"
    ' (open one with `cockpit open --new "TITLE"`)'
)


def _recorder(config: Any) -> tuple[Any, Any, Any]:
    """(record, store_reader, redactor) on the current incident; without one, record is a
    no-op (said once on stderr) and the redactor uses this process's salt."""
    from cockpit.core.ai.redact import Redactor, config_secret_names
    from cockpit.core.config import ConfigError
    from cockpit.core.store import StoreError, store_exists
    from cockpit.core.stores import open_store

    names = config_secret_names(config)
    record = None
    try:
        target = config.store_target
    except ConfigError as exc:
        fail(str(exc))
    if store_exists(target):
        try:
            store = open_store(target, mode=config.store_file_mode)
            record = store.current_incident(drill=config.cockpit.drill)
            if record is None:
                store.close()
        except StoreError as exc:
            fail(str(exc))
    if record is None:
        print(NOT_RECORDED, file=sys.stderr)
        return (lambda kind, payload: None), None, Redactor(extra_secret_names=names)
    incident_id = record.id
    try:
        salt = store.redaction_salt(incident_id)
    except StoreError as exc:
        fail(str(exc))

    def append(kind: str, payload: dict[str, Any]) -> None:
        store.append(incident_id, kind, payload, config.author)

    redactor = Redactor(extra_secret_names=names, salt=salt)
    return append, (lambda: store.events(incident_id)), redactor


def run(args: argparse.Namespace) -> int:
    from cockpit.commands._output import emit_error, emit_json, emit_lines
    from cockpit.core.ai.triage import SkillError, gather, load_skills

    config = effective_config(args)
    try:
        window = parse_window(args.since)
        now = utc_time_arg(args.now) if args.now else datetime.now(UTC)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        fail(str(exc))
    if not _EARLIEST_NOW <= now.year <= _LATEST_NOW:
        # The window and its baseline are read around `now`: keep them inside the calendar.
        fail(f"--now {args.now!r}: expected a time between {_EARLIEST_NOW} and {_LATEST_NOW}")
    if args.ai:
        try:
            load_skills(config)
        except SkillError as exc:
            fail(str(exc))
    report = gather(config, now=now, window=window)
    if args.ai:
        import asyncio

        from cockpit.core.ai.loop import api_key
        from cockpit.core.ai.triage import run_ai

        if api_key() is None:
            report.ai_status = "no ANTHROPIC_API_KEY: heuristic hypotheses only (offline)"
        else:
            record, store_reader, redactor = _recorder(config)
            from cockpit.commands._output import stream_text

            stream = not (args.json or args.markdown) and sys.stderr.isatty()
            # The model's text may echo a hostile log line: escapes are shown, never obeyed.
            on_text = stream_text if stream else None
            outcome = asyncio.run(
                run_ai(
                    report,
                    config,
                    record=record,
                    store_reader=store_reader,
                    on_text=on_text,
                    redactor=redactor,
                )
            )
            if outcome.status != "done":
                emit_error(f"AI: {outcome.message}")
    if args.json:
        emit_json(report.to_json(), default=str)
    else:
        emit_lines(report.lines(markdown=args.markdown))
    if args.json:  # the text and Markdown forms list the problems themselves
        for problem in report.problems:
            emit_error(problem)
    return 0
