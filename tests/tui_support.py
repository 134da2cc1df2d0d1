"""Shared helpers for pilot and snapshot tests of the cockpit app."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled, WorkerFailed

from cockpit.core.config import Config, load_config_file
from cockpit.tui.app import CockpitApp

FROZEN_NOW = datetime(2026, 11, 28, 14, 45, tzinfo=UTC)

RUNBOOK = """\
# Incident runbook

## Assess
- Confirm the alert is real: open the error-rate graph
- Check the deploys of the last two hours

## Contain
- Pick the rollback target and check its reason
- A human runs the rollback

## Diagnose
- Verify or refute each hypothesis with evidence

## Fix
- Review every line of the patch

## Verify
- Error rate back under 0.5% for 15 minutes

## Review
- Write the root cause in your own words
"""


def frozen_clock() -> datetime:
    return FROZEN_NOW


def write_config(directory: Path, *, extra: str = "") -> Config:
    """A config in `directory` with its own store and runbook."""
    (directory / "runbook.md").write_text(RUNBOOK)
    path = directory / "cockpit.toml"
    path.write_text(
        '[cockpit]\nstore = "incidents.db"\nrunbook = "runbook.md"\nauthor = "alice"\n' + extra
    )
    return load_config_file(path)


def make_app(config: Config, **kwargs: object) -> CockpitApp:
    return CockpitApp(config, clock=frozen_clock, **kwargs)  # type: ignore[arg-type]


async def workers_done(app: App[Any]) -> None:
    """Wait for the app's workers; one cancelled by a newer exclusive worker is not an error."""
    with contextlib.suppress(WorkerFailed, WorkerCancelled):
        await app.workers.wait_for_complete()


async def settle(pilot: Pilot[Any], rounds: int = 6) -> None:
    """Let workers finish and their messages land, a few rounds deep (write -> read back)."""
    for _ in range(rounds):
        # A failed worker is reported by the app's Worker.StateChanged handler; tests assert that.
        await workers_done(pilot.app)
        await pilot.pause()


def stop_cursor_blink(app: CockpitApp) -> None:
    for widget in app.query(Input):
        widget.cursor_blink = False
