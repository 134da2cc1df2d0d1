"""Placeholders are stable per incident across processes, and the salt behind them stays home.

A placeholder is `[REDACTED:<kind>:<8 hex of HMAC-SHA256(incident salt, secret)>]`; the salt
lives in the store's `redaction_salts` side table. These tests run separate processes on one
store, the real CLI (`triage --ai` against the fake Anthropic API, `timeline`, `export`) and
the TUI's preview, and check that the salt never shows up in anything that leaves the store.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.core.ai.redact import PLACEHOLDER, RedactionError, Redactor, redactor_for
from cockpit.core.config import Config, load_config_file
from cockpit.core.demo import SandboxInfo, build_sandbox
from cockpit.core.store import EventStore, StoreError
from cockpit.core.stores import incident_redaction_salt
from tests.fakes.anthropic_api import FakeAnthropic, call, say

PROJECT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 28, 14, 31, 17, tzinfo=UTC)
BEARER = "c2VjcmV0LXRva2VuLWZvci1wYXltZW50cw"
SECRET_LOG_LINE = (
    '2026-11-28T14:31:05.000Z level=error service=checkout msg="upstream auth failed"'
    f' header="Authorization: Bearer {BEARER}" status=502'
)
LINE = "login failed password=hunter2pass for AKIAIOSFODNN7EXAMPLE"

# Another process: open the store, take the incident's salt, redact argv[3], print the result.
REDACT_IN_ANOTHER_PROCESS = """
import sys
from pathlib import Path
from cockpit.core.ai.redact import Redactor
from cockpit.core.store import EventStore

path, incident_id, line = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
with EventStore(path) as store:
    salt = store.redaction_salt(incident_id) if incident_id else None
