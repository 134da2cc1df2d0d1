"""Discovery and `cockpit init` on a host whose file names and server URLs were written by
someone else: names no TOML string can hold as they are, glob characters, and credentials in
the URLs the ecosystem's variables name."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cockpit.core.config import FileSource, load_config_file
from cockpit.core.discovery import discover
from cockpit.core.discovery.init_toml import render
from cockpit.core.sanitize import hide_url_password
from cockpit.core.search.paths import expand_paths
from tests.alertmanager_support import running_alertmanager

REPO = Path(__file__).resolve().parent.parent
ENV_KEYS = ("PROMETHEUS_URL", "ALERTMANAGER_URL", "LOKI_ADDR", "COCKPIT_CONFIG")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


# Names a log file may have: DEL and ESC (no raw form in a TOML string), a byte that is not
# UTF-8 (no TOML form at all), a newline, quotes and backslashes, glob characters, bidi.
HOSTILE_NAMES = [
    b"del\x7fchar.log",
    b"esc\x1b[31mred.log",
    b"latin\xe9.log",
    b"new\nline.log",
    b'quo"te\\back.log',
    b"we[ird] *name?.log",
    "bidi\u202eevil.log".encode(),
    "日本.log".encode(),
]


def _hostile_host(root: Path) -> Path:
    log = root / "var" / "log"
    log.mkdir(parents=True)
    for name in HOSTILE_NAMES:
        with open(os.fsencode(log) + b"/" + name, "wb") as handle:
            handle.write(b"ERROR " + name.replace(b"\n", b" ") + b"\n")
    return log


def test_init_writes_a_config_that_loads_whatever_the_file_names(tmp_path: Path, clean_env) -> None:
    """Every discovered file stays searched through the written config, and the text has
    nothing that acts on a terminal (it is printed with `-o -`)."""
    root = tmp_path / "host"
    log = _hostile_host(root)
    found = discover(root=root, cwd=tmp_path, refresh=True, deadline=10)
    discovered = {
        s.name: set(expand_paths(s.paths, tmp_path).files)
        for s in found.config.sources
        if isinstance(s, FileSource)
    }
    assert len(discovered) == len(HOSTILE_NAMES)

    text = render(found, target_dir=tmp_path)
    assert not any(ch in text for ch in "\x1b\x7f\u202e")
    target = tmp_path / "cockpit.toml"
    target.write_text(text, encoding="utf-8")
    config = load_config_file(target)
    written = {
        s.name: set(expand_paths(s.paths, config.base_dir).files)
        for s in config.sources
        if isinstance(s, FileSource)
    }
    assert sorted(written.values(), key=str) == sorted(discovered.values(), key=str)
    assert {Path(os.fsdecode(os.fsencode(log) + b"/" + n)) for n in HOSTILE_NAMES} == set().union(
        *written.values()
    )


def test_init_from_the_command_line_never_fails_on_a_file_name(tmp_path: Path) -> None:
    root = tmp_path / "host"
    _hostile_host(root)
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "xdg"), PYTHONPATH=str(REPO))
    env["COCKPIT_DISCOVERY_DEADLINE"] = "10"
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "--root", str(root), "init"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    tomllib.loads((tmp_path / "cockpit.toml").read_text(encoding="utf-8"))


def test_a_discovered_file_with_glob_characters_is_searched_and_nothing_else(
    tmp_path: Path, clean_env
) -> None:
    """A log family listed file by file (a neighbour shares its prefix) with `[` in its name:
    its path must match that file, not `web.log`."""
    log = tmp_path / "host" / "var" / "log"
    log.mkdir(parents=True)
    (log / "we[b].log").write_text("ERROR bracket\n")
    (log / "we[b].log.err").write_text("ERROR neighbour\n")  # another family, same prefix
    (log / "web.log").write_text("ERROR not this one\n")
    found = discover(root=tmp_path / "host", cwd=tmp_path, refresh=True, deadline=10)
    (source,) = [s for s in found.config.sources if s.name == "we[b]"]
    assert isinstance(source, FileSource)
    assert expand_paths(source.paths, tmp_path).files == [log / "we[b].log"]


def test_a_password_in_a_server_url_is_never_shown_or_written(
    tmp_path: Path, clean_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """amtool's ALERTMANAGER_URL may carry basic auth: discovery uses it, but the reports,
    the summary and the written config never hold the password."""
    with running_alertmanager(tmp_path / "am") as alertmanager:
        named = alertmanager.url.replace("http://", "http://oncall:s3cr3t-pw@")
        monkeypatch.setenv("ALERTMANAGER_URL", named)
        monkeypatch.setenv("PROMETHEUS_URL", "http://oncall:s3cr3t-pw@127.0.0.1:1")
        found = discover(root=tmp_path, cwd=tmp_path, refresh=True, deadline=10, probe_timeout=3)
        assert [a.url for a in found.config.alertmanagers] == [named]  # used as given
        shown = [str(r.to_json()) for r in found.reports] + [found.summary()]
        assert not any("s3cr3t-pw" in line for line in shown), shown
        assert any("oncall:***@" in line for line in shown)
        text = render(found, target_dir=tmp_path)
        assert "s3cr3t-pw" not in text
        assert f'url = "{alertmanager.url.replace("http://", "http://oncall@")}"' in text


def test_hide_url_password() -> None:
    assert hide_url_password("https://u:p@am:9093/x?y=1") == "https://u:***@am:9093/x?y=1"
    assert hide_url_password("https://u:p@am:9093/x", None) == "https://u@am:9093/x"
    assert hide_url_password("https://:tok@am", None) == "https://am"
    assert hide_url_password("http://am:9093/a@b") == "http://am:9093/a@b"
    assert hide_url_password("http://u@am") == "http://u@am"
    assert hide_url_password("localhost:9093") == "localhost:9093"


def test_sources_show_the_whole_reason_with_its_fix() -> None:
    """A container's log path is two 64-character ids long: the fix at the end of the reason
    ("try sudo") must still be printed."""
    from cockpit.commands.sources import format_reports
    from cockpit.core.discovery.model import Origin, SourceReport, State

    folder = "/var/lib/docker/containers/" + "4f" * 32
    reason = (
        f"no read permission on {folder}/{'4f' * 32}-json.log "
        "(readable by its owner only; try sudo)"
    )
    report = SourceReport("docker", "docker-web", Origin.DISCOVERED, State.SKIPPED, reason)
    assert format_reports([report])[1].endswith(reason)
