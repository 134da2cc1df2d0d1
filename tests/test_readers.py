"""The reader allowlist: only read-only programs and subcommands start, never through a shell."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from cockpit.core.readers import (
    READ_ONLY_SUBCOMMANDS,
    IsolatedGitDir,
    ReaderRefused,
    git_safe_args,
    reader_argv,
    run_reader,
    start_reader,
)

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository with two commits (built with git itself, outside the cockpit)."""
    path = tmp_path / "repo"
    path.mkdir()
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    ident = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    (path / "app.txt").write_text("one\n")
    subprocess.run(["git", "-C", str(path), "add", "app.txt"], check=True, env=env)
    for message in ("first", "second"):
        (path / "app.txt").write_text(f"{message}\n")
        subprocess.run(["git", "-C", str(path), "add", "app.txt"], check=True, env=env)
        subprocess.run(
            ["git", "-C", str(path), *ident, "commit", "-q", "-m", message], check=True, env=env
        )
    return path


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["sh", "-c", "git log"],
        ["bash", "-c", "echo hi"],
        ["/bin/sh", "-c", "id"],
        ["/usr/bin/env", "git", "log"],
        ["python3", "-c", "print(1)"],  # data: never spawned
        ["kubectl", "rollout", "undo", "deployment/checkout", "--to-revision=41"],
        ["kubectl", "delete", "pod", "x"],
        ["kubectl", "apply", "-f", "x.yaml"],
        ["helm", "rollback", "checkout", "41"],
        ["helm", "upgrade", "checkout", "./chart"],
        ["argocd", "app", "rollback", "web", "3"],
        ["argocd", "app", "sync", "web"],
        ["git", "push"],
        ["git", "commit", "-m", "x"],
        ["git", "reset", "--hard"],
        ["git", "checkout", "main"],
        ["git", "format-patch", "-1"],
        ["git", "archive", "--output=/tmp/x.tar", "HEAD"],
        ["git", "config", "core.pager", "sh"],
        ["git"],
    ],
)
def test_refuses_programs_and_subcommands_that_are_not_read_only(argv: list[str]) -> None:
    with pytest.raises(ReaderRefused):
        reader_argv(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["git", "-c", "core.pager=x", "log"],
        ["git", "-c", "log", "log"],
        ["git", "--config-env=core.pager=EVIL", "log"],
        ["git", "-p", "log"],  # --paginate runs the pager
        ["git", "--exec-path=/tmp", "log"],
        ["git", "--namespace", "log", "push"],  # `log` would be the namespace, `push` runs
        ["git", "-C"],
        ["git", "diff", "--output=/tmp/x"],
        ["git", "diff", "--output", "/tmp/x"],
        ["git", "log", "-p", "HEAD", "--output=/tmp/x"],  # options after revisions still count
        ["git", "show", "--ext-diff"],
        ["git", "log", "-p", "--textconv"],
        ["git", "cat-file", "--filters", "HEAD:app.txt"],
        ["git", "log", "--upload-pack=evil"],
        ["git", "--git-dir=/tmp/x/.git", "rev-parse", "HEAD"],  # another repo's config
        ["git", "--work-tree", "/tmp", "log"],
        ["git", "log", "--show-signature"],  # runs gpg.program
    ],
)
def test_refuses_git_options_that_write_or_execute(argv: list[str]) -> None:
    with pytest.raises(ReaderRefused):
        reader_argv(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["kubectl", "-n", "get", "delete", "pod", "x"],  # `get` is -n's value; delete runs
        ["helm", "--kube-context", "get", "upgrade", "checkout", "./chart"],
        ["argocd", "--server", "app", "get", "app", "delete", "web"],
    ],
)
def test_refuses_options_before_the_subcommand(argv: list[str]) -> None:
    with pytest.raises(ReaderRefused, match="put options after the read-only subcommand"):
        reader_argv(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["journalctl", "--rotate"],
        ["journalctl", "--vacuum-size=1K"],
        ["journalctl", "--vacuum-time=1s"],
        ["journalctl", "--rot"],  # getopt_long abbreviation of --rotate
        ["journalctl", "--vacuum"],
        ["journalctl", "--flush"],
        ["journalctl", "--cursor-file=/tmp/cursor"],
        ["journalctl", "--setup-keys"],
        ["rg", "--pre=sh", "x", "."],
        ["rg", "--pre", "sh", "x", "."],
        ["rg", "--hostname-bin=/bin/sh", "x"],
    ],
)
def test_refuses_journalctl_and_rg_options_that_write_or_execute(argv: list[str]) -> None:
    with pytest.raises(ReaderRefused, match="is not allowed"):
        reader_argv(argv)


def test_end_of_options_is_only_a_marker_for_git() -> None:
    # rg does not know --end-of-options: what follows it is still an option to rg.
    with pytest.raises(ReaderRefused):
        reader_argv(["rg", "--end-of-options", "--pre=sh", "x"])


