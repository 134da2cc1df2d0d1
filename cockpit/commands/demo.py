"""`cockpit demo`: build the demo incident sandbox and open the cockpit on it.

The sandbox is rebuilt unless DIR already holds one built with the same seed, scenario and
log size whose `now` is either the `--now` given or, without `--now`, less than ten minutes
old (so the incident stays live) or older but with an open incident someone has worked on
(declared, noted...: a rebuild would close it under them). A rebuild keeps the sandbox's
incident store: entries are never lost; a demo incident left open from an older build is
closed with a note saying why.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.commands._args import sandbox_dir, utc_time_arg

REUSE_MINUTES = 10
ALERT_AUTHOR = "alertmanager"
DEMO_AUTHOR = "cockpit-demo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the sandbox location, its inputs and --build-only."""
    from cockpit.core.demo.scenario import SCENARIOS

    parser.description = (
        "Build a deterministic demo incident sandbox (git repo with deploy tags, deploy "
        "histories, rotated logs with an error burst, metrics, cockpit.toml) and open the "
        "cockpit on it. DIR is reused when it holds a sandbox built with the same --seed, "
        "--scenario and --log-mb whose time is the --now given or, without --now, less than "
        f"{REUSE_MINUTES} minutes old, or older with an open incident that has your entries; "
        "otherwise it is rebuilt (its incident store is kept)."
    )
    parser.add_argument(
        "--dir",
        type=Path,
        metavar="DIR",
        help="sandbox folder (default: the per-user cache dir, .../cockpit/demo)",
    )
    parser.add_argument(
        "--seed", type=int, default=7, metavar="N", help="generator seed (default: 7)"
    )
    parser.add_argument(
        "--now",
        type=utc_time_arg,
        metavar="ISO8601",
        help="the incident's 'now' (default: the current time); same inputs, same bytes",
    )
    parser.add_argument(
        "--scenario",
        default="bad-deploy",
        choices=sorted(SCENARIOS),
        help="which incident to simulate (default: bad-deploy)",
    )
    parser.add_argument(
        "--log-mb",
        type=float,
        default=40.0,
        metavar="MB",
        help="uncompressed size of the generated logs in MB (default: 40)",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild even if DIR could be reused"
    )
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="build (or reuse) the sandbox, print its config path and exit",
    )


