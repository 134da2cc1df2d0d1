"""Logs that lie by omission: a stray NUL does not hide a text log, a symlink loop does not
multiply counts, and a log that feeds health or rollback and was skipped is said out loud."""

from __future__ import annotations

import gzip
import json
import os
import random
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.core.search.engine import run_search
from cockpit.core.search.files import FileLogSource, expand_paths, find_rg, looks_binary
from cockpit.core.search.model import Query

LINES = [f"2026-11-28T14:{m:02d}:00Z level=error status=503 msg=boom {m}" for m in range(10)]


def _search(path: Path, pattern: str = "boom", *, engine: str = "auto", since=None):
    source = FileLogSource("app", [str(path)], engine=engine)  # type: ignore[arg-type]
    return run_search([source], Query(pattern, since=since), max_hits=100, lossless=True)


def _warnings(result) -> list[str]:
    return [w for status in result.statuses.values() for w in status.warnings]


@pytest.mark.parametrize("engine", ["auto", "inprocess"])
def test_a_stray_nul_does_not_hide_a_text_log(tmp_path: Path, engine: str) -> None:
    log = tmp_path / "app.log"
    body = "\n".join(LINES) + "\n"
    log.write_bytes(body[:100].encode() + b"\0" + body[100:].encode())
    result = _search(log, engine=engine)
    assert result.total == 10
    shown = [h.text for h in result.hits]
    assert any("\\0" in text for text in shown) and not any("\0" in t for t in shown)
    assert any(
        "NUL bytes in a text log, shown as \\0; searched as text" in w for w in _warnings(result)
    )


def test_the_copytruncate_hole_keeps_its_lines_and_their_times(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"\0" * 70_000 + ("\n".join(LINES) + "\n").encode())
    since = datetime(2026, 11, 28, 14, 5, tzinfo=UTC)
    result = _search(log, since=since)
    assert result.total == 5  # 14:05 .. 14:09, the first line's time read past the NULs
    assert not looks_binary(b"\0" * 8192)


def test_a_gz_log_with_a_stray_nul_is_searched(tmp_path: Path) -> None:
    log = tmp_path / "app.log.1.gz"
    text = "\n".join(LINES) + "\n"
    log.write_bytes(gzip.compress((text[:30] + "\0" + text[30:]).encode()))
    assert _search(log).total == 10


def test_binary_data_is_still_skipped_and_said(tmp_path: Path) -> None:
    rng = random.Random(4)
    blob = tmp_path / "core.dump"
    blob.write_bytes(bytes(rng.randrange(256) for _ in range(20_000)) + b"boom\n")
    packed = tmp_path / "rotated.log"  # gzip data without the .gz name
    packed.write_bytes(gzip.compress(("\n".join(LINES * 50)).encode()))
    utf16 = tmp_path / "windows.log"
    utf16.write_bytes("\n".join(LINES).encode("utf-16-le"))
    for path in (blob, packed, utf16):
        assert looks_binary(path.read_bytes()[:8192]), path
        result = _search(path)
        assert result.total == 0
        assert any("binary file skipped" in w for w in _warnings(result)), path


def test_search_cli_shows_the_nul_visibly(tmp_path: Path, capsys) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"2026-11-28T14:00:00Z boom \0 after\n")
    assert main(["search", "boom", str(log)]) == 0
    captured = capsys.readouterr()
    assert "boom \\0 after" in captured.out and "\0" not in captured.out
    assert "searched as text" in captured.err


def test_rollback_still_sees_the_burst_in_a_log_with_a_nul(tmp_path: Path, capsys) -> None:
    """The demo case: one NUL in the first 8 KB of checkout.log used to turn rollback into
    "no error burst ... nothing to roll back", exit 0."""
    from cockpit.core.demo import build_sandbox

    info = build_sandbox(tmp_path / "demo", now=datetime.now(UTC).replace(microsecond=0), log_mb=1)
    log = info.directory / "logs" / "checkout" / "checkout.log"
    data = log.read_bytes()
    log.write_bytes(data[:4000] + b"\0" + data[4001:])
    assert main(["--config", str(info.config_path), "rollback", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert any(a["service"] == "checkout" for a in report["analyses"]), report["healthy_services"]


def test_a_skipped_health_log_is_an_error_not_silence(tmp_path: Path, capsys) -> None:
    from cockpit.core.demo import build_sandbox

    info = build_sandbox(tmp_path / "demo", now=datetime.now(UTC).replace(microsecond=0), log_mb=1)
    log = info.directory / "logs" / "checkout" / "checkout.log"
    rng = random.Random(1)
    log.write_bytes(bytes(rng.randrange(256) for _ in range(9000)) + log.read_bytes())
    code = main(["--config", str(info.config_path), "rollback"])
    err = capsys.readouterr().err
    assert code == 0
    assert "health from logs is incomplete" in err and "checkout.log: binary file skipped" in err


def _loop_tree(tmp_path: Path, links: int = 1) -> Path:
    logs = tmp_path / "logs"
    (logs / "sub").mkdir(parents=True)
    (logs / "sub" / "app.log").write_text("\n".join(LINES) + "\n")
    for n in range(links):
        (logs / "sub" / f"loop{n}").symlink_to(logs)  # points back to an ancestor
    return logs


def test_a_symlink_loop_reads_each_file_once_and_says_so_once(tmp_path: Path) -> None:
    logs = _loop_tree(tmp_path)
    listing = expand_paths(["logs/**/*.log"], tmp_path)
    assert listing.files == [logs / "sub" / "app.log"]
    loop_notes = [w for w in listing.warnings if "symlink loop" in w]
    assert len(loop_notes) == 1 and str(logs / "sub" / "loop0") in loop_notes[0]
    source = FileLogSource("app", ["logs/**/*.log"], base_dir=tmp_path)
    result = run_search([source], Query("boom"), max_hits=0, lossless=True)
    assert result.total == 10
    if find_rg() is not None:  # rg -L says the same: 10 lines
        import subprocess

        done = subprocess.run(
            [find_rg() or "rg", "-L", "-c", "--no-filename", "boom", str(logs)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert sum(int(n) for n in done.stdout.split()) == 10


def test_many_loops_do_not_make_the_walk_explode(tmp_path: Path) -> None:
    _loop_tree(tmp_path, links=6)  # 6 ways back at every level: 6^40 paths for glob.glob
    outcome: list[object] = []
    worker = threading.Thread(
        target=lambda: outcome.append(expand_paths(["logs/**/*.log"], tmp_path)), daemon=True
    )
    worker.start()
    worker.join(timeout=60)  # a liveness bound; it takes milliseconds
    assert outcome, "the glob walk did not finish"
    listing = outcome[0]
    assert len(listing.files) == 1  # type: ignore[attr-defined]


def test_one_file_named_twice_is_read_once(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("\n".join(LINES) + "\n")
    os.link(log, tmp_path / "hard.log")
    (tmp_path / "soft.log").symlink_to(log)
    source = FileLogSource("app", ["app.log", "*.log", str(log)], base_dir=tmp_path)
    assert run_search([source], Query("boom"), max_hits=0, lossless=True).total == 10


def test_since_window_still_applies_after_dedupe(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("\n".join(LINES) + "\n")
    since = datetime(2026, 11, 28, 14, 0, tzinfo=UTC) + timedelta(minutes=8)
    assert _search(log, since=since).total == 2
