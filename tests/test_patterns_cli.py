"""`cockpit patterns`: the table, JSON with members, the configured sources, bad input."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.commands import patterns as patterns_command
from cockpit.core.patterns import template_of
from cockpit.core.store import EventStore

NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
APP = (
    '2026-11-28T13:00:00Z level=error service=checkout msg="timeout after 800ms" status=503\n'
    "\n"
    '2026-11-28T13:10:00Z level=error service=checkout msg="timeout after 1.5s" status=504\n'
    "2026-11-28T13:20:00Z level=info status=200\n"
    '2026-11-28T13:55:00Z level=error service=checkout msg="card 4111 declined for user 7"\n'
    '2026-11-28T13:56:00Z level=error msg="\x1b]52;c;ZXZpbA==\x07\x1b[2J pwned [bold]x[/bold]"\n'
)
SYSLOG = (
    "Nov 28 12:00:00 web-1 sshd[11]: Invalid user admin from 10.0.0.1\n"
    "Nov 28 12:01:00 web-2 sshd[12]: Invalid user oracle from 10.0.0.2\n"
    "Nov 28 12:02:00 web-1 sshd[13]: Invalid user test from 10.0.0.3\n"
    "Nov 28 12:03:00 web-1 sshd[14]: Invalid user guest from 10.0.0.4\n"
)


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.log").write_text(APP)
    (tmp_path / "auth.log.1.gz").write_bytes(gzip.compress(SYSLOG.encode()))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(patterns_command, "_now", lambda: NOW)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    return tmp_path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_main(capsys, "patterns", *argv)


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # bad input: one line on stderr, exit 2
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def records(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_the_table_lists_count_first_last_new_and_template(
    logs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "app.log", "auth.log.1.gz", "--new-since", "2026-11-28T13:30Z")
    assert code == 0 and err == ""
    header, *rows = out.splitlines()
    assert header.split() == [
        "count",
        "first",
        "seen",
        "(UTC)",
        "last",
        "seen",
        "(UTC)",
        "new",
        "template",
    ]
    assert rows[0].split() == [
        "4", "2026-11-28", "12:00:00", "2026-11-28", "12:03:00", "Invalid", "user", "<*>",
        "from", "<*>",
    ]  # fmt: skip
    assert rows[1].split()[:5] == ["2", "2026-11-28", "13:00:00", "2026-11-28", "13:10:00"]
    assert rows[1].endswith("timeout after <*>")
    card = next(row for row in rows if "declined" in row)
    assert " NEW " in card and card.endswith("card <*> declined for user <*>")
    assert len(rows) == 5  # the blank line is not grouped


def test_untrusted_text_is_printed_visible_never_raw(
    logs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "app.log")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    row = next(line for line in out.splitlines() if "pwned" in line)
    assert row.endswith("\\x1b]<*>;c;ZXZpbA==\\x07\\x1b[<*> pwned [bold]x[/bold]")


def test_json_one_object_per_signature_with_members_one_based(
    logs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "app.log", "auth.log.1.gz", "--json", "--members")
    assert code == 0
    found = records(out)
    invalid = found[0]
    assert set(invalid) == {
        "template", "count", "first_seen", "last_seen", "example", "attributes", "members", "new",
    }  # fmt: skip
    assert invalid["template"] == "Invalid user <*> from <*>" and invalid["count"] == 4
    assert invalid["first_seen"] == "2026-11-28T12:00:00Z"
    assert invalid["last_seen"] == "2026-11-28T12:03:00Z"
    assert invalid["example"] == SYSLOG.splitlines()[0]
    assert invalid["attributes"] == {"host": {"web-1": 3, "web-2": 1}, "service": {"sshd": 4}}
    assert invalid["members"] == [{"file": "auth.log.1.gz", "line": n} for n in (1, 2, 3, 4)]
    timeout = next(r for r in found if r["template"] == "timeout after <*>")
    assert timeout["members"] == [{"file": "app.log", "line": 1}, {"file": "app.log", "line": 3}]
    assert timeout["attributes"] == {"level": {"error": 2}, "service": {"checkout": 2}}
    # Every line is in exactly one signature (the blank line in none).
    lines = sorted((m["file"], m["line"]) for r in found for m in r["members"])  # type: ignore[attr-defined]
    assert lines == sorted(
        [("app.log", n) for n in (1, 3, 4, 5, 6)] + [("auth.log.1.gz", n) for n in (1, 2, 3, 4)]
    )


def test_without_members_json_has_no_member_list(
    logs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "app.log", "--json")
    assert code == 0 and all("members" not in r for r in records(out))


def test_match_and_since_choose_the_lines(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "app.log", "--match", "timeout|declined", "--json")
    assert code == 0
    assert [r["template"] for r in records(out)] == [
        "timeout after <*>",
        "card <*> declined for user <*>",
    ]
    code, out, _ = run_cli(
        capsys, "app.log", "--match", "level=error", "--since", "13:05", "--json"
    )
    assert code == 2  # `13:05` is no time form
    code, out, _ = run_cli(
        capsys, "app.log", "--match", "level=error", "--since", "2026-11-28T13:05:00Z", "--json"
    )
    assert code == 0 and sum(r["count"] for r in records(out)) == 3  # type: ignore[misc]


def test_nothing_matched_exits_1(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "app.log", "--match", "no such text")
    assert (code, out, err) == (1, "", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["app.log", "--match", "(unclosed"], "invalid regex '(unclosed'"),
        (["missing.log"], "missing.log"),
        (["app.log", "--since", "yesterdayy"], "cannot read time 'yesterdayy'"),
        (["app.log", "--new-since", "soon"], "cannot read time 'soon'"),
        (["app.log", "--members"], "--members"),
        (["app.log", "--source", "app"], "--source names configured sources"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    logs: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def write_config(folder: Path) -> Path:
    config = folder / "cockpit.toml"
    config.write_text(
        '[cockpit]\nstore = "incidents.db"\n\n'
        '[[sources]]\nkind = "files"\nname = "app"\nservice = "checkout"\npaths = ["app.log"]\n\n'
        '[[sources]]\nkind = "files"\nname = "auth"\npaths = ["auth.log*"]\n'
    )
    return config


def test_configured_sources_and_source_choice(
    logs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(logs))
    code, out, _ = run_main(capsys, "--config", config, "patterns", "--json")
    assert code == 0
    found = records(out)
    assert {r["template"] for r in found} >= {"Invalid user <*> from <*>", "timeout after <*>"}
    timeout = next(r for r in found if r["template"] == "timeout after <*>")
    assert timeout["attributes"]["service"] == {"checkout": 2}  # type: ignore[index]
    code, out, _ = (
        main(["--config", config, "patterns", "--source", "auth", "--json"]),
        *(capsys.readouterr()),
    )
    assert code == 0 and [r["template"] for r in records(out)] == ["Invalid user <*> from <*>"]
    code, _, err = run_main(capsys, "--config", config, "patterns", "--source", "nope")
    assert code == 2 and "unknown source 'nope' (configured: app, auth)" in err


def test_new_is_since_the_current_incident_by_default(
    logs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(logs)
    store = EventStore(logs / "incidents.db")
    store.create_incident("checkout 5xx", "alice")
    store.close()
    code, out, _ = run_main(capsys, "--config", str(config), "patterns", "--json")
    assert code == 0
    # The incident opened now (after every line): nothing is new.
    assert not any(r["new"] for r in records(out))
    code, out, _ = (
        main(
            ["--config", str(config), "patterns", "--json", "--new-since", "2026-11-28T13:30:00Z"]
        ),
        *capsys.readouterr(),
    )
    pwned = template_of(APP.splitlines()[-1])
    assert {r["template"] for r in records(out) if r["new"]} == {
        "card <*> declined for user <*>",
        pwned,
    }


def test_the_command_does_not_import_textual(logs: Path) -> None:
    probe = (
        "import sys; from cockpit.cli import main; "
        "code = main(['patterns', 'app.log', '--json']); "
        "assert not any(m == 'textual' or m.startswith('textual.') for m in sys.modules), 'tui'; "
        "raise SystemExit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=logs, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert '"template": "timeout after <*>"' in done.stdout
