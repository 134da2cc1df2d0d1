"""`cockpit drill`: game-day drills on a synthetic incident, scored afterwards.

    cockpit drill --list
    cockpit drill NAME [--seed N] [--speed X] [--dir DIR] [--build-only]
    cockpit drill debrief [--dir DIR] [--json]

A drill builds the scenario's sandbox (a config with `[cockpit] drill = true` and its own
store), opens a drill incident and runs the cockpit on a drill clock while a background
thread replays the incident: log lines, deploys, and the facilitator's injects on the
timeline. When the cockpit closes, the debrief is written to DIR/debrief.md.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.commands._args import sandbox_dir, utc_time_arg

if TYPE_CHECKING:
    from cockpit.core.drills.scenarios import DrillScenario

DEBRIEF = "debrief"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """NAME (or `debrief`), --list, the sandbox inputs, --speed, --build-only and --json."""
    parser.description = (
        "Run a game-day drill: a synthetic incident replayed live through the cockpit, with "
        "facilitator injects, then a scored debrief. `cockpit drill --list` shows the "
        "scenarios; `cockpit drill debrief` scores the last drill in DIR."
    )
    parser.add_argument(
        "name", nargs="?", metavar="NAME", help="scenario name, or `debrief` after a drill"
    )
    parser.add_argument("--list", action="store_true", help="list the drill scenarios")
    parser.add_argument(
        "--scenarios",
        type=Path,
        metavar="FOLDER",
        help="a folder of your own scenario files (default: the shipped ones)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        metavar="DIR",
        help="sandbox folder (default: the per-user cache dir, .../cockpit/drill)",
    )
    parser.add_argument("--seed", type=int, default=7, metavar="N", help="generator seed")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="X",
        help="drill time runs X times faster than the wall clock (default: 1)",
    )
    parser.add_argument(
        "--now",
        type=utc_time_arg,
        metavar="ISO8601",
        help="the incident's 'now' (default: the current time); same inputs, same bytes",
    )
    parser.add_argument(
        "--log-mb",
        type=float,
        default=20.0,
        metavar="MB",
        help="uncompressed size of the generated logs in MB (default: 20)",
    )
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="build the sandbox, print its config path and exit (no replay, no incident)",
    )
    parser.add_argument("--json", action="store_true", help="debrief as JSON")


def run(args: argparse.Namespace) -> int:
    """List, build, run or debrief."""
    from cockpit.commands._common import fail
    from cockpit.core.drills.scenarios import DrillScenarioError, find_scenario, load_all

    if args.list:
        try:
            scenarios = load_all(args.scenarios)
        except DrillScenarioError as exc:
            fail(str(exc))
        from cockpit.commands._output import emit

        # Scenario files can come from any folder (`--scenarios`): their text is outside text.
        width = max((len(name) for name in scenarios), default=0)
        for name, scenario in scenarios.items():
            emit(f"{name:<{width}}  {scenario.duration_minutes:>3} min  {scenario.description}")
        return 0
    if not args.name:
        fail("name a drill scenario (see `cockpit drill --list`), or `debrief`")
    directory = (args.dir or sandbox_dir("drill")).expanduser()
    if args.name == DEBRIEF:
        return _debrief(directory, as_json=args.json)
    if not 0 < args.speed < 10_000:  # also refuses nan and inf
        fail(f"--speed {args.speed}: expected a number above 0 and below 10000")
    if args.log_mb <= 0:
        fail("--log-mb must be positive")
    try:
        scenario = find_scenario(args.name, args.scenarios)
    except DrillScenarioError as exc:
        fail(str(exc))
    return _run_drill(args, scenario, directory)


def _run_drill(args: argparse.Namespace, scenario: DrillScenario, directory: Path) -> int:
    """Build, open the drill incident, replay in a thread while the cockpit runs, debrief."""
    from cockpit.commands._common import fail
    from cockpit.core.config import load_config_file
    from cockpit.core.demo import SandboxError
    from cockpit.core.drills.runner import (
        DrillClock,
        DrillReplay,
        ReplayThread,
        build_drill,
        open_drill_incident,
    )
    from cockpit.core.store import EventStore

    now = (args.now or datetime.now(UTC)).replace(microsecond=0)
    try:
        info = build_drill(
            directory,
            scenario,
            seed=args.seed,
            now=now,
            log_mb=args.log_mb,
            progress=_progress,
            custom_folder=args.scenarios.resolve() if args.scenarios else None,
        )
    except SandboxError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{directory}: cannot build the drill sandbox ({exc.strerror or exc})")
    if args.build_only:
        print(info.config_path)
        return 0
    from cockpit.tui.app import run_tui

    clock = DrillClock(info.now, args.speed)
    clock.start()
    incident_id = open_drill_incident(info, scenario, speed=args.speed, clock=clock)
    config = load_config_file(info.config_path)
    store = EventStore(config.store_path, clock=clock)
    # About two drill seconds per step, so injects land close to their minute at any speed.
    interval = max(0.05, min(0.5, 2 / args.speed))
    replay = DrillReplay(info, scenario, store, incident_id)
    thread = ReplayThread(replay, clock=clock, interval=interval)
    thread.start()
    try:
        code = int(run_tui(info.config_path, incident_id=incident_id, clock=clock) or 0)
    finally:
        thread.stop()
        store.close()
    if thread.error is not None:
        from cockpit.commands._output import emit_error

        emit_error(f"the drill replay stopped early: {thread.error}")
    from cockpit.core.sanitize import visible

    shown = visible(str(directory))
    print(
        f"cockpit drill: finished; `cockpit drill debrief --dir {shown}` scores it", file=sys.stderr
    )
    _debrief(directory, as_json=False, quiet=True)
    return code


def _progress(step: str, fraction: float) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[Kbuilding drill sandbox: {int(fraction * 100):3d}% {step}")
        if fraction >= 1:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _debrief(directory: Path, *, as_json: bool, quiet: bool = False) -> int:
    """Score the drill in `directory`, write debrief.md there, print it (or its JSON)."""
    from cockpit.commands._common import fail
    from cockpit.core.drills.debrief import DebriefError, debrief_sandbox
    from cockpit.core.drills.runner import DEBRIEF_NAME
    from cockpit.core.drills.scenarios import DrillScenarioError
    from cockpit.core.sanitize import visible

    try:
        report = debrief_sandbox(directory)
    except (DebriefError, DrillScenarioError) as exc:
        if quiet:
            print(f"cockpit: no debrief: {visible(str(exc))}", file=sys.stderr)
            return 2
        fail(str(exc))
    from cockpit.core.safe_files import UnsafeFileError, write_private

    markdown = report.to_markdown()
    path = directory / DEBRIEF_NAME
    try:
        # The cockpit's own file, rewritten each time: 0600, never through a symlink.
        write_private(path, markdown, replace=True)
    except UnsafeFileError as exc:
        print(f"cockpit: {visible(str(exc))}", file=sys.stderr)
    except OSError as exc:
        print(
            f"cockpit: {visible(str(path))}: cannot write the debrief ({exc.strerror})",
            file=sys.stderr,
        )
    if as_json:
        from cockpit.commands._output import emit_json

        emit_json(report.to_json() | {"markdown_path": str(path)})
    elif quiet:
        score = f"{report.score:g}/{report.max_score:g}"
        print(f"cockpit drill: score {score}; debrief: {visible(str(path))}")
    else:
        for line in markdown.splitlines():
            print(visible(line, None))
        print(f"\n(written to {visible(str(path))})")
    return 0
