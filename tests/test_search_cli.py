"""`cockpit search`: outputs, counts equal to rg, exit codes, sanitized plain output."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.commands import search as search_command
from cockpit.core.search.paths import find_rg

LOG = (
    '2026-11-28T13:00:00Z level=error msg="db down" status=503\n'
    "Traceback (most recent call last):\n"
    "    raise DbDown()\n"
    "2026-11-28T13:30:00Z level=info status=200\n"
    '2026-11-28T13:55:00Z level=error msg="\x1b]52;c;ZXZpbA==\x07\x1b[2J pwned" status=502\n'
)


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.log").write_text(LOG)
    (tmp_path / "app.log.1.gz").write_bytes(gzip.compress(LOG.replace("13:", "12:").encode()))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(search_command, "_now", lambda: datetime(2026, 11, 28, 14, 0, tzinfo=UTC))
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    return tmp_path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["search", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_count_matches_rg_for_plain_and_gz(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rg = find_rg()
    assert rg is not None
    for pattern in (r"status=5\d\d", "level", "raise"):
        code, out, _ = run_cli(capsys, pattern, "app.log", "app.log.1.gz", "--count", "--json")
        assert code == 0
        data = json.loads(out)
        expected = subprocess.run(
            [rg, "-z", "-c", "-e", pattern, "app.log", "app.log.1.gz"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        per_file = dict(line.rsplit(":", 1) for line in expected.split())
        assert data == {
            "total": sum(map(int, per_file.values())),
            "sources": {k: int(v) for k, v in per_file.items()},
        }


def test_plain_count_lists_sources_and_total(logs: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "level=error", "app.log", "app.log.1.gz", "-c")
    assert code == 0
    assert out.split("\n")[:3] == ["app.log       2", "app.log.1.gz  2", "total         4"]


def test_json_hits_have_source_file_line_ts_text(logs: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "raise", "app.log", "--json")
    assert code == 0
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert record == {
        "source": "app.log",
        "service": None,
        "file": "app.log",
        "line": 3,
        "ts": "2026-11-28T13:00:00Z",
        "text": "    raise DbDown()",
    }


def test_plain_output_is_sanitized(logs: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "pwned", "app.log")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J pwned" in out
    assert out.startswith("app.log:5:")


def test_since_literal_case_and_max(logs: Path, capsys) -> None:
    # --since 1h at 14:00: only the 13:xx lines of the live file; `raise` inherits 13:00.
    code, out, _ = run_cli(capsys, "LEVEL=ERROR", ".", "-i", "--since", "1h", "-c", "--json")
    assert json.loads(out)["total"] == 2
    code, out, _ = run_cli(capsys, "raise", ".", "--since", "30m", "-c", "--json")
    assert json.loads(out)["total"] == 0
    code, out, _ = run_cli(capsys, "(most", ".", "-F", "-c", "--json")
    assert json.loads(out)["total"] == 2
    code, out, _ = run_cli(capsys, "level", "app.log", "--max", "1")
    assert code == 0 and len(out.splitlines()) == 1


def test_exit_codes_and_one_line_errors(logs: Path, capsys) -> None:
    code, out, err = run_cli(capsys, "nothing-like-this", "app.log")
    assert (code, out) == (1, "")
    with pytest.raises(SystemExit) as info:
        run_cli(capsys, "(unclosed", "app.log")
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid regex '(unclosed'" in err
    with pytest.raises(SystemExit) as info:
        run_cli(capsys, "x", "app.log", "--since", "yesterday-ish")
    assert info.value.code == 2 and "cannot read time" in capsys.readouterr().err
    code, _, err = run_cli(capsys, "x", "/dev/zero")
    assert code == 2 and "character device" in err


def test_configured_sources_unknown_source_and_service(logs: Path, capsys) -> None:
    (logs / "cockpit.toml").write_text(
        '[[sources]]\nkind = "files"\nname = "app"\nservice = "checkout"\npaths = ["app.log*"]\n'
        '[[sources]]\nkind = "files"\nname = "other"\nservice = "search"\npaths = ["none*.log"]\n'
    )
    _, out, _ = run_cli(capsys, "level=error", "--count", "--json")
    assert json.loads(out) == {"total": 4, "sources": {"app": 4, "other": 0}}
    _, out, _ = run_cli(capsys, "level=error", "--count", "--json", "--service", "search")
    assert json.loads(out) == {"total": 0, "sources": {"other": 0}}
    _, out, _ = run_cli(capsys, "level=error", "--count", "--json", "--source", "app")
    assert json.loads(out) == {"total": 4, "sources": {"app": 4}}
    with pytest.raises(SystemExit) as info:
        run_cli(capsys, "x", "--source", "nope")
    assert info.value.code == 2
    assert "unknown source 'nope' (configured: app, other)" in capsys.readouterr().err


def test_headless_search_does_not_import_textual() -> None:
    code = (
        "import sys; from cockpit.cli import main; "
        "main(['search', 'x', '/dev/null', '--count']); "
        "assert not any(m == 'textual' or m.startswith('textual.') for m in sys.modules), 'textual'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr


def test_demo_corpus_cli_counts_match_rg(tmp_path: Path, capsys, monkeypatch) -> None:
    from cockpit.core.demo.sandbox import build_sandbox

    info = build_sandbox(
        tmp_path / "demo", seed=4, now=datetime(2026, 11, 28, 14, 0, tzinfo=UTC), log_mb=2
    )
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    rg = find_rg()
    assert rg is not None
    for pattern in (r"status=5\d\d", "request_id"):
        code = main(["--config", str(info.config_path), "search", pattern, "--count", "--json"])
        data = json.loads(capsys.readouterr().out)
        assert code == 0
        for name, count in data["sources"].items():
            logs = info.config_path.parent / "logs" / name
            out = subprocess.run(
                [rg, "-z", "-c", "--no-filename", pattern, str(logs)],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            assert count == sum(int(n) for n in out.split()), (pattern, name)


def test_a_closed_pipe_stops_the_search(tmp_path: Path) -> None:
    """`cockpit search ... | head -1`: the search stops instead of running on (or hanging)."""
    log = tmp_path / "big.log"
    log.write_text("2026-11-28T13:00:00Z level=info status=200\n" * 400_000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "search", "status", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith(str(log).encode())
    proc.stdout.close()
    assert proc.wait(timeout=30) == 0
    assert proc.stderr is not None and b"Traceback" not in proc.stderr.read()
