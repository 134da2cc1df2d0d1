"""Remembered config verdicts: `note`, `timeline` and `incidents` skip pydantic only for a
config text that full validation passed before, on this code; anything else is validated in
full and refused exactly as `load_config` refuses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.core import config_file
from cockpit.core.config import ConfigError, load_config_file
from cockpit.core.config_file import (
    VALIDATING_MODULES,
    checked_store_settings,
    remember_checked,
    verdicts_dir,
)

GOOD = '[cockpit]\nstore = "incidents.db"\nauthor = "ana"\ndrill = true\nstore_mode = "0600"\n'


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cockpit.toml"
    path.write_text(text)
    return path


def test_a_config_is_trusted_only_after_full_validation(tmp_path: Path, cache: Path) -> None:
    path = _write(tmp_path, GOOD)
    assert checked_store_settings(path) is None  # never validated: the caller loads it in full
    config = load_config_file(path)
    settings = checked_store_settings(path)
    assert settings == config.store_settings
    assert settings is not None
    assert (settings.author, settings.drill, settings.store_file_mode) == ("ana", True, 0o600)
    assert settings.store_target == tmp_path.resolve() / "incidents.db"


def test_an_edited_config_is_validated_again(tmp_path: Path, cache: Path) -> None:
    path = _write(tmp_path, GOOD)
    load_config_file(path)
    path.write_text(GOOD.replace('"ana"', '"bo"'))
    assert checked_store_settings(path) is None


def test_an_invalid_config_is_never_remembered(tmp_path: Path, cache: Path) -> None:
    path = _write(tmp_path, GOOD + "\n[[sources]]\nkind = 'files'\nname = 'x'\n")  # no paths
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"cockpit.toml:\d+: .*paths"):
            load_config_file(path)
        assert checked_store_settings(path) is None
    folder = verdicts_dir()
    assert folder is not None
    assert not folder.exists() or not any(folder.iterdir())


def test_read_and_syntax_errors_are_the_loaders(tmp_path: Path, cache: Path) -> None:
    path = _write(tmp_path, "[cockpit\n")
    with pytest.raises(ConfigError) as fast:
        checked_store_settings(path)
    with pytest.raises(ConfigError) as full:
        load_config_file(path)
    assert str(fast.value) == str(full.value)
    assert str(fast.value).startswith(f"{path}:1:")
    with pytest.raises(ConfigError, match="config file not found"):
        checked_store_settings(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    "extra",
    [
        "[health]\nerror_pattern = 'status=5'\n",  # judged by the rg found on PATH
        "[[services]]\nname = 'a'\n[services.health]\nerror_pattern = 'status=5'\n",
        "[[services]]\nname = 'a'\n[services.health]\nversion_pattern = 'v=(\\S+)'\n",
        "trusted_binaries = ['~/bin/helm']\n",  # `~` is this user's home
    ],
)
def test_a_verdict_that_depends_on_the_host_is_never_remembered(
    tmp_path: Path, cache: Path, extra: str
) -> None:
    text = (
        GOOD + extra
        if extra.startswith("[")
        else GOOD.replace("[cockpit]\n", "[cockpit]\n" + extra)
    )
    path = _write(tmp_path, text)
    load_config_file(path)
    assert checked_store_settings(path) is None


def test_a_verdict_folder_others_can_write_is_ignored(tmp_path: Path, cache: Path) -> None:
    path = _write(tmp_path, GOOD)
    load_config_file(path)
    folder = verdicts_dir()
    assert folder is not None and any(folder.iterdir())
    folder.chmod(0o777)
    assert checked_store_settings(path) is None
    folder.chmod(0o700)
    folder.parent.chmod(0o775)  # cockpit/: its group could swap checked-configs/
    assert checked_store_settings(path) is None
    folder.parent.chmod(0o700)
    assert checked_store_settings(path) is not None


def test_a_planted_verdict_that_is_not_a_regular_file_is_ignored(
    tmp_path: Path, cache: Path
) -> None:
    path = _write(tmp_path, GOOD)
    key = config_file.verdict_key(GOOD)
    assert key is not None
    folder = verdicts_dir()
    assert folder is not None
    folder.mkdir(mode=0o700, parents=True)
    (folder / key).symlink_to(tmp_path)
    assert checked_store_settings(path) is None


def test_a_relative_cache_folder_turns_verdicts_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "cache")
    path = _write(tmp_path, GOOD)
    load_config_file(path)
    remember_checked(GOOD)
    assert checked_store_settings(path) is None
    assert not (tmp_path / "cache").exists()


def test_the_key_covers_the_validating_code(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    before = config_file.verdict_key(GOOD)
    monkeypatch.setattr(config_file, "VALIDATING_MODULES", (*VALIDATING_MODULES[:-1], "sanitize"))
    assert config_file.verdict_key(GOOD) != before
    monkeypatch.setattr(config_file, "_VERDICT_FORMAT", b"another")
    monkeypatch.setattr(config_file, "VALIDATING_MODULES", VALIDATING_MODULES)
    assert config_file.verdict_key(GOOD) != before


_VALIDATION_IMPORTS = """
import json, sys
from pathlib import Path
from cockpit.core.config import Config, load_config_file
import tomllib
raw = tomllib.loads(Path(sys.argv[1]).read_text())
raw.pop("health", None)  # its regexes consult the host: those verdicts are never kept
for service in raw.get("services", []):
    service.pop("health", None)  # [services.health]'s too
