"""A repository is untrusted data: nothing in it, or in the caller's environment, makes git run
a program or read another repository.

Each case plants one hostile setting (a config key that names a program, an include that
pulls one in, attributes that select a driver, hooks, a promisor remote that would fetch, or a
`GIT_*` variable inherited from the caller) pointing at a canary script, then drives every
path the cockpit reads git through: the deploy listing (tags and branch), the suspect diff and
a file's diff (the Deploys pane and MCP `show_diff` call these), `cockpit deploys --repo` and
`cockpit deploys` on a config with a branch source. The canary must never run.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.core.config import load_config_file
from cockpit.core.deploys import list_deploys
from cockpit.core.deploys.git_source import (
    GitRepo,
    branch_deploys,
    file_diff,
    suspect_diff,
    tag_deploys,
)
from tests.deploys_support import BASE_TIME, commit, git, init_repo, minutes, tag

Setup = Callable[[Path, str, Path], None]
"""(repo, canary command, folder for extra files) -> plants the hostile setting."""


@pytest.fixture
def canary(tmp_path: Path) -> tuple[str, Path]:
    """A script that records that it ran (and prints something plausible), and its log."""
    fired = tmp_path / "canary-fired"
    script = tmp_path / "canary.sh"
    script.write_text(f'#!/bin/sh\necho "$0 $*" >> {fired}\necho ok\nexit 0\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(script), fired


SIGNATURES = (
    "-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEEforgedforgedforged\n=abcd\n"
    "-----END PGP SIGNATURE-----\n",
    "-----BEGIN SIGNED MESSAGE-----\nMIIforgedx509\n-----END SIGNED MESSAGE-----\n",
    "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHforgedssh\n-----END SSH SIGNATURE-----\n",
)
"""A forged OpenPGP, X.509 and SSH signature: git picks the verifier by the signature's kind."""


def _sign_head(repo: Path, signature: str) -> str:
    """Rewrite HEAD as a commit carrying `signature` (a `gpgsig` header), so that showing it
    with signatures on asks the configured program to verify it."""
    body = git(repo, "cat-file", "commit", "HEAD")
    header, _, message = body.partition("\n\n")
    folded = "\n ".join(signature.rstrip("\n").split("\n"))
    signed = f"{header}\ngpgsig {folded}\n\n{message}"
    sha = git(repo, "hash-object", "-t", "commit", "-w", "--stdin", input=signed).strip()
    git(repo, "update-ref", "refs/heads/main", sha)
    return sha


def _repo(path: Path) -> tuple[Path, list[str]]:
    """Three signed, tagged deploys of `checkout`, a file that changes, attributes on every
    file (naming an `evil` diff, filter and merge driver)."""
    repo = init_repo(path)
    shas = []
    for n in range(3):
        commit(
            repo,
            f"deploy {n}",
            BASE_TIME + minutes(n * 10),
            {"app.txt": f"version {n}\n", ".gitattributes": "* diff=evil filter=evil merge=evil\n"},
        )
        sha = _sign_head(repo, SIGNATURES[n])
        tag(repo, f"deploy/checkout/v{n}", sha, BASE_TIME + minutes(n * 10 + 1))
        shas.append(sha)
    git(repo, "reset", "-q", "--hard", "HEAD")
    return repo, shas


def _config(repo: Path, key: str, value: str) -> None:
    git(repo, "config", key, value)


def _include_file(folder: Path, canary: str) -> Path:
    included = folder / "included.gitconfig"
    included.write_text(
        f"[log]\n\tshowSignature = true\n[gpg]\n\tprogram = {canary}\n"
        f"[core]\n\tfsmonitor = {canary}\n\tpager = {canary}\n[diff]\n\texternal = {canary}\n"
    )
    return included


