"""Nothing acknowledged is lost, nothing is doubled, on a real PostgreSQL server that is
SIGKILLed, stopped and restarted while writer processes (themselves SIGKILLed at random) append.

A writer prints each event's id after `append()` returned: either committed on the server or
committed to its local outbox ("saved locally; not yet shared"). Both count as acknowledged.
At the end every outbox is pushed by opening the store again (what the next cockpit command
does), and every acknowledged event must be on the server exactly once, each writer's in the
order it wrote them, seen in the same order by every client.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import cockpit
from cockpit.core.pg.store import PostgresStore
from cockpit.core.store_target import PgTarget
from tests.pg_server import PASSWORD_ENV

SEED = 20261207
WATCHDOG_SECONDS = 90.0
PROJECT = Path(cockpit.__file__).resolve().parents[1]

WRITER = r"""
import sys
from pathlib import Path
from cockpit.core.store_target import PgTarget, StoreURL
from cockpit.core.pg.store import PostgresStore

url, password_env, outbox, incident_id, name, count = sys.argv[1:7]
store = PostgresStore(PgTarget(StoreURL(url), password_env, Path(outbox)))
print("ready", flush=True)
if int(count) > 0:
    sys.stdin.readline()  # the start signal, so both writers begin together
n = 0
while int(count) < 0 or n < int(count):
    event = store.append(incident_id, "note.added", {"writer": name, "n": n}, name)
    print(event.id, int(event.pending), event.seq, flush=True)
    n += 1
print("done", flush=True)
"""


class Writer:
    """A writer process and the events it acknowledged: (event id, pending, seq)."""

    def __init__(
        self, target: PgTarget, outbox: Path, incident: str, name: str, count: int
    ) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRITER, target.url, PASSWORD_ENV, str(outbox), incident, name,
             str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT)},
        )  # fmt: skip
        self._watchdog = threading.Timer(WATCHDOG_SECONDS, self.process.kill)
        self._watchdog.start()
        self.acked: list[tuple[str, bool, int]] = []
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.endswith("\n"):
            self.process.kill()
            stderr = self.process.stderr.read() if self.process.stderr else ""
            pytest.fail(f"writer {self.name} died: {stderr.strip()[-2000:]}")
        return line.strip()

    def start(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def wait_for_acks(self, count: int, *, shared: bool | None = None) -> None:
        """Read `count` more acknowledgements (only shared ones count when `shared`)."""
        while count > 0:
            line = self._line()
            if line == "done":
                return
            event_id, pending, seq = line.split()
            self.acked.append((event_id, pending == "1", int(seq)))
            if shared is None or shared != (pending == "1"):
                count -= 1

    def finish(self) -> None:
        out, _ = self.process.communicate(timeout=WATCHDOG_SECONDS)
        self._watchdog.cancel()
        for line in out.splitlines():
            if line.strip() and line.strip() != "done":
                event_id, pending, seq = line.split()
                self.acked.append((event_id, pending == "1", int(seq)))

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.stdout is not None
        rest = self.process.stdout.read()
        self.process.wait()
        self._watchdog.cancel()
        for line in rest.splitlines(keepends=True):
            if line.endswith("\n") and line.strip() != "done":
                event_id, pending, seq = line.split()
                self.acked.append((event_id, pending == "1", int(seq)))
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def _writers(*writers: Writer) -> Iterator[None]:
    try:
        yield
    finally:
        for writer in writers:
            if writer.process.poll() is None:
                writer.kill()


def _check(
    target: PgTarget, outboxes: list[Path], incident: str, acked: dict[str, list[Any]]
) -> None:
    """Push every outbox (the next command), then: each acknowledged event exactly once,
    each writer's in its own order, the same order for every client."""
    for outbox in outboxes:
        with PostgresStore(PgTarget(target.url, PASSWORD_ENV, outbox)) as store:
            assert store.sharing().online
            assert store.sharing().pending == 0 and store.sharing().rejected == 0
    orders = []
    for outbox in outboxes:  # every client reads the same log
        with PostgresStore(PgTarget(target.url, PASSWORD_ENV, outbox)) as store:
            orders.append([(e.seq, e.id) for e in store.events(incident)])
    assert all(order == orders[0] for order in orders)
    ids = [event_id for _, event_id in orders[0]]
    assert len(ids) == len(set(ids)), "an event was stored twice"
    position = {event_id: n for n, event_id in enumerate(ids)}
    for name, events in acked.items():
        missing = [e for e, _, _ in events if e not in position]
        assert not missing, f"{len(missing)} acknowledged events of {name} lost"
        places = [position[e] for e, _, _ in events]
        assert places == sorted(places), f"{name}'s events are out of its order"
        # What a writer was told as shared is exactly where the event is.
        seqs = dict(orders[0][n] for n in range(len(ids)))  # seq -> id
        for event_id, pending, seq in events:
            if not pending:
                assert seqs[seq] == event_id


