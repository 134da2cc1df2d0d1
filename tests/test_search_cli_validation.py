"""`cockpit search`: one-line errors for options that cannot match, and damaged .gz warnings."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.commands import search as search_command

LOG = (
    "2026-11-28T13:00:00Z level=error status=503\n"
    "2026-11-28T13:30:00Z level=info status=200\n"
    "2026-11-28T13:55:00Z level=error status=502\n"
)


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.log").write_text(LOG)
    (tmp_path / "cockpit.toml").write_text(
        '[[sources]]\nkind = "files"\nname = "app"\nservice = "checkout"\npaths = ["app.log"]\n'
        '[[sources]]\nkind = "files"\nname = "other"\nservice = "search"\npaths = ["app.log"]\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(search_command, "_now", lambda: datetime(2026, 11, 28, 14, 0, tzinfo=UTC))
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    return tmp_path


def fails_with(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Runs `cockpit search argv`, expects exit 2, returns the one line on stderr."""
    with pytest.raises(SystemExit) as info:
        main(["search", *argv])
    out, err = capsys.readouterr()
    assert info.value.code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    return err


def test_unknown_service_is_a_one_line_error_listing_known_ones(logs: Path, capsys) -> None:
    err = fails_with(capsys, "level=error", "--count", "--service", "nope")
    assert err == "cockpit: unknown service 'nope' (known: checkout, search)\n"
    err = fails_with(capsys, "x", "--service", "checkout", "--service", "nope2")
    assert "'nope2'" in err
    assert main(["search", "level=error", "--count", "--json", "--service", "checkout"]) == 0
    assert json.loads(capsys.readouterr().out) == {"total": 2, "sources": {"app": 2}}


def test_service_without_any_configured_service(logs: Path, capsys) -> None:
    (logs / "cockpit.toml").write_text(
        '[[sources]]\nkind = "files"\nname = "a"\npaths = ["*.log"]\n'
    )
    err = fails_with(capsys, "x", "--service", "checkout")
    assert "unknown service 'checkout'" in err and "no source names a service" in err


def test_service_with_paths_is_an_error(logs: Path, capsys) -> None:
    err = fails_with(capsys, "x", "app.log", "--service", "checkout")
    assert "--service" in err and "PATHs" in err


@pytest.mark.parametrize(
    ("since", "until"),
    [("1h", "2h"), ("30m", "30m"), ("2026-11-28T13:40:00Z", "2026-11-28T13:10:00Z")],
)
def test_since_not_before_until_is_a_one_line_error(
    logs: Path, capsys, since: str, until: str
) -> None:
    err = fails_with(capsys, "level=error", "app.log", "--since", since, "--until", until)
    assert f"--since {since}" in err and f"--until {until}" in err
    assert "empty" in err


def test_since_before_until_still_searches(logs: Path, capsys) -> None:
    code = main(["search", "level", "app.log", "--since", "2h", "--until", "20m", "--count"])
    assert code == 0
    assert capsys.readouterr().out.splitlines()[-1].split() == ["total", "2"]


def test_damaged_gz_counts_lines_before_the_damage_and_names_the_path_once(
    logs: Path, capsys
) -> None:
    lines = "".join(f"2026-11-28T13:{m:02d}:00Z level=error n={m}\n" for m in range(10))
    member = gzip.compress(lines.encode())
    (logs / "multi_bad.gz").write_bytes(member + member + b"junk bytes\x00\x01")
    code = main(["search", "error", "multi_bad.gz", "--count"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.splitlines()[-1].split() == ["total", "20"]
    assert err.count("\n") == 1
    assert err.startswith("cockpit: warning: multi_bad.gz: ")
    assert err.count("multi_bad.gz") == 1
