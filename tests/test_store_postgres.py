"""The PostgreSQL store against a real server: append-only in the database, least privilege,
schema creation and versioning, passwords and sslmode, the outbox, NOTIFY, and copying.

The engine-neutral store tests (tests/test_store.py) run here too, through its `engine`
fixture; this file holds what only a server has.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

import cockpit
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.pg import schema
from cockpit.core.pg.presence import PgPresenceBoard
from cockpit.core.pg.store import PostgresStore
from cockpit.core.pg.watch import ChangeWatcher
from cockpit.core.store import EventStore, StoreError
from cockpit.core.store_copy import copy_store
from cockpit.core.store_target import PgTarget, StoreURL
from cockpit.core.stores import open_store
from tests.pg_server import PASSWORD_ENV, PostgresServer

PROJECT = Path(cockpit.__file__).resolve().parents[1]


def _role_target(server: PostgresServer, database: str, role: str, outbox: Path) -> PgTarget:
    return PgTarget(StoreURL(server.url(database, role)), PASSWORD_ENV, outbox)


def _team_role(server: PostgresServer, database: str) -> str:
    """A login role with exactly the README's least-privilege grants."""
    role = server.create_role()
    server.grant_connect(database, role)
    with server.admin(database) as conn:
        conn.execute(schema.grants_sql(f'"{role}"'))
    return role


def _come_back(store: PostgresStore) -> None:
    """The server is up again: skip the retry pause, as the TUI's loop does after a second."""
    assert store.try_reconnect()


# -- append-only, in the database -------------------------------------------------------------


def test_the_log_cannot_be_changed_even_by_the_owner(pg_server: Any, pg_target: PgTarget) -> None:
    with PostgresStore(pg_target) as store:
        incident = store.create_incident("checkout 500s", "alice")
        store.append(incident.id, Kind.NOTE_ADDED, {"text": "original"}, "alice")
        store.redaction_salt(incident.id)
        store.close_incident(incident.id)
    database = pg_target.url.rsplit("/", 1)[1]
    with pg_server.admin(database) as conn:  # the superuser: triggers still refuse
        for statement in (
            "UPDATE events SET payload = '{}'",
            "DELETE FROM events",
            "TRUNCATE events CASCADE",
            "UPDATE incidents SET title = 'x'",
            "DELETE FROM incident_closures",
            "DELETE FROM redaction_salts",
        ):
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(statement)
    with PostgresStore(pg_target) as store:
        assert store.events(incident.id)[-1].payload == {"text": "original"}


def test_least_privilege_role_does_everything_the_cockpit_does(
    pg_server: Any, pg_target: PgTarget, tmp_path: Path
) -> None:
    PostgresStore(pg_target).close()  # the owner creates the schema
    database = pg_target.url.rsplit("/", 1)[1]
    role = _team_role(pg_server, database)
    target = _role_target(pg_server, database, role, tmp_path / "team-outbox.db")
    with PostgresStore(target) as store:
        incident = store.create_incident("checkout 500s", role)
        store.append(incident.id, Kind.NOTE_ADDED, {"text": "hello"}, role)
        store.append(incident.id, Kind.RENAMED, {"title": "Checkout 5xx", "previous": ""}, role)
        salt = store.redaction_salt(incident.id)
        store.close_incident(incident.id)
        record = store.incident(incident.id)
        assert record is not None and record.title == "Checkout 5xx" and not record.is_open
        assert store.redaction_salt(incident.id) == salt
        assert store.sharing().online and store.sharing().pending == 0
    with PgPresenceBoard(target, host="laptop") as board:
        board.beat(incident.id, role, "Logs")
        assert [p.pane for p in board.present(incident.id)] == ["Logs"]
        board.leave()
        assert board.present(incident.id) == []
    url = pg_server.url(database, role)
    with psycopg.connect(url, password=os.environ[PASSWORD_ENV], autocommit=True) as conn:
        for statement in (
            "UPDATE events SET payload = '{}'",
            "DELETE FROM events",
            "CREATE TABLE sneaky (x int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_a_role_that_may_not_create_the_schema_is_told_to_run_store_init(
    pg_server: Any, tmp_path: Path
) -> None:
    database = pg_server.create_database()
    role = pg_server.create_role()
    pg_server.grant_connect(database, role)
    target = _role_target(pg_server, database, role, tmp_path / "o.db")
    with pytest.raises(StoreError) as caught:
        PostgresStore(target)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(target.location)
    assert "cockpit store init --print-sql" in message
    # The printed SQL is what an admin runs; afterwards the same role works.
    with pg_server.admin(database) as conn:
        conn.execute(schema.init_sql())
        conn.execute(schema.grants_sql(f'"{role}"'))
    with PostgresStore(target) as store:
        assert store.create_incident("after init", role).id


