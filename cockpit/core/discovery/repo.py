"""The git repository of the current folder, as deploy history.

Deploy tags (`deploy/SERVICE/VERSION`) make one service per tagged service; without them the
first-parent history of HEAD is shown and labelled as commits, not deploys, so nobody takes a
merge for a deploy. Only read-only git subcommands run, through `cockpit.core.readers`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.core.config import DeploySource, ServiceConfig
from cockpit.core.discovery.model import Origin, SourceReport, State, resolve_program

MAX_TAGS = 2000
MAX_SERVICES = 50
if TYPE_CHECKING:
    from cockpit.core.deploys.git_source import GitRepo

COMMITS_NOT_DEPLOYS = "first-parent commits of HEAD: commits, not deploys"


def repository_root(cwd: Path) -> Path | None:
    """The work tree (or bare repository) holding `cwd`, found by looking for `.git` upwards
    as git does, without running git in a folder nobody vetted."""
    for folder in (cwd, *cwd.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir() or dot_git.is_file():
            return folder
        if (folder / "HEAD").is_file() and (folder / "objects").is_dir():
            return folder  # a bare repository
    return None


def git_history(cwd: Path, timeout: float) -> tuple[list[SourceReport], list[ServiceConfig]]:
    """Deploy history from the repository holding `cwd`, if any. git reads it through a
    private git directory (`GitRepo`), so the repository's own config and hooks run nothing."""
    from cockpit.core.deploys.git_source import GitRepo
    from cockpit.core.deploys.model import DeployError

    program = resolve_program("git")
    if program is None:
        return [
            SourceReport(
                "git",
                "git",
                Origin.DISCOVERED,
                State.SKIPPED,
                "git not found on PATH",
                location=str(cwd),
            )
        ], []
    top = repository_root(cwd)
    if top is None:
        return [
            SourceReport(
                "git",
                "git",
                Origin.DISCOVERED,
                State.SKIPPED,
                f"{cwd} is not in a git repository",
                location=str(cwd),
                program=program,
            )
        ], []
    try:
        repo = GitRepo(top, what="discovery")
        try:
            out = repo.read(
                "for-each-ref",
                f"--count={MAX_TAGS}",
                "--format=%(refname:strip=2)",
                "--end-of-options",
                "refs/tags/deploy/",
                timeout=timeout,
            )
            services: list[str] = []
            for tag in out.splitlines():
                parts = tag.split("/")
                if (
                    len(parts) == 3
                    and parts[0] == "deploy"
                    and parts[1]
                    and parts[2]
                    and parts[1] not in services
                    and len(services) < MAX_SERVICES
                ):
                    services.append(parts[1][:100])
            has_commits = _has_commits(repo, timeout)
        finally:
            repo.close()
    except DeployError as exc:  # a timeout, a damaged repository: say so, never a traceback
        reason = str(exc).removeprefix("discovery: ")
        return [
            SourceReport(
                "git",
                "git",
                Origin.DISCOVERED,
                State.SKIPPED,
                reason,
                location=str(cwd),
                program=program,
            )
        ], []
    if services:
        services.sort()
        configs = [
            ServiceConfig(
                name=service,
                deploys=DeploySource(repo=top, tag_pattern=f"deploy/{service}/*"),
            )
            for service in services
        ]
        detail = f"deploy tags (deploy/*/*) of {', '.join(services)}"
        return [
            SourceReport(
                "git",
                "git",
                Origin.DISCOVERED,
                State.USED,
                detail,
                location=str(top),
                program=program,
            )
        ], configs
    if not has_commits:
        return [
            SourceReport(
                "git",
                "git",
                Origin.DISCOVERED,
                State.SKIPPED,
                "the repository has no commits yet",
                location=str(top),
                program=program,
            )
        ], []
    name = top.name or "repo"
    return [
        SourceReport(
            "git",
            "git",
            Origin.DISCOVERED,
            State.USED,
            COMMITS_NOT_DEPLOYS,
            location=str(top),
            program=program,
            service=name,
        )
    ], [ServiceConfig(name=name, deploys=DeploySource(repo=top))]


def _has_commits(repo: GitRepo, timeout: float) -> bool:
    """Whether HEAD names a commit (a new repository has none yet)."""
    from cockpit.core.deploys.model import DeployError

    try:
        return bool(repo.read("rev-parse", "--verify", "--quiet", "HEAD", timeout=timeout).strip())
    except DeployError:
        return False
