"""`PostgresStore`: the incident store on a PostgreSQL server (psycopg 3), for pairing across
machines, with nothing lost while the server is unreachable.

Same semantics as the SQLite store: an append-only log (triggers and grants, `schema.py`), one
global sequence in commit order, `append` returns only after COMMIT returned, incident state a
projection of the events, redaction salts in their own table.

When the server cannot be reached (restart, partition, a laptop on a train) a write goes to the
local outbox (`outbox.py`, SQLite with synchronous FULL) and comes back marked `pending`: the
UI and CLI say "saved locally; not yet shared". The outbox is pushed in order by `sync()`,
idempotent by id; reads merge it, so a writer always sees their own events. A write whose
COMMIT was cut off has an unknown outcome: it is kept in the outbox too, and the push's
`ON CONFLICT DO NOTHING` makes it land exactly once either way.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import psycopg
from psycopg import errors as pg_errors

from cockpit.core.pg import schema
from cockpit.core.pg.outbox import (
    LocalOutbox,
    OutboxEntry,
    closed_at_of,
    event_to_json,
    record_from_json,
    record_to_json,
)
from cockpit.core.store import (
    REDACTION_SALT_BYTES,
    Clock,
    Event,
    ImportCounts,
    IncidentRecord,
    Sharing,
    StoreDump,
    StoreError,
    storable,
    storable_payload,
    utc_now,
)

if TYPE_CHECKING:
    from cockpit.core.store_target import PgTarget

T = TypeVar("T")

RETRY_SECONDS = 1.0
"""After the server failed to answer, writes go straight to the outbox for this long instead
of each waiting out a connect timeout; `sync()` and reconnects try again after it."""
PUSH_BATCH = 200
LOCK_TIMEOUT_SECONDS = 10
"""Longest wait for the log's write lock before the write is kept in the outbox instead."""

_CONFIG_PROBLEMS = (
    "authentication",
    "no password supplied",
    "does not exist",
    "does not support SSL",
    "certificate",
    "pg_hba.conf",
    "invalid connection option",
    "invalid sslmode",
    "invalid value",
    "permission denied for database",
)
"""Connection failures that are a setup mistake to report, not an outage to ride out."""


class Unreachable(Exception):
    """The server did not answer (or the connection broke); `str()` is the reason."""


class RefusedData(StoreError):
    """The server refused this data (a constraint, a bad value): retrying will not help."""


class UnknownIncident(RefusedData):
    """An event for an incident the server does not have (nothing was inserted)."""