def test_a_newer_schema_is_refused_in_one_line(pg_server: Any, pg_target: PgTarget) -> None:
    PostgresStore(pg_target).close()
    database = pg_target.url.rsplit("/", 1)[1]
    with pg_server.admin(database) as conn:
        conn.execute("INSERT INTO cockpit_schema (version) VALUES (99)")
    with pytest.raises(StoreError) as caught:
        PostgresStore(pg_target)
    assert str(caught.value) == (
        f"{pg_target.location}: written by a newer cockpit (schema 99, this one knows"
        f" {schema.SCHEMA_VERSION}); upgrade cockpit"
    )


def test_another_applications_database_is_refused(pg_server: Any, pg_target: PgTarget) -> None:
    database = pg_target.url.rsplit("/", 1)[1]
    with pg_server.admin(database) as conn:
        conn.execute("CREATE TABLE events (x int)")
    with pytest.raises(StoreError, match="not a cockpit store"):
        PostgresStore(pg_target)


# -- passwords and TLS -----------------------------------------------------------------------


def test_password_comes_from_password_env_or_libpq(
    pg_server: Any, pg_target: PgTarget, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    unset = PgTarget(pg_target.url, "COCKPIT_NOT_SET", tmp_path / "a.db")
    with pytest.raises(StoreError, match="password_env names COCKPIT_NOT_SET, which is not set"):
        PostgresStore(unset)
    no_password = PgTarget(pg_target.url, None, tmp_path / "b.db")
    with pytest.raises(StoreError, match="no password supplied"):
        PostgresStore(no_password)  # a setup mistake: said now, not ridden out as an outage
    monkeypatch.setenv("PGPASSWORD", os.environ[PASSWORD_ENV])  # libpq's own variable
    with PostgresStore(no_password) as store:
        assert store.sharing().online
    monkeypatch.setenv("COCKPIT_WRONG", "wrong-password")
    wrong = PgTarget(pg_target.url, "COCKPIT_WRONG", tmp_path / "c.db")
    with pytest.raises(StoreError, match="password authentication failed"):
        PostgresStore(wrong)


def test_sslmode_in_the_url_is_honoured(pg_server: Any, pg_target: PgTarget) -> None:
    # The test server has no TLS: sslmode=require must refuse rather than fall back to plain.
    strict = PgTarget(StoreURL(pg_target.url + "?sslmode=require"), PASSWORD_ENV, pg_target.outbox)
    with pytest.raises(StoreError, match="does not support SSL"):
        PostgresStore(strict)
    relaxed = PgTarget(StoreURL(pg_target.url + "?sslmode=prefer"), PASSWORD_ENV, pg_target.outbox)
    with PostgresStore(relaxed) as store:
        assert store.sharing().online


# -- sequence, commit, notify ------------------------------------------------------------------


def test_append_is_committed_when_it_returns_and_notifies(
    pg_server: Any, pg_target: PgTarget
) -> None:
    with PostgresStore(pg_target) as store:
        incident = store.create_incident("checkout 500s", "alice")
        watcher = ChangeWatcher(pg_target)
        try:
            assert watcher.wait(1.0).reconnected
            event = store.append(incident.id, Kind.NOTE_ADDED, {"text": "rolled back"}, "bob")
            wake = watcher.wait(10.0)
            assert incident.id in wake.events
        finally:
            watcher.close()
    database = pg_target.url.rsplit("/", 1)[1]
    with pg_server.admin(database) as conn:  # another connection sees it: it was committed
        row = conn.execute(
            "SELECT seq, author, payload FROM events WHERE id = %s", (event.id,)
        ).fetchone()
    assert row == (event.seq, "bob", '{"text": "rolled back"}')


# -- the outbox -----------------------------------------------------------------------------


def test_writes_while_the_server_is_down_are_kept_and_shared_exactly_once(
    pg_server: Any, pg_target: PgTarget, tmp_path: Path
) -> None:
    writer = PostgresStore(pg_target)
    partner = PostgresStore(PgTarget(pg_target.url, PASSWORD_ENV, tmp_path / "partner-outbox.db"))
    try:
        incident = writer.create_incident("checkout 500s", "alice")
        writer.append(incident.id, Kind.NOTE_ADDED, {"text": "before"}, "alice")
        pg_server.stop()
        try:
            offline = [
                writer.append(incident.id, Kind.NOTE_ADDED, {"text": f"offline {n}"}, "alice")
                for n in range(3)
            ]
            late = writer.create_incident("opened on the train", "alice")
            writer.append(late.id, Kind.NOTE_ADDED, {"text": "in the new one"}, "alice")
            assert all(e.pending for e in offline) and late.pending
            sharing = writer.sharing()
            assert not sharing.online and sharing.pending == 5
            assert sharing.error and "server unreachable" in sharing.error
            # Reads merge the outbox: the writer sees their own events, in order, after the
            # shared ones; the state is the projection of both.
            texts = [e.payload.get("text") for e in writer.events(incident.id)]
            assert texts == [None, "before", "offline 0", "offline 1", "offline 2"]
            assert writer.current_incident() == late
        finally:
            pg_server.start()
        assert [e.payload["text"] for e in partner.events(incident.id)[1:]] == ["before"]
        _come_back(writer)
        assert writer.sync() == 5  # in order, in one transaction
        assert writer.sync() == 0  # nothing twice
    finally:
        writer.close()
    shared = partner.events(incident.id)
    assert [e.payload.get("text") for e in shared] == [
        None,
        "before",
        "offline 0",
        "offline 1",
        "offline 2",
    ]
    assert not any(e.pending for e in shared)
    assert [e.payload["text"] for e in partner.events(late.id)[1:]] == ["in the new one"]
    assert partner.current_incident() == late
    partner.close()


def test_a_commit_whose_answer_was_lost_lands_exactly_once(
    pg_server: Any, pg_target: PgTarget
) -> None:
    """The connection drops after the server committed but before the client heard: the
    write is kept in the outbox (its outcome unknown), and the push's ON CONFLICT makes it
    land once either way."""
    from tests.pg_proxy import CommitDropProxy

    with PostgresStore(pg_target) as direct:
        incident = direct.create_incident("checkout 500s", "alice")
    with CommitDropProxy("127.0.0.1", pg_server.port) as proxy:
        url = pg_target.url.replace(f":{pg_server.port}/", f":{proxy.port}/")
        assert pg_target.outbox is not None
        target = PgTarget(StoreURL(url), PASSWORD_ENV, pg_target.outbox.with_name("p.db"))
        with PostgresStore(target) as store:
            assert store.current_incident() == incident
            proxy.drop_after_next_commit()  # and refuse reconnects: the partition goes on
            event = store.append(incident.id, Kind.NOTE_ADDED, {"text": "cut off"}, "alice")
            assert proxy.dropped
            assert event.pending  # not acknowledged as shared: the answer never came
            with PostgresStore(pg_target) as partner:  # but the server did commit it
                assert [e.id for e in partner.events(incident.id)][-1] == event.id
            proxy.refusing = False
            _come_back(store)
            store.sync()
            assert store.sharing().pending == 0
    with PostgresStore(pg_target) as partner:
        ids = [e.id for e in partner.events(incident.id)]
    assert ids.count(event.id) == 1


def test_a_connection_dropped_mid_transaction_loses_nothing_and_doubles_nothing(
    pg_server: Any, pg_target: PgTarget
) -> None:
    """The append's backend is terminated while it waits inside its transaction (another
    session holds the log's lock): nothing half-written remains, the store retries on a fresh
    connection, and the event is there exactly once."""
    database = pg_target.url.rsplit("/", 1)[1]
    with PostgresStore(pg_target) as store:
        incident = store.create_incident("checkout 500s", "alice")
        result: dict[str, Any] = {}
        with pg_server.admin(database) as blocker, pg_server.admin(database) as watcher:
            blocker.execute("BEGIN")
            blocker.execute("SELECT pg_advisory_xact_lock(%s)", (schema.APPEND_LOCK,))

            def append() -> None:
                result["event"] = store.append(
                    incident.id, Kind.NOTE_ADDED, {"text": "mid-flight"}, "alice"
                )

            thread = threading.Thread(target=append)
            thread.start()
            deadline = time.monotonic() + 30  # liveness bound: the append reaches the lock
            while True:
                row = watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s"
                    " AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
                    (database,),
                ).fetchone()
                if row:
                    break
                assert time.monotonic() < deadline, "the append never waited for the lock"
                time.sleep(0.01)  # polling another session's state, not waiting for our work
            watcher.execute("SELECT pg_terminate_backend(%s)", (row[0],))
            blocker.execute("COMMIT")
            thread.join(60)
        event = result["event"]
        assert not event.pending  # retried on a fresh connection, and committed there
        ids = [e.id for e in store.events(incident.id)]
        assert ids.count(event.id) == 1 and len(ids) == 2


