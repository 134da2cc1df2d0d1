"""Every headless command that prints data keeps untrusted text inert on the terminal.

Hostile text (OSC 52 clipboard write, clear screen, window title, OSC 8 hyperlink, an 8-bit
CSI, DEL, bidi override, zero-width space, a tag character) is planted where each command
reads it: log lines, deploy actors and versions, notes, incident titles, the model's streamed
answer. Text output must show it as visible escapes; JSON must parse back to the exact value
while carrying no raw control, DEL, C1, bidi or invisible character.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.cli import main
from cockpit.core.demo import build_sandbox
from cockpit.core.incident import Kind
from cockpit.core.store import EventStore
from tests.fakes.anthropic_api import FakeAnthropic, Turn, text

HOSTILE = (
    "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://evil.example\x07click"
    "\x1b]8;;\x07\x9b31m\u202egnp.exe\u200b\x7f\U000e0041"
)
"""Everything a hostile log line, commit or model answer might carry to a terminal."""
RAW_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
    "\U000e0000-\U000e007f]"
)
"""Characters that must never reach the terminal raw (newlines and TABs are layout)."""
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def assert_inert(output: str) -> None:
    found = RAW_UNSAFE.search(output)
    if found is not None:
        context = output[max(0, found.start() - 60) : found.start() + 20]
        raise AssertionError(f"raw {found.group()!r} at {found.start()}: {context!r}")


def shows_hostile(output: str) -> bool:
    """The hostile text is there, as visible escapes (not dropped; columns may cut its end,
    Markdown may escape its brackets)."""
    return re.search(r"\\+x1b\\*\]52;c;ZX", output) is not None


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A live demo incident whose logs, deploys and store carry `HOSTILE`."""
    directory = tmp_path_factory.mktemp("hostile-demo")
    info = build_sandbox(directory, now=NOW, log_mb=1)
    log = directory / "logs" / "checkout" / "checkout.log"
    with log.open("a", encoding="utf-8") as handle:
        for minutes in (6, 4, 2):
            stamp = (NOW - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
            handle.write(f'{stamp} level=error status=503 msg="upstream {HOSTILE}"\n')
    deploys = directory / "deploys.jsonl"
    records = [json.loads(line) for line in deploys.read_text().splitlines() if line]
    for record in records:
        record["actor"] = f"mallory {HOSTILE}"
        record["version"] = f"{record['version']}{HOSTILE}"  # filled into the pin command
    deploys.write_text("".join(json.dumps(r) + "\n" for r in records))
    return info.config_path


@pytest.fixture(scope="module")
def incident(sandbox: Path) -> str:
    from cockpit.core.config import load_config_file

    config = load_config_file(sandbox)
    with EventStore(config.store_path) as store:
        record = store.create_incident(f"checkout {HOSTILE}", "alice")
        store.append(record.id, Kind.NOTE_ADDED, {"text": f"saw {HOSTILE}"}, f"bob {HOSTILE}")
    return record.id


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _values(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item)


def assert_json_exact(output: str, *, lines: bool = False) -> Any:
    """Inert, valid JSON that still holds the hostile text exactly."""
    assert_inert(output)
    docs = [json.loads(line) for line in output.splitlines()] if lines else [json.loads(output)]
    assert any(HOSTILE in s for doc in docs for s in _values(doc)), "hostile value not kept"
    return docs


def test_search_text_and_json(sandbox: Path, capsys) -> None:
    code, out, err = run(capsys, "--config", str(sandbox), "search", "upstream", "-F")
    assert code == 0 and shows_hostile(out)
    assert_inert(out + err)
    code, out, err = run(capsys, "--config", str(sandbox), "search", "upstream", "-F", "--json")
    assert code == 0
    assert_json_exact(out, lines=True)
    assert_inert(err)


def test_patterns_text_and_json(sandbox: Path, capsys) -> None:
    argv = ["--config", str(sandbox), "patterns", "--match", "upstream"]
    code, out, err = run(capsys, *argv)
    # The template shows the hostile text as escapes (its numbers masked as <*>).
    assert code == 0 and "upstream \\x1b]<*>;c;ZX" in out
    assert_inert(out + err)
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0
    assert_json_exact(out, lines=True)  # the example line keeps the hostile text exactly
    assert_inert(err)


@pytest.mark.parametrize("form", [[], ["--markdown"]])
def test_triage_text_and_markdown(sandbox: Path, capsys, form) -> None:
    code, out, err = run(
        capsys, "--config", str(sandbox), "triage", "--now", NOW.isoformat(), *form
    )
    assert code == 0 and shows_hostile(out)
    assert_inert(out + err)


def test_triage_json(sandbox: Path, capsys) -> None:
    code, out, err = run(
        capsys, "--config", str(sandbox), "triage", "--json", "--now", NOW.isoformat()
    )
    assert code == 0
    assert_json_exact(out)
    assert_inert(err)


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-testkey-0123456789abcdef")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    try:
        yield server
    finally:
        server.stop()


def test_triage_ai_streams_the_model_text_inert(
    sandbox: Path, capsys, fake_model: FakeAnthropic, monkeypatch
) -> None:
    """The model echoes a hostile log line; on a terminal the stream shows it, never obeys it."""
    fake_model.turns = [Turn([text(f"The log says:\n{HOSTILE}\nso roll back.\n")])]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # stream as to a terminal
    code, out, err = run(
        capsys, "--config", str(sandbox), "triage", "--ai", "--now", NOW.isoformat()
    )
    assert code == 0
    assert "The log says:\n" in err and "so roll back." in err  # prose keeps its lines
    assert shows_hostile(err)
    assert_inert(out + err)


def test_rollback_text_and_json(sandbox: Path, capsys) -> None:
    code, out, err = run(capsys, "--config", str(sandbox), "rollback")
    assert code == 0 and shows_hostile(out), out
    assert_inert(out + err)
    code, out, err = run(capsys, "--config", str(sandbox), "rollback", "--json")
    assert code == 0
    assert_json_exact(out)
    assert_inert(err)


def test_deploys_text_and_json(sandbox: Path, capsys) -> None:
    code, out, err = run(capsys, "--config", str(sandbox), "deploys", "--since", "30d")
    assert code == 0 and shows_hostile(out)
    assert_inert(out + err)
    code, out, err = run(capsys, "--config", str(sandbox), "deploys", "--since", "30d", "--json")
    assert code == 0
    assert_json_exact(out)
    assert_inert(err)


def test_timeline_and_incidents_text_and_json(sandbox: Path, incident: str, capsys) -> None:
    for command in (["timeline", "--incident", incident], ["incidents"]):
        code, out, err = run(capsys, "--config", str(sandbox), *command)
        assert code == 0 and shows_hostile(out)
        assert_inert(out + err)
        code, out, err = run(capsys, "--config", str(sandbox), *command, "--json")
        assert code == 0
        assert_json_exact(out)
        assert_inert(err)


@pytest.mark.parametrize("what", [["postmortem", "--no-logs"], ["json"], ["actions"]])
def test_export_to_stdout(sandbox: Path, incident: str, capsys, what) -> None:
    code, out, err = run(capsys, "--config", str(sandbox), "export", *what, "--incident", incident)
    assert code == 0
    assert_inert(out + err)
    if what == ["json"]:
        assert_json_exact(out)
    elif what[0] == "postmortem":
        assert shows_hostile(out)


def test_a_one_line_error_quoting_hostile_input_is_inert(tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, "--config", str(tmp_path / f"x{HOSTILE}.toml"), "timeline")
    assert code == 2 and "config file not found" in err
    assert_inert(out + err)
    assert len(err.strip().splitlines()) == 1


def test_drill_list_shows_a_scenario_folders_text_inert(tmp_path: Path, capsys) -> None:
    """`--scenarios DIR` reads scenario files from any folder: their text is outside text."""
    from cockpit.resources import data_dir

    shipped = data_dir("config") / "scenarios" / "checkout-5xx.toml"
    lines = shipped.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("description = "))
    escaped = "".join(
        ch if ch.isprintable() and ch not in '"\\' else f"\\U{ord(ch):08x}"
        for ch in f"evil {HOSTILE}"
    )
    lines[at] = f'description = "{escaped}"'
    (tmp_path / "checkout-5xx.toml").write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "drill", "--list", "--scenarios", str(tmp_path))
    assert code == 0
    assert_inert(out + err)
    assert shows_hostile(out)


def test_a_usage_error_quoting_a_hostile_file_name_is_inert(tmp_path: Path, capsys) -> None:
    """`cockpit search -c x --json logs/*`: the shell's glob puts file names among the
    arguments, and argparse quotes the ones it cannot place."""
    code, out, err = run(capsys, "search", "-c", "x", "--json", f"logs/app.log.{HOSTILE}")
    assert code == 2 and "unrecognized arguments" in err
    assert_inert(out + err)
    assert shows_hostile(err)
