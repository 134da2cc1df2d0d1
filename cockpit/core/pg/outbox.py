"""The local side of a PostgreSQL store: a durable outbox, and a mirror of what was read.

When the server is unreachable every write still succeeds here: one SQLite transaction (WAL,
`synchronous=FULL`), so "saved locally; not yet shared" is as durable as a commit on the server.
Entries are pushed in order, each idempotent by its id (`ON CONFLICT DO NOTHING` on the server),
so a push cut short and repeated shares every entry exactly once.

The mirror keeps the incidents, events and salts read from the server, so a cockpit started
on a train still shows the incident and can write to it. It is a cache: the server is the truth.

One file per user and server (different HOMEs have different outboxes); the cockpit processes
of one user share it, and `push_lock` lets one of them push at a time.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cockpit.core.safe_files import make_private_dir
from cockpit.core.store import (
    NETWORK_FILESYSTEMS,
    Event,
    IncidentRecord,
    StoreError,
    filesystem_type,
    format_ts,
    parse_ts,
    utc_now,
)

BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    n           INTEGER PRIMARY KEY AUTOINCREMENT,
    op          TEXT NOT NULL,
    key         TEXT NOT NULL UNIQUE,
    incident_id TEXT NOT NULL,
    body        TEXT NOT NULL,
    saved_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    n           INTEGER PRIMARY KEY,
    op          TEXT NOT NULL,
    key         TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    body        TEXT NOT NULL,
    saved_at    TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mirror_incidents (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    drill       INTEGER NOT NULL,
    closed_at   TEXT
);
CREATE TABLE IF NOT EXISTS mirror_events (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    incident_id TEXT NOT NULL,
    ts          TEXT NOT NULL,
    author      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mirror_events_by_incident ON mirror_events(incident_id, seq);
CREATE TABLE IF NOT EXISTS mirror_salts (
    incident_id TEXT PRIMARY KEY,
    salt        BLOB NOT NULL
)
"""


@dataclass(frozen=True)
class OutboxEntry:
    """One write waiting for the server, in the order it was made."""

    n: int
    op: str
    """`incident` (row and its opening event), `event`, `closure` or `salt`."""
    key: str
    """Unique per write (`event:<id>`, ...): the idempotency key the server matches on."""
    incident_id: str
    body: dict[str, Any]

    def events(self) -> list[Event]:
        """The events this entry carries (pending), for reads that merge the outbox."""
        rows = []
        if self.op == "event":
            rows = [self.body]
        elif self.op == "incident":
            rows = [self.body["event"]]
        return [event_from_json(row, seq=0, pending=True) for row in rows]


def event_to_json(event: Event) -> dict[str, Any]:
    """An event as an outbox body (its seq is the server's to give)."""
    return {
        "id": event.id,
        "incident_id": event.incident_id,
        "ts": format_ts(event.ts),
        "author": event.author,
        "kind": event.kind,
        "payload": event.payload,
    }


def event_from_json(row: dict[str, Any], *, seq: int, pending: bool) -> Event:
    return Event(
        seq,
        str(row["id"]),
        str(row["incident_id"]),
        parse_ts(str(row["ts"])),
        str(row["author"]),
        str(row["kind"]),
        dict(row["payload"]),
        pending=pending,
    )


def record_to_json(record: IncidentRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "title": record.title,
        "created_at": format_ts(record.created_at),
        "created_by": record.created_by,
        "drill": record.drill,
    }


def record_from_json(row: dict[str, Any], *, pending: bool) -> IncidentRecord:
    return IncidentRecord(
        str(row["id"]),
        str(row["title"]),
        parse_ts(str(row["created_at"])),
        str(row["created_by"]),
        bool(row["drill"]),
        None,
        pending=pending,
    )


