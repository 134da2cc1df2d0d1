"""Nothing acknowledged is lost: writers killed with SIGKILL at random moments, many times over.

A child process appends events in a loop and prints each event's seq and id only after
`append()` returned (the commit returned). The test reads N acknowledgements, kills the child
with SIGKILL (it is then usually inside the next append: in BEGIN, INSERT, COMMIT's fsync or a
WAL checkpoint), and checks that every acknowledged event is in the database and that
`PRAGMA integrity_check` passes. The same database carries on across all runs, so each run
also starts from a store that was just recovered after a kill.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

import cockpit
from cockpit.core.store import EventStore

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

SEED = 20261128
RUNS = 40
WATCHDOG_SECONDS = 30.0

# The writer. A small wal_autocheckpoint makes checkpoints frequent, so kills land in them too.
WRITER = r"""
import random, sys
from pathlib import Path
from cockpit.core.store import EventStore

path, incident_id, name, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rng = random.Random(seed)
store = EventStore(Path(path))
store._conn.execute("PRAGMA wal_autocheckpoint=40")
print("ready", flush=True)
n = 0
while True:
    if rng.random() < 0.1:
        # Two rows in one transaction: the incident and its incident.opened event.
        record = store.create_incident(f"{name} #{n}", name)
        print("incident", record.id, flush=True)
    text = "x" * rng.choice((1, 300, 5000, 30000))
    event = store.append(incident_id, "note.added", {"text": text, "n": n}, name)
    print(event.seq, event.id, flush=True)
    n += 1
"""


def _child_env() -> dict[str, str]:
    root = str(Path(cockpit.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class Writer:
    """One writer child process and the acknowledgements it printed."""

    def __init__(self, db: Path, incident_id: str, name: str, seed: int) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), incident_id, name, str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(),
        )
        # A hung child must fail the test, not hang it.
        self._watchdog = threading.Timer(WATCHDOG_SECONDS, self.process.kill)
        self._watchdog.start()
        self.acked: list[tuple[int, str]] = []
        self.acked_incidents: list[str] = []
        self._expect_line(b"ready")

    def _expect_line(self, expected: bytes | None = None) -> bytes:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.endswith(b"\n"):
            self.process.kill()
            stderr = self.process.stderr.read().decode() if self.process.stderr else ""
            pytest.fail(f"writer {self.name} died early: {stderr.strip()[-2000:]}")
        if expected is not None:
            assert line.strip() == expected
        return line

    def wait_for_acks(self, count: int) -> None:
        """Block until `count` more events were acknowledged (no sleeping)."""
        while count > 0:
            count -= self._record(self._expect_line())

    def kill(self) -> None:
        """SIGKILL the writer, then collect the acknowledgements still in the pipe."""
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.stdout is not None
        rest = self.process.stdout.read()
        self.process.wait()
        self._watchdog.cancel()
        assert self.process.returncode == -signal.SIGKILL
        # Only whole lines count: a line cut short was never fully acknowledged.
        for line in rest.splitlines(keepends=True):
            if line.endswith(b"\n"):
                self._record(line)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def _record(self, line: bytes) -> int:
        """Note one acknowledgement; returns how many events it acknowledged (0 or 1)."""
        first, second = line.split()
        if first == b"incident":
            self.acked_incidents.append(second.decode())
            return 0
        self.acked.append((int(first), second.decode()))
        return 1


@contextmanager
def _writers(*writers: Writer) -> Iterator[None]:
    try:
        yield
    finally:
        for writer in writers:
            if writer.process.poll() is None:
                writer.kill()


def _assert_all_acked_present(
    db: Path, acked: list[tuple[int, str]], incidents: Sequence[str] = ()
) -> None:
    # Reopen through the store, as the cockpit would after a crash (WAL recovery runs here).
    with EventStore(db) as reopened:
        assert reopened.integrity_check() == "ok"
        for incident in reopened.incidents():
            # An incident and its opening event commit together or not at all.
            assert reopened.events(incident.id)[0].kind == "incident.opened"
        stored_incidents = {incident.id for incident in reopened.incidents()}
    conn = sqlite3.connect(db)
    try:
        stored = dict(conn.execute("SELECT id, seq FROM events").fetchall())
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    missing = [(seq, event_id) for seq, event_id in acked if stored.get(event_id) != seq]
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {missing[:3]}"
    assert set(incidents) <= stored_incidents


def test_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "incidents.db"
    with EventStore(db) as store:
        incident_id = store.create_incident("sigkill torture", "test").id
    rng = random.Random(SEED)
    acked: list[tuple[int, str]] = []
    incidents: list[str] = []
    for run in range(RUNS):
        writer = Writer(db, incident_id, f"writer-{run}", rng.randrange(1 << 30))
        with _writers(writer):
            writer.wait_for_acks(rng.randint(0, 20))
            writer.kill()
        acked += writer.acked
        incidents += writer.acked_incidents
        _assert_all_acked_present(db, acked, incidents)
    assert len(acked) >= RUNS  # the runs really wrote something
    assert incidents  # and opened incidents too


def test_two_concurrent_writers_killed_at_random(tmp_path: Path) -> None:
    db = tmp_path / "incidents.db"
    with EventStore(db) as store:
        incident_id = store.create_incident("two writers", "test").id
    rng = random.Random(SEED + 1)
    acked: list[tuple[int, str]] = []
    for run in range(5):
        first = Writer(db, incident_id, f"a{run}", rng.randrange(1 << 30))
        second = Writer(db, incident_id, f"b{run}", rng.randrange(1 << 30))
        with _writers(first, second):
            # Both write at once, each waiting on the other's lock (busy timeout).
            for _ in range(rng.randint(3, 8)):
                first.wait_for_acks(1)
                second.wait_for_acks(1)
            first.kill()
            second.wait_for_acks(rng.randint(1, 4))  # the survivor carries on after the kill
            second.kill()
        acked += first.acked + second.acked
        _assert_all_acked_present(db, acked)
    seqs = [seq for seq, _ in acked]
    assert len(set(seqs)) == len(seqs)  # no two acknowledgements share a sequence number
