"""Every file the cockpit creates is 0600 (whatever the umask) unless the user asks otherwise,
never written through a symlink, and never over a file the user did not name; `--redact`
exports go through the AI path's redactor with the incident's placeholders."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.core.ai.redact import Redactor
from cockpit.core.incident import Kind
from cockpit.core.review.events import ACTION_ITEM_ADDED, action_item_payload
from cockpit.core.safe_files import UnsafeFileError, write_private, write_private_new
from cockpit.core.store import EventStore

PASSWORD_NOTE = "db creds: password=hunter2-Prod! and key AKIAIOSFODNN7EXAMPLE, ask ops@example.com"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The worst case the issue saw: umask 000, where a plain write is 0666."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def incident(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    config = tmp_path / "cockpit.toml"
    config.write_text("[cockpit]\nstore = 'incidents.db'\nauthor = 'alice'\n")
    with EventStore(tmp_path / "incidents.db") as store:
        record = store.create_incident("checkout 5xx", "alice")
        store.append(record.id, Kind.NOTE_ADDED, {"text": PASSWORD_NOTE}, "alice")
        store.append(
            record.id,
            ACTION_ITEM_ADDED,
            action_item_payload(f"rotate {PASSWORD_NOTE}", "bob", "2026-12-24"),
            "alice",
        )
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    return config, record.id


@pytest.mark.parametrize(
    "what", [["postmortem", "--no-logs"], ["json"], ["actions"], ["actions", "--format", "csv"]]
)
def test_exports_are_owner_only_whatever_the_umask(incident, tmp_path, open_umask, what) -> None:
    config, _incident_id = incident
    out = tmp_path / "export.out"
    assert main(["--config", str(config), "export", *what, "-o", str(out)]) == 0
    assert mode_of(out) == 0o600
    assert "hunter2-Prod!" in out.read_text()  # without --redact the export is verbatim


def test_an_export_mode_can_be_asked_for(incident, tmp_path, open_umask) -> None:
    config, _ = incident
    out = tmp_path / "pm.md"
    assert main(["--config", str(config), "export", "postmortem", "--no-logs", "--mode", "0640",
                 "-o", str(out)]) == 0  # fmt: skip
    assert mode_of(out) == 0o640


def test_a_bad_mode_is_one_line(incident, tmp_path, capsys) -> None:
    config, _ = incident
    with pytest.raises(SystemExit) as info:
        main(["--config", str(config), "export", "json", "--mode", "rw-r--r--", "-o", "x"])
    assert info.value.code == 2 and "expected an octal file mode" in capsys.readouterr().err


def test_an_export_replaces_the_users_file_but_never_follows_a_symlink(
    incident, tmp_path, capsys
) -> None:
    config, _ = incident
    earlier = tmp_path / "pm.md"
    earlier.write_text("old draft")
    earlier.chmod(0o644)
    assert (
        main(["--config", str(config), "export", "postmortem", "--no-logs", "-o", str(earlier)])
        == 0
    )
    assert mode_of(earlier) == 0o600 and earlier.read_text().startswith("# Postmortem")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    victim.chmod(0o644)
    link = tmp_path / "link.md"
    link.symlink_to(victim)
    with pytest.raises(SystemExit) as info:
        main(["--config", str(config), "export", "json", "-o", str(link)])
    assert info.value.code == 2
    assert "is a symlink; not followed" in capsys.readouterr().err
    assert victim.read_text() == "precious" and mode_of(victim) == 0o644
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "would-be-created")
    with pytest.raises(SystemExit):
        main(["--config", str(config), "export", "json", "-o", str(dangling)])
    assert not (tmp_path / "would-be-created").exists()


@pytest.mark.parametrize(
    "what", [["postmortem", "--no-logs"], ["json"], ["actions"], ["actions", "--format", "csv"]]
)
def test_redacted_exports_use_the_incidents_placeholders(incident, tmp_path, what) -> None:
    config, incident_id = incident
    out = tmp_path / "redacted.out"
    assert main(["--config", str(config), "export", *what, "--redact", "-o", str(out)]) == 0
    text = out.read_text()
    for secret in ("hunter2-Prod!", "AKIAIOSFODNN7EXAMPLE", "ops@example.com"):
        assert secret not in text
    # The same placeholder the AI path (and MCP, and a partner's cockpit) uses on this incident.
    with EventStore(tmp_path / "incidents.db") as store:
        salt = store.redaction_salt(incident_id)
    ai = Redactor(salt=salt).redact(PASSWORD_NOTE)
    aws = next(p for p in ai.split() if p.startswith("[REDACTED:aws-key:"))
    assert aws.rstrip(",") in text
    if what in (["json"], ["actions"]):
        json.loads(text)  # still valid JSON


def test_a_redaction_failure_writes_nothing(incident, tmp_path, capsys, monkeypatch) -> None:
    from cockpit.core.ai import redact

    def broken(self: object, text: str) -> str:
        raise redact.RedactionError("redaction failed (boom): nothing was sent")

    monkeypatch.setattr(redact.Redactor, "redact", broken)
    config, _ = incident
    out = tmp_path / "pm.md"
    with pytest.raises(SystemExit) as info:
        main(
            [
                "--config",
                str(config),
                "export",
                "postmortem",
                "--no-logs",
                "--redact",
                "-o",
                str(out),
            ]
        )
    assert info.value.code == 2 and "nothing exported" in capsys.readouterr().err
    assert not out.exists()


def test_the_safe_writer_refuses_what_it_must_not_touch(tmp_path, open_umask) -> None:
    new = write_private(tmp_path / "a.txt", "x")
    assert mode_of(new) == 0o600
    with pytest.raises(UnsafeFileError, match="already exists; not overwritten"):
        write_private(new, "y")
    assert new.read_text() == "x"
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(UnsafeFileError, match="is a FIFO"):
        write_private(tmp_path / "fifo", "y", replace=True)
    if os.geteuid() == 0:
        theirs = tmp_path / "theirs.txt"
        theirs.write_text("theirs")
        os.chown(theirs, 65534, 65534)
        with pytest.raises(UnsafeFileError, match="belongs to uid 65534"):
            write_private(theirs, "mine", replace=True)
        assert theirs.read_text() == "theirs"
    first = write_private_new(tmp_path, "pm", ".md", "one")
    second = write_private_new(tmp_path, "pm", ".md", "two")
    assert (first.name, second.name) == ("pm.md", "pm-2.md") and first.read_text() == "one"


async def test_the_tuis_postmortem_is_owner_only_and_never_overwrites(tmp_path, open_umask) -> None:
    from cockpit.tui.panes.comms import CommsPane
    from tests.test_comms_pane import make_app
    from tests.tui_support import workers_done

    app = make_app(tmp_path, until=None)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(CommsPane)
        pane.export_dir = tmp_path
        for _ in range(2):
            await pilot.press("m")  # Comms: write the postmortem
            await workers_done(app)
            await pilot.pause()
    written = sorted(tmp_path.glob("postmortem-*.md"))
    assert len(written) == 2 and all(mode_of(p) == 0o600 for p in written)


def test_the_sandbox_config_and_marker_are_owner_only(tmp_path, open_umask) -> None:
    from cockpit.core.demo import build_sandbox

    info = build_sandbox(tmp_path / "box", now=datetime(2026, 11, 28, 14, 45, tzinfo=UTC), log_mb=1)
    assert mode_of(info.config_path) == 0o600
    assert mode_of(tmp_path / "box") == 0o700


def test_folders_the_cockpit_creates_are_owner_only_parents_too(tmp_path: Path) -> None:
    """Under umask 000 a plain `mkdir -p` made the store's missing parents (~/.local/share)
    0777: anyone could swap the folder below them. Every folder made is 0700."""
    from cockpit.core.store import EventStore

    old = os.umask(0)
    try:
        store_path = tmp_path / "home" / ".local" / "share" / "cockpit" / "incidents.db"
        EventStore(store_path).close()
    finally:
        os.umask(old)
    for folder in (tmp_path / "home", *(store_path.parents[i] for i in range(3))):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    assert store_path.stat().st_mode & 0o777 == 0o600
