"""The journald source against the real journalctl reading a journal file built here.

The journal is written by systemd-journal-remote (Debian package `systemd-journal-remote`)
from the Journal Export Format, which carries binary fields, so a MESSAGE with invalid UTF-8
and an ESC sequence reaches journalctl exactly as a misbehaving service would log it.
Failure modes journalctl cannot be made to show (hanging, failing) use a stand-in script
named journalctl placed first on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.core.config import JournaldSource
from cockpit.core.search.journald import JournaldLogSource, decode_field
from cockpit.core.search.model import Hit, Query, SourceError
from tests.fakes import CollectingSink

T0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
BOOT_ID = "0123456789abcdef0123456789abcdef"
HOSTILE_BYTES = b"bad \xff\xfe bytes \x1b[31mred error\x1b[0m"
LONG_AS = "a" * 20_000
FAULT_DEADLINE = 0.5
# Room for a loaded CI machine; far below the source's 5 s default and the fake's hang.
SLACK_SECONDS = 2.5

JOURNAL_REMOTE = next(
    (
        path
        for path in (
            shutil.which("systemd-journal-remote"),
            "/lib/systemd/systemd-journal-remote",
            "/usr/lib/systemd/systemd-journal-remote",
        )
        if path and os.access(path, os.X_OK)
    ),
    None,
)
needs_journal_tools = pytest.mark.skipif(
    JOURNAL_REMOTE is None or shutil.which("journalctl") is None,
    reason="needs journalctl and systemd-journal-remote (apt package systemd-journal-remote)",
)

# (seconds after T0, fields) in the order a journal would hold them.
ENTRIES: list[tuple[float, dict[str, str | bytes]]] = [
    (0, {"MESSAGE": "GET /pay status=200", "_SYSTEMD_UNIT": "api.service"}),
    (1, {"MESSAGE": "GET /pay status=502 upstream error", "_SYSTEMD_UNIT": "api.service"}),
    (2, {"MESSAGE": HOSTILE_BYTES, "_SYSTEMD_UNIT": "api.service"}),
    (3, {"MESSAGE": "worker Error: queue full", "_SYSTEMD_UNIT": "worker.service"}),
    (4, {"MESSAGE": "ERROR upper case", "_SYSTEMD_UNIT": "api.service"}),
    (5, {"MESSAGE": "error: auth failed for root", "SYSLOG_IDENTIFIER": "sshd"}),
    (6, {"MESSAGE": LONG_AS, "_SYSTEMD_UNIT": "api.service"}),
    (10, {"MESSAGE": "late error", "_SYSTEMD_UNIT": "api.service"}),
]


def export_format(entries: list[tuple[float, dict[str, str | bytes]]]) -> bytes:
    """Entries in the Journal Export Format; binary-safe fields use the length-prefixed form."""
    out = bytearray()
    for number, (seconds, fields) in enumerate(entries):
        realtime = int((T0 + timedelta(seconds=seconds)).timestamp() * 1_000_000)
        all_fields: dict[str, str | bytes] = {
            "__REALTIME_TIMESTAMP": str(realtime),
            "__MONOTONIC_TIMESTAMP": str(1_000_000 + number),
            "_BOOT_ID": BOOT_ID,
            **fields,
        }
        for name, value in all_fields.items():
            data = value.encode() if isinstance(value, str) else value
            if isinstance(value, bytes):
                out += name.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
            else:
                out += name.encode() + b"=" + data + b"\n"
        out += b"\n"
    return bytes(out)


@pytest.fixture(scope="module")
def journal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding one real .journal file with ENTRIES."""
    assert JOURNAL_REMOTE is not None
    root = tmp_path_factory.mktemp("journal")
    export = root / "entries.export"
    export.write_bytes(export_format(ENTRIES))
    directory = root / "journal"
    directory.mkdir()
    completed = subprocess.run(
        [JOURNAL_REMOTE, f"--output={directory / 'test.journal'}", str(export)],
        capture_output=True,
        check=False,
        timeout=30,
    )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    return directory


