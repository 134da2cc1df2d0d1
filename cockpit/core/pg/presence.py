"""Presence on a PostgreSQL store: the same `presence` rows as on SQLite, in the server's own
table (never on the timeline), timed by the server's clock so machines with skewed clocks
agree on who is here. Changes NOTIFY `cockpit_presence`, so partners see a pane change at once.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, timedelta
from typing import Any

import psycopg

from cockpit.core.pg.store import first_line
from cockpit.core.presence import (
    HANDOFF_KIND,
    PRESENCE_TTL_SECONDS,
    SWEEP_AFTER_SECONDS,
    Presence,
    PresenceError,
    handoff_target,
)
from cockpit.core.store_target import PgTarget


class PgPresenceBoard:
    """This process's presence row on the server, and everyone else's. Thread-safe."""

    def __init__(
        self,
        target: PgTarget,
        *,
        host: str | None = None,
        pid: int | None = None,
        ttl_seconds: float = PRESENCE_TTL_SECONDS,
    ) -> None:
        self.target = target
        self.host = host or socket.gethostname()
        self.pid = os.getpid() if pid is None else pid
        self.ttl = timedelta(seconds=ttl_seconds)
        self._lock = threading.Lock()
        self._joined: set[str] = set()
        self._conn: psycopg.Connection[Any] | None = None

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(
                        self.target.url, autocommit=True, **self.target.connect_kwargs()
                    )
                cursor = self._conn.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
            except (psycopg.Error, LookupError) as exc:
                if self._conn is not None and self._conn.broken:
                    self._conn.close()
                    self._conn = None
                raise PresenceError(
                    f"{self.target.location}: presence unavailable ({first_line(exc)})"
                ) from None

    def beat(self, incident_id: str, author: str, pane: str) -> None:
        """Upsert this process's row: present in `incident_id`, looking at `pane`, now."""
        self._execute(
            "INSERT INTO presence (incident_id, host, pid, author, pane, last_seen)"
            " VALUES (%s, %s, %s, %s, %s, now())"
            " ON CONFLICT (incident_id, host, pid) DO UPDATE SET"
            " author = excluded.author, pane = excluded.pane, last_seen = excluded.last_seen",
            (incident_id, self.host, self.pid, author, pane),
        )
        self._joined.add(incident_id)
        self._execute(
            "DELETE FROM presence WHERE last_seen < now() - make_interval(secs => %s)",
            (SWEEP_AFTER_SECONDS,),
        )

    def present(self, incident_id: str) -> list[Presence]:
        """Everyone seen in `incident_id` within the TTL (this process included), by author."""
        rows = self._execute(
            "SELECT incident_id, author, host, pid, pane, last_seen FROM presence"
            " WHERE incident_id = %s AND last_seen >= now() - make_interval(secs => %s)"
            " ORDER BY author, host, pid",
            (incident_id, self.ttl.total_seconds()),
        )
        return [Presence(r[0], r[1], r[2], int(r[3]), r[4], r[5].astimezone(UTC)) for r in rows]

    def driver(self, incident_id: str) -> str | None:
        """The `to` of the incident's latest hand-off event."""
        rows = self._execute(
            "SELECT payload FROM events WHERE incident_id = %s AND kind = %s"
            " ORDER BY seq DESC LIMIT 1",
            (incident_id, HANDOFF_KIND),
        )
        return handoff_target(rows[0][0]) if rows else None

    def leave(self) -> None:
        """Remove this process's rows (on quit); a crash just lets them expire."""
        for incident_id in sorted(self._joined):
            self._execute(
                "DELETE FROM presence WHERE incident_id = %s AND host = %s AND pid = %s",
                (incident_id, self.host, self.pid),
            )
        self._joined.clear()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> PgPresenceBoard:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
