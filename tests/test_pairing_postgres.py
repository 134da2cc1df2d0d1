"""Two cockpits on one PostgreSQL server, as two users with their own HOMEs, pair live: a note,
presence, and a note taken while the server is down that reaches the partner exactly once.

Alice runs the real TUI (headless pilot); Bob is another process, run as another Unix user
when the tests run as root, with his own HOME (so his own outbox) and his own database role.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

import cockpit
from cockpit.core.config import load_config_file
from cockpit.core.incident import Kind
from cockpit.core.pg import schema
from cockpit.core.pg.presence import PgPresenceBoard
from cockpit.core.pg.store import PostgresStore
from cockpit.core.store_target import PgTarget, StoreURL
from cockpit.tui.app import CockpitApp
from cockpit.tui.presence import PresenceBar
from cockpit.tui.widgets import IncidentHeader
from tests.pg_server import PASSWORD_ENV, RUN_AS
from tests.tui_support import RUNBOOK

PROJECT = Path(cockpit.__file__).resolve().parents[1]


async def until(pilot: Pilot[Any], condition: Callable[[], bool], what: str, limit: float) -> None:
    """Poll the app until `condition` holds; `limit` seconds is a liveness bound only."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            app = pilot.app
            header = str(app.query_one(IncidentHeader).render())
            said = [str(n.message) for n in app._notifications]
            pytest.fail(f"not within {limit} s: {what} (header: {header!r}; notices: {said})")
        await pilot.pause(0.02)


@pytest.fixture
def bob_home() -> Iterator[Path]:
    """Bob's HOME, outside root's private pytest folder so another Unix user can use it."""
    home = Path(tempfile.mkdtemp(prefix="cockpit-bob-"))
    if os.geteuid() == 0:
        shutil.chown(home, user=RUN_AS)
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _as_other_user() -> str | None:
    """The Unix user Bob runs as: `nobody` when we are root and it can run this Python
    (every folder up to the interpreter world-searchable), else None (same user, own HOME)."""
    if os.geteuid() != 0:
        return None
    real = Path(os.path.realpath(sys.executable))
    for folder in [*reversed(real.parents)]:
        if not folder.stat().st_mode & 0o001:
            return None
    return RUN_AS if real.stat().st_mode & 0o001 else None


def _team_role(server: Any, database: str, name: str) -> str:
    role = server.create_role(f"{name}_{os.urandom(3).hex()}")
    server.grant_connect(database, role)
    with server.admin(database) as conn:
        conn.execute(schema.grants_sql(f'"{role}"'))
    return role


async def _bob(home: Path, config: Path, *args: str) -> tuple[int, str, str]:
    """Bob's `cockpit` command: his HOME, his Unix user (when root), his role."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "PYTHONPATH": str(PROJECT),
        PASSWORD_ENV: os.environ[PASSWORD_ENV],
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cockpit",
        "--config",
        str(config),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=str(home),
        user=_as_other_user(),
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_two_users_on_two_homes_pair_live_and_survive_an_outage(
    pg_server: Any, tmp_path: Path, bob_home: Path
) -> None:
    if not pg_server.running():
        pg_server.start()
    database = pg_server.create_database()
    owner = PgTarget(StoreURL(pg_server.url(database)), PASSWORD_ENV, tmp_path / "owner.db")
    PostgresStore(owner).close()  # the admin's one-time init
    alice_role = _team_role(pg_server, database, "alice")
    bob_role = _team_role(pg_server, database, "bob")

    (tmp_path / "runbook.md").write_text(RUNBOOK)
    (tmp_path / "cockpit.toml").write_text(
        f'[cockpit]\nstore = "{pg_server.url(database, alice_role)}"\n'
        f'password_env = "{PASSWORD_ENV}"\nstore_outbox = "alice-outbox.db"\n'
        'runbook = "runbook.md"\nauthor = "alice@laptop"\n'
    )
    bob_config = bob_home / "cockpit.toml"
    bob_config.write_text(
        f'[cockpit]\nstore = "{pg_server.url(database, bob_role)}"\n'
        f'password_env = "{PASSWORD_ENV}"\nauthor = "bob@bastion"\n'
    )
    if os.geteuid() == 0:
        shutil.chown(bob_config, user=RUN_AS)
    bob_target = PgTarget(StoreURL(pg_server.url(database, bob_role)), PASSWORD_ENV, None)

    app = CockpitApp(load_config_file(tmp_path / "cockpit.toml"), new_incident_title="checkout")
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.state is not None, "the incident opened", 30)
        assert app.state is not None
        incident = app.state.incident_id

        def notes() -> list[tuple[str, str]]:
            return [(n.author, n.text) for n in app.state.notes] if app.state else []

        header = app.query_one(IncidentHeader)
        await until(pilot, lambda: "shared" in str(header.render()), "header says shared", 10)

        # Bob's note, from his own shell: on Alice's screen by NOTIFY, attributed to him.
        code, out, err = await _bob(bob_home, bob_config, "note", "--incident", incident, "hi")
        assert code == 0, err
        assert out.startswith("saved: note #")
        await until(
            pilot,
            lambda: notes() == [("bob@bastion", "hi")],
            "bob's note on alice's screen",
            10,
        )

        # Bob's presence (another machine) shows in Alice's bar.
        with PgPresenceBoard(bob_target, host="bastion", pid=4242) as board:
            board.beat(incident, "bob@bastion", "Deploys")
            bar = app.query_one(PresenceBar)
            await until(
                pilot,
                lambda: any(p.author == "bob@bastion" for p in bar.people),
                "bob in alice's presence bar",
                10,
            )
            assert "bob@bastion (Deploys)" in str(bar.presence_text())
            board.leave()

        # The server goes down: Alice's note is saved locally, and the header says so.
        pg_server.stop()
        app.record(Kind.NOTE_ADDED, {"text": "taken offline"}, "saved: note")
        await until(
            pilot,
            lambda: ("alice@laptop", "taken offline") in notes(),
            "alice sees her own offline note",
            15,
        )
        await until(pilot, lambda: "OFFLINE" in str(header.render()), "header OFFLINE", 10)
        assert "1 saved locally; not yet shared" in str(header.render())
        assert any("saved locally; not yet shared" in str(n.message) for n in app._notifications)

        # Back: the running TUI pushes the outbox by itself (no key pressed).
        pg_server.start()
        await until(
            pilot,
            lambda: "shared" in str(header.render()) and "OFFLINE" not in str(header.render()),
            "the outbox pushed after the server came back",
            30,  # a liveness bound on a loaded CI machine; the design is ~2 s (README)
        )
        code, out, err = await _bob(
            bob_home, bob_config, "timeline", "--incident", incident, "--json"
        )
        assert code == 0, err
        shared = [e for e in json.loads(out) if e["kind"] == "note.added"]
        assert [(n["author"], n["payload"]["text"]) for n in shared] == [
            ("bob@bastion", "hi"),
            ("alice@laptop", "taken offline"),
        ]
        # Alice's state is the server's log again: nothing pending, nothing doubled.
        await until(
            pilot,
            lambda: (
                [text for _, text in notes()] == ["hi", "taken offline"]
                and app.state is not None
                and not any(e.pending for e in app.state.events)
            ),
            "alice's view rebuilt from the shared log",
            10,
        )


async def _line_starting(process: Any, prefix: str, limit: float = 60) -> str:
    """The child's first stdout line starting with `prefix` (a liveness bound, not timing)."""
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), limit)).decode()
        assert line, f"the partner's cockpit exited before {prefix!r}"
        if line.startswith(prefix):
            return line