def make_source(directory: Path | None, **overrides: Any) -> JournaldLogSource:
    fields: dict[str, Any] = {"kind": "journald", "name": "journal", "directory": directory}
    fields.update(overrides)
    return JournaldLogSource(JournaldSource(**fields), base_dir=Path("/"))


def window_query(pattern: str, **overrides: Any) -> Query:
    fields: dict[str, Any] = {"pattern": pattern, "since": T0, "until": T0 + timedelta(hours=1)}
    fields.update(overrides)
    return Query(**fields)


def run(
    source: JournaldLogSource, query: Query, sink: CollectingSink | None = None
) -> CollectingSink:
    sink = sink or CollectingSink()
    source.search(query, sink, threading.Event())
    return sink


@needs_journal_tools
def test_reads_a_real_journal_and_decodes_byte_array_messages(journal_dir: Path) -> None:
    sink = run(make_source(journal_dir), window_query("error"))

    assert sink.hits == [
        Hit(
            source="journal",
            service="api",
            text="GET /pay status=502 upstream error",
            ts=T0 + timedelta(seconds=1),
        ),
        Hit(
            source="journal",
            service="api",
            text="bad \ufffd\ufffd bytes \x1b[31mred error\x1b[0m",
            ts=T0 + timedelta(seconds=2),
        ),
        Hit(
            source="journal",
            service="sshd",
            text="error: auth failed for root",
            ts=T0 + timedelta(seconds=5),
        ),
        Hit(source="journal", service="api", text="late error", ts=T0 + timedelta(seconds=10)),
    ]
    assert sink.warnings == []


@needs_journal_tools
def test_unit_filter_is_passed_to_journalctl(journal_dir: Path) -> None:
    source = make_source(journal_dir, units=["worker.service"], service="queue")

    sink = run(source, window_query("error", ignore_case=True))

    assert sink.texts == ["worker Error: queue full"]
    assert sink.hits[0].service == "queue"
    assert "--unit=worker.service" in source.argv(window_query("x"))


@needs_journal_tools
def test_time_window_is_start_inclusive_and_end_exclusive(journal_dir: Path) -> None:
    # journalctl's --until includes the entry at 4 s; the query's end is exclusive.
    query = Query("", since=T0 + timedelta(seconds=1), until=T0 + timedelta(seconds=4))

    sink = run(make_source(journal_dir), query)

    assert [hit.ts for hit in sink.hits] == [T0 + timedelta(seconds=s) for s in (1, 2, 3)]


@needs_journal_tools
def test_regex_and_ignore_case(journal_dir: Path) -> None:
    source = make_source(journal_dir)

    assert run(source, window_query(r"status=5\d\d", regex=True)).texts == [
        "GET /pay status=502 upstream error"
    ]
    assert run(source, window_query("ERROR", ignore_case=True)).texts == [
        "GET /pay status=502 upstream error",
        "bad \ufffd\ufffd bytes \x1b[31mred error\x1b[0m",
        "worker Error: queue full",
        "ERROR upper case",
        "error: auth failed for root",
        "late error",
    ]
    assert run(source, window_query("pay status=5", ignore_case=True)).texts == [
        "GET /pay status=502 upstream error"
    ]


@needs_journal_tools
def test_pathological_regex_runs_in_linear_time(journal_dir: Path) -> None:
    started = time.monotonic()

    sink = run(make_source(journal_dir), window_query("(a+)+$", regex=True))

    assert sink.texts == [LONG_AS]
    assert time.monotonic() - started < 10  # backtracking would take forever, not seconds


def test_invalid_regex_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"^journal: invalid regex '\(unclosed': missing \)"):
        run(make_source(tmp_path), window_query("(unclosed", regex=True))


def test_missing_journal_directory_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"

    with pytest.raises(SourceError) as raised:
        run(make_source(missing), window_query("error"))

    assert str(raised.value) == f"journal: journal directory {missing} does not exist"


def test_relative_directory_is_resolved_against_the_config_folder(tmp_path: Path) -> None:
    source = JournaldLogSource(
        JournaldSource(kind="journald", name="journal", directory=Path("logs/journal")),
        base_dir=tmp_path,
    )

    assert source.directory == tmp_path / "logs" / "journal"
    assert f"--directory={tmp_path / 'logs' / 'journal'}" in source.argv(Query("x"))


