"""The incident store: an append-only event log, on SQLite (one host) or PostgreSQL (a team).

`IncidentStore` is the one interface; `EventStore` (here) keeps it in an SQLite file and
`cockpit.core.pg.store.PostgresStore` on a PostgreSQL server; `open_store` picks by target.

Durability rules: WAL journal, `synchronous=FULL`, every write in `BEGIN IMMEDIATE` with a busy
timeout. `append` returns only after the commit has returned, and callers say "saved" only then,
so a crash, SIGKILL or dropped SSH session loses nothing that was acknowledged.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cockpit.core.store_target import PgTarget

from cockpit.core.records import Record
from cockpit.core.safe_files import make_private_dir
from cockpit.core.timefmt import format_ts, parse_ts

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000
REDACTION_SALT_BYTES = 32
SHARED_MODE = 0o660
"""Mode of a store shared by a Unix group for pairing (`[cockpit] store_mode = "0660"`)."""

# Filesystems where SQLite's POSIX locks and WAL shared memory are unreliable.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smbfs",
        "smb3",
        "9p",
        "fuse.sshfs",
        "afs",
        "ceph",
        "glusterfs",
        "fuse.glusterfs",
        "lustre",
        "gpfs",
        "davfs",
        "fuse.s3fs",
        "virtiofs",
    }
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    drill       INTEGER NOT NULL DEFAULT 0,
    closed_at   TEXT
);
CREATE TABLE IF NOT EXISTS events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    ts          TEXT NOT NULL,
    author      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_incident ON events(incident_id, seq);
-- Added by CREATE IF NOT EXISTS on open, no version bump: older cockpits ignore the table.
CREATE TABLE IF NOT EXISTS redaction_salts (
    incident_id TEXT PRIMARY KEY REFERENCES incidents(id),
    salt        BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
"""
_SCHEMA_OBJECTS = frozenset(
    line.split(" IF NOT EXISTS ", 1)[1].split()[0]
    for line in _SCHEMA.splitlines()
    if line.startswith("CREATE ") and " IF NOT EXISTS " in line
)
"""Every table, index and trigger `_SCHEMA` creates, by name."""


class StoreError(Exception):
    """A store problem, phrased as one line naming the database file."""


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC (the default clock; tests pass a frozen one)."""
    return datetime.now(UTC)


def new_id() -> str:
    """A random id: the hex of a version-4 UUID, as `uuid.uuid4().hex` (whose module imports
    `platform` and costs every command a few ms at start-up)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    return raw.hex()


class Event(Record):
    """One committed event."""

    _fields = ("seq", "id", "incident_id", "ts", "author", "kind", "payload", "pending")
    _compared = _fields[:-1]
    _hashable = False  # the payload is a dict

    seq: int
    """Global, strictly increasing sequence number (the commit order)."""
    id: str
    incident_id: str
    ts: datetime
    author: str
    kind: str
    payload: dict[str, Any]
    pending: bool
    """Saved locally but not yet shared: the PostgreSQL server was unreachable, so the event
    waits in the durable local outbox and `seq` is provisional (after every shared event).
    Not compared."""

    def __init__(
        self,
        seq: int,
        id: str,
        incident_id: str,
        ts: datetime,
        author: str,
        kind: str,
        payload: dict[str, Any],
        pending: bool = False,
    ) -> None:
        self.__dict__.update(
            seq=seq,
            id=id,
            incident_id=incident_id,
            ts=ts,
            author=author,
            kind=kind,
            payload=payload,
            pending=pending,
        )

    def to_json(self) -> dict[str, Any]:
        """The event as plain JSON types (timestamps in `format_ts` form)."""
        return {
            "seq": self.seq,
            "id": self.id,
            "incident_id": self.incident_id,
            "ts": format_ts(self.ts),
            "author": self.author,
            "kind": self.kind,
            "payload": self.payload,
        }