def test_a_rejected_outbox_entry_is_kept_aside_and_does_not_block_the_rest(
    pg_server: Any, pg_target: PgTarget
) -> None:
    with PostgresStore(pg_target) as store:
        incident = store.create_incident("checkout 500s", "alice")
        # An entry for an incident the server does not have (e.g. written by a broken tool).
        bogus = {
            "id": "e-bogus",
            "incident_id": "no-such",
            "ts": "2026-11-28T14:31:02.000000Z",
            "author": "x",
            "kind": "note.added",
            "payload": {"text": "orphan"},
        }
        store.outbox.add("event", "event:e-bogus", "no-such", bogus)
        good = {**bogus, "id": "e-good", "incident_id": incident.id, "payload": {"text": "ok"}}
        store.outbox.add("event", "event:e-good", incident.id, good)
        assert store.sync() == 2
        assert [e.payload.get("text") for e in store.events(incident.id)][-1] == "ok"
        sharing = store.sharing()
        assert sharing.pending == 0 and sharing.rejected == 1


def test_a_cockpit_started_offline_works_from_its_mirror(
    pg_server: Any, pg_target: PgTarget
) -> None:
    with PostgresStore(pg_target) as store:
        incident = store.create_incident("checkout 500s", "alice")
        store.append(incident.id, Kind.NOTE_ADDED, {"text": "seen online"}, "alice")
        store.events(incident.id)  # read once: mirrored
        salt = store.redaction_salt(incident.id)
    pg_server.stop()
    try:
        with PostgresStore(pg_target) as offline:  # opening does not fail
            assert not offline.sharing().online
            assert offline.current_incident() == incident
            assert offline.redaction_salt(incident.id) == salt
            note = offline.append(incident.id, Kind.NOTE_ADDED, {"text": "train"}, "alice")
            assert note.pending
            state = IncidentState.from_events(offline.events(incident.id))
            assert [n.text for n in state.notes] == ["seen online", "train"]
            with pytest.raises(StoreError, match="no incident with id 'nope'"):
                offline.append("nope", Kind.NOTE_ADDED, {"text": "x"}, "alice")
    finally:
        pg_server.start()
    with PostgresStore(pg_target) as back:  # opening pushes (the next command that reaches it)
        assert back.sharing().pending == 0
        assert [e.payload.get("text") for e in back.events(incident.id)][-1] == "train"