def _partial_clone(repo: Path, canary: str, url: str) -> None:
    """Make `repo` a partial clone whose promisor would fetch a missing object through `url`."""
    blob = git(repo, "rev-parse", "HEAD~1:app.txt").strip()
    loose = repo / ".git" / "objects" / blob[:2] / blob[2:]
    loose.chmod(0o644)
    loose.unlink()
    for key, value in (
        ("core.repositoryformatversion", "1"),
        ("extensions.partialClone", "origin"),
        ("remote.origin.url", url),
        ("remote.origin.promisor", "true"),
        ("remote.origin.partialclonefilter", "blob:none"),
        ("remote.origin.uploadpack", canary),
        ("protocol.ext.allow", "always"),
        ("protocol.allow", "always"),
        ("core.sshCommand", canary),
        ("core.gitProxy", canary),
        ("uploadpack.packObjectsHook", canary),
    ):
        _config(repo, key, value)


def _hooks(repo: Path, canary: str, folder: Path) -> None:
    hooks = folder / "hooks"
    hooks.mkdir()
    for name in ("post-checkout", "post-index-change", "reference-transaction", "pre-auto-gc"):
        (hooks / name).write_text(f"#!/bin/sh\nexec {canary} hook {name}\n")
        (hooks / name).chmod(0o755)
        (repo / ".git" / "hooks" / name).write_text(f"#!/bin/sh\nexec {canary} hook {name}\n")
        (repo / ".git" / "hooks" / name).chmod(0o755)
    _config(repo, "core.hooksPath", str(hooks))


def _keys(*pairs: tuple[str, str]) -> Setup:
    """Set each `key = value` in the repo's config; `{c}` is the canary, `{f}` a folder."""

    def setup(repo: Path, canary: str, folder: Path) -> None:
        for key, value in pairs:
            _config(repo, key.format(r=repo), value.format(c=canary, f=folder))

    return setup


def _info_attributes(repo: Path, canary: str, folder: Path) -> None:
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "attributes").write_text("* diff=evil\n")
    _keys(("diff.evil.textconv", "{c}"), ("diff.evil.command", "{c}"))(repo, canary, folder)


def _attributes_file(repo: Path, canary: str, folder: Path) -> None:
    (folder / "attributes").write_text("* diff=evil\n")
    _keys(("core.attributesFile", "{f}/attributes"), ("diff.evil.textconv", "{c}"))(
        repo, canary, folder
    )


def _include(key: str) -> Setup:
    def setup(repo: Path, canary: str, folder: Path) -> None:
        _config(repo, key.format(r=repo), str(_include_file(folder, canary)))

    return setup


SIGNED = ("log.showSignature", "true")
HOSTILE_CONFIG: dict[str, Setup] = {
    "log.showSignature+gpg.program": _keys(SIGNED, ("gpg.program", "{c}")),
    "gpg.openpgp.program": _keys(SIGNED, ("gpg.openpgp.program", "{c}")),
    "gpg.x509.program": _keys(SIGNED, ("gpg.format", "x509"), ("gpg.x509.program", "{c}")),
    "gpg.ssh.program": _keys(
        SIGNED,
        ("gpg.format", "ssh"),
        ("gpg.ssh.allowedSignersFile", "/dev/null"),
        ("gpg.ssh.program", "{c}"),
    ),
    "core.fsmonitor": _keys(("core.fsmonitor", "{c}")),
    "core.sshCommand": _keys(("core.sshCommand", "{c}")),
    "core.gitProxy": _keys(("core.gitProxy", "{c}")),
    "core.askPass": _keys(("core.askPass", "{c}")),
    "core.editor": _keys(("core.editor", "{c}")),
    "sequence.editor": _keys(("sequence.editor", "{c}")),
    "credential.helper": _keys(("credential.helper", "!{c}")),
    "diff.external": _keys(("diff.external", "{c}")),
    "core.pager": _keys(("core.pager", "{c}")),
    "pager.log": _keys(("pager.log", "{c}")),
    "core.hooksPath": _hooks,
    "diff.evil.textconv": _keys(("diff.evil.textconv", "{c}")),
    "diff.evil.command": _keys(("diff.evil.command", "{c}")),
    "filter.evil.clean+smudge": _keys(
        ("filter.evil.clean", "{c}"),
        ("filter.evil.smudge", "{c}"),
        ("filter.evil.required", "true"),
    ),
    "filter.evil.process": _keys(("filter.evil.process", "{c}")),
    "merge.evil.driver": _keys(("merge.evil.driver", "{c}")),
    "info/attributes": _info_attributes,
    "core.attributesFile": _attributes_file,
    "include.path": _include("include.path"),
    "includeIf.gitdir.path": _include("includeIf.gitdir:{r}/.path"),
    "includeIf.onbranch.path": _include("includeIf.onbranch:main.path"),
    "core.alternateRefsCommand": _keys(("core.alternateRefsCommand", "{c}")),
    "promisor remote.*.uploadpack": lambda r, c, f: _partial_clone(r, c, f"file://{f}/nowhere"),
    "promisor protocol.ext.allow": lambda r, c, f: _partial_clone(r, c, f"ext::{c} %S"),
    "promisor ssh url": lambda r, c, f: _partial_clone(r, c, "ssh://git@example.invalid/x"),
    "safe.directory + core.worktree": _keys(
        ("safe.directory", "*"), ("core.worktree", "{f}"), ("core.fsmonitor", "{c}")
    ),
}


