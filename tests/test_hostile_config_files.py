"""Config-like files (config, runbook, skills, scenarios, deploy histories) that hang, eat
memory or recurse are one line and exit 2, and an inline error in the TUI; unknown incident
ids are refused before anything starts.

The CLI cases run in a child process with a deadline: before the fix a FIFO hung the reader
for ever and /dev/zero grew memory at about 1 GB/s, neither of which a test may do in-process.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.core.config import ConfigError, load_config_file
from cockpit.core.safe_files import (
    CONFIG_MAX_BYTES,
    UnsafeFileError,
    read_regular_bytes,
    read_regular_text,
)
from tests.tui_support import make_app, settle, write_config

PROJECT = Path(__file__).resolve().parents[1]
DEADLINE = 60
"""Seconds a refused file may take (a liveness bound: the refusal itself is immediate)."""


def cockpit(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "COCKPIT_CONFIG"}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        cwd=cwd,
        env={**full, "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


def one_line_exit_2(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for text in expected:
        assert text in lines[0], lines[0]


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)
    return path


def test_a_fifo_config_is_one_line(tmp_path, fifo) -> None:
    done = cockpit("--config", str(fifo), "timeline", cwd=tmp_path)
    one_line_exit_2(done, str(fifo), "is a FIFO, expected a TOML config file")
    done = cockpit("timeline", cwd=tmp_path, env={"COCKPIT_CONFIG": str(fifo)})
    one_line_exit_2(done, "is a FIFO")


def test_dev_zero_as_config_is_one_line(tmp_path) -> None:
    done = cockpit("--config", "/dev/zero", "timeline", cwd=tmp_path)
    one_line_exit_2(done, "/dev/zero: is a character device, expected a TOML config file")


def test_an_oversized_config_is_refused_unread(tmp_path) -> None:
    big = tmp_path / "big.toml"
    big.write_text("# padding\n" * (CONFIG_MAX_BYTES // 10 + 1))
    with pytest.raises(ConfigError, match="larger than 1 MB; not read"):
        load_config_file(big)


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 100_000 + "]" * 100_000 + "\n",
        "a = " + "{b = " * 50_000 + "1" + "}" * 50_000 + "\n",
    ],
    ids=["arrays", "inline-tables"],
)
def test_deeply_nested_toml_is_one_line(tmp_path, text) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(text)
    done = cockpit("--config", str(path), "timeline", cwd=tmp_path)
    one_line_exit_2(done, str(path), "nested too deeply")


def test_a_fifo_runbook_skill_or_scenario_is_one_line(tmp_path, fifo) -> None:
    config = tmp_path / "cockpit.toml"
    config.write_text(f"[cockpit]\nstore = 'x.db'\n[ai]\nskills = ['{fifo}']\n")
    done = cockpit("--config", str(config), "triage", "--ai", cwd=tmp_path)
    one_line_exit_2(done, str(fifo), "is a FIFO, expected a triage skill file")
    zero = tmp_path / "zero-skills.toml"
    zero.write_text("[cockpit]\nstore = 'x.db'\n[ai]\nskills = ['/dev/zero']\n")
    done = cockpit("--config", str(zero), "triage", "--ai", cwd=tmp_path)
    one_line_exit_2(done, "/dev/zero: is a character device")
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    os.mkfifo(scenarios / "stuck.toml")
    done = cockpit("drill", "--list", "--scenarios", str(scenarios), cwd=tmp_path)
    one_line_exit_2(done, "stuck.toml: is a FIFO, expected a drill scenario file")


def test_a_fifo_deploy_log_is_that_service_s_error(tmp_path) -> None:
    os.mkfifo(tmp_path / "deploys.jsonl")
    config = tmp_path / "cockpit.toml"
    config.write_text(
        "[cockpit]\nstore = 'x.db'\n[[services]]\nname = 'checkout'\n"
        "[services.deploys]\ndeploy_log = 'deploys.jsonl'\n"
    )
    done = cockpit("--config", str(config), "deploys", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "deploys.jsonl: is a FIFO, expected a deploy log file" in done.stderr


def test_the_reader_checks_the_open_file_not_a_name(tmp_path) -> None:
    """`fstat` on the descriptor: a FIFO opened non-blocking is refused, never read."""
    os.mkfifo(tmp_path / "p")
    with pytest.raises(UnsafeFileError, match="is a FIFO"):
        read_regular_bytes(tmp_path / "p", what="x")
    with pytest.raises(UnsafeFileError, match="is a directory"):
        read_regular_text(tmp_path, what="x")
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    with pytest.raises(UnsafeFileError, match="not UTF-8 text"):
        read_regular_text(tmp_path / "bin", what="x")
    (tmp_path / "ok").write_text("fine")
    assert read_regular_text(tmp_path / "ok", what="x") == "fine"


async def test_the_tui_shows_a_fifo_runbook_inline(tmp_path) -> None:
    config = write_config(tmp_path)
    os.mkfifo(tmp_path / "runbook-pipe.md")
    config = config.model_copy(
        update={"cockpit": config.cockpit.model_copy(update={"runbook": Path("runbook-pipe.md")})}
    )
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await asyncio.wait_for(settle(pilot), DEADLINE)  # liveness bound: a FIFO once hung here
        assert app.state is not None and app.state.incident_id  # the incident loaded
        messages = [str(n.message) for n in app._notifications]
        assert any("runbook-pipe.md: is a FIFO" in m for m in messages), messages
        # A toast goes after 10 s: the Phases pane keeps saying why it has no checklist.
        from cockpit.tui.panes.checklist import ChecklistItems

        items = app.query_one(ChecklistItems)
        shown = [str(items.get_option_at_index(i).prompt) for i in range(items.option_count)]
        assert any("runbook not loaded" in s and "is a FIFO" in s for s in shown), shown


def test_open_with_an_unknown_incident_is_one_line(tmp_path) -> None:
    config = write_config(tmp_path)
    assert config.source_path is not None
    done = cockpit("--config", str(config.source_path), "open", "--incident", "nope", cwd=tmp_path)
    one_line_exit_2(done, "no incident 'nope'")


def test_serve_with_an_unknown_incident_is_one_line(tmp_path) -> None:
    config = write_config(tmp_path)
    assert config.source_path is not None
    with socket.socket() as probe:  # a free port: before the fix, serve would start on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = cockpit(
        "--config", str(config.source_path), "serve", "--incident", "nope", "--port", str(port),
        cwd=tmp_path,
    )  # fmt: skip
    one_line_exit_2(done, "no incident 'nope'")