def first_line(exc: BaseException) -> str:
    """An error's message as one line, without libpq's `connection failed:` preamble."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.removeprefix("connection failed: ")
    if "failed: " in text and text.startswith("connection to server"):
        text = text.rsplit("failed: ", 1)[1]
    return text.strip()


def is_setup_problem(exc: BaseException) -> bool:
    """True when a connection failure is the config's fault (auth, database, TLS), so
    retrying cannot help and the user must be told now."""
    text = str(exc)
    return any(problem in text for problem in _CONFIG_PROBLEMS)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _column_text(text: str) -> str:
    # PostgreSQL text cannot hold NUL; the listing's title is a convenience (the event keeps
    # the exact title in its JSON payload, where NUL is escaped).
    return text.replace("\x00", "\ufffd")


def _check_text(value: str, what: str) -> None:
    if "\x00" in value:
        raise StoreError(f"the {what} contains a NUL character; nothing saved")


class PostgresStore:
    """The incident store on a PostgreSQL server, with a durable local outbox.

    Thread-safe: one lock serializes the connection (the TUI's workers share it). The LISTEN
    side lives in `cockpit.core.pg.watch` on its own connection.
    """

    def __init__(self, target: PgTarget, *, clock: Clock = utc_now) -> None:
        self.target = target
        self._clock = clock
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        self._schema_checked = False
        self._online = False
        self._last_heard: datetime | None = None
        self._error: str | None = None
        self._next_try = 0.0
        self._max_seq_seen = 0
        """The highest shared seq this process has seen: pending events are numbered after it."""
        self.outbox = LocalOutbox(target.outbox_path(), target.location)
        try:
            self._connection()
        except Unreachable:
            return  # offline: the mirror and the outbox carry on until the server is back
        except BaseException:
            self.outbox.close()
            raise
        self.sync_quietly()

    # -- connection ----------------------------------------------------------------------------

    @property
    def location(self) -> str:
        return self.target.location

    def _connection(self) -> psycopg.Connection[Any]:
        with self._lock:
            if self._conn is not None and not self._conn.closed:
                return self._conn
            if time.monotonic() < self._next_try:
                raise Unreachable(self._error or "server unreachable")
            try:
                kwargs = self.target.connect_kwargs()
            except LookupError as exc:
                raise StoreError(f"{self.location}: {exc}") from None
            try:
                conn = psycopg.connect(self.target.url, autocommit=True, **kwargs)
            except psycopg.OperationalError as exc:
                if is_setup_problem(exc):
                    raise StoreError(f"{self.location}: {first_line(exc)}") from None
                self._went_offline(exc)
            except psycopg.Error as exc:
                raise StoreError(f"{self.location}: cannot connect ({first_line(exc)})") from None
            try:
                if not self._schema_checked:
                    ensure_schema(conn, self.location)
                    self._schema_checked = True
            except psycopg.OperationalError as exc:
                conn.close()
                self._went_offline(exc)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            self._heard()
            return conn

    def _went_offline(self, exc: BaseException) -> NoReturn:
        """Record the outage and raise Unreachable (never returns)."""
        self._online = False
        self._error = f"server unreachable ({first_line(exc)})"
        self._next_try = time.monotonic() + RETRY_SECONDS
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        raise Unreachable(self._error)

    def _heard(self) -> None:
        self._online = True
        self._error = None
        self._last_heard = utc_now()

    def _server(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run `work` on the connection; Unreachable when the server is gone, StoreError for
        anything else the server refuses (one line, naming the store)."""
        with self._lock:
            reused = self._conn is not None and not self._conn.closed
            conn = self._connection()
            try:
                result = work(conn)
            except psycopg.OperationalError as exc:
                if is_setup_problem(exc):
                    raise StoreError(f"{self.location}: {first_line(exc)}") from None
                if reused:
                    # A connection that broke while idle (server restart, failover): try once
                    # on a fresh one. Every write here is idempotent by id, so a retried
                    # commit that had in fact landed is not doubled.
                    conn.close()
                    self._conn = None
                    return self._server(work)
                self._went_offline(exc)
            except (psycopg.DataError, psycopg.IntegrityError) as exc:
                raise RefusedData(f"{self.location}: {first_line(exc)}") from None
            except psycopg.Error as exc:
                raise StoreError(f"{self.location}: {first_line(exc)}") from None
            self._heard()
            return result

    def close(self) -> None:
        """Close the connection and the outbox; the store cannot be used afterwards."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self.outbox.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def sharing(self) -> Sharing:
        """Online or not, how much waits in the outbox, when the server last answered."""
        return Sharing(
            shared=True,
            online=self._online,
            pending=self.outbox.count(),
            last_heard=self._last_heard,
            error=self._error,
            rejected=self.outbox.rejected_count(),
        )

    def try_reconnect(self) -> bool:
        """Ask the server now (the retry pause aside); True when it answered."""
        with self._lock:
            self._next_try = 0.0
            try:
                self._server(lambda conn: conn.execute("SELECT 1"))
            except Unreachable:
                return False
            return True

    # -- the outbox ------------------------------------------------------------------------

    def sync(self) -> int:
        """Push the outbox to the server in order, each entry exactly once; returns how many
        were pushed. Raises Unreachable when the server cannot be reached."""
        pushed = 0
        with self._lock, self.outbox.push_lock():
            while entries := self.outbox.entries(PUSH_BATCH):
                try:
                    self._server(lambda conn, batch=entries: _push(conn, batch))  # type: ignore[misc]
                except RefusedData:
                    self._push_one_by_one(entries)
                else:
                    self.outbox.remove(entries)
                pushed += len(entries)
        return pushed

    def _push_one_by_one(self, entries: list[OutboxEntry]) -> None:
        """A batch the server refused: push each entry alone, and set aside (never drop) the
        ones it refuses, so one bad entry cannot hold back the rest forever."""
        for entry in entries:
            try:
                self._server(lambda conn, one=entry: _push(conn, [one]))  # type: ignore[misc]
            except RefusedData as exc:
                self.outbox.reject(entry, first_line(exc))
            else:
                self.outbox.remove([entry])

    def sync_quietly(self) -> int:
        """`sync()`, where an outage is not an error (the next try pushes)."""
        try:
            return self.sync()
        except Unreachable:
            return 0

    def _outbox_first(self) -> bool:
        """True when the outbox is empty (pushed now if need be), so a write may go straight
        to the server without overtaking older writes that are still waiting."""
        if self.outbox.count() == 0:
            return True
        try:
            self.sync()
        except Unreachable:
            return False
        return self.outbox.count() == 0

    # -- incidents -----------------------------------------------------------------------------

    def create_incident(self, title: str, author: str, *, drill: bool = False) -> IncidentRecord:
        """Open a new incident and record `incident.opened` as its first event."""
        title, author = storable(title), storable(author)
        _check_text(author, "author")
        with self._lock:
            now = self._clock()
            record = IncidentRecord(uuid.uuid4().hex[:12], title, now, author, drill, None)
            event = Event(
                0,
                uuid.uuid4().hex,
                record.id,
                now,
                author,
                "incident.opened",
                {"title": title, "drill": drill},
            )
            if self._outbox_first():
                try:
                    seq = self._server(lambda conn: _insert_incident(conn, record, event))
                    self._max_seq_seen = max(self._max_seq_seen, seq)
                except Unreachable:
                    pass
                else:
                    # Known locally, so a write to it still works if the server goes away.
                    self.outbox.mirror_incidents([record])
                    self.outbox.mirror_events([event.replace(seq=seq)])
                    return record
            body = {"incident": record_to_json(record), "event": event_to_json(event)}
            self.outbox.add("incident", f"incident:{record.id}", record.id, body)
            return record.replace(pending=True)

    def close_incident(self, incident_id: str) -> None:
        """Mark an incident closed: an INSERT into `incident_closures` (the first one counts)."""
        with self._lock:
            closed_at = self._clock()
            if self._outbox_first():
                try:
                    self._server(lambda conn: _insert_closure(conn, incident_id, closed_at))
                    return
                except Unreachable:
                    pass
            from cockpit.core.store import format_ts

            self.outbox.add(
                "closure",
                f"closure:{incident_id}",
                incident_id,
                {"incident_id": incident_id, "closed_at": format_ts(closed_at)},
            )

    def incidents(self, *, drill: bool | None = None) -> list[IncidentRecord]:
        """All incidents, newest first, the outbox's included; `drill` filters."""
        try:
            records, order = self._server(_read_incidents)
            self.outbox.mirror_incidents(records)
        except Unreachable:
            records = self.outbox.mirrored_incidents()
            order = {}
        entries = self.outbox.entries()
        known = {r.id for r in records}
        for entry in entries:
            if entry.op == "incident" and entry.incident_id not in known:
                records.append(record_from_json(entry.body["incident"], pending=True))
                known.add(entry.incident_id)
        closures = closed_at_of(entries)
        titles = _pending_titles(entries)
        records = [
            r.replace(
                closed_at=r.closed_at or closures.get(r.id),
                title=titles.get(r.id, r.title),
            )
            for r in records
        ]
        if drill is not None:
            records = [r for r in records if r.drill == drill]
        big = 1 << 62  # pending incidents sort after (newer than) every shared one
        records.sort(key=lambda r: (r.created_at, order.get(r.id, big)), reverse=True)
        return records

    def incident(self, incident_id: str) -> IncidentRecord | None:
        """The incident with exactly this id, or None."""
        return next((r for r in self.incidents() if r.id == incident_id), None)

    def current_incident(self, *, drill: bool = False) -> IncidentRecord | None:
        """The most recent open incident of that kind (real or drill)."""
        return next((i for i in self.incidents(drill=drill) if i.is_open), None)

    def find_incident(self, ref: str) -> IncidentRecord | None:
        """The incident whose id is `ref` or starts with it (a unique prefix), or None."""
        records = self.incidents()
        exact = next((r for r in records if r.id == ref), None)
        if exact is not None or not ref:
            return exact
        matches = [r for r in records if r.id.startswith(ref)]
        if len(matches) > 1:
            ids = ", ".join(r.id for r in matches[:5])
            raise StoreError(f"{self.location}: incident id prefix {ref!r} is ambiguous ({ids})")
        return matches[0] if matches else None

    # -- events --------------------------------------------------------------------------------

    def append(self, incident_id: str, kind: str, payload: dict[str, Any], author: str) -> Event:
        """Append one event. Shared: returns after COMMIT returned. Server unreachable:
        returns after the local outbox committed it, marked `pending`."""
        author, payload = storable(author), storable_payload(payload)
        _check_text(author, "author")
        _check_text(kind, "event kind")
        with self._lock:
            event = Event(0, uuid.uuid4().hex, incident_id, self._clock(), author, kind, payload)
            if self._outbox_first():
                try:
                    seq = self._server(lambda conn: _insert_events(conn, [event]))[0]
                    self._max_seq_seen = max(self._max_seq_seen, seq)
                    shared = event.replace(seq=seq)
                    self.outbox.mirror_events([shared])
                    return shared
                except Unreachable:
                    pass
                except UnknownIncident:
                    raise StoreError(
                        f"{self.location}: no incident with id {incident_id!r}"
                    ) from None
            if not self.outbox.knows_incident(incident_id):
                raise StoreError(f"{self.location}: no incident with id {incident_id!r}")
            self.outbox.add("event", f"event:{event.id}", incident_id, event_to_json(event))
            pending = self.events(incident_id)
            seq = next((e.seq for e in pending if e.id == event.id), 0)
            return event.replace(seq=seq, pending=True)

    def events(self, incident_id: str, *, after_seq: int = 0) -> list[Event]:
        """The incident's shared events after `after_seq` in commit order, then its writes
        still in the outbox (`pending`, numbered after every shared event)."""
        try:
            shared = self._server(lambda conn: _read_events(conn, incident_id, after_seq))
            self.outbox.mirror_events(shared)
            if shared:
                self._max_seq_seen = max(self._max_seq_seen, shared[-1].seq)
        except Unreachable:
            shared = self.outbox.mirrored_events(incident_id, after_seq)
        waiting = self.outbox.pending_events(incident_id)
        if not waiting:
            return shared
        seen = {e.id for e in shared}
        base = max([after_seq, self._max_seq_seen, *(e.seq for e in shared)])
        mirrored = self.outbox.mirrored_events(incident_id, base)
        base = max([base, *(e.seq for e in mirrored)])
        pending = [e for e in waiting if e.id not in seen]
        return shared + [e.replace(seq=base + n) for n, e in enumerate(pending, start=1)]

    # -- redaction salt ------------------------------------------------------------------------

    def redaction_salt(self, incident_id: str) -> bytes:
        """The incident's redaction salt (32 random bytes), created on first use; the first
        insert wins when two cockpits ask at once. Offline: the mirrored one, else a new one
        kept in the outbox (the server's wins if it had one meanwhile)."""
        with self._lock:
            try:
                salt = self._server(lambda conn: _read_or_make_salt(conn, incident_id))
            except Unreachable:
                mirrored = self.outbox.mirrored_salt(incident_id)
                if mirrored is not None:
                    salt = mirrored
                else:
                    if self.incident(incident_id) is None:
                        raise StoreError(
                            f"{self.location}: no incident with id {incident_id!r}"
                        ) from None
                    salt = secrets.token_bytes(REDACTION_SALT_BYTES)
                    self.outbox.add(
                        "salt",
                        f"salt:{incident_id}",
                        incident_id,
                        {"incident_id": incident_id, "salt": salt.hex()},
                    )
            except RefusedData:
                raise StoreError(f"{self.location}: no incident with id {incident_id!r}") from None
            if len(salt) != REDACTION_SALT_BYTES:
                raise StoreError(
                    f"{self.location}: the redaction salt of incident {incident_id} is damaged"
                )
            self.outbox.mirror_salt(incident_id, salt)
            return salt

    # -- copy ------------------------------------------------------------------------------

    def dump(self) -> StoreDump:
        """Every shared incident, event (commit order) and salt on the server."""
        records, _ = self._server_or_fail(_read_incidents)
        events = self._server_or_fail(lambda conn: _read_events(conn, None, 0))
        salts = self._server_or_fail(
            lambda conn: {
                row[0]: bytes(row[1])
                for row in conn.execute("SELECT incident_id, salt FROM redaction_salts")
            }
        )
        return StoreDump(records, events, salts)

    def import_dump(self, dump: StoreDump) -> ImportCounts:
        """Add what `dump` holds and the server lacks, matched by id, in one transaction."""
        return self._server_or_fail(lambda conn: _import(conn, dump))

    def _server_or_fail(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        try:
            return self._server(work)
        except Unreachable as exc:
            raise StoreError(f"{self.location}: {exc}") from None


# -- SQL, each function one round of work on a connection --------------------------------------


def ensure_schema(conn: psycopg.Connection[Any], location: str) -> None:
    """Check the schema's version; create it on first use when this role may."""
    cockpit, events = conn.execute(
        "SELECT to_regclass('cockpit_schema'), to_regclass('events')"
    ).fetchone() or (None, None)
    if cockpit is None:
        if events is not None:
            raise StoreError(
                f"{location}: a database with an events table but no cockpit_schema: not a"
                " cockpit store; point [cockpit] store at another database or schema"
            )
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (schema.SCHEMA_LOCK,))
                row = conn.execute("SELECT to_regclass('cockpit_schema')").fetchone()
                if row is None or row[0] is None:
                    conn.execute(schema.DDL)
                    conn.execute(
                        "INSERT INTO cockpit_schema (version) VALUES (%s)",
                        (schema.SCHEMA_VERSION,),
                    )
        except pg_errors.InsufficientPrivilege as exc:
            raise StoreError(
                f"{location}: no cockpit schema here and this role may not create it"
                f" ({first_line(exc)}); an admin runs the SQL of"
                " `cockpit store init --print-sql` once (README: Pairing)"
            ) from None
    try:
        row = conn.execute("SELECT max(version) FROM cockpit_schema").fetchone()
    except pg_errors.InsufficientPrivilege as exc:
        raise StoreError(
            f"{location}: this role may not read the cockpit schema ({first_line(exc)});"
            " grant it the README's least-privilege SQL"
        ) from None
    version = int(row[0]) if row and row[0] is not None else 0
    if version > schema.SCHEMA_VERSION:
        raise StoreError(
            f"{location}: written by a newer cockpit (schema {version}, this one knows"
            f" {schema.SCHEMA_VERSION}); upgrade cockpit"
        )
    if version < 1:
        raise StoreError(f"{location}: the cockpit schema has no version row; rerun store init")


def _lock_log(conn: psycopg.Connection[Any]) -> None:
    # Durable before COMMIT returns whatever the server's default; one writer at a time, so
    # sequence order is commit order.
    conn.execute("SET LOCAL synchronous_commit = on")
    # A writer stuck elsewhere must not hang ours: after this the write goes to the outbox.
    conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (schema.APPEND_LOCK,))