async def test_two_tuis_as_two_users_pair_live(
    pg_server: Any, tmp_path: Path, bob_home: Path
) -> None:
    """Both sides are the real TUI: Bob's runs in its own process, HOME, role (and Unix user
    when possible); each one's note appears on the other's screen."""
    database = pg_server.create_database()
    owner = PgTarget(StoreURL(pg_server.url(database)), PASSWORD_ENV, tmp_path / "owner.db")
    PostgresStore(owner).close()
    alice_role = _team_role(pg_server, database, "alice")
    bob_role = _team_role(pg_server, database, "bob")
    (tmp_path / "cockpit.toml").write_text(
        f'[cockpit]\nstore = "{pg_server.url(database, alice_role)}"\n'
        f'password_env = "{PASSWORD_ENV}"\nstore_outbox = "alice-outbox.db"\n'
        'author = "alice@laptop"\n'
    )
    bob_config = bob_home / "cockpit.toml"
    bob_config.write_text(
        f'[cockpit]\nstore = "{pg_server.url(database, bob_role)}"\n'
        f'password_env = "{PASSWORD_ENV}"\nauthor = "bob@bastion"\n'
    )
    if os.geteuid() == 0:
        shutil.chown(bob_config, user=RUN_AS)
    app = CockpitApp(load_config_file(tmp_path / "cockpit.toml"), new_incident_title="checkout")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.state is not None, "the incident opened", 30)
        assert app.state is not None
        bob = await asyncio.create_subprocess_exec(
            sys.executable,
            str(PROJECT / "tests" / "tui_child.py"),
            str(bob_config),
            app.state.incident_id,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={
                "PATH": os.environ.get("PATH", ""),
                "HOME": str(bob_home),
                "XDG_DATA_HOME": str(bob_home / ".local" / "share"),
                "PYTHONPATH": str(PROJECT),
                PASSWORD_ENV: os.environ[PASSWORD_ENV],
            },
            cwd=str(bob_home),
            user=_as_other_user(),
        )
        assert bob.stdin is not None
        try:
            await _line_starting(bob, "ready ")
            app.record(Kind.NOTE_ADDED, {"text": "from-alice"}, "saved: note")
            await _line_starting(bob, "seen from-alice ")
            bob.stdin.write(b"write from-bob\n")
            await bob.stdin.drain()
            await until(
                pilot,
                lambda: (
                    app.state is not None
                    and ("bob@bastion", "from-bob") in [(n.author, n.text) for n in app.state.notes]
                ),
                "bob's note on alice's screen",
                30,
            )
        finally:
            bob.stdin.close()
            await asyncio.wait_for(bob.wait(), 60)