print(Redactor({}, salt=salt).redact(line))
"""


def redact_in_another_process(store_path: Path, incident_id: str, line: str = LINE) -> str:
    done = subprocess.run(
        [sys.executable, "-c", REDACT_IN_ANOTHER_PROCESS, str(store_path), incident_id, line],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def salt_forms(salt: bytes) -> list[str]:
    """Every way the salt could be spelled in text: hex (both cases) and base64."""
    return [salt.hex(), salt.hex().upper(), base64.b64encode(salt).decode()]


# -- the store's side table ---------------------------------------------------------------------


def test_the_salt_is_made_once_per_incident_and_shared_by_every_connection(
    tmp_path: Path,
) -> None:
    path = tmp_path / "incidents.db"
    with EventStore(path) as alice, EventStore(path) as bob:
        first = alice.create_incident("checkout 5xx", "alice")
        second = alice.create_incident("payments slow", "alice")
        salt = bob.redaction_salt(first.id)  # the partner asks first
        assert len(salt) == 32
        assert alice.redaction_salt(first.id) == salt == bob.redaction_salt(first.id)
        assert alice.redaction_salt(second.id) != salt
        # Not history: no event carries it.
        assert [e.kind for e in alice.events(first.id)] == ["incident.opened"]
        with pytest.raises(StoreError, match="no incident with id 'nope'"):
            alice.redaction_salt("nope")


def test_an_older_store_gains_the_side_table_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    with EventStore(path) as store:
        incident = store.create_incident("checkout 5xx", "alice")
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE redaction_salts")  # as a store written before the table existed
    conn.commit()
    conn.close()
    with EventStore(path) as store:
        assert len(store.redaction_salt(incident.id)) == 32
        assert [e.kind for e in store.events(incident.id)] == ["incident.opened"]


def test_no_store_file_means_no_salt_and_no_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    assert incident_redaction_salt(path, "abc") is None
    assert not path.exists()


# -- the same placeholder in every process of an incident ---------------------------------------


def test_two_processes_on_one_incident_give_the_same_placeholders(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    with EventStore(path) as store:
        checkout = store.create_incident("checkout 5xx", "alice").id
        payments = store.create_incident("payments slow", "alice").id
    first = redact_in_another_process(path, checkout)
    second = redact_in_another_process(path, checkout)
    other = redact_in_another_process(path, payments)
    assert "hunter2pass" not in first and "AKIAIOSFODNN7EXAMPLE" not in first
    assert len(PLACEHOLDER.findall(first)) == 2
    assert first == second  # a rerun, a restart, a pairing partner: the same placeholders
    assert other != first and len(PLACEHOLDER.findall(other)) == 2  # another incident: not
    with EventStore(path) as store:
        here = Redactor({}, salt=store.redaction_salt(checkout)).redact(LINE)
    assert here == first  # this process agrees too


def test_without_an_incident_each_process_has_its_own_salt(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    EventStore(path).close()
    one, two = redact_in_another_process(path, ""), redact_in_another_process(path, "")
    assert one != two
    assert Redactor({}).redact(LINE) == Redactor({}).redact(LINE)  # stable within a process


@pytest.mark.parametrize("combined", [True, False], ids=["combined", "sequential"])
def test_placeholders_of_every_kind_are_never_redacted_again(combined: bool) -> None:
    """`aws-secret:1a2b3c4d]` reads like `secret: <value>` to the key=value rule."""
    from cockpit.core.ai.redact import RULE_SPECS, RULES

    redactor = Redactor({}) if combined else Redactor({}, rules=tuple(list(RULES)))
    kinds = ["private-key", "process-secret", *(kind for kind, _s, _v in RULE_SPECS)]
    for kind in kinds:
        for secret in ("x", "y", "z", "w"):  # several digests, letters and digits
            placeholder = redactor.placeholder(kind, secret)
            text = f"value {placeholder}, quoted '{placeholder}', last:{placeholder}"
            assert redactor.redact(text) == text, kind
    numbered = "password=[REDACTED:secret-value:12] [REDACTED:aws-secret:3]"
    assert redactor.redact(numbered) == numbered  # the older numbered form is left alone too


def test_a_forged_placeholder_does_not_hide_a_secret() -> None:
    out = Redactor({}).redact("[REDACTED:aws-key:AKIAIOSFODNN7EXAMPLE]")
    assert "AKIAIOSFODNN7EXAMPLE" not in out


def test_a_damaged_salt_fails_closed() -> None:
    with pytest.raises(RedactionError, match="nothing was sent"):
        Redactor({}, salt=b"short")


def test_redactor_for_reads_the_incident_salt_once_and_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    with EventStore(path) as store:
        incident = store.create_incident("checkout 5xx", "alice").id
        salt = store.redaction_salt(incident)
    loads: list[str] = []

    def load() -> bytes | None:
        loads.append(incident)
        return incident_redaction_salt(path, incident)

    redactor = redactor_for(incident, salt=load)
    assert redactor_for(incident, salt=load) is redactor and loads == [incident]
    assert redactor.redact(LINE) == Redactor({}, salt=salt).redact(LINE)

    def broken() -> bytes:
        raise StoreError(f"{path}: read failed (disk I/O error)")

    with pytest.raises(RedactionError, match=r"disk I/O error.*nothing was sent"):
        redactor_for("another-incident", salt=broken)


# -- the CLI: triage --ai, timeline, export -----------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SandboxInfo:
    info = build_sandbox(tmp_path_factory.mktemp("demo"), now=NOW, log_mb=0.5)
    with (info.directory / "logs" / "checkout" / "checkout.log").open("a") as log:
        log.write(SECRET_LOG_LINE + "\n")
    return info


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-testkey-0123456789abcdef")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    try:
        yield server
    finally:
        server.stop()


def triage_ai(
    config_path: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> tuple[str, str, str]:
    """(stdout, stderr, every request body sent) of one `cockpit triage --ai --json`."""
    fake.requests.clear()
    fake.turns = [
        call("search_logs", {"pattern": "upstream auth failed", "since_minutes": 60}),
        say("done"),
    ]
    args = [
        "--config",
        str(config_path),
        "triage",
        "--ai",
        "--json",
        "--now",
        "2026-11-28T14:31:17Z",
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    sent = "\n".join(request.body.decode("utf-8", "replace") for request in fake.requests)
    return captured.out, captured.err, sent


def test_triage_ai_uses_the_incident_salt_and_never_sends_it(
    demo: SandboxInfo, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config_file(demo.config_path)
    with EventStore(config.store_path) as store:
        incident = store.create_incident("Checkout 5xx", "alice")
        store.append(incident.id, "note.added", {"text": f"saw Bearer {BEARER}"}, "bob")
        salt = store.redaction_salt(incident.id)
    expected = Redactor({}, salt=salt).placeholder("authorization", BEARER)
    _out, err, sent = triage_ai(demo.config_path, fake, capsys)
    assert "not recorded" not in err
    assert BEARER not in sent and expected in sent  # the tool result, redacted with the salt
    for form in salt_forms(salt):
        assert form not in sent

    # Nothing that reads the incident back shows the salt either.
    outputs = {}
    for what in (["timeline", "--json"], ["timeline"], ["export", "json"]):
        assert main(["--config", str(demo.config_path), *what]) == 0
        outputs[" ".join(what)] = capsys.readouterr().out
    postmortem = ["export", "postmortem", "--no-logs"]
    assert main(["--config", str(demo.config_path), *postmortem]) == 0
    outputs["postmortem"] = capsys.readouterr().out
    assert "ai.tool_called" in outputs["timeline --json"]  # the run was recorded
    for name, text in outputs.items():
        assert "Checkout 5xx" in text, name
        for form in salt_forms(salt):
            assert form not in text, name
        assert "redaction_salt" not in text, name


def test_triage_ai_without_an_open_incident_says_calls_are_not_recorded(
    demo: SandboxInfo, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = demo.directory / "empty.toml"
    text = demo.config_path.read_text()
    empty.write_text(text.replace('store = "incidents.db"', 'store = "empty.db"', 1))
    EventStore(demo.directory / "empty.db").close()
    out, err, sent = triage_ai(empty, fake, capsys)
    assert json.loads(out)["hypotheses"]  # stdout is the report, nothing else
    notice = [line for line in err.splitlines() if "not recorded" in line]
    assert notice == [
        "cockpit: no open incident: the model's tool calls are not recorded"
        ' (open one with `cockpit open --new "TITLE"`)'
    ]
    assert BEARER not in sent and "[REDACTED:authorization:" in sent


# -- the TUI -----------------------------------------------------------------------------------


@pytest.fixture
def tui_config(demo: SandboxInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    import cockpit.tui.app as app_module
    from cockpit.resources import data_dir

    styles = data_dir("styles")
    monkeypatch.setattr(
        app_module.CockpitApp, "CSS_PATH", [styles / "cockpit.tcss", styles / "hypotheses.tcss"]
    )
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    loaded = load_config_file(demo.config_path)
    section = loaded.cockpit.model_copy(
        update={"store": tmp_path / "incidents.db", "author": "alice"}
    )
    return loaded.model_copy(update={"cockpit": section})


async def test_the_tui_preview_uses_the_incident_salt(tui_config: Config) -> None:
    from textual.widgets import Static

    from cockpit.tui.messages import PinRequested
    from cockpit.tui.panes.hypothesis_dialogs import PreviewScreen
    from tests.tui_support import make_app, settle

    app = make_app(tui_config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.post_message(PinRequested("logs", "login failed password=hunter2pass"))
        await settle(pilot)
        await pilot.press("4", "i")
        await settle(pilot)
        assert isinstance(app.screen, PreviewScreen)
        shown = str(app.screen.query_one("#ai-preview-text", Static).render())
        assert app.state is not None
        incident_id = app.state.incident_id
    with EventStore(tui_config.store_path) as store:
        salt = store.redaction_salt(incident_id)
    assert "hunter2pass" not in shown
    placeholder = Redactor({}, salt=salt).placeholder("secret-value", "hunter2pass")
    assert f"password={placeholder}" in shown
    # The same placeholder `cockpit triage --ai`, `cockpit mcp` or a partner's cockpit gives.
    elsewhere = redact_in_another_process(
        tui_config.store_path, incident_id, "password=hunter2pass"
    )
    assert elsewhere == f"password={placeholder}"
    for form in salt_forms(salt):
        assert form not in shown
