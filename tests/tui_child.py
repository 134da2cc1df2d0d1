"""A real cockpit TUI (headless) in its own process, for pairing tests and the benchmark.

    python tests/tui_child.py CONFIG INCIDENT_ID|-

Prints `ready <incident id>` once the incident is open (`-` opens a new one), then
`seen <text> <time>` the first time a note shows in its state, and `committed <text> <time>`
when a note of its own is shared. Each `write <text>` line on stdin adds a note through the
app (the same path as the `n` key); end of input quits.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from cockpit.core.config import load_config_file
from cockpit.core.incident import Kind
from cockpit.tui.app import CockpitApp, EventsArrived, EventSaved


def say(text: str) -> None:
    """One line on the real stdout, past the app's capture of print()."""
    os.write(1, (text + "\n").encode())


class ReportingCockpit(CockpitApp):
    """Says when notes are committed and seen; event-driven, no polling loop of its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: set[str] = set()

    def on_event_saved(self, message: EventSaved) -> None:
        if not message.event.pending:
            say(f"committed {message.event.payload.get('text')} {time.time()}")
        super().on_event_saved(message)

    def on_events_arrived(self, message: EventsArrived) -> None:
        super().on_events_arrived(message)
        for note in self.state.notes if self.state else ():
            if note.text not in self.seen:
                self.seen.add(note.text)
                say(f"seen {note.text} {time.time()}")


async def main(config_path: str, incident: str) -> None:
    config = load_config_file(Path(config_path))
    if incident == "-":
        app = ReportingCockpit(config, new_incident_title="pairing")
    else:
        app = ReportingCockpit(config, incident_id=incident)
    done = asyncio.Event()
    async with app.run_test(size=(80, 24)) as pilot:
        while app.state is None:
            await pilot.pause(0.01)
        loop = asyncio.get_running_loop()

        def read_commands() -> None:
            for line in sys.stdin:
                if line.startswith("write "):
                    text = line.strip()[len("write ") :]
                    app.call_from_thread(app.record, Kind.NOTE_ADDED, {"text": text}, None)
            loop.call_soon_threadsafe(done.set)

        threading.Thread(target=read_commands, daemon=True).start()
        say(f"ready {app.state.incident_id}")
        await done.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