def _insert_events(conn: psycopg.Connection[Any], events: list[Event]) -> list[int]:
    with conn.transaction():
        _lock_log(conn)
        return [_insert_event(conn, event) for event in events]


def _insert_event(conn: psycopg.Connection[Any], event: Event) -> int:
    """INSERT one event (idempotent by id); its seq, whether new or already there."""
    import json

    # INSERT ... SELECT ... WHERE EXISTS: an unknown incident inserts nothing and so takes no
    # number from the sequence (a failed append leaves no gap, as on SQLite).
    row = conn.execute(
        "INSERT INTO events (id, incident_id, ts, author, kind, payload)"
        " SELECT %s, %s, %s, %s, %s, %s"
        " WHERE EXISTS (SELECT 1 FROM incidents WHERE id = %s)"
        " ON CONFLICT (id) DO NOTHING RETURNING seq",
        (
            event.id,
            event.incident_id,
            event.ts,
            event.author,
            event.kind,
            json.dumps(event.payload, ensure_ascii=False, sort_keys=True),
            event.incident_id,
        ),
    ).fetchone()
    if row is None:
        row = conn.execute("SELECT seq FROM events WHERE id = %s", (event.id,)).fetchone()
    if row is None:
        raise UnknownIncident(f"no incident with id {event.incident_id!r} on the server")
    return int(row[0])


