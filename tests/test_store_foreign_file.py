"""A foreign file at the store path is refused before anything about it changes: no chmod, no
WAL switch, and never a chmod through a symlink."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.core.store import SHARED_MODE, EventStore, StoreError

PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mode", [0o644, 0o444, 0o666])
@pytest.mark.parametrize("store_mode", [None, 0o600, SHARED_MODE])
def test_a_text_file_at_the_store_path_is_refused_untouched(tmp_path, mode, store_mode) -> None:
    victim = tmp_path / "incidents.db"
    victim.write_text(PASSWD)
    victim.chmod(mode)
    with pytest.raises(StoreError, match=r"not an SQLite database, so not a cockpit\s+store"):
        EventStore(victim, mode=store_mode)
    assert mode_of(victim) == mode
    assert victim.read_text() == PASSWD
    assert not (tmp_path / "incidents.db-wal").exists()


def test_a_read_only_timeline_leaves_a_foreign_file_alone(tmp_path, capsys) -> None:
    victim = tmp_path / "passwd-copy"
    victim.write_text(PASSWD)
    victim.chmod(0o444)
    config = tmp_path / "cockpit.toml"
    config.write_text(f"[cockpit]\nstore = '{victim}'\nstore_mode = '0660'\n")
    with pytest.raises(SystemExit) as info:
        main(["--config", str(config), "timeline"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not an SQLite database" in err
    assert mode_of(victim) == 0o444 and victim.read_text() == PASSWD


def test_a_symlink_to_a_foreign_file_is_refused_and_its_target_untouched(tmp_path) -> None:
    target = tmp_path / "elsewhere" / "passwd"
    target.parent.mkdir()
    target.write_text(PASSWD)
    target.chmod(0o644)
    link = tmp_path / "incidents.db"
    link.symlink_to(target)
    with pytest.raises(StoreError, match="not an SQLite database"):
        EventStore(link)
    assert mode_of(target) == 0o644 and target.read_text() == PASSWD


def test_a_store_reached_through_a_symlink_is_never_chmodded(tmp_path) -> None:
    real = tmp_path / "real.db"
    EventStore(real).close()
    real.chmod(0o644)
    link = tmp_path / "incidents.db"
    link.symlink_to(real)
    with EventStore(link, mode=SHARED_MODE) as store:
        store.create_incident("works", "alice")
    assert mode_of(real) == 0o644  # used, but its mode is the owner's business


def test_another_applications_database_keeps_its_journal_mode(tmp_path) -> None:
    other = tmp_path / "places.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE bookmarks (url TEXT)")
    conn.close()
    other.chmod(0o644)
    before = other.read_bytes()
    with pytest.raises(StoreError, match="not a cockpit store"):
        EventStore(other, mode=SHARED_MODE)
    assert other.read_bytes() == before  # header bytes 18-19 still say rollback journal
    assert mode_of(other) == 0o644
    assert not (tmp_path / "places.sqlite-wal").exists()


def test_a_read_only_store_of_ours_is_not_made_writable(tmp_path) -> None:
    path = tmp_path / "incidents.db"
    with EventStore(path) as store:
        store.create_incident("x", "alice")
    path.chmod(0o444)
    if os.geteuid() == 0:  # root may write anyway; the mode must still not gain write bits
        EventStore(path).close()
    else:
        with pytest.raises(StoreError, match="no permission"):
            EventStore(path)
    assert mode_of(path) == 0o400  # tightened (no group/other), never given write


def test_an_empty_file_is_a_new_store(tmp_path) -> None:
    path = tmp_path / "incidents.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    with EventStore(path) as store:
        store.create_incident("x", "alice")
    assert mode_of(path) == 0o600  # proved to be ours once the schema is in
