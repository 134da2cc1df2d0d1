"""Reader programs are found through PATH only, and a config found in the current folder must be
the user's own: a cloned repository cannot ship a `./helm` and a `./cockpit.toml` that runs it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.core.config import ConfigError, load_config, load_config_file
from cockpit.core.deploys import list_deploys
from cockpit.core.deploys.history import read_history_command
from cockpit.core.deploys.model import DeployError
from cockpit.core.readers import ReaderRefused, locate_program, reader_argv

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def fake_helm(tmp_path: Path) -> tuple[Path, Path]:
    """An executable named `helm` that records that it ran and prints one revision."""
    fired = tmp_path / "helm-ran"
    folder = tmp_path / "tools"
    folder.mkdir()
    helm = folder / "helm"
    updated = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    helm.write_text(
        "#!/bin/sh\n"
        f'echo "$0 $*" >> {fired}\n'
        f'echo \'[{{"revision": 7, "updated": "{updated}", "status": "deployed",'
        ' "chart": "checkout-1.0", "app_version": "1.0"}]\'\n'
    )
    helm.chmod(0o755)
    return helm, fired


def _config(folder: Path, program: str, *, trusted: list[str] | None = None) -> Path:
    path = folder / "cockpit.toml"
    trusted_line = f"trusted_binaries = {trusted!r}\n".replace("'", '"') if trusted else ""
    path.write_text(
        f"[cockpit]\nstore = 'incidents.db'\n{trusted_line}"
        "[[services]]\nname = 'checkout'\n[services.deploys]\n"
        f'history_command = ["{program}", "history", "checkout", "-o", "json"]\n'
    )
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("program", ["./helm", "tools/helm", "../x/helm"])
def test_a_relative_program_never_runs(program, tmp_path, fake_helm, monkeypatch) -> None:
    helm, fired = fake_helm
    monkeypatch.chdir(helm.parent.parent)
    (helm.parent.parent / "helm").symlink_to(helm)
    with pytest.raises(ReaderRefused, match="relative program path"):
        reader_argv([program, "history", "checkout"])
    with pytest.raises(DeployError, match="relative program path"):
        read_history_command([program, "history", "checkout"])
    assert not fired.exists()


def test_path_lookup_skips_the_current_folder(tmp_path, fake_helm, monkeypatch) -> None:
    helm, fired = fake_helm
    monkeypatch.chdir(helm.parent)
    # An empty entry, `.` and a relative entry all mean "the current folder" to a shell.
    monkeypatch.setenv("PATH", os.pathsep.join(["", ".", "tools", "/nonexistent-bin"]))
    location = locate_program("helm")
    assert location.path is None and "not on PATH" in location.how
    with pytest.raises(DeployError, match="not installed"):
        read_history_command(["helm", "history", "checkout"])
    assert not fired.exists()


def test_an_absolute_program_runs_only_when_trusted(tmp_path, fake_helm) -> None:
    helm, fired = fake_helm
    location = locate_program(str(helm))
    assert location.path is None and "trusted_binaries" in location.how
    with pytest.raises(DeployError, match="trusted_binaries"):
        read_history_command([str(helm), "history", "checkout", "-o", "json"])
    assert not fired.exists()
    trusted = locate_program(str(helm), [str(helm)])
    assert trusted.path == str(helm) and trusted.how == "trusted_binaries"
    text = read_history_command(
        [str(helm), "history", "checkout", "-o", "json"], trusted_binaries=[str(helm)]
    )
    assert '"revision": 7' in text and fired.exists()


def test_trusted_binaries_from_the_config_let_the_listing_run(tmp_path, fake_helm) -> None:
    helm, fired = fake_helm
    refused = list_deploys(load_config_file(_config(tmp_path, str(helm))))
    assert refused.deploys == [] and "trusted_binaries" in refused.errors[0]
    assert not fired.exists()
    allowed = list_deploys(load_config_file(_config(tmp_path, str(helm), trusted=[str(helm)])))
    assert [d.revision for d in allowed.deploys] == ["7"] and allowed.errors == []


def test_a_program_on_path_resolves_to_its_absolute_path(tmp_path, fake_helm, monkeypatch):
    helm, _ = fake_helm
    monkeypatch.setenv("PATH", str(helm.parent))
    location = locate_program("helm")
    assert location.path == str(helm) and location.how == "PATH"
    assert reader_argv(["helm", "history", "checkout"])[0] == str(helm)
    # The same file named by its absolute path is what PATH finds anyway: no trust needed.
    assert locate_program(str(helm)).path == str(helm)


def test_a_symlink_named_like_a_reader_is_not_that_reader(tmp_path) -> None:
    fake = tmp_path / "kubectl"
    fake.symlink_to("/bin/sh")
    location = locate_program(str(fake))
    assert location.path is None and "not kubectl" in location.how


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["./helm"]', "expected an absolute path"),
        ('["bin/helm"]', "expected an absolute path"),
        ('["/usr/bin/sh"]', "not a reader program"),
    ],
)
def test_trusted_binaries_must_be_absolute_reader_paths(tmp_path, value, expected) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[cockpit]\ntrusted_binaries = {value}\n")
    with pytest.raises(ConfigError, match=expected) as info:
        load_config_file(path)
    assert "cockpit.trusted_binaries" in str(info.value) and str(path) in str(info.value)


def test_a_cloned_repo_with_its_own_helm_and_config_runs_nothing(
    tmp_path, fake_helm, monkeypatch, capsys
) -> None:
    """The attack: `cd` into a cloned repo that ships `./helm` and `./cockpit.toml`."""
    helm, fired = fake_helm
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / "helm").write_bytes(helm.read_bytes())
    (clone / "helm").chmod(0o755)
    _config(clone, "./helm")
    monkeypatch.chdir(clone)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.setenv("PATH", os.pathsep.join(["", ".", "/usr/bin", "/bin"]))
    assert main(["deploys", "--since", "7d"]) == 2
    err = capsys.readouterr().err
    assert "relative program path './helm' refused" in err
    assert not fired.exists()


def test_a_found_config_owned_by_someone_else_is_refused(tmp_path, monkeypatch, capsys) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the file to another user (chown)")
    path = _config(tmp_path, "helm")
    os.chown(path, 65534, 65534)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="owned by uid 65534, not you"):
        load_config()
    with pytest.raises(SystemExit) as exit_info:
        main(["deploys"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--config FILE to load it anyway" in err
    # Named explicitly, it is the user's choice.
    assert load_config(path).source_path == path.resolve()


@pytest.mark.parametrize(("mode", "who"), [(0o620, "its group"), (0o606, "others")])
def test_a_found_config_others_can_write_is_refused(tmp_path, monkeypatch, mode, who) -> None:
    path = _config(tmp_path, "helm")
    path.chmod(mode)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    with pytest.raises(ConfigError, match=f"writable by {who}"):
        load_config()
    path.chmod(0o644)  # readable by others is fine; writable is not
    assert load_config().source_path == path.resolve()
