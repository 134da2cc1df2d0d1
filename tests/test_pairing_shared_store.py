"""Pairing across Unix users: a group-shared store (`[cockpit] store_mode = "0660"`).

The store is created 0600 by default. For two accounts to share it, the store and its -wal and
-shm files must be group read/write, in a setgid folder of a group both belong to. The last test
runs two real processes under two different uids (it needs root to switch) and proves the
README's setup works, and that without it the partner gets a clear error.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.core.config import ConfigError, load_config_file
from cockpit.core.store import EventStore

PROJECT = Path(__file__).resolve().parents[1]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def test_shared_mode_is_exact_whatever_the_umask_and_reaches_wal_and_shm(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    old = os.umask(0o077)  # the strictest common umask must not undo the configured mode
    try:
        with EventStore(path, mode=0o660) as store:
            incident = store.create_incident("t", "alice")
            store.append(incident.id, "note.added", {"text": "x"}, "alice")
            assert [mode_of(p) for p in (path, *sidecars(path))] == [0o660, 0o660, 0o660]
    finally:
        os.umask(old)


def test_unconfigured_opener_keeps_a_shared_store_shared_but_tightens_world_bits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "incidents.db"
    EventStore(path, mode=0o660).close()
    EventStore(path).close()  # e.g. a partner's tool with no store_mode: does not lock anyone out
    assert mode_of(path) == 0o660
    path.chmod(0o644)
    EventStore(path).close()
    assert mode_of(path) == 0o600
    EventStore(path, mode=0o660).close()  # configuring sharing later widens an existing store
    assert mode_of(path) == 0o660
    EventStore(path, mode=0o600).close()  # and "0600" makes it private again
    assert mode_of(path) == 0o600


def test_existing_sidecars_follow_the_configured_mode(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    with EventStore(path) as private:  # keeps -wal and -shm alive, 0600
        private.create_incident("t", "alice")
        assert all(mode_of(p) == 0o600 for p in sidecars(path))
        with EventStore(path, mode=0o660):
            assert [mode_of(p) for p in (path, *sidecars(path))] == [0o660, 0o660, 0o660]


def test_store_mode_config(tmp_path: Path) -> None:
    path = tmp_path / "cockpit.toml"
    path.write_text('[cockpit]\nstore_mode = "0660"\n')
    assert load_config_file(path).store_file_mode == 0o660
    path.write_text("[cockpit]\n")
    assert load_config_file(path).store_file_mode is None
    path.write_text('[cockpit]\nstore_mode = "0666"\n')
    with pytest.raises(
        ConfigError, match=r"cockpit\.toml:2: key 'cockpit\.store_mode'.*0600.*0660"
    ):
        load_config_file(path)


# -- two Unix users ----------------------------------------------------------------------------

GROUP = 4242
ALICE, BOB = 4201, 4202

# Imports everything as root, then becomes the given uid with only the shared group, so the
# interpreter under /root stays loaded but every file access is the other user's.
AS_USER = """
import json, os, sys
from pathlib import Path
from cockpit.core.store import EventStore, StoreError
from cockpit.core.presence import PresenceBoard
import cockpit.core.incident, sqlite3, uuid, socket, _strptime, encodings.idna
from datetime import datetime
datetime.strptime("2026", "%Y")  # imports lazily loaded parts while still root
uid, gid, path = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
mode, action = sys.argv[4], sys.argv[5]
os.setgroups([gid]); os.setgid(uid); os.setuid(uid)
os.umask(0o022)
try:
    store = EventStore(path, mode=int(mode, 8) if mode != "none" else None)
    if action == "create":
        incident = store.create_incident("checkout 500s", f"user{uid}")
    else:
        incident = store.current_incident()
    store.append(incident.id, "note.added", {"text": f"hello from {uid}"}, f"user{uid}")
    board = PresenceBoard(path, host="bastion")
    board.beat(incident.id, f"user{uid}", "Logs")
    print(json.dumps({
        "notes": [e.payload["text"] for e in store.events(incident.id) if e.kind == "note.added"],
        "present": [p.author for p in board.present(incident.id)],
    }))
except StoreError as exc:
    print(json.dumps({"error": str(exc)}))
"""


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("switching between two uids needs root")
    # Not under pytest's tmp dir: its parents are 0700 root, which the two users cannot cross.
    folder = Path(tempfile.mkdtemp(prefix="cockpit-pairing-", dir="/tmp"))
    os.chown(folder, 0, GROUP)
    folder.chmod(0o2770)  # setgid: files created inside get the folder's group
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def as_user(uid: int, path: Path, mode: str, action: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", AS_USER, str(uid), str(GROUP), str(path), mode, action],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        timeout=60,
        check=True,
    )
    return dict(json.loads(done.stdout))


def test_two_unix_users_share_one_store_in_a_setgid_group_folder(shared_folder: Path) -> None:
    path = shared_folder / "incidents.db"
    alice = as_user(ALICE, path, "0660", "create")
    assert alice["notes"] == [f"hello from {ALICE}"]
    bob = as_user(BOB, path, "0660", "join")
    assert bob["notes"] == [f"hello from {ALICE}", f"hello from {BOB}"]
    assert bob["present"] == [f"user{ALICE}", f"user{BOB}"]
    for file in (path, *sidecars(path)):
        if file.exists():  # -wal/-shm are removed when the last connection closes
            assert mode_of(file) == 0o660, file
            assert file.stat().st_gid == GROUP, file  # inherited from the setgid folder
    assert path.stat().st_uid == ALICE
    # bob's unconfigured tool neither locks alice out nor fails itself.
    assert "error" not in as_user(BOB, path, "none", "join")
    assert mode_of(path) == 0o660


def test_without_store_mode_the_partner_gets_a_clear_error(shared_folder: Path) -> None:
    path = shared_folder / "incidents.db"
    as_user(ALICE, path, "none", "create")  # created 0600: alice's alone
    assert mode_of(path) == 0o600
    bob = as_user(BOB, path, "0660", "join")
    assert bob["error"] == (
        f"{path}: no permission to read and write it (mode 0600, owner uid {ALICE});"
        ' to pair across Unix users its owner sets [cockpit] store_mode = "0660" (README: Pairing)'
    )
