"""Snapshot tests of the key layouts at 80x24 and 160x48, with the clock frozen.

Regenerate after an intended change: `pytest tests/test_tui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from cockpit.core.incident import Kind
from cockpit.core.store import EventStore
from tests.tui_support import frozen_clock, make_app, settle, stop_cursor_blink, write_config


def seeded_app(tmp_path: Path) -> Any:
    """An incident with a few events of every kind, all stamped with the frozen clock."""
    config = write_config(tmp_path)
    store = EventStore(config.store_path, clock=frozen_clock)
    incident = store.create_incident("Checkout: elevated 5xx errors", "alertmanager")
    store.append(
        incident.id, "alert.fired", {"summary": "checkout 5xx ratio 31% > 5%"}, "alertmanager"
    )
    store.append(
        incident.id, Kind.DECLARED, {"severity": "SEV2", "detail": "30% of checkouts"}, "alice"
    )
    store.append(
        incident.id,
        Kind.ITEM_CHECKED,
        {"phase": "assess", "item": "Check the deploys of the last two hours", "checked": True},
        "alice",
    )
    store.append(
        incident.id,
        Kind.NOTE_ADDED,
        {"text": "burst began 3 min after deploy \x1b[2J [@click=app.quit]"},
        "bob",
    )
    store.close()
    return make_app(config)


async def _ready(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    stop_cursor_blink(pilot.app)  # type: ignore[arg-type]
    await pilot.pause()


def test_phases_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(seeded_app(tmp_path), terminal_size=(80, 24), run_before=_ready)


def test_timeline_80x24(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _ready(pilot)
        await pilot.press("6")
        await _ready(pilot)

    assert snap_compare(seeded_app(tmp_path), terminal_size=(80, 24), run_before=run_before)


def test_copy_notice_80x24(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _ready(pilot)
        pilot.app.copy_command(  # type: ignore[attr-defined]
            "kubectl rollout undo deployment/checkout -n prod --to-revision=41", "rollback command"
        )
        await _ready(pilot)

    assert snap_compare(seeded_app(tmp_path), terminal_size=(80, 24), run_before=run_before)


def test_all_panes_160x48(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(seeded_app(tmp_path), terminal_size=(160, 48), run_before=_ready)