def test_server_and_writers_sigkilled_at_random_moments(
    pg_server: Any, pg_target: PgTarget, tmp_path: Path
) -> None:
    with PostgresStore(pg_target) as store:
        incident = store.create_incident("sigkill torture", "test").id
    rng = random.Random(SEED)
    outboxes = {name: tmp_path / f"{name}.db" for name in ("a", "b")}
    acked: dict[str, list[Any]] = {"a": [], "b": []}
    killed_server = 0
    for _ in range(6):
        writers = [Writer(pg_target, outboxes[n], incident, n, -1) for n in ("a", "b")]
        with _writers(*writers):
            for writer in writers:
                writer.wait_for_acks(rng.randint(1, 15))
            if rng.random() < 0.6:
                pg_server.kill()  # SIGKILL the postmaster and every backend
                killed_server += 1
                for writer in writers:  # they carry on into their outboxes
                    writer.wait_for_acks(rng.randint(1, 10), shared=False)
                victim = rng.choice(writers)
                victim.kill()
                pg_server.start()
            for writer in writers:
                if writer.process.poll() is None:
                    writer.wait_for_acks(rng.randint(0, 5))
                    writer.kill()
        for writer in writers:
            acked[writer.name] += writer.acked
    assert killed_server >= 2
    assert any(p for _, p, _ in acked["a"] + acked["b"])  # the outbox path was exercised
    _check(pg_target, list(outboxes.values()), incident, acked)


def test_server_stopped_and_started_while_two_clients_write(
    pg_server: Any, pg_target: PgTarget, tmp_path: Path
) -> None:
    with PostgresStore(pg_target) as store:
        incident = store.create_incident("restart", "test").id
    outboxes = {name: tmp_path / f"{name}.db" for name in ("a", "b")}
    writers = [Writer(pg_target, outboxes[n], incident, n, -1) for n in ("a", "b")]
    with _writers(*writers):
        for writer in writers:
            writer.wait_for_acks(20)
        pg_server.stop()
        for writer in writers:
            writer.wait_for_acks(10, shared=False)  # saved locally; not yet shared
        pg_server.start()
        for writer in writers:
            writer.wait_for_acks(10, shared=True)  # back: the outbox went first, then these
        for writer in writers:
            writer.kill()
    acked = {writer.name: writer.acked for writer in writers}
    _check(pg_target, list(outboxes.values()), incident, acked)


def test_two_times_150_concurrent_notes_all_land(
    pg_server: Any, pg_target: PgTarget, tmp_path: Path
) -> None:
    with PostgresStore(pg_target) as store:
        incident = store.create_incident("stress", "alice").id
    writers = [Writer(pg_target, tmp_path / f"{n}.db", incident, n, 150) for n in ("alice", "bob")]
    with _writers(*writers):
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.finish()
    with PostgresStore(pg_target) as store:
        events = [e for e in store.events(incident) if e.kind == "note.added"]
    assert len(events) == 300
    for writer in writers:
        mine = [e for e in events if e.payload["writer"] == writer.name]
        assert [e.payload["n"] for e in mine] == list(range(150))
        assert [seq for _, _, seq in writer.acked] == [e.seq for e in mine]
        assert not any(pending for _, pending, _ in writer.acked)
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 300
    switches = sum(a.author != b.author for a, b in itertools.pairwise(events))
    print(json.dumps({"writer_switches": switches}))