def _exercise(repo_path: Path, shas: list[str], tmp_path: Path) -> None:
    """Every way the cockpit reads a repo; results may be errors, never an executed program."""
    from cockpit.core.deploys.model import DeployError

    def attempt(func: Callable[[], object]) -> None:
        with contextlib.suppress(DeployError):  # refusing is fine; running the canary is not
            func()

    repo = GitRepo(repo_path)
    attempt(lambda: tag_deploys(repo, "deploy/checkout/*", "checkout"))
    attempt(lambda: branch_deploys(repo, None, "checkout"))
    attempt(lambda: branch_deploys(repo, "main", "checkout"))
    attempt(lambda: suspect_diff(repo, shas[0], shas[2]))
    attempt(lambda: file_diff(repo, shas[0], shas[2], "app.txt"))
    attempt(lambda: repo.shallow_depth())
    config_path = tmp_path / "cockpit.toml"
    config_path.write_text(
        "[[services]]\nname = 'checkout'\n[services.deploys]\n"
        f"repo = '{repo_path}'\nbranch = 'main'\n"
        "[[services]]\nname = 'payments'\n[services.deploys]\n"
        f"repo = '{repo_path}'\ntag_pattern = 'deploy/checkout/*'\n"
    )
    list_deploys(load_config_file(config_path))
    for argv in (
        ["deploys", "--repo", str(repo_path), "--json", "--since", "3650d"],
        ["--config", str(config_path), "deploys", "--json", "--since", "3650d"],
    ):
        with contextlib.suppress(SystemExit):  # a one-line refusal is fine
            main(argv)


def _mcp_show_diff(repo_path: Path, shas: list[str], tmp_path: Path) -> list[str]:
    from cockpit.core.ai.tools import registry

    config_path = tmp_path / "mcp.toml"
    config_path.write_text(
        "[[services]]\nname = 'checkout'\n[services.deploys]\n"
        f"repo = '{repo_path}'\ntag_pattern = 'deploy/checkout/*'\n"
    )
    clock = lambda: BASE_TIME + minutes(60)  # noqa: E731 - the deploys are recent to it
    tools = {t.name: t for t in registry(load_config_file(config_path), clock=clock)}
    summary = tools["show_diff"].call({"service": "checkout", "base": shas[0], "head": shas[2]})
    one = tools["show_diff"].call(
        {"service": "checkout", "base": shas[0], "head": shas[2], "path": "app.txt"}
    )
    return [summary.text, one.text]