class IncidentRecord(Record):
    """One incident's row: identity and lifecycle, not its state (that is the event projection)."""

    _fields = ("id", "title", "created_at", "created_by", "drill", "closed_at", "pending")
    _compared = _fields[:-1]

    id: str
    title: str
    created_at: datetime
    created_by: str
    drill: bool
    closed_at: datetime | None
    pending: bool
    """Opened while the PostgreSQL server was unreachable: not yet shared. Not compared."""

    def __init__(
        self,
        id: str,
        title: str,
        created_at: datetime,
        created_by: str,
        drill: bool,
        closed_at: datetime | None,
        pending: bool = False,
    ) -> None:
        self.__dict__.update(
            id=id,
            title=title,
            created_at=created_at,
            created_by=created_by,
            drill=drill,
            closed_at=closed_at,
            pending=pending,
        )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Sharing(Record):
    """How this store's writes reach partners: the header and the CLI say it in words."""

    _fields = ("shared", "online", "pending", "last_heard", "error", "rejected")

    shared: bool
    """False for a local SQLite file (partners on this host read the same file)."""
    online: bool
    """The server answered the last time it was asked."""
    pending: int
    """Writes saved locally, not yet shared (the outbox)."""
    last_heard: datetime | None
    """When the server last answered (wall clock, UTC)."""
    error: str | None
    """Why the server is unreachable, in one line."""
    rejected: int
    """Outbox entries the server refused (kept locally, never dropped)."""

    def __init__(
        self,
        shared: bool,
        online: bool = True,
        pending: int = 0,
        last_heard: datetime | None = None,
        error: str | None = None,
        rejected: int = 0,
    ) -> None:
        self.__dict__.update(
            shared=shared,
            online=online,
            pending=pending,
            last_heard=last_heard,
            error=error,
            rejected=rejected,
        )