def _insert_incident(conn: psycopg.Connection[Any], record: IncidentRecord, opened: Event) -> int:
    with conn.transaction():
        _lock_log(conn)
        _insert_record(conn, record)
        return _insert_event(conn, opened)


def _insert_record(conn: psycopg.Connection[Any], record: IncidentRecord) -> None:
    conn.execute(
        "INSERT INTO incidents (id, title, created_at, created_by, drill)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
        (record.id, _column_text(record.title), record.created_at, record.created_by, record.drill),
    )


def _insert_closure(conn: psycopg.Connection[Any], incident_id: str, closed_at: datetime) -> None:
    with conn.transaction():
        conn.execute(
            "INSERT INTO incident_closures (incident_id, closed_at) VALUES (%s, %s)"
            " ON CONFLICT (incident_id) DO NOTHING",
            (incident_id, closed_at),
        )


def _read_incidents(
    conn: psycopg.Connection[Any],
) -> tuple[list[IncidentRecord], dict[str, int]]:
    """Every incident with its current title (the latest rename event) and closure, and each
    one's opening seq (the tie-break for incidents opened in the same instant)."""
    import json

    with conn.transaction():  # one snapshot for the three reads
        rows = conn.execute(
            "SELECT i.id, i.title, i.created_at, i.created_by, i.drill, c.closed_at,"
            " (SELECT min(e.seq) FROM events e WHERE e.incident_id = i.id)"
            " FROM incidents i LEFT JOIN incident_closures c ON c.incident_id = i.id"
        ).fetchall()
        renames = conn.execute(
            "SELECT incident_id, payload FROM events WHERE kind = 'incident.renamed' ORDER BY seq"
        ).fetchall()
    titles: dict[str, str] = {}
    for incident_id, payload in renames:
        try:
            title = json.loads(payload).get("title")
        except (ValueError, AttributeError):
            continue
        if title:
            titles[incident_id] = str(title)
    records = [
        IncidentRecord(
            row[0],
            titles.get(row[0], row[1]),
            _utc(row[2]),
            row[3],
            bool(row[4]),
            _utc(row[5]) if row[5] else None,
        )
        for row in rows
    ]
    return records, {row[0]: int(row[6] or 0) for row in rows}