@pytest.mark.parametrize("name", sorted(HOSTILE_CONFIG))
def test_a_hostile_repo_config_runs_nothing(name, tmp_path, canary, capsys, monkeypatch) -> None:
    script, fired = canary
    repo_path, shas = _repo(tmp_path / "repo")
    extra = tmp_path / "extra"
    extra.mkdir()
    HOSTILE_CONFIG[name](repo_path, script, extra)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.chdir(repo_path)  # a reader that fell back to the cwd would find this repo
    _exercise(repo_path, shas, tmp_path)
    texts = _mcp_show_diff(repo_path, shas, tmp_path)
    capsys.readouterr()
    assert not fired.exists(), f"{name}: git ran {fired.read_text()!r}"
    # The data is still read: the hostile config does not stop the cockpit from working.
    if not name.startswith("promisor"):
        listing = GitRepo(repo_path)
        assert len(tag_deploys(listing, "deploy/checkout/*", "checkout")) == 3
        lines, _ = file_diff(listing, shas[0], shas[2], "app.txt")
        assert "+version 2" in lines, lines
        assert "file M app.txt" in texts[0] and "+version 2" in texts[1]


def test_the_repo_reads_correctly_with_every_hostile_setting_at_once(tmp_path, canary) -> None:
    script, fired = canary
    repo_path, shas = _repo(tmp_path / "repo")
    extra = tmp_path / "extra"
    extra.mkdir()
    for name, setup in HOSTILE_CONFIG.items():
        if not name.startswith(("promisor", "core.hooksPath")):
            setup(repo_path, script, extra)
    repo = GitRepo(repo_path)
    deploys = tag_deploys(repo, "deploy/checkout/*", "checkout")
    assert [d.sha for d in deploys] == shas[::-1]
    assert [d.subject for d in branch_deploys(repo, None, "checkout")] == [
        "deploy 2",
        "deploy 1",
        "deploy 0",
    ]
    diff = suspect_diff(repo, shas[0], shas[2])
    assert diff.commit_count == 2 and ("M", "app.txt") in diff.files
    lines, _ = file_diff(repo, shas[0], shas[2], "app.txt")
    assert "-version 0" in lines and "+version 2" in lines
    assert not fired.exists(), fired.read_text()


def _hostile_environment(canary: str, tmp_path: Path, other_repo: Path) -> dict[str, str]:
    included = _include_file(tmp_path, canary)
    home = tmp_path / "home"
    (home / ".config" / "git").mkdir(parents=True)
    (home / ".gitconfig").write_text(included.read_text())
    (home / ".config" / "git" / "config").write_text(included.read_text())
    (home / ".config" / "git" / "attributes").write_text("* diff=evil\n")
    return {
        "GIT_DIR": str(other_repo / ".git"),
        "GIT_WORK_TREE": str(other_repo),
        "GIT_COMMON_DIR": str(other_repo / ".git"),
        "GIT_OBJECT_DIRECTORY": str(other_repo / ".git" / "objects"),
        "GIT_INDEX_FILE": str(tmp_path / "index"),
        "GIT_CONFIG_PARAMETERS": f"'core.pager'='{canary}' 'log.showsignature'='true'"
        f" 'gpg.program'='{canary}' 'diff.external'='{canary}'",
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "core.fsmonitor",
        "GIT_CONFIG_VALUE_0": canary,
        "GIT_CONFIG_KEY_1": "diff.evil.textconv",
        "GIT_CONFIG_VALUE_1": canary,
        "GIT_CONFIG_GLOBAL": str(included),
        "GIT_CONFIG_SYSTEM": str(included),
        "GIT_CONFIG": str(included),
        "GIT_EXTERNAL_DIFF": canary,
        "GIT_PAGER": canary,
        "PAGER": canary,
        "GIT_SSH": canary,
        "GIT_SSH_COMMAND": canary,
        "GIT_ASKPASS": canary,
        "SSH_ASKPASS": canary,
        "GIT_EDITOR": canary,
        "GIT_SEQUENCE_EDITOR": canary,
        "GIT_PROXY_COMMAND": canary,
        "GIT_EXEC_PATH": str(tmp_path),
        "GIT_TRACE": str(tmp_path / "trace-written"),
        "GIT_TRACE2": str(tmp_path / "trace2-written"),
        "GIT_TRACE2_EVENT": str(tmp_path / "trace2-event-written"),
        "GIT_ALLOW_PROTOCOL": "ext:file:ssh",
        "GIT_REPLACE_REF_BASE": "refs/heads/",
        "GIT_NAMESPACE": "evil",
        "GIT_CEILING_DIRECTORIES": "",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }


def test_the_callers_git_environment_is_not_inherited(tmp_path, canary, monkeypatch) -> None:
    script, fired = canary
    repo_path, shas = _repo(tmp_path / "repo")
    other, _ = _repo(tmp_path / "other")
    commit(other, "other only", BASE_TIME + minutes(40), {"other.txt": "x\n"})
    for key, value in _hostile_environment(script, tmp_path, other).items():
        monkeypatch.setenv(key, value)
    repo = GitRepo(repo_path)
    # The repo asked for is the repo read: GIT_DIR and friends do not redirect it.
    assert [d.sha for d in tag_deploys(repo, "deploy/checkout/*", "checkout")] == shas[::-1]
    assert [d.sha for d in branch_deploys(repo, None, "checkout")] == shas[::-1]
    lines, _ = file_diff(repo, shas[0], shas[2], "app.txt")
    assert "+version 2" in lines
    suspect_diff(repo, shas[0], shas[2])
    assert not fired.exists(), fired.read_text()
    written = [p.name for p in tmp_path.iterdir() if p.name.endswith("-written")]
    assert written == []


def test_no_git_reader_starts_without_a_repository_of_ours(tmp_path, monkeypatch) -> None:
    """git run from the cwd would read the cwd repository's config: the reader refuses it."""
    from cockpit.core.readers import ReaderRefused, run_reader

    repo_path, _ = _repo(tmp_path / "repo")
    monkeypatch.chdir(repo_path)
    with pytest.raises(ReaderRefused, match="repository"):
        run_reader(["git", "log", "--max-count=1"])


def test_a_history_command_may_not_be_git_rg_or_journalctl(tmp_path) -> None:
    from cockpit.core.deploys.history import read_history_command
    from cockpit.core.deploys.model import DeployError

    for argv in (["git", "log"], ["rg", "x"], ["journalctl", "-n", "1"]):
        with pytest.raises(DeployError, match="helm history, kubectl rollout history"):
            read_history_command(argv)


def test_json_listing_of_the_hostile_repo_is_the_real_one(tmp_path, canary, capsys) -> None:
    script, fired = canary
    repo_path, shas = _repo(tmp_path / "repo")
    HOSTILE_CONFIG["log.showSignature+gpg.program"](repo_path, script, tmp_path)
    assert main(["deploys", "--repo", str(repo_path), "--json", "--since", "3650d"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["sha"] for d in data["deploys"]} == set(shas)
    assert not fired.exists()
    assert os.environ.get("GIT_DIR") is None


@pytest.mark.parametrize(
    "where",
    [
        "refs/tags/deploy/checkout/v9",
        "objects/info/alternates",
        "packed-refs",
        "objects/pack/pack-0000000000000000000000000000000000000000.idx",
    ],
)
def test_a_fifo_where_git_reads_a_file_is_refused_at_once(where, tmp_path, capsys) -> None:
    """git blocks on a FIFO among the refs or objects until its 60 s timeout: the repository
    is refused in one line before git starts."""
    from cockpit.core.deploys.model import DeployError

    repo_path, _ = _repo(tmp_path / "repo")
    fifo = repo_path / ".git" / where
    fifo.parent.mkdir(parents=True, exist_ok=True)
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    with pytest.raises(DeployError, match="is not a regular file"):
        GitRepo(repo_path)
    assert main(["deploys", "--repo", str(repo_path), "--since", "3650d"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and where.split("/")[-1] in err and "60 s" not in err