class LocalOutbox:
    """The outbox and mirror file of one user for one server. Thread-safe (one lock)."""

    def __init__(self, path: Path, server: str) -> None:
        self.path = Path(path).expanduser()
        self.server = server
        self._lock = threading.RLock()
        self._create_file()
        self._conn = self._connect()
        # The mirror is a cache: its own connection skips the fsync per commit, so mirroring
        # what this process writes costs next to nothing (the outbox keeps synchronous=FULL).
        self._mirror_lock = threading.Lock()
        self._mirror = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        self._mirror.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._mirror.execute("PRAGMA synchronous=NORMAL")

    def _create_file(self) -> None:
        fs_type = filesystem_type(self.path.parent if self.path.parent.exists() else Path("/"))
        if fs_type in NETWORK_FILESYSTEMS:
            raise StoreError(
                f"{self.path}: the outbox is on a {fs_type} network filesystem, where SQLite"
                " locking is unreliable; set [cockpit] store_outbox to a path on a local disk"
            )
        try:
            make_private_dir(self.path.parent)
        except OSError as exc:
            raise StoreError(
                f"{self.path}: cannot create the outbox folder ({exc.strerror})"
            ) from None
        if self.path.exists() and not self.path.is_file():
            raise StoreError(f"{self.path}: not a regular file, expected the cockpit's outbox")
        try:
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the outbox ({exc.strerror})") from None

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the outbox ({exc})") from None
        try:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";\n"):
                conn.execute(statement)
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('server', ?)", (self.server,)
            )
            server = conn.execute("SELECT value FROM meta WHERE key = 'server'").fetchone()[0]
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"{self.path}: not a usable outbox ({exc})") from None
        if server != self.server:
            conn.close()
            raise StoreError(
                f"{self.path}: the outbox of another server ({server}); give each server its"
                " own [cockpit] store_outbox"
            )
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"{self.path}: outbox write failed ({exc})") from None
                raise

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: outbox read failed ({exc})") from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        with self._mirror_lock:
            self._mirror.close()

    def _mirror_write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._mirror_lock:
            try:
                self._mirror.execute("BEGIN IMMEDIATE")
                self._mirror.executemany(sql, rows)
                self._mirror.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._mirror.in_transaction:
                    self._mirror.execute("ROLLBACK")
                raise StoreError(f"{self.path}: mirror write failed ({exc})") from None

    # -- the outbox ----------------------------------------------------------------------------

    def add(self, op: str, key: str, incident_id: str, body: dict[str, Any]) -> None:
        """Keep one write; returns after the local commit (the write is durable here)."""
        text = json.dumps(body, ensure_ascii=False, sort_keys=True)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO outbox (op, key, incident_id, body, saved_at) VALUES (?,?,?,?,?)",
                (op, key, incident_id, text, format_ts(utc_now())),
            )

    def entries(self, limit: int = -1) -> list[OutboxEntry]:
        """Waiting writes, oldest first."""
        rows = self._read(
            "SELECT n, op, key, incident_id, body FROM outbox ORDER BY n LIMIT ?", (limit,)
        )
        return [OutboxEntry(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def count(self) -> int:
        return int(self._read("SELECT count(*) FROM outbox")[0][0])

    def remove(self, entries: Iterable[OutboxEntry]) -> None:
        """Forget entries the server has committed."""
        numbers = [(entry.n,) for entry in entries]
        with self._write() as conn:
            conn.executemany("DELETE FROM outbox WHERE n = ?", numbers)

    def reject(self, entry: OutboxEntry, reason: str) -> None:
        """Move an entry the server refuses (not an outage) aside; never drop it."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO rejected (n, op, key, incident_id, body, saved_at,"
                " reason) SELECT n, op, key, incident_id, body, saved_at, ? FROM outbox"
                " WHERE n = ?",
                (reason, entry.n),
            )
            conn.execute("DELETE FROM outbox WHERE n = ?", (entry.n,))

    def rejected_count(self) -> int:
        return int(self._read("SELECT count(*) FROM rejected")[0][0])

    def pending_events(self, incident_id: str) -> list[Event]:
        """The incident's events still waiting, in the order they were written."""
        return [
            event
            for entry in self.entries()
            if entry.incident_id == incident_id
            for event in entry.events()
        ]

    def data_version(self) -> int:
        """Changes when another process of this user writes the file (`cockpit note`)."""
        return int(self._read("PRAGMA data_version")[0][0])

    @contextmanager
    def push_lock(self) -> Iterator[None]:
        """One pusher at a time among this user's processes (a blocking file lock)."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    # -- the mirror ----------------------------------------------------------------------------

    def mirror_events(self, events: Iterable[Event]) -> None:
        rows = [
            (
                e.seq,
                e.id,
                e.incident_id,
                format_ts(e.ts),
                e.author,
                e.kind,
                json.dumps(e.payload, ensure_ascii=False, sort_keys=True),
            )
            for e in events
            if not e.pending
        ]
        if rows:
            self._mirror_write(
                "INSERT OR IGNORE INTO mirror_events (seq, id, incident_id, ts, author, kind,"
                " payload) VALUES (?,?,?,?,?,?,?)",
                rows,
            )

    def mirrored_events(self, incident_id: str, after_seq: int = 0) -> list[Event]:
        rows = self._read(
            "SELECT seq, id, incident_id, ts, author, kind, payload FROM mirror_events"
            " WHERE incident_id = ? AND seq > ? ORDER BY seq",
            (incident_id, after_seq),
        )
        return [Event(r[0], r[1], r[2], parse_ts(r[3]), r[4], r[5], json.loads(r[6])) for r in rows]

    def mirror_incidents(self, records: Iterable[IncidentRecord]) -> None:
        rows = [
            (
                r.id,
                r.title,
                format_ts(r.created_at),
                r.created_by,
                int(r.drill),
                format_ts(r.closed_at) if r.closed_at else None,
            )
            for r in records
            if not r.pending
        ]
        if rows:
            self._mirror_write(
                "INSERT OR REPLACE INTO mirror_incidents (id, title, created_at, created_by,"
                " drill, closed_at) VALUES (?,?,?,?,?,?)",
                rows,
            )

    def knows_incident(self, incident_id: str) -> bool:
        """Whether this user has seen the incident (read, written or waiting to be shared)."""
        return bool(
            self._read(
                "SELECT 1 FROM mirror_incidents WHERE id = ? UNION ALL"
                " SELECT 1 FROM mirror_events WHERE incident_id = ? UNION ALL"
                " SELECT 1 FROM outbox WHERE op = 'incident' AND incident_id = ? LIMIT 1",
                (incident_id, incident_id, incident_id),
            )
        )

    def mirrored_incidents(self) -> list[IncidentRecord]:
        rows = self._read(
            "SELECT id, title, created_at, created_by, drill, closed_at FROM mirror_incidents"
        )
        return [
            IncidentRecord(
                r[0], r[1], parse_ts(r[2]), r[3], bool(r[4]), parse_ts(r[5]) if r[5] else None
            )
            for r in rows
        ]

    def mirror_salt(self, incident_id: str, salt: bytes) -> None:
        self._mirror_write(
            "INSERT OR REPLACE INTO mirror_salts (incident_id, salt) VALUES (?,?)",
            [(incident_id, salt)],
        )

    def mirrored_salt(self, incident_id: str) -> bytes | None:
        rows = self._read("SELECT salt FROM mirror_salts WHERE incident_id = ?", (incident_id,))
        return bytes(rows[0][0]) if rows else None


def closed_at_of(entries: Iterable[OutboxEntry]) -> dict[str, datetime]:
    """Incidents closed by waiting `closure` entries."""
    return {
        entry.incident_id: parse_ts(str(entry.body["closed_at"]))
        for entry in entries
        if entry.op == "closure"
    }