def _pending_titles(entries: list[OutboxEntry]) -> dict[str, str]:
    titles: dict[str, str] = {}
    for entry in entries:
        for event in entry.events():
            if event.kind == "incident.renamed" and event.payload.get("title"):
                titles[event.incident_id] = str(event.payload["title"])
    return titles


def _read_events(
    conn: psycopg.Connection[Any], incident_id: str | None, after_seq: int
) -> list[Event]:
    import json

    if incident_id is None:
        cursor = conn.execute(
            "SELECT seq, id, incident_id, ts, author, kind, payload FROM events"
            " WHERE seq > %s ORDER BY seq",
            (after_seq,),
        )
    else:
        cursor = conn.execute(
            "SELECT seq, id, incident_id, ts, author, kind, payload FROM events"
            " WHERE incident_id = %s AND seq > %s ORDER BY seq",
            (incident_id, after_seq),
        )
    return [
        Event(int(r[0]), r[1], r[2], _utc(r[3]), r[4], r[5], json.loads(r[6]))
        for r in cursor.fetchall()
    ]


def _read_or_make_salt(conn: psycopg.Connection[Any], incident_id: str) -> bytes:
    query = "SELECT salt FROM redaction_salts WHERE incident_id = %s"
    row = conn.execute(query, (incident_id,)).fetchone()
    if row is None:
        with conn.transaction():
            conn.execute(
                "INSERT INTO redaction_salts (incident_id, salt) VALUES (%s, %s)"
                " ON CONFLICT (incident_id) DO NOTHING",
                (incident_id, secrets.token_bytes(REDACTION_SALT_BYTES)),
            )
        row = conn.execute(query, (incident_id,)).fetchone()
    assert row is not None
    return bytes(row[0])


