"""Live updates from a PostgreSQL store: LISTEN on its channels, on a connection of its own.

Every commit to the log NOTIFYs `cockpit_events` with `<incident id> <seq>` (a trigger, so any
writer does); presence changes NOTIFY `cockpit_presence`. A notification only says "look":
the reader then fetches the new events by seq, so a notification lost while disconnected
costs nothing as long as the reader catches up after reconnecting (`Wake.reconnected`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from cockpit.core.pg.schema import EVENTS_CHANNEL, PRESENCE_CHANNEL
from cockpit.core.pg.store import RETRY_SECONDS, first_line
from cockpit.core.store_target import PgTarget


@dataclass(frozen=True)
class Wake:
    """What `ChangeWatcher.wait` saw."""

    events: frozenset[str] = frozenset()
    """Incidents with new events."""
    presence: frozenset[str] = frozenset()
    """Incidents whose presence changed."""
    reconnected: bool = False
    """The LISTEN connection was (re)made: notifications may have been missed, catch up."""
    online: bool = True
    error: str | None = field(default=None)


class ChangeWatcher:
    """One LISTEN connection. `wait` blocks until a notification or the timeout; it never
    raises for an outage (it reports `online=False` and reconnects later)."""

    def __init__(self, target: PgTarget) -> None:
        self.target = target
        self._conn: psycopg.Connection[Any] | None = None
        self._next_try = 0.0
        self._error: str | None = None

    def _connect(self) -> bool:
        if time.monotonic() < self._next_try:
            return False
        try:
            conn = psycopg.connect(self.target.url, autocommit=True, **self.target.connect_kwargs())
            conn.execute(f"LISTEN {EVENTS_CHANNEL}")
            conn.execute(f"LISTEN {PRESENCE_CHANNEL}")
        except (psycopg.Error, LookupError) as exc:
            self._error = f"server unreachable ({first_line(exc)})"
            self._next_try = time.monotonic() + RETRY_SECONDS
            return False
        self._conn = conn
        self._error = None
        return True

    def wait(self, timeout: float) -> Wake:
        """Notifications that arrive within `timeout` seconds (all of them, coalesced)."""
        reconnected = False
        if self._conn is None or self._conn.closed:
            if not self._connect():
                # Down: pace the caller's loop instead of spinning on refused connections.
                time.sleep(min(timeout, max(0.0, self._next_try - time.monotonic())))
                return Wake(online=False, error=self._error)
            reconnected = True
            timeout = 0.0  # report the reconnect now, so the caller catches up at once
        assert self._conn is not None
        events: set[str] = set()
        presence: set[str] = set()
        try:
            for note in self._conn.notifies(timeout=timeout, stop_after=1):
                self._sort(note, events, presence)
            if events or presence:  # take whatever else is already here, without waiting
                for note in self._conn.notifies(timeout=0.001):
                    self._sort(note, events, presence)
        except psycopg.Error as exc:
            self._conn.close()
            self._conn = None
            self._error = f"server unreachable ({first_line(exc)})"
            self._next_try = time.monotonic() + RETRY_SECONDS
            return Wake(online=False, error=self._error)
        return Wake(frozenset(events), frozenset(presence), reconnected)

    @staticmethod
    def _sort(note: Any, events: set[str], presence: set[str]) -> None:
        if note.channel == EVENTS_CHANNEL:
            events.add(note.payload.split(" ", 1)[0])
        elif note.channel == PRESENCE_CHANNEL:
            presence.add(note.payload)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