class StoreDump:
    """Every incident, event and redaction salt of a store, for `cockpit store copy`."""

    incidents: list[IncidentRecord]
    events: list[Event]
    """In commit order (seq), across incidents."""
    salts: dict[str, bytes]

    def __init__(
        self, incidents: list[IncidentRecord], events: list[Event], salts: dict[str, bytes]
    ) -> None:
        self.incidents = incidents
        self.events = events
        self.salts = salts

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, StoreDump)
        return (self.incidents, self.events, self.salts) == (
            other.incidents,
            other.events,
            other.salts,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq

    def __repr__(self) -> str:
        return (
            f"StoreDump(incidents={self.incidents!r}, events={self.events!r}, salts={self.salts!r})"
        )

    def digest(self) -> str:
        """sha256 of the events (without seq, which each store numbers itself), by event id:
        equal digests mean the same events with the same ids, times, authors and payloads."""
        return events_digest(self.events)


@functools.cache
def _lone_surrogate() -> re.Pattern[str]:
    # Compiled on the first non-ASCII text, not at every start.
    return re.compile("[\ud800-\udfff]")


def _surrogate_escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    # U+DC80-U+DCFF: a byte that was not UTF-8 (argv, the environment, a file name).
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def storable(text: str) -> str:
    """`text` that can be stored and sent as UTF-8: a lone surrogate (a byte that was not
    UTF-8 in argv, the environment or a file name; a `\\ud800` escape in some JSON) becomes a
    visible escape (`\\xff`, `\\ud800`). Everything else is kept exactly."""
    if text.isascii():
        return text
    return _lone_surrogate().sub(_surrogate_escape, text)


def storable_value(value: Any) -> Any:
    """`value` (JSON-like: dicts, lists, strings) with every string made `storable`, keys too."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable_value(k): storable_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_value(v) for v in value]
    return value


def storable_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` as it can be stored: unchanged unless a string in it holds a lone surrogate
    (a byte that was not UTF-8 in argv or a file name), which becomes a visible escape
    (`\\xff`) instead of failing the write."""
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return dict(storable_value(payload))
    return payload


def events_digest(events: Iterable[Event]) -> str:
    """sha256 over each event's canonical JSON line (seq left out), sorted by event id."""
    lines = sorted(
        json.dumps(
            [e.id, e.incident_id, format_ts(e.ts), e.author, e.kind, e.payload],
            ensure_ascii=False,
            sort_keys=True,
        )
        for e in events
    )
    import hashlib  # only `cockpit store copy` digests; OpenSSL's module costs ms at start-up

    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


class ImportCounts(Record):
    """What `import_dump` added and what was already there (matched by id)."""

    _fields = ("incidents_added", "events_added", "events_present", "salts_added")

    incidents_added: int
    events_added: int
    events_present: int
    salts_added: int

    def __init__(
        self, incidents_added: int, events_added: int, events_present: int, salts_added: int
    ) -> None:
        self.__dict__.update(
            incidents_added=incidents_added,
            events_added=events_added,
            events_present=events_present,
            salts_added=salts_added,
        )


class IncidentStore(Protocol):
    """The store interface both engines implement, with the same semantics: an append-only
    event log with one global sequence; `append` returns only after the commit returned;
    incident state is a projection of the events; redaction salts in their own table."""

    @property
    def location(self) -> str:
        """The store as messages name it: a file path or a password-free URL."""
        ...

    def create_incident(
        self, title: str, author: str, *, drill: bool = False
    ) -> IncidentRecord: ...
    def close_incident(self, incident_id: str) -> None: ...
    def incidents(self, *, drill: bool | None = None) -> list[IncidentRecord]: ...
    def incident(self, incident_id: str) -> IncidentRecord | None: ...
    def current_incident(self, *, drill: bool = False) -> IncidentRecord | None: ...
    def find_incident(self, ref: str) -> IncidentRecord | None: ...
    def append(
        self, incident_id: str, kind: str, payload: dict[str, Any], author: str
    ) -> Event: ...
    def events(self, incident_id: str, *, after_seq: int = 0) -> list[Event]: ...
    def redaction_salt(self, incident_id: str) -> bytes: ...
    def sharing(self) -> Sharing: ...
    def dump(self) -> StoreDump: ...
    def import_dump(self, dump: StoreDump) -> ImportCounts: ...
    def close(self) -> None: ...
    def __enter__(self) -> IncidentStore: ...
    def __exit__(self, *exc_info: object) -> None: ...


def filesystem_type(path: Path) -> str | None:
    """The filesystem type holding `path`, from /proc/self/mounts (Linux), or None if unknown."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    target = os.path.realpath(path)
    best, best_type = "", None
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point = parts[1].replace("\\040", " ")
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, parts[2]
    return best_type


class EventStore:
    """The append-only event log of every incident, in one SQLite file.

    Safe to share between threads (the TUI's workers do): one lock serializes every use of
    the connection, so a reader never sees another thread's write before its COMMIT.
    """

    def __init__(self, path: Path, *, clock: Clock = utc_now, mode: int | None = None) -> None:
        """`mode`: the store file's mode when configured (0o600, or 0o660 to share with the
        group); None creates it 0600 and leaves an existing group-shared (0660) store alone."""
        self.path = Path(path).expanduser()
        self._clock = clock
        self._mode = mode
        self._lock = threading.RLock()
        self._created = False
        self._check_location()
        self._conn = self._connect()
        if not self._created:
            _tighten_mode(self.path, self._mode)  # now known to be a cockpit store

    def _check_location(self) -> None:
        # Check the filesystem before creating anything, so nothing is left behind on a share.
        fs_type = filesystem_type(_nearest_existing(self.path))
        if fs_type in NETWORK_FILESYSTEMS:
            raise StoreError(
                f"{self.path}: on a {fs_type} network filesystem, where SQLite locking is"
                " unreliable; set [cockpit] store to a path on a local disk"
            )
        parent = self.path.parent
        try:
            make_private_dir(parent)
        except OSError as exc:
            raise StoreError(
                f"{self.path}: cannot create the store's folder ({exc.strerror})"
            ) from None
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, expected an SQLite store file")
        if self.path.exists() and not self.path.is_file():
            # /dev/null, a FIFO, a socket: never chmod or open one (as root that would change
            # /dev/null for every user of the machine).
            raise StoreError(f"{self.path}: not a regular file, expected an SQLite store file")
        try:
            # Create with 0600 before SQLite opens it, so the file is never world-readable.
            flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW
            fd = os.open(self.path, flags, 0o600)
            if self._mode is not None:
                os.fchmod(fd, self._mode)  # exactly the configured mode, whatever the umask
            os.close(fd)
            self._created = True
        except FileExistsError:
            # Someone else's file may sit here (a copy of /etc/passwd): look at what it is
            # before anything else. Its mode is only changed once it has proved to be a
            # cockpit store (after `_connect`), and never through a symlink.
            _check_sqlite_header(self.path)
            if not os.access(self.path, os.R_OK | os.W_OK):
                info = self.path.stat()
                raise StoreError(
                    f"{self.path}: no permission to read and write it (mode"
                    f" {info.st_mode & 0o777:04o}, owner uid {info.st_uid}); to pair across Unix"
                    ' users its owner sets [cockpit] store_mode = "0660" (README: Pairing)'
                ) from None
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the store ({exc.strerror})") from None

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the store ({exc})") from None
        try:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # Another application's database is refused before WAL mode rewrites its header.
            self._check_is_ours(conn)
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{self.path}: SQLite could not enable WAL mode (got {mode!r})")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            if self._schema_is_current(conn):
                # Nothing to create: no write transaction, so no fsync for `timeline`.
                return conn
            with self._write(conn):
                self._check_is_ours(conn)
                for statement in _SCHEMA.split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"{self.path}: not a usable SQLite store ({exc})") from None
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _schema_is_current(conn: sqlite3.Connection) -> bool:
        """True when every table, index and trigger of `_SCHEMA` exists and the version is
        this cockpit's: opening then writes nothing (read in one snapshot, committed state)."""
        # Names first: the schema and its version commit together, so names all present
        # means the version read after them is the committed one.
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        return version == SCHEMA_VERSION and names >= _SCHEMA_OBJECTS

    def _check_is_ours(self, conn: sqlite3.Connection) -> None:
        """Refuse another application's database or one written by a newer cockpit."""
        tables = {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not row[0].startswith("sqlite_")
        }
        if tables and not {"incidents", "events"} <= tables:
            found = ", ".join(sorted(tables)[:5])
            raise StoreError(
                f"{self.path}: an SQLite database but not a cockpit store (tables: {found});"
                " point [cockpit] store at a new or existing cockpit store file"
            )
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer cockpit (schema {version}, this one knows"
                f" {SCHEMA_VERSION}); upgrade cockpit"
            )

    @contextmanager
    def _write(self, conn: sqlite3.Connection) -> Iterator[None]:
        """One write transaction: `BEGIN IMMEDIATE` ... `COMMIT`, rolled back on any failure.

        Returns only after COMMIT returned; SQLite errors become a StoreError naming the file.
        """
        with self._lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot start a write ({exc})") from None
            try:
                yield
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"{self.path}: write failed, nothing saved ({exc})") from None
                raise

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """All rows of one query, under the lock; SQLite errors become a StoreError."""
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: read failed ({exc})") from None

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- incidents -------------------------------------------------------------------------

    def create_incident(self, title: str, author: str, *, drill: bool = False) -> IncidentRecord:
        """Open a new incident and record `incident.opened` as its first event."""
        title, author = storable(title), storable(author)
        with self._write(self._conn):
            # Read the clock inside the write lock, so times follow the commit order.
            now = self._clock()
            record = IncidentRecord(new_id()[:12], title, now, author, drill, None)
            self._conn.execute(
                "INSERT INTO incidents (id, title, created_at, created_by, drill)"
                " VALUES (?,?,?,?,?)",
                (record.id, title, format_ts(now), author, int(drill)),
            )
            self._insert_event(
                record.id, "incident.opened", {"title": title, "drill": drill}, author, now
            )
        return record

    def close_incident(self, incident_id: str) -> None:
        """Mark an incident closed (after it is resolved), so reopening skips it."""
        with self._write(self._conn):
            self._conn.execute(
                "UPDATE incidents SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                (format_ts(self._clock()), incident_id),
            )

    def incidents(self, *, drill: bool | None = None) -> list[IncidentRecord]:
        """All incidents, newest first; `drill` filters drills in or out."""
        query = "SELECT id, title, created_at, created_by, drill, closed_at FROM incidents"
        params: tuple[Any, ...] = ()
        if drill is not None:
            query += " WHERE drill = ?"
            params = (int(drill),)
        rows = self._read(query + " ORDER BY created_at DESC, rowid DESC", params)
        return [self._incident(row) for row in rows]

    def incident(self, incident_id: str) -> IncidentRecord | None:
        """The incident with exactly this id, or None."""
        rows = self._read(
            "SELECT id, title, created_at, created_by, drill, closed_at FROM incidents"
            " WHERE id = ?",
            (incident_id,),
        )
        return self._incident(rows[0]) if rows else None

    def current_incident(self, *, drill: bool = False) -> IncidentRecord | None:
        """The most recent open incident of that kind (real or drill): what reopening resumes."""
        return next((i for i in self.incidents(drill=drill) if i.is_open), None)

    def find_incident(self, ref: str) -> IncidentRecord | None:
        """The incident whose id is `ref` or starts with it (a unique prefix), or None.

        Raises StoreError when the prefix matches more than one incident.
        """
        exact = self.incident(ref)
        if exact is not None or not ref:
            return exact
        matches = [i for i in self.incidents() if i.id.startswith(ref)]
        if len(matches) > 1:
            ids = ", ".join(i.id for i in matches[:5])
            raise StoreError(f"{self.path}: incident id prefix {ref!r} is ambiguous ({ids})")
        return matches[0] if matches else None

    @staticmethod
    def _incident(row: tuple[Any, ...]) -> IncidentRecord:
        return IncidentRecord(
            id=row[0],
            title=row[1],
            created_at=parse_ts(row[2]),
            created_by=row[3],
            drill=bool(row[4]),
            closed_at=parse_ts(row[5]) if row[5] else None,
        )

    # -- events ----------------------------------------------------------------------------

    def append(self, incident_id: str, kind: str, payload: dict[str, Any], author: str) -> Event:
        """Append one event; returns only after the commit returned (the event is durable)."""
        with self._write(self._conn):
            return self._insert_event(incident_id, kind, payload, author, self._clock())

    def _insert_event(
        self, incident_id: str, kind: str, payload: dict[str, Any], author: str, ts: datetime
    ) -> Event:
        event_id = new_id()
        author, payload = storable(author), storable_payload(payload)
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        try:
            cursor = self._conn.execute(
                "INSERT INTO events (id, incident_id, ts, author, kind, payload)"
                " VALUES (?,?,?,?,?,?)",
                (event_id, incident_id, format_ts(ts), author, kind, body),
            )
        except sqlite3.IntegrityError:
            raise StoreError(f"{self.path}: no incident with id {incident_id!r}") from None
        assert cursor.lastrowid is not None
        if kind == "incident.renamed" and payload.get("title"):
            # The incidents table lists titles; it changes in the same transaction as the event.
            self._conn.execute(
                "UPDATE incidents SET title = ? WHERE id = ?", (str(payload["title"]), incident_id)
            )
        return Event(cursor.lastrowid, event_id, incident_id, ts, author, kind, payload)

    def events(self, incident_id: str, *, after_seq: int = 0) -> list[Event]:
        """The incident's events in commit order, optionally only those after `after_seq`."""
        rows = self._read(
            "SELECT seq, id, incident_id, ts, author, kind, payload FROM events"
            " WHERE incident_id = ? AND seq > ? ORDER BY seq",
            (incident_id, after_seq),
        )
        return [
            Event(row[0], row[1], row[2], parse_ts(row[3]), row[4], row[5], json.loads(row[6]))
            for row in rows
        ]

    # -- redaction salt ----------------------------------------------------------------------

    def redaction_salt(self, incident_id: str) -> bytes:
        """The incident's redaction salt (32 random bytes), created on first use.

        Placeholders are an HMAC of the secret under this salt, so every process on the
        incident redacts a secret alike. Not a secret, but sensitive (with it a guessed value
        can be checked against its placeholder): it lives in its own table, never in an event,
        so no timeline, export, postmortem or model request can carry it. When two processes
        ask at once, the first insert wins and both get its salt.
        """
        query = "SELECT salt FROM redaction_salts WHERE incident_id = ?"
        rows = self._read(query, (incident_id,))
        if not rows:
            with self._write(self._conn):
                try:
                    self._conn.execute(
                        "INSERT OR IGNORE INTO redaction_salts (incident_id, salt) VALUES (?,?)",
                        (incident_id, os.urandom(REDACTION_SALT_BYTES)),
                    )
                except sqlite3.IntegrityError:
                    raise StoreError(f"{self.path}: no incident with id {incident_id!r}") from None
                rows = self._conn.execute(query, (incident_id,)).fetchall()
        salt = rows[0][0]
        if not isinstance(salt, bytes) or len(salt) != REDACTION_SALT_BYTES:
            raise StoreError(
                f"{self.path}: the redaction salt of incident {incident_id} is damaged"
            )
        return salt

    @property
    def location(self) -> str:
        """The store file, as messages name it."""
        return str(self.path)

    def sharing(self) -> Sharing:
        """A local file: partners on this host read it directly, nothing waits to be shared."""
        return Sharing(shared=False)

    def dump(self) -> StoreDump:
        """Every incident (its current title), event and salt, in commit order."""
        incidents = self.incidents()
        rows = self._read(
            "SELECT seq, id, incident_id, ts, author, kind, payload FROM events ORDER BY seq"
        )
        events = [
            Event(row[0], row[1], row[2], parse_ts(row[3]), row[4], row[5], json.loads(row[6]))
            for row in rows
        ]
        salts = dict(self._read("SELECT incident_id, salt FROM redaction_salts"))
        return StoreDump(incidents, events, salts)

    def import_dump(self, dump: StoreDump) -> ImportCounts:
        """Add what `dump` holds and this store lacks, matched by id, in one transaction.

        Events keep their ids, times, authors and payloads and take this store's sequence in
        the dump's order; running it again adds nothing.
        """
        with self._write(self._conn):
            known = {row[0] for row in self._conn.execute("SELECT id FROM incidents")}
            incidents_added = 0
            for record in dump.incidents:
                if record.id in known:
                    continue
                self._conn.execute(
                    "INSERT INTO incidents (id, title, created_at, created_by, drill, closed_at)"
                    " VALUES (?,?,?,?,?,?)",
                    (
                        record.id,
                        record.title,
                        format_ts(record.created_at),
                        record.created_by,
                        int(record.drill),
                        format_ts(record.closed_at) if record.closed_at else None,
                    ),
                )
                incidents_added += 1
            for record in dump.incidents:
                if record.closed_at is not None:
                    self._conn.execute(
                        "UPDATE incidents SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                        (format_ts(record.closed_at), record.id),
                    )
            present = {row[0] for row in self._conn.execute("SELECT id FROM events")}
            added = 0
            for event in dump.events:
                if event.id in present:
                    continue
                self._conn.execute(
                    "INSERT INTO events (id, incident_id, ts, author, kind, payload)"
                    " VALUES (?,?,?,?,?,?)",
                    (
                        event.id,
                        event.incident_id,
                        format_ts(event.ts),
                        event.author,
                        event.kind,
                        json.dumps(event.payload, ensure_ascii=False, sort_keys=True),
                    ),
                )
                if event.kind == "incident.renamed" and event.payload.get("title"):
                    self._conn.execute(
                        "UPDATE incidents SET title = ? WHERE id = ?",
                        (str(event.payload["title"]), event.incident_id),
                    )
                added += 1
            salts_added = 0
            for incident_id, salt in dump.salts.items():
                cursor = self._conn.execute(
                    "INSERT OR IGNORE INTO redaction_salts (incident_id, salt) VALUES (?,?)",
                    (incident_id, salt),
                )
                salts_added += cursor.rowcount
        return ImportCounts(incidents_added, added, len(dump.events) - added, salts_added)

    def data_version(self) -> int:
        """Changes when another connection commits: a cheap "anything new?" check."""
        return int(self._read("PRAGMA data_version")[0][0])

    def integrity_check(self) -> str:
        """`PRAGMA integrity_check`: "ok" for a healthy database file."""
        return str(self._read("PRAGMA integrity_check")[0][0])


