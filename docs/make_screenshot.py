"""Regenerate docs/screenshot.svg: the cockpit on the demo incident at 160x48.

The sandbox is built with a fixed seed and a fixed "now", and the app runs on a frozen clock,
so the picture changes only when the panes do.

    python docs/make_screenshot.py
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cockpit.commands.demo import ensure_demo_incident
from cockpit.core.config import load_config_file
from cockpit.core.demo import DEFAULT, build_sandbox, read_marker
from cockpit.tui.app import CockpitApp

NOW = datetime(2026, 11, 28, 14, 45, tzinfo=UTC)
OUT = Path(__file__).resolve().parent / "screenshot.svg"


async def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        sandbox = Path(directory)
        build_sandbox(sandbox, seed=7, now=NOW, scenario=DEFAULT, log_mb=8)
        marker = read_marker(sandbox)
        assert marker is not None
        incident_id = ensure_demo_incident(
            sandbox / "cockpit.toml", marker, DEFAULT.name, clock=lambda: NOW
        )
        config = load_config_file(sandbox / "cockpit.toml")
        app = CockpitApp(config, clock=lambda: NOW, incident_id=incident_id)
        async with app.run_test(size=(160, 48)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.press("2", *"status=5", "enter")
            await app.workers.wait_for_complete()
            app.action_show_pane("hypotheses")  # focus is in the search box: digits would type
            await pilot.pause()
            await pilot.press("t")
            await app.workers.wait_for_complete()
            await pilot.pause()
            OUT.write_text(app.export_screenshot(title="cockpit demo"))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
