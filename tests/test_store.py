"""The incident store: durability settings, append-only log, incidents, and the projection.

Tests taking `store` (or `engine`) run on both engines, SQLite and a real PostgreSQL server;
those taking `sqlite_store` or `db_path` are about the SQLite file itself.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.core import store as store_module
from cockpit.core.incident import IncidentState, Kind, Status, describe
from cockpit.core.runbook import Phase
from cockpit.core.store import Event, EventStore, IncidentStore, StoreError, format_ts, parse_ts
from cockpit.core.stores import open_store

T0 = datetime(2026, 11, 28, 14, 31, 2, tzinfo=UTC)


class StepClock:
    """A frozen clock that moves one second per reading, so event times are predictable."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        moment = self.now
        self.now += timedelta(seconds=1)
        return moment


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "incidents.db"


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[EventStore]:
    with EventStore(db_path, clock=StepClock()) as opened:
        yield opened


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, db_path: Path) -> Path | object:
    """Where a store lives: the SQLite file, or a fresh database on a real PostgreSQL server."""
    if request.param == "sqlite":
        return db_path
    return request.getfixturevalue("pg_target")


@pytest.fixture
def store(engine: Path) -> Iterator[IncidentStore]:
    with open_store(engine, clock=StepClock()) as opened:
        yield opened


# -- durability settings ----------------------------------------------------------------------


def test_wal_mode_and_synchronous_full(sqlite_store: EventStore) -> None:
    conn = sqlite_store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_store_file_is_owner_only(sqlite_store: EventStore, db_path: Path) -> None:
    store = sqlite_store
    incident = store.create_incident("checkout 500s", "alice")
    store.append(incident.id, Kind.NOTE_ADDED, {"text": "x"}, "alice")
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    # SQLite gives the WAL the database file's mode: it holds the same data.
    wal = db_path.with_name(db_path.name + "-wal")
    assert wal.exists()
    assert stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_existing_world_readable_store_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    EventStore(path).close()
    path.chmod(0o644)
    EventStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_creates_missing_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "incidents.db"
    with EventStore(path) as opened:
        assert opened.integrity_check() == "ok"
    assert path.is_file()


# -- append-only ------------------------------------------------------------------------------