class _ProgressPrinter:
    """Progress on stderr: one updating line on a terminal, a line per step otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last_step = ""

    def __call__(self, step: str, fraction: float) -> None:
        percent = int(fraction * 100)
        if self.tty:
            sys.stderr.write(f"\r\x1b[Kbuilding demo sandbox: {percent:3d}% {step}")
            if fraction >= 1:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif step != self.last_step:
            print(f"cockpit demo: {percent:3d}% {step}", file=sys.stderr, flush=True)
        self.last_step = step


def _reusable(
    directory: Path,
    marker: dict[str, Any] | None,
    expected: dict[str, Any],
    now_given: datetime | None,
    wall: datetime,
    *,
    any_age: bool = False,
) -> bool:
    from cockpit.core.demo.sandbox import CONFIG_NAME

    if marker is None or not (directory / CONFIG_NAME).is_file():
        return False
    if any(marker.get(key) != value for key, value in expected.items()):
        return False
    try:
        built_for = utc_time_arg(str(marker.get("now")))
    except argparse.ArgumentTypeError:
        return False
    if now_given is not None:
        return built_for == now_given.replace(microsecond=0)
    if any_age:
        return timedelta(0) <= wall - built_for
    return timedelta(0) <= wall - built_for < timedelta(minutes=REUSE_MINUTES)


def _build_id(marker: dict[str, Any]) -> str:
    """Identifies a build (seed, scenario, now, size) without revealing anything of it."""
    return hashlib.sha256(json.dumps(marker, sort_keys=True).encode()).hexdigest()[:16]


def _worked_on(config_path: Path, marker: dict[str, Any]) -> bool:
    """Whether the open incident of this build holds entries by anyone but the demo itself
    (a declaration, a note, a copied command). Any doubt reads as no: the rebuild then
    closes it with a note, as before."""
    from cockpit.core.config import ConfigError, load_config_file
    from cockpit.core.incident import Kind
    from cockpit.core.store import EventStore, StoreError, store_exists

    try:
        config = load_config_file(config_path)
        if not store_exists(config.store_path):
            return False
        with EventStore(config.store_path) as store:
            current = store.current_incident(drill=config.cockpit.drill)
            if current is None:
                return False
            events = store.events(current.id)
    except (ConfigError, StoreError, OSError):
        return False
    build_id = _build_id(marker)
    ours = any(
        e.kind in (Kind.ALERT_FIRED, Kind.ALERT_ATTACHED)
        and e.payload.get("sandbox_build") == build_id
        for e in events
    )
    return ours and any(e.author not in (ALERT_AUTHOR, DEMO_AUTHOR) for e in events)


def run(args: argparse.Namespace) -> int:
    """Build or reuse the sandbox, then open the cockpit on it (or print the config path)."""
    from cockpit.commands._common import fail
    from cockpit.core.demo.sandbox import (
        GENERATOR_VERSION,
        SandboxError,
        build_sandbox,
        read_marker,
        scenario_digest,
    )
    from cockpit.core.demo.scenario import SCENARIOS

    directory = (args.dir or sandbox_dir("demo")).expanduser()
    scenario = SCENARIOS[args.scenario]
    if args.log_mb <= 0:
        fail("--log-mb must be positive")
    wall = datetime.now(UTC)
    now = (args.now or wall).replace(microsecond=0)
    expected = {
        "generator": GENERATOR_VERSION,
        "seed": args.seed,
        "scenario": scenario_digest(scenario),
        "log_mb": args.log_mb,
    }
    marker = read_marker(directory)
    reusable = _reusable(directory, marker, expected, args.now, wall)
    kept = False
    if not (reusable or args.rebuild or args.now) and _reusable(
        directory, marker, expected, None, wall, any_age=True
    ):
        # Older than REUSE_MINUTES, but someone is working its incident: a rebuild would close
        # it under them. The logs stop where they were; --rebuild starts afresh.
        assert marker is not None
        kept = _worked_on(directory / "cockpit.toml", marker)
    if args.rebuild or not (reusable or kept):
        try:
            build_sandbox(
                directory,
                seed=args.seed,
                now=now,
                scenario=scenario,
                log_mb=args.log_mb,
                progress=_ProgressPrinter(),
            )
        except SandboxError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{directory}: cannot build the demo sandbox ({exc.strerror or exc})")
        marker = read_marker(directory)
    elif kept:
        print(
            f"cockpit demo: reusing the sandbox in {directory}: its open incident has your"
            " entries (--rebuild for a fresh one, which closes it)",
            file=sys.stderr,
        )
    else:
        print(f"cockpit demo: reusing the sandbox in {directory}", file=sys.stderr)
    config_path = directory / "cockpit.toml"
    if args.build_only:
        print(config_path)
        return 0
    assert marker is not None
    incident_id = ensure_demo_incident(config_path, marker, scenario.name)
    from cockpit.tui.app import run_tui

    return int(run_tui(config_path, incident_id=incident_id) or 0)


def ensure_demo_incident(
    config_path: Path, marker: dict[str, Any], scenario_name: str, *, clock: Any = None
) -> str:
    """The open demo incident of this build, created with its alert if there is none.

    An incident left open by an older build of the sandbox is closed first, with a note, so the
    cockpit opens on the incident that matches the logs.
    """
    from cockpit.commands._common import fail
    from cockpit.core.alerts.incident import opened_payload
    from cockpit.core.alerts.model import error_rate_alert
    from cockpit.core.config import ConfigError, load_config_file
    from cockpit.core.demo.scenario import SCENARIOS
    from cockpit.core.incident import Kind
    from cockpit.core.store import EventStore, StoreError

    scenario = SCENARIOS[scenario_name]
    build_id = _build_id(marker)
    burst_start = utc_time_arg(str(marker["now"])).replace(second=0) - timedelta(
        minutes=scenario.burst_minutes_before_now
    )
    try:
        config = load_config_file(config_path)
        store = EventStore(config.store_path, **({"clock": clock} if clock else {}))
    except (ConfigError, StoreError) as exc:
        fail(str(exc))
    try:
        current = store.current_incident(drill=config.cockpit.drill)
        if current is not None:
            alerts = [
                e
                for e in store.events(current.id)
                if e.kind in (Kind.ALERT_FIRED, Kind.ALERT_ATTACHED)
            ]
            if any(e.payload.get("sandbox_build") == build_id for e in alerts):
                return current.id
            if alerts:  # opened for an older build of this sandbox
                store.append(
                    current.id,
                    Kind.NOTE_ADDED,
                    {"text": "The demo sandbox was rebuilt; this demo incident is closed."},
                    DEMO_AUTHOR,
                )
                store.close_incident(current.id)
            else:
                return current.id  # someone opened an incident by hand here: respect it
        record = store.create_incident(scenario.title, ALERT_AUTHOR, drill=config.cockpit.drill)
        # The page that opened the incident, as a real alert object (same path as Alertmanager's).
        payload = opened_payload(error_rate_alert(scenario.bad_service, burst_start), ALERT_AUTHOR)
        store.append(
            record.id, Kind.ALERT_ATTACHED, {**payload, "sandbox_build": build_id}, ALERT_AUTHOR
        )
        return record.id
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()