# -- the CLI ------------------------------------------------------------------------------------


def _cli(home: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "PYTHONPATH": str(PROJECT),
    }
    return subprocess.run(
        [sys.executable, "-m", "cockpit", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_a_note_taken_while_the_server_is_down_reaches_the_partner_exactly_once(
    pg_server: Any, pg_target: PgTarget, tmp_path: Path
) -> None:
    """Two users (own roles, own HOMEs): alice's note waits in her outbox while the server
    is down and reaches bob once her next command reaches the server."""
    PostgresStore(pg_target).close()
    database = pg_target.url.rsplit("/", 1)[1]
    configs = {}
    for name in ("alice", "bob"):
        role = _team_role(pg_server, database)
        home = tmp_path / name
        home.mkdir()
        config = home / "cockpit.toml"
        config.write_text(
            f'[cockpit]\nstore = "{pg_server.url(database, role)}"\n'
            f'password_env = "{PASSWORD_ENV}"\nauthor = "{name}"\n'
        )
        configs[name] = (home, config)
    opened = _cli(*configs["alice"], "incidents", "--new", "checkout 500s")
    assert opened.returncode == 0, opened.stderr
    incident = opened.stdout.strip()
    pg_server.stop()
    try:
        down = _cli(*configs["alice"], "note", "rolled back checkout")
        assert down.returncode == 0, down.stderr
        assert down.stdout.startswith("saved locally; not yet shared: note to incident")
        assert "the next cockpit command that reaches it shares the note" in down.stderr
        # Reading offline shows this machine's copy, and says so: partners' entries may lack.
        read = _cli(*configs["alice"], "timeline", "--incident", incident)
        assert read.returncode == 0, read.stderr
        assert "rolled back checkout" in read.stdout
        assert "Connection refused" in read.stderr or "server unreachable" in read.stderr
        assert "this machine's copy (1 not yet shared)" in read.stderr
        assert "partners' newer entries are missing" in read.stderr
        # Bob's machine never read the incident: offline, it cannot know it, and says why.
        stranger = _cli(*configs["bob"], "note", "--incident", incident, "from bob")
        assert stranger.returncode == 2, stranger.stderr
        assert "as this machine last read it" in stranger.stderr, stranger.stderr
        assert "not known here until the server answers" in stranger.stderr
        assert len(stranger.stderr.strip().splitlines()) == 1
    finally:
        pg_server.start()
    before = _cli(*configs["bob"], "timeline", "--incident", incident, "--json")
    assert "rolled back checkout" not in before.stdout  # still only on alice's machine
    status = _cli(*configs["alice"], "store", "status")  # any command reaching the server
    assert status.returncode == 0, status.stderr
    assert "online" in status.stdout and "not yet shared" not in status.stdout
    _cli(*configs["alice"], "store", "status")  # again: nothing pushed twice
    after = _cli(*configs["bob"], "timeline", "--incident", incident, "--json")
    notes = [e for e in json.loads(after.stdout) if e["kind"] == "note.added"]
    assert [(n["author"], n["payload"]["text"]) for n in notes] == [
        ("alice", "rolled back checkout")
    ]


def test_store_init_print_sql_and_copy_both_ways(
    pg_server: Any, pg_target: PgTarget, tmp_path: Path
) -> None:
    printed = _cli(tmp_path, tmp_path / "none.toml", "store", "init", "--print-sql")
    assert printed.returncode == 0 and "CREATE TABLE events" in printed.stdout
    assert "GRANT SELECT, INSERT ON incidents, events" in printed.stdout
    sqlite_path = tmp_path / "one-host.db"
    with EventStore(sqlite_path) as local:
        first = local.create_incident("checkout 500s", "alice")
        local.append(first.id, Kind.NOTE_ADDED, {"text": "ünïcode ✓ \x00"}, "alice")
        local.append(first.id, Kind.RENAMED, {"title": "Checkout 5xx", "previous": ""}, "bob")
        local.redaction_salt(first.id)
        local.close_incident(first.id)
        second = local.create_incident("search slow", "bob")
    config = tmp_path / "cockpit.toml"
    config.write_text(f'[cockpit]\nstore = "{sqlite_path}"\npassword_env = "{PASSWORD_ENV}"\n')
    copied = _cli(tmp_path, config, "store", "copy", "--to", pg_target.url)
    assert copied.returncode == 0, copied.stderr
    assert "2 incidents, 4 events (4 added, 0 already there)" in copied.stdout
    assert copied.stdout.splitlines()[1].startswith("verified: 4 events, sha256 ")
    again = _cli(tmp_path, config, "store", "copy", "--to", pg_target.url)  # idempotent
    assert "(0 added, 4 already there)" in again.stdout
    with open_store(pg_target) as shared, EventStore(sqlite_path) as local:
        for incident in (first, second):
            here, there = local.incident(incident.id), shared.incident(incident.id)
            assert here == there
            assert local.events(incident.id) == shared.events(incident.id)
        assert local.redaction_salt(first.id) == shared.redaction_salt(first.id)
        # ...and back, into a new SQLite file.
        back_path = tmp_path / "back.db"
        with EventStore(back_path) as back:
            report = copy_store(shared, back)
            assert report.events == 4
            assert back.dump().digest() == local.dump().digest()
            assert back.incident(first.id) == local.incident(first.id)
    bad = _cli(tmp_path, config, "store", "copy", "--to", "postgresql://x:pw@h/db")
    assert bad.returncode == 2 and "carries a password" in bad.stderr