def _nearest_existing(path: Path) -> Path:
    """`path` or its closest ancestor that exists (the store's folder may not exist yet)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_sqlite_header(path: Path) -> None:
    """Refuse an existing file that is neither empty nor an SQLite database (read, not opened
    for writing: nothing about it changes)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return  # unreadable: the permission check that follows says so
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise StoreError(f"{path}: not a regular file, expected an SQLite store file")
        head = os.read(fd, len(SQLITE_MAGIC))
    finally:
        os.close(fd)
    if head and head != SQLITE_MAGIC:
        raise StoreError(
            f"{path}: not a usable SQLite store (not an SQLite database, so not a cockpit"
            " store); left untouched. Point [cockpit] store at a new or existing cockpit store"
            " file"
        )


def _tighten_mode(path: Path, mode: int | None = None) -> None:
    """Give an existing store of ours `mode`, or make it owner-only when no mode is configured
    (a group-shared 0660 store is then left alone, so the partner is not locked out).

    Called only once the file has proved to be a cockpit store. Never through a symlink (the
    link's target may be anyone's file), never on a file of another user, and never adding
    write permission a read-only file did not have. SQLite gives new -wal and -shm files the
    store's mode; existing ones of ours follow it.
    """
    target: int | None = None
    for candidate in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
        try:
            # O_NOFOLLOW: a symlink is never followed; fstat/fchmod act on what was opened.
            fd = os.open(candidate, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            if candidate == path:
                return  # a symlink (ELOOP) or gone: leave it as it is
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                if candidate == path:
                    return
                continue
            current = info.st_mode & 0o777
            if target is None:  # decided by the store file; its -wal/-shm follow it
                if mode is None and (current == SHARED_MODE or not current & 0o077):
                    return
                target = mode if mode is not None else 0o600
                if not current & 0o200:
                    target &= ~0o222  # a read-only store stays read-only
            if current != target:
                os.fchmod(fd, target)
        except OSError:
            pass  # not changeable: SQLite still works, the mode just stays as it was
        finally:
            os.close(fd)


def store_exists(target: Path | PgTarget) -> bool:
    """Whether there is a store to read: the SQLite file exists, or a server is named (a
    command that must never create a store asks this first)."""
    return not isinstance(target, Path) or target.expanduser().is_file()
