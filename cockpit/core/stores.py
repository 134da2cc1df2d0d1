"""Open the incident store (and its presence board) a config names: an SQLite file, or a
PostgreSQL server. The one place that picks the engine, above both implementations, so
neither `store` nor `presence` reaches up to `pg`; psycopg loads only for a postgresql:// store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.core.store import Clock, EventStore, IncidentStore, utc_now
from cockpit.core.store_target import PgTarget

if TYPE_CHECKING:
    from cockpit.core.pg.presence import PgPresenceBoard
    from cockpit.core.presence import PresenceBoard


def open_store(
    target: Path | PgTarget, *, clock: Clock = utc_now, mode: int | None = None
) -> IncidentStore:
    """Open (creating if needed) the store at `target`: an SQLite file, or a PostgreSQL server
    (`PgTarget`, from `Config.store_target`). Problems are a StoreError naming the store."""
    if isinstance(target, Path):
        return EventStore(target, clock=clock, mode=mode)
    from cockpit.core.pg.store import PostgresStore

    return PostgresStore(target, clock=clock)


def open_board(
    target: Path | PgTarget,
    *,
    clock: Clock = utc_now,
    host: str | None = None,
    pid: int | None = None,
) -> PresenceBoard | PgPresenceBoard:
    """The presence board of a store: the SQLite file's table, or the PostgreSQL server's
    (timed by the server's clock there, so `clock` only applies to SQLite)."""
    from cockpit.core.presence import PresenceBoard  # the TUI's; `note` needs only the store

    if isinstance(target, Path):
        return PresenceBoard(target, clock=clock, host=host, pid=pid)
    from cockpit.core.pg.presence import PgPresenceBoard

    return PgPresenceBoard(target, host=host, pid=pid)


def incident_redaction_salt(
    path: Path | PgTarget, incident_id: str, *, mode: int | None = None
) -> bytes | None:
    """The redaction salt of `incident_id` in the store at `path` (created on first use), or
    None when there is no store file there (a salt alone is no reason to create a store).
    `path` may be a PostgreSQL target (`Config.store_target`): its salt is the team's."""
    if isinstance(path, Path) and not Path(path).expanduser().is_file():
        return None
    with open_store(path, mode=mode) as store:
        return store.redaction_salt(incident_id)