before = set(sys.modules)
Config.model_validate(raw)
print(json.dumps(sorted(m for m in set(sys.modules) - before if m.startswith("cockpit"))))
"""


_MODULE_LEVEL_IMPORTS = """
import json, sys
import cockpit.core.config
print(json.dumps(sorted(m for m in sys.modules if m.startswith("cockpit"))))
"""


def test_validation_imports_only_the_validating_modules() -> None:
    # A verdict is keyed by the source of the modules that decide it: any other cockpit module
    # that validation imported could change the verdict without changing the key.
    example = Path(__file__).resolve().parents[1] / "config" / "cockpit.example.toml"
    done = subprocess.run(
        [sys.executable, "-c", _VALIDATION_IMPORTS, str(example)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    imported = json.loads(done.stdout)
    allowed = {f"cockpit.core.{name}" for name in VALIDATING_MODULES}
    assert set(imported) <= allowed, imported
    loaded = subprocess.run(
        [sys.executable, "-c", _MODULE_LEVEL_IMPORTS],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert set(json.loads(loaded.stdout)) <= allowed | {"cockpit", "cockpit.core"}


def test_note_with_a_remembered_config_never_imports_pydantic(tmp_path: Path, cache: Path) -> None:
    path = _write(tmp_path, GOOD.replace("drill = true\n", ""))
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    probe = (
        "import sys\nfrom cockpit.cli import main\ncode = main(sys.argv[1:])\n"
        "print('pydantic' in sys.modules, file=sys.stderr)\nraise SystemExit(code)"
    )

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", probe, "--config", str(path), *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    first = run("incidents", "--new", "db down")
    assert first.returncode == 0, first.stderr
    assert first.stderr.strip().endswith("True")  # validated in full, then remembered
    for argv in (("note", "restarted"), ("timeline",), ("incidents",)):
        done = run(*argv)
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip().endswith("False"), argv
    path.write_text(GOOD.replace("drill = true\n", "") + "[ai]\nmodel = 5\n")
    refused = run("note", "again")
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[0].startswith(f"cockpit: {path}:")


def _cockpit_in(folder: Path, cache: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`cockpit ARGV` run in `folder`; stderr's last line says whether pydantic was imported."""
    env = {k: v for k, v in os.environ.items() if k not in ("COCKPIT_CONFIG", "COCKPIT_STORE")}
    probe = (
        "import sys\nfrom cockpit.cli import main\ncode = main(sys.argv[1:])\n"
        "print('pydantic' in sys.modules, file=sys.stderr)\nraise SystemExit(code)"
    )
    return subprocess.run(
        [sys.executable, "-c", probe, *argv],
        capture_output=True,
        text=True,
        cwd=folder,
        env={**env, "XDG_CACHE_HOME": str(cache)},
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("argv", [("note", "restarted"), ("timeline",)])
def test_a_found_config_others_can_write_is_refused_even_when_remembered(
    tmp_path: Path, cache: Path, argv: tuple[str, ...]
) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    path = _write(folder, GOOD.replace("drill = true\n", ""))
    path.chmod(0o600)
    first = _cockpit_in(folder, cache, "incidents", "--new", "db down")
    assert first.returncode == 0, first.stderr
    remembered = _cockpit_in(folder, cache, *argv)
    assert remembered.returncode == 0, remembered.stderr
    assert remembered.stderr.strip().endswith("False")  # the remembered (pydantic-free) path
    path.chmod(0o620)
    refused = _cockpit_in(folder, cache, *argv)
    assert refused.returncode == 2
    assert "not loaded: found in the current folder and writable by its group" in refused.stderr
    assert len(refused.stderr.splitlines()) == 1 and not refused.stdout


def test_the_remembered_path_checks_the_open_file_not_only_the_name(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The search order's look (a stat of the name) can be dodged by swapping the file after
    # it; the check on the open file cannot, on the pydantic-free path as on the full one.
    path = _write(tmp_path, GOOD)
    path.chmod(0o600)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    assert checked_store_settings() is None
    load_config_file(path, found_here=True)
    assert checked_store_settings() is not None
    monkeypatch.setattr(config_file, "check_found_config_is_yours", lambda _path: None)
    path.chmod(0o646)
    with pytest.raises(ConfigError, match="writable by others"):
        checked_store_settings()


@pytest.mark.parametrize(
    "setting",
    ['password_env = "PGPASSWORD_TEAM"', 'store = "postgresql://db.example/cockpit"'],
)
def test_a_config_trusted_by_name_is_not_trusted_when_found_in_the_folder(
    tmp_path: Path, cache: Path, setting: str
) -> None:
    # Named with --config, a file may widen trust; the same text found as ./cockpit.toml may
    # not, and its verdict as a named file must not let `note` skip that rule.
    folder = tmp_path / "repo"
    folder.mkdir()
    text = GOOD.replace("drill = true\n", "").replace('store = "incidents.db"', setting)
    if "store =" not in setting:
        text = text.replace("[cockpit]\n", '[cockpit]\nstore = "incidents.db"\n')
    path = _write(folder, text)
    path.chmod(0o600)
    named = load_config_file(path)  # remembered as checked, named
    assert checked_store_settings(path) == named.store_settings
    for argv in (("note", "restarted"), ("timeline",), ("incidents",)):
        refused = _cockpit_in(folder, cache, *argv)
        assert refused.returncode == 2, (argv, refused.stderr)
        assert refused.stderr.startswith(f"cockpit: {path}: not loaded: found in the current")
        assert "it sets [cockpit]" in refused.stderr and len(refused.stderr.splitlines()) == 1


def test_verdicts_are_kept_and_trusted_under_a_group_writable_umask(
    tmp_path: Path, cache: Path
) -> None:
    """`umask 002` (user private groups): the folders the verdict is kept in are made private
    anyway, so the next start trusts it instead of validating again forever."""
    path = _write(tmp_path, GOOD)
    previous = os.umask(0o002)
    try:
        load_config_file(path)
    finally:
        os.umask(previous)
    assert checked_store_settings(path) is not None
    folder = verdicts_dir()
    assert folder is not None
    assert (folder.parent.stat().st_mode & 0o777, folder.stat().st_mode & 0o777) == (0o700, 0o700)


@pytest.mark.parametrize("command", [["incidents"], ["open"], ["note", "hi"]])
def test_a_deleted_current_folder_is_one_line_and_exit_2(
    tmp_path: Path, cache: Path, command: list[str]
) -> None:
    """No --config, and the folder the command runs in was deleted: its ./cockpit.toml can be
    neither found nor ruled out, which is one line and exit 2, not a traceback."""
    gone = tmp_path / "gone"
    gone.mkdir()
    code = (
        "import os, sys\n"
        f"os.chdir({str(gone)!r}); os.rmdir({str(gone)!r})\n"
        "from cockpit.cli import main\n"
        f"sys.exit(main({command!r}))\n"
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "no-config")}
    env.pop("COCKPIT_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "current folder" in done.stderr and "--config" in done.stderr


def test_a_relative_xdg_config_home_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`XDG_CONFIG_HOME=.`: a folder's `cockpit/cockpit.toml` is not taken for the user's own
    config (which may widen trust); the XDG spec says to ignore a relative value."""
    from cockpit.core.config_file import find_config_file, xdg_config_file

    (tmp_path / "cockpit").mkdir()
    (tmp_path / "cockpit" / "cockpit.toml").write_text('[cockpit]\ntrusted_binaries = ["/x/rg"]\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", ".")
    assert xdg_config_file() == tmp_path / "home" / ".config" / "cockpit" / "cockpit.toml"
    assert find_config_file() is None
