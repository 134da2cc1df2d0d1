"""Pairing latency: how long after a partner's commit the cockpit shows the partner's entry.

A real cockpit app (headless, its own `PRAGMA data_version` poll, nothing called by hand) has
an incident open; a second process appends notes through the EventStore API, one per round,
and reports each commit's timestamp. The cockpit side polls its own state every 5 ms and
records commit-to-visible. Medians and the worst case over many rounds, because this machine
is shared and noisy. The target is one second; the poll interval (0.25 s) is the floor.

    python bench/bench_pairing.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cockpit.core.config import load_config_file
from cockpit.tui.app import POLL_SECONDS, CockpitApp

PARTNER = """
import json, sys
from pathlib import Path
from cockpit.core.store import EventStore
store = EventStore(Path(sys.argv[1]))
for line in sys.stdin:
    event = store.append(sys.argv[2], "note.added", {"text": line.strip()}, "bob@laptop")
    print(json.dumps({"ts": event.ts.timestamp()}), flush=True)
"""


async def measure(rounds: int) -> list[float]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "cockpit.toml"
        path.write_text('[cockpit]\nstore = "incidents.db"\nauthor = "alice@bastion"\n')
        app = CockpitApp(load_config_file(path), new_incident_title="bench")
        latencies: list[float] = []
        async with app.run_test(size=(80, 24)) as pilot:
            while app.state is None:
                await pilot.pause(0.01)
            state = app.state
            partner = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                PARTNER,
                str(app.config.store_path),
                state.incident_id,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
            )
            assert partner.stdin is not None and partner.stdout is not None
            for number in range(rounds):
                text = f"partner note {number}"
                partner.stdin.write((text + "\n").encode())
                await partner.stdin.drain()
                committed = json.loads(await partner.stdout.readline())["ts"]
                while not any(note.text == text for note in state.notes):
                    if time.time() - committed > 10:
                        raise SystemExit(f"round {number}: not visible after 10 s")
                    await pilot.pause(0.005)
                latencies.append(time.time() - committed)
                # Land the next commit at a different phase of the poll timer.
                await pilot.pause(0.05 + (number % 5) * 0.04)
            partner.stdin.close()
            await partner.wait()
        return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    latencies = sorted(asyncio.run(measure(args.rounds)))
    median = statistics.median(latencies)
    p90 = latencies[int(len(latencies) * 0.9) - 1]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"commit-to-visible over {len(latencies)} rounds (a partner process's note):")
    print(f"  median {median * 1000:6.0f} ms")
    print(f"  p90    {p90 * 1000:6.0f} ms")
    print(f"  worst  {latencies[-1] * 1000:6.0f} ms")
    print(
        f"median / poll interval ({POLL_SECONDS * 1000:.0f} ms): "
        f"{median / POLL_SECONDS:.2f}x; worst / 1 s target: {latencies[-1]:.2f}x"
    )
    print(f"peak RSS of the cockpit process: {peak_mb:.0f} MB")
    print(f"rerun: python bench/bench_pairing.py --rounds {args.rounds}")


if __name__ == "__main__":
    main()