def test_refuses_a_path_that_is_really_a_shell(tmp_path: Path) -> None:
    fake_git = tmp_path / "git"
    fake_git.symlink_to("/bin/sh")
    with pytest.raises(ReaderRefused, match="not git"):
        reader_argv([str(fake_git), "log"])


_ADDED_FOR_GIT = ("--no-ext-diff", "--no-textconv", "--no-show-signature")


def _accepted(argv: Sequence[str]) -> list[str]:
    resolved = reader_argv(argv)
    if Path(argv[0]).name == "git":
        # git gets the overrides first, and no driver or verifier after a diff subcommand.
        safe = git_safe_args()
        assert resolved[1 : 1 + len(safe)] == safe
        rest = [a for a in resolved[1 + len(safe) :] if a not in _ADDED_FOR_GIT]
        assert rest == list(argv[1:])
    else:
        assert resolved[1:] == list(argv[1:])
    assert Path(resolved[0]).name == Path(argv[0]).name
    assert os.path.isabs(resolved[0])
    return resolved


@needs_git
@pytest.mark.parametrize(
    "argv",
    [
        ["git", "log", "--oneline", "-n", "5"],
        ["git", "-C", "/tmp", "--no-pager", "log", "-1"],
        ["git", "show", "--stat", "HEAD"],
        ["git", "diff", "--output-indicator-new=+", "HEAD~1"],  # not --output
        ["git", "log", "--end-of-options", "--output=/tmp/x"],  # a revision name, not an option
        ["git", "log", "--", "--output=/tmp/x"],  # a path
        ["git", "for-each-ref", "refs/tags"],
        ["git", "version"],
    ],
)
def test_accepts_read_only_git(argv: list[str]) -> None:
    _accepted(argv)


@pytest.mark.skipif(shutil.which("journalctl") is None, reason="journalctl is not installed")
@pytest.mark.parametrize(
    "argv",
    [
        ["journalctl", "-u", "checkout", "--since", "-1h", "-o", "json", "--no-pager"],
        ["journalctl", "--utc", "--output=short-iso", "--", "_SYSTEMD_UNIT=x.service"],
    ],
)
def test_accepts_read_only_journalctl(argv: list[str]) -> None:
    _accepted(argv)


def test_accepts_the_bundled_ripgrep_by_path() -> None:
    from cockpit.core.search.paths import find_rg

    rg = find_rg()
    if rg is None:
        pytest.skip("ripgrep is not installed")
    argv = [rg, "--no-config", "--fixed-strings", "--regexp=--pre=sh", "--", "/tmp"]
    assert reader_argv(argv) == argv


def test_read_only_subcommands_exclude_writers() -> None:
    git = READ_ONLY_SUBCOMMANDS["git"]
    for writer in ("push", "commit", "reset", "checkout", "format-patch", "archive", "config"):
        assert writer not in git
    assert "rollout undo" not in READ_ONLY_SUBCOMMANDS["kubectl"]
    assert "rollback" not in READ_ONLY_SUBCOMMANDS["helm"]


@needs_git
def test_run_reader_reads_a_real_repo(repo: Path) -> None:
    done = run_reader(["git", "log", "--format=%s"], timeout=10, git_dir=IsolatedGitDir(repo))
    assert done.returncode == 0
    assert done.stdout.decode().split() == ["second", "first"]


@needs_git
def test_end_of_options_output_is_a_revision_and_writes_nothing(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "written-by-git.txt"
    done = run_reader(
        ["git", "log", "--end-of-options", f"--output={target}"],
        timeout=10,
        git_dir=IsolatedGitDir(repo),
    )
    assert done.returncode != 0
    assert not target.exists()
    stderr = done.stderr.decode()
    # git names it as a bad revision (or, in some versions, refuses it as a late option).
    assert "unknown revision" in stderr or "must come before non-option arguments" in stderr
    assert f"--output={target}" in stderr


@needs_git
def test_refused_reader_starts_nothing(repo: Path, tmp_path: Path, monkeypatch) -> None:
    started: list[object] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: started.append(a))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: started.append(a))
    target = tmp_path / "patch"
    for argv in (
        ["git", "-C", str(repo), "format-patch", "-o", str(target), "-1"],
        ["git", "-C", str(repo), "diff", f"--output={target}", "HEAD~1"],
    ):
        with pytest.raises(ReaderRefused):
            run_reader(argv)
        with pytest.raises(ReaderRefused):
            start_reader(argv)
    assert started == []
    assert not target.exists()


@needs_git
def test_start_reader_streams_without_a_shell(repo: Path) -> None:
    proc = start_reader(["git", "log", "--format=%s;$(id)", "-1"], git_dir=IsolatedGitDir(repo))
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    # `$(id)` reached git as literal text: no shell expanded it.
    assert out.decode().strip() == "second;$(id)"