def test_argv_uses_epoch_times_and_only_read_only_options() -> None:
    source = make_source(None, units=["api.service", "db.service"])
    query = Query("x", since=T0, until=T0 + timedelta(minutes=15, microseconds=5))

    assert source.argv(query) == [
        "journalctl",
        "--output=json",
        "--no-pager",
        "--all",
        "--output-fields=MESSAGE,_SYSTEMD_UNIT,SYSLOG_IDENTIFIER",
        "--unit=api.service",
        "--unit=db.service",
        f"--since=@{int(T0.timestamp())}.000000",
        f"--until=@{int(T0.timestamp()) + 900}.000005",
    ]


def test_decode_field_handles_strings_byte_arrays_and_repeated_fields() -> None:
    assert decode_field("plain") == "plain"
    assert decode_field(list(b"\x1b[2J\xff")) == "\x1b[2J\ufffd"
    assert decode_field(["first", list(b"second\xff")]) == "first\nsecond\ufffd"
    assert decode_field(None) is None


# --- failure modes, with a stand-in journalctl -------------------------------------------

JSON_LINE = json.dumps(
    {
        "__REALTIME_TIMESTAMP": str(int(T0.timestamp() * 1_000_000)),
        "_SYSTEMD_UNIT": "api.service",
        "MESSAGE": "first error",
    }
)


def install_fake_journalctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    """Put an executable `journalctl` running `body` first on PATH; returns its pid file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "journalctl"
    pid_file = tmp_path / "journalctl.pid"
    script.write_text(f"#!/bin/sh\necho $$ > '{pid_file}'\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return pid_file


def assert_process_gone(pid_file: Path) -> None:
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_deadline_kills_a_hanging_journalctl_and_keeps_earlier_hits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = install_fake_journalctl(tmp_path, monkeypatch, f"echo '{JSON_LINE}'\nexec sleep 30")
    sink = CollectingSink()
    started = time.monotonic()

    with pytest.raises(SourceError) as raised:
        run(make_source(None, timeout=FAULT_DEADLINE), window_query("error"), sink)

    assert str(raised.value) == "journal: timed out after 0.5 s"
    assert time.monotonic() - started < FAULT_DEADLINE + SLACK_SECONDS
    assert sink.texts == ["first error"]
    assert_process_gone(pid_file)


def test_cancel_kills_journalctl_and_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = install_fake_journalctl(tmp_path, monkeypatch, f"echo '{JSON_LINE}'\nexec sleep 30")
    cancel = threading.Event()
    sink = CollectingSink(on_hit=lambda _hit: cancel.set())

    make_source(None, timeout=30).search(window_query("error"), sink, cancel)

    assert sink.texts == ["first error"]
    assert_process_gone(pid_file)


def test_journalctl_failure_is_one_line_with_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fake_journalctl(
        tmp_path,
        monkeypatch,
        "echo 'Failed to open files: Permission denied' >&2\nexit 1",
    )

    with pytest.raises(SourceError) as raised:
        run(make_source(None), window_query("error"))

    assert (
        str(raised.value) == "journal: journalctl failed: Failed to open files: Permission denied"
    )


def test_journalctl_hints_become_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_journalctl(
        tmp_path,
        monkeypatch,
        f"echo '{JSON_LINE}'\n"
        "echo 'Hint: You are currently not seeing messages from other users and the system.' >&2",
    )

    sink = run(make_source(None), window_query("error"))

    assert sink.texts == ["first error"]
    assert sink.warnings == [
        "journal: journalctl: Hint: You are currently not seeing messages from other users "
        "and the system."
    ]


@needs_journal_tools
def test_service_filter_uses_the_unit_when_no_service_is_configured(journal_dir: Path) -> None:
    query = window_query("error", ignore_case=True, services=frozenset({"worker", "sshd"}))

    sink = run(make_source(journal_dir), query)

    assert sink.texts == ["worker Error: queue full", "error: auth failed for root"]