def _push(conn: psycopg.Connection[Any], entries: list[OutboxEntry]) -> None:
    """Apply outbox entries in order in one transaction, each idempotent by its id."""
    from cockpit.core.pg.outbox import event_from_json

    with conn.transaction():
        _lock_log(conn)
        for entry in entries:
            if entry.op == "incident":
                _insert_record(conn, record_from_json(entry.body["incident"], pending=False))
                _insert_event(conn, event_from_json(entry.body["event"], seq=0, pending=False))
            elif entry.op == "event":
                _insert_event(conn, event_from_json(entry.body, seq=0, pending=False))
            elif entry.op == "closure":
                from cockpit.core.store import parse_ts

                conn.execute(
                    "INSERT INTO incident_closures (incident_id, closed_at) VALUES (%s, %s)"
                    " ON CONFLICT (incident_id) DO NOTHING",
                    (entry.incident_id, parse_ts(str(entry.body["closed_at"]))),
                )
            elif entry.op == "salt":
                conn.execute(
                    "INSERT INTO redaction_salts (incident_id, salt) VALUES (%s, %s)"
                    " ON CONFLICT (incident_id) DO NOTHING",
                    (entry.incident_id, bytes.fromhex(str(entry.body["salt"]))),
                )
            else:
                raise StoreError(f"unknown outbox entry {entry.op!r} (from a newer cockpit?)")


