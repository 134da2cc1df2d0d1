"""Two processes each write 1,000 events at the same time: all 2,000 are there, none lost.

Each writer appends through `EventStore.append` (BEGIN IMMEDIATE, busy timeout, COMMIT) and
prints the seq of every event only after `append` returned. Both start on the same signal
(a line on stdin), so their writes interleave. Killing a writer mid-write is covered by
tests/test_store_sigkill.py (acknowledged events survive SIGKILL, two writers at random
moments); it is not repeated here.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cockpit.core.store import EventStore

PROJECT = Path(__file__).resolve().parents[1]
PER_WRITER = 1000

WRITER = """
import json, sys, time
from pathlib import Path
from cockpit.core.store import EventStore
path, incident, name, count = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
store = EventStore(path)
print("ready", flush=True)
sys.stdin.readline()  # the start signal
acked = []
first = time.time()  # first attempt: may wait for the lock
for n in range(count):
    event = store.append(incident, "pairing.stress", {"writer": name, "n": n}, name)
    acked.append(event.seq)
print(json.dumps({"acked": acked, "first": first, "last": time.time()}), flush=True)
"""


def test_two_processes_write_1000_events_each_at_once_and_none_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    with EventStore(path) as store:
        incident = store.create_incident("stress", "alice").id
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    writers = {
        name: subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), incident, name, str(PER_WRITER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in ("alice", "bob")
    }
    try:
        for process in writers.values():  # both have the store open before either starts
            assert process.stdout is not None and process.stdout.readline() == "ready\n"
        started = time.monotonic()
        for process in writers.values():
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        reports: dict[str, dict[str, Any]] = {}
        for name, process in writers.items():
            out, _ = process.communicate(timeout=120)
            assert process.returncode == 0, f"writer {name} failed"
            reports[name] = json.loads(out)
        elapsed = time.monotonic() - started
    finally:
        for process in writers.values():
            if process.poll() is None:
                process.kill()
                process.wait()

    with EventStore(path) as store:
        events = [e for e in store.events(incident) if e.kind == "pairing.stress"]
        assert store.integrity_check() == "ok"
    print(f"\n2 x {PER_WRITER} concurrent appends (synchronous=FULL) in {elapsed:.2f} s")

    assert len(events) == 2 * PER_WRITER
    seqs = [e.seq for e in events]
    assert len(set(seqs)) == len(seqs) and seqs == sorted(seqs)  # unique, increasing
    for name in ("alice", "bob"):
        mine = [e for e in events if e.payload["writer"] == name]
        # Every event exactly once, in the order its writer wrote it, attributed to it.
        assert [e.payload["n"] for e in mine] == list(range(PER_WRITER))
        assert {e.author for e in mine} == {name}
        # What the writer was told is exactly what is stored.
        assert reports[name]["acked"] == [e.seq for e in mine]
    # The writers really ran at the same time: their writing windows overlap.
    assert max(r["first"] for r in reports.values()) < min(r["last"] for r in reports.values())
    order = [e.payload["writer"] for e in events]
    switches = sum(1 for a, b in itertools.pairwise(order) if a != b)
    print(f"commit order switched writer {switches} times")
