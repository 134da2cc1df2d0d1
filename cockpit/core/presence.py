"""Presence for pairing: who has the incident open, and which pane they are looking at.

Presence is not history, so it stays out of the append-only event log (a heartbeat every few
seconds would flood the timeline). Each cockpit process upserts one row of a small `presence`
table in the same SQLite file (or on the PostgreSQL server, `cockpit.core.pg.presence`), over
its own connection, every few seconds and on a pane change;
rows not refreshed for `PRESENCE_TTL_SECONDS` count as gone, and old rows are swept.

The driver/navigator hand-off, by contrast, is a decision worth keeping: it is an event
(`pairing.handoff`) on the timeline, attributed like every other.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.core.store import Clock, Event, format_ts, parse_ts, utc_now

if TYPE_CHECKING:
    pass

HANDOFF_KIND = "pairing.handoff"
"""Event kind of a driver/navigator hand-off: payload {from, to, summary}."""

PRESENCE_TTL_SECONDS = 5.0
"""A process not seen for this long is no longer shown as present: a partner who dropped off
(a killed SSH session says no goodbye) leaves the bar within 5 s."""

HEARTBEAT_SECONDS = 1.5
"""How often a running cockpit refreshes its presence row: three beats fit in the TTL, so one
slow beat never makes a live partner flicker away."""

SWEEP_AFTER_SECONDS = 300.0
"""Rows older than this are deleted, so a crashed process leaves nothing behind for long."""

BUSY_TIMEOUT_MS = 1_000
"""Presence is best-effort: never wait long for the write lock the event log needs."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS presence (
    incident_id TEXT NOT NULL,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    author      TEXT NOT NULL,
    pane        TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    PRIMARY KEY (incident_id, host, pid)
)
"""


class PresenceError(Exception):
    """Presence could not be read or written; one line naming the store file."""


@dataclass(frozen=True)
class Presence:
    """One cockpit process that has the incident open."""

    incident_id: str
    author: str
    host: str
    pid: int
    pane: str
    last_seen: datetime

    @property
    def who(self) -> str:
        """`alice@host`: the author, with the host added when the author does not carry one."""
        return self.author if "@" in self.author else f"{self.author}@{self.host}"

    def label(self) -> str:
        """`alice@host (Logs)`; the caller sanitizes it for display (authors are outside input)."""
        return f"{self.who} ({self.pane})" if self.pane else self.who


def handoff_payload(from_author: str, to_author: str) -> dict[str, Any]:
    """The payload of a `pairing.handoff` event; `summary` is what the timeline shows."""
    return {
        "from": from_author,
        "to": to_author,
        "summary": f"driver hand-off: {from_author} -> {to_author}",
    }


def current_driver(events: Iterable[Event]) -> str | None:
    """Who drives now: the `to` of the latest hand-off, or None before the first one."""
    driver: str | None = None
    for event in events:
        if event.kind == HANDOFF_KIND:
            driver = str(event.payload.get("to", "")).strip() or driver
    return driver


def handoff_target(payload_json: str) -> str | None:
    """The `to` of a hand-off event's JSON payload; None when it names nobody (or is not JSON)."""
    try:
        payload = json.loads(payload_json)
    except ValueError:
        return None
    to = str(payload.get("to", "")).strip() if isinstance(payload, dict) else ""
    return to or None


class PresenceBoard:
    """This process's presence row for one store, and a view of everyone else's.

    Uses its own connection (the event store's stays free for the log) and is safe to call
    from worker threads. The store file must exist already: the `EventStore` creates it with
    the right mode, presence never does.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock = utc_now,
        host: str | None = None,
        pid: int | None = None,
        ttl_seconds: float = PRESENCE_TTL_SECONDS,
    ) -> None:
        self.path = Path(path).expanduser()
        self.host = host or socket.gethostname()
        self.pid = os.getpid() if pid is None else pid
        self.ttl = timedelta(seconds=ttl_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._joined: set[str] = set()
        self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise PresenceError(f"{self.path}: no incident store here (open the store first)")
        try:
            # mode=rw: presence must never create the store file (its mode is the store's job).
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=rw",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode=WAL")
            # A lost heartbeat is harmless, so this connection skips the fsync per commit.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise PresenceError(f"{self.path}: presence unavailable ({exc})") from None
        return conn

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise PresenceError(f"{self.path}: presence unavailable ({exc})") from None

    def beat(self, incident_id: str, author: str, pane: str) -> None:
        """Upsert this process's row: present in `incident_id`, looking at `pane`, now."""
        now = self._clock()
        self._execute(
            "INSERT INTO presence (incident_id, host, pid, author, pane, last_seen)"
            " VALUES (?,?,?,?,?,?)"
            " ON CONFLICT (incident_id, host, pid) DO UPDATE SET"
            " author = excluded.author, pane = excluded.pane, last_seen = excluded.last_seen",
            (incident_id, self.host, self.pid, author, pane, format_ts(now)),
        )
        self._joined.add(incident_id)
        cutoff = now - timedelta(seconds=SWEEP_AFTER_SECONDS)
        self._execute("DELETE FROM presence WHERE last_seen < ?", (format_ts(cutoff),))

    def present(self, incident_id: str) -> list[Presence]:
        """Everyone seen in `incident_id` within the TTL (this process included), by author."""
        cutoff = self._clock() - self.ttl
        rows = self._execute(
            "SELECT incident_id, author, host, pid, pane, last_seen FROM presence"
            " WHERE incident_id = ? AND last_seen >= ? ORDER BY author, host, pid",
            (incident_id, format_ts(cutoff)),
        )
        return [Presence(r[0], r[1], r[2], int(r[3]), r[4], parse_ts(r[5])) for r in rows]

    def driver(self, incident_id: str) -> str | None:
        """The `to` of the incident's latest hand-off event, read straight from the log."""
        rows = self._execute(
            "SELECT payload FROM events WHERE incident_id = ? AND kind = ?"
            " ORDER BY seq DESC LIMIT 1",
            (incident_id, HANDOFF_KIND),
        )
        return handoff_target(rows[0][0]) if rows else None

    def leave(self) -> None:
        """Remove this process's rows (on quit); a crash just lets them expire."""
        for incident_id in sorted(self._joined):
            self._execute(
                "DELETE FROM presence WHERE incident_id = ? AND host = ? AND pid = ?",
                (incident_id, self.host, self.pid),
            )
        self._joined.clear()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> PresenceBoard:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