def _import(conn: psycopg.Connection[Any], dump: StoreDump) -> ImportCounts:
    # The listing's title is the one the incident was opened with; renames are events.
    opened_titles = {
        e.incident_id: str(e.payload.get("title", ""))
        for e in dump.events
        if e.kind == "incident.opened" and e.payload.get("title")
    }
    with conn.transaction():
        _lock_log(conn)
        known = {row[0] for row in conn.execute("SELECT id FROM incidents")}
        incidents_added = 0
        for record in dump.incidents:
            if record.id not in known:
                title = opened_titles.get(record.id, record.title)
                _insert_record(conn, record.replace(title=title))
                incidents_added += 1
            if record.closed_at is not None:
                conn.execute(
                    "INSERT INTO incident_closures (incident_id, closed_at) VALUES (%s, %s)"
                    " ON CONFLICT (incident_id) DO NOTHING",
                    (record.id, record.closed_at),
                )
        ids = [e.id for e in dump.events]
        present: set[str] = set()
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            present |= {
                row[0] for row in conn.execute("SELECT id FROM events WHERE id = ANY(%s)", (chunk,))
            }
        import json

        missing = [e for e in dump.events if e.id not in present]
        unknown = {e.incident_id for e in missing} - known - {r.id for r in dump.incidents}
        if unknown:
            raise UnknownIncident(f"events of incidents not in the copy: {sorted(unknown)[:3]}")
        with conn.cursor() as cursor:  # executemany pipelines: one round trip per batch
            cursor.executemany(
                "INSERT INTO events (id, incident_id, ts, author, kind, payload)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (
                        e.id,
                        e.incident_id,
                        e.ts,
                        e.author,
                        e.kind,
                        json.dumps(e.payload, ensure_ascii=False, sort_keys=True),
                    )
                    for e in missing
                ],
            )
        added = len(missing)
        salts_added = 0
        for incident_id, salt in dump.salts.items():
            cursor = conn.execute(
                "INSERT INTO redaction_salts (incident_id, salt) VALUES (%s, %s)"
                " ON CONFLICT (incident_id) DO NOTHING",
                (incident_id, salt),
            )
            salts_added += max(cursor.rowcount, 0)
    return ImportCounts(incidents_added, added, len(dump.events) - added, salts_added)