def test_events_cannot_be_updated_or_deleted(sqlite_store: EventStore, db_path: Path) -> None:
    store = sqlite_store
    incident = store.create_incident("checkout 500s", "alice")
    store.append(incident.id, Kind.NOTE_ADDED, {"text": "original"}, "alice")
    other = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            other.execute("UPDATE events SET payload = '{}'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            other.execute("DELETE FROM events")
    finally:
        other.close()
    assert [e.payload for e in store.events(incident.id)][-1] == {"text": "original"}


def test_append_returns_the_committed_event(sqlite_store: EventStore, db_path: Path) -> None:
    store = sqlite_store
    incident = store.create_incident("checkout 500s", "alice")
    event = store.append(incident.id, Kind.NOTE_ADDED, {"text": "rolled back"}, "bob")
    # Visible to a separate connection the moment append returned: it was committed.
    other = sqlite3.connect(db_path)
    try:
        row = other.execute(
            "SELECT seq, author, kind, payload FROM events WHERE id = ?", (event.id,)
        ).fetchone()
    finally:
        other.close()
    assert row == (event.seq, "bob", "note.added", '{"text": "rolled back"}')
    assert event.ts == T0 + timedelta(seconds=1)  # the incident took the first tick


def test_append_to_unknown_incident_fails_and_saves_nothing(store: IncidentStore) -> None:
    incident = store.create_incident("checkout 500s", "alice")
    with pytest.raises(StoreError, match="no incident with id 'nope'"):
        store.append("nope", Kind.NOTE_ADDED, {"text": "x"}, "alice")
    assert len(store.events(incident.id)) == 1
    # The failed write was rolled back: the connection is usable again.
    assert store.append(incident.id, Kind.NOTE_ADDED, {"text": "y"}, "alice").seq == 2


def test_events_after_seq_and_sequence_order(store: IncidentStore) -> None:
    incident = store.create_incident("checkout 500s", "alice")
    appended = [
        store.append(incident.id, Kind.NOTE_ADDED, {"text": str(n)}, "alice") for n in range(5)
    ]
    seqs = [e.seq for e in store.events(incident.id)]
    assert seqs == sorted(seqs) and len(seqs) == 6
    later = store.events(incident.id, after_seq=appended[2].seq)
    assert [e.payload["text"] for e in later] == ["3", "4"]


def test_unicode_and_nested_payloads_round_trip(store: IncidentStore) -> None:
    incident = store.create_incident("Zahlungen: 500er ✗", "jürgen@höst")
    payload = {"text": "\x1b[2J ✓ 日本", "detail": {"lines": [1, 2], "ok": None}}
    store.append(incident.id, Kind.PIN_ADDED, payload, "jürgen@höst")
    event = store.events(incident.id)[-1]
    assert event.payload == payload
    assert event.author == "jürgen@höst"
    assert store.incident(incident.id).title == "Zahlungen: 500er ✗"  # type: ignore[union-attr]


def test_timestamp_format_round_trips() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert format_ts(moment) == "2026-01-02T03:04:05.678901Z"
    assert parse_ts(format_ts(moment)) == moment


# -- incidents --------------------------------------------------------------------------------


def test_multiple_incidents_keep_their_own_events(store: IncidentStore) -> None:
    first = store.create_incident("checkout 500s", "alice")
    second = store.create_incident("search slow", "bob")
    store.append(first.id, Kind.NOTE_ADDED, {"text": "one"}, "alice")
    store.append(second.id, Kind.NOTE_ADDED, {"text": "two"}, "bob")
    assert [e.kind for e in store.events(first.id)] == ["incident.opened", "note.added"]
    assert store.events(second.id)[-1].payload == {"text": "two"}
    assert [i.id for i in store.incidents()] == [second.id, first.id]  # newest first
    assert store.incident(first.id) == first


def test_renaming_updates_the_listing_and_the_projection_in_one_commit(
    store: IncidentStore,
) -> None:
    incident = store.create_incident("Untitled incident", "alice")
    store.append(incident.id, Kind.RENAMED, {"title": "Checkout 5xx", "previous": ""}, "bob")
    listed = store.incident(incident.id)
    assert listed is not None and listed.title == "Checkout 5xx"
    state = IncidentState.from_events(store.events(incident.id))
    assert state.title == "Checkout 5xx"
    assert describe(store.events(incident.id)[-1]) == "incident renamed:  -> Checkout 5xx"
    other = store.create_incident("search slow", "bob")  # only the renamed incident changes
    assert store.incident(other.id).title == "search slow"  # type: ignore[union-attr]


def test_current_incident_resumes_last_open_and_skips_closed_and_drills(
    store: IncidentStore,
) -> None:
    assert store.current_incident() is None
    older = store.create_incident("older", "alice")
    newer = store.create_incident("newer", "alice")
    drill = store.create_incident("game day", "alice", drill=True)
    assert store.current_incident() == newer
    assert store.current_incident(drill=True) == drill
    store.close_incident(newer.id)
    assert store.current_incident() == older
    closed = store.incident(newer.id)
    assert closed is not None and not closed.is_open and closed.closed_at is not None
    store.close_incident(older.id)
    assert store.current_incident() is None
    assert store.current_incident(drill=True) == drill


def test_current_incident_survives_reopening_the_store(engine: Path) -> None:
    with open_store(engine, clock=StepClock()) as first:
        incident = first.create_incident("checkout 500s", "alice")
        first.append(incident.id, Kind.NOTE_ADDED, {"text": "before the SSH drop"}, "alice")
    with open_store(engine) as again:
        resumed = again.current_incident()
        assert resumed is not None and resumed.id == incident.id
        assert again.events(incident.id)[-1].payload["text"] == "before the SSH drop"


def test_find_incident_by_unique_prefix(store: IncidentStore) -> None:
    incident = store.create_incident("checkout 500s", "alice")
    assert store.find_incident(incident.id) == incident
    assert store.find_incident(incident.id[:6]) == incident
    assert store.find_incident("zzzz-not-there") is None


def test_find_incident_ambiguous_prefix(store: IncidentStore) -> None:
    ids = {store.create_incident(f"incident {n}", "alice").id for n in range(40)}
    # 40 random hex ids: some first character is shared by two of them.
    shared = next(c for c in "0123456789abcdef" if sum(i.startswith(c) for i in ids) > 1)
    with pytest.raises(StoreError, match="ambiguous"):
        store.find_incident(shared)


# -- refusals and bad files -------------------------------------------------------------------


def test_refuses_network_filesystem(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(store_module, "filesystem_type", lambda path: "nfs4")
    path = tmp_path / "share" / "incidents.db"
    with pytest.raises(StoreError) as caught:
        EventStore(path)
    message = str(caught.value)
    assert str(path) in message and "nfs4" in message and "local disk" in message
    assert "\n" not in message
    assert not path.exists() and not path.parent.exists()  # nothing created on the share


def test_local_filesystem_type_is_detected(tmp_path: Path) -> None:
    fs_type = store_module.filesystem_type(tmp_path)
    assert fs_type is None or fs_type not in store_module.NETWORK_FILESYSTEMS


def test_non_sqlite_file_gives_store_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    with pytest.raises(StoreError) as caught:
        EventStore(path)
    assert str(path) in str(caught.value)
    assert "not a usable SQLite store" in str(caught.value)


def test_corrupt_header_gives_store_error(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    with EventStore(path) as good:
        good.create_incident("x", "alice")
    data = bytearray(path.read_bytes())
    data[0:16] = b"garbage-garbage!"
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=str(path)):
        EventStore(path)


def test_other_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a cockpit store"):
        EventStore(path)
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert tables == {"customers"}  # left untouched


def test_directory_in_place_of_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    path.mkdir()
    with pytest.raises(StoreError, match="is a directory"):
        EventStore(path)


# -- change detection -------------------------------------------------------------------------


def test_data_version_changes_when_another_connection_commits(db_path: Path) -> None:
    with EventStore(db_path) as watcher, EventStore(db_path) as writer:
        incident = writer.create_incident("checkout 500s", "alice")
        before = watcher.data_version()
        assert watcher.data_version() == before  # nothing new: stable
        writer.append(incident.id, Kind.NOTE_ADDED, {"text": "from the partner"}, "bob")
        after = watcher.data_version()
        assert after != before
        assert watcher.events(incident.id)[-1].payload["text"] == "from the partner"


# -- projection -------------------------------------------------------------------------------


def _event(seq: int, kind: str, payload: dict[str, object], author: str = "alice") -> Event:
    return Event(seq, f"e{seq}", "inc1", T0 + timedelta(seconds=seq), author, kind, payload)


def _full_log() -> list[Event]:
    return [
        _event(1, Kind.OPENED, {"title": "checkout 500s", "drill": False}),
        _event(2, Kind.DECLARED, {"severity": "SEV2", "detail": "5% of checkouts fail"}),
        _event(3, Kind.PHASE_CHANGED, {"phase": "contain"}),
        _event(4, Kind.ITEM_CHECKED, {"phase": "assess", "item": "Check error rate"}),
        _event(5, Kind.ITEM_CHECKED, {"phase": "contain", "item": "Pick target"}),
        _event(6, Kind.ITEM_CHECKED, {"phase": "contain", "item": "Pick target", "checked": False}),
        _event(7, Kind.ITEM_CHECKED, {"phase": "contain", "item": "Run rollback", "checked": True}),
        _event(8, Kind.NOTE_ADDED, {"text": "rolled back to b9c1d4e"}, "bob"),
        _event(9, Kind.PIN_ADDED, {"source": "logs", "text": "ERROR 500", "detail": {"line": 9}}),
        _event(
            10,
            Kind.COMMAND_COPIED,
            {
                "text": "kubectl rollout undo",
                "purpose": "rollback",
                "findings": ["embedded newline"],
            },
        ),
        _event(11, Kind.CONTAINED, {"detail": "error rate back to 0.1%"}, "bob"),
        _event(12, Kind.SEARCH_RUN, {"summary": "status=500 in 3 sources"}),
        _event(13, Kind.INJECT, {"summary": "disk fills up"}),
        _event(14, "future.kind", {"text": "from a newer cockpit"}),
        _event(15, Kind.RESOLVED, {"detail": "verified for 30 min"}),
    ]


def test_projection_folds_every_kind() -> None:
    state = IncidentState.from_events(_full_log())
    assert (state.incident_id, state.title, state.drill) == ("inc1", "checkout 500s", False)
    assert state.opened_at == T0 + timedelta(seconds=1)
    assert state.severity == "SEV2"
    assert state.declared is not None and state.declared.detail == "5% of checkouts fail"
    assert state.contained is not None and state.contained.by == "bob"
    assert state.resolved is not None and state.resolved.at == T0 + timedelta(seconds=15)
    assert state.status is Status.RESOLVED
    assert state.phase is Phase.CONTAIN
    assert state.is_checked(Phase.ASSESS, "Check error rate")
    assert not state.is_checked(Phase.CONTAIN, "Pick target")  # checked, then unchecked
    assert state.is_checked(Phase.CONTAIN, "Run rollback")
    assert [(n.author, n.text) for n in state.notes] == [("bob", "rolled back to b9c1d4e")]
    assert state.pins[0].source == "logs" and state.pins[0].detail == {"line": 9}
    assert state.copies[0].purpose == "rollback"
    assert state.copies[0].findings == ("embedded newline",)
    assert len(state.events) == 15 and state.last_seq == 15


def test_status_follows_the_human_decisions() -> None:
    log = _full_log()
    assert IncidentState.from_events(log[:1]).status is Status.OPEN
    assert IncidentState.from_events(log[:2]).status is Status.DECLARED
    assert IncidentState.from_events(log[:11]).status is Status.CONTAINED


def test_reapplying_events_is_idempotent() -> None:
    log = _full_log()
    state = IncidentState.from_events(log)
    for event in log:
        state = state.apply([event])  # polling may hand over an event twice
    state = state.apply([log[7]])
    assert len(state.notes) == 1 and len(state.pins) == 1 and len(state.copies) == 1
    assert len(state.events) == len(log)
    assert state == IncidentState.from_events(log)


def test_unknown_phase_and_odd_payloads_do_not_break_the_projection() -> None:
    state = IncidentState.from_events(
        [
            _event(1, Kind.OPENED, {"title": "x"}),
            _event(2, Kind.PHASE_CHANGED, {"phase": "celebrate"}),
            _event(3, Kind.ITEM_CHECKED, {"phase": "celebrate", "item": "cake"}),
            _event(4, Kind.PIN_ADDED, {"source": "logs", "text": "x", "detail": "not a dict"}),
            _event(5, Kind.COMMAND_COPIED, {"text": "ls", "findings": "one finding"}),
        ]
    )
    assert state.phase is Phase.ASSESS
    assert state.checked == {}
    assert state.pins[0].detail == {}
    assert state.copies[0].findings == ("one finding",)
    assert len(state.events) == 5


def test_projection_from_the_store_matches(store: IncidentStore) -> None:
    incident = store.create_incident("checkout 500s", "alice")
    store.append(incident.id, Kind.PHASE_CHANGED, {"phase": "diagnose"}, "alice")
    store.append(incident.id, Kind.ITEM_CHECKED, {"phase": "assess", "item": "a"}, "bob")
    state = IncidentState.from_events(store.events(incident.id))
    assert state.title == "checkout 500s" and state.phase is Phase.DIAGNOSE
    assert state.is_checked(Phase.ASSESS, "a")


def test_describe_each_kind() -> None:
    lines = {event.seq: describe(event) for event in _full_log()}
    assert lines[1] == "incident opened: checkout 500s"
    assert lines[2] == "incident DECLARED SEV2 (5% of checkouts fail)"
    assert lines[3] == "phase -> Contain"
    assert lines[4] == "checked [Assess] Check error rate"
    assert lines[6] == "unchecked [Contain] Pick target"
    assert lines[8] == "note: rolled back to b9c1d4e"
    assert lines[9] == "pinned from logs: ERROR 500"
    assert lines[10] == (
        "copied, not executed (rollback): kubectl rollout undo [flagged: embedded newline]"
    )
    assert lines[11] == "incident marked CONTAINED (error rate back to 0.1%)"
    assert lines[12] == "search.run: status=500 in 3 sources"
    assert lines[14] == "future.kind: from a newer cockpit"
    assert lines[15] == "incident marked RESOLVED (verified for 30 min)"
    drill = _event(1, Kind.OPENED, {"title": "game day", "drill": True})
    assert describe(drill) == "incident opened: game day (drill)"


def test_one_store_shared_by_threads(store: IncidentStore) -> None:
    """The TUI's workers share one EventStore: concurrent appends and reads must not collide."""
    incident = store.create_incident("checkout 500s", "alice")
    errors: list[BaseException] = []
    seen_counts: list[int] = []

    def writer(name: str) -> None:
        try:
            for n in range(25):
                store.append(incident.id, Kind.NOTE_ADDED, {"text": f"{name}-{n}"}, name)
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(40):
                seen_counts.append(len(store.events(incident.id)))
                store.sharing()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(3)]
    threads.append(threading.Thread(target=reader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    events = store.events(incident.id)
    assert len(events) == 1 + 3 * 25
    assert len({e.seq for e in events}) == len(events)
    assert seen_counts == sorted(seen_counts)  # the reader only ever saw the log grow


def test_a_device_or_fifo_is_refused_and_never_chmodded(tmp_path: Path) -> None:
    """As root, tightening `/dev/null` to 0600 would break it for every user of the machine."""
    fifo = tmp_path / "store.fifo"
    os.mkfifo(fifo, 0o644)
    with pytest.raises(StoreError, match=r"store\.fifo: not a regular file, expected an SQLite"):
        EventStore(fifo)
    assert stat.S_IMODE(fifo.stat().st_mode) == 0o644


def test_opening_a_current_store_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No write transaction (and so no fsync) when the schema is all there: `timeline` reads.
    path = tmp_path / "incidents.db"
    EventStore(path).close()
    statements: list[str] = []
    real_connect = sqlite3.connect

    def traced(*args: object, **kwargs: object) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)  # type: ignore[call-overload]
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)
    EventStore(path).close()
    assert statements  # the trace saw the open
    assert not [s for s in statements if s.startswith(("BEGIN", "CREATE", "PRAGMA user_version="))]


def test_opening_a_store_missing_part_of_the_schema_adds_it(tmp_path: Path) -> None:
    # redaction_salts came without a version bump: a store from before it gets it on open.
    path = tmp_path / "incidents.db"
    EventStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE redaction_salts")
    conn.execute("DROP TRIGGER events_append_only_delete")
    conn.commit()
    conn.close()
    EventStore(path).close()
    conn = sqlite3.connect(path)
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert {"redaction_salts", "events_append_only_delete"} <= names


def test_text_that_is_not_utf8_is_stored_as_visible_escapes(store: IncidentStore) -> None:
    """A byte that is not UTF-8 in argv or $USER (a lone surrogate in Python) or a `\\ud800`
    escape in some JSON once failed the write with a traceback; it is kept, escaped."""
    record = store.create_incident("checkout \udcff down", "b\udc9bb@host")
    assert record.title == "checkout \\xff down"
    event = store.append(
        record.id, "note.added", {"text": "pasted \udc9b and \ud800", "k\udcff": 1}, "a\udcffa"
    )
    assert event.payload == {"text": "pasted \\x9b and \\ud800", "k\\xff": 1}
    assert event.author == "a\\xffa"
    stored = store.events(record.id)
    assert stored[0].author == "b\\x9bb@host"
    assert stored[-1].payload == event.payload and stored[-1].author == "a\\xffa"
    assert store.incident(record.id).title == "checkout \\xff down"  # type: ignore[union-attr]
