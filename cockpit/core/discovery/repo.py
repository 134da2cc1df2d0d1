"""The git repository of the current folder, as deploy history.

Deploy tags (`deploy/SERVICE/VERSION`) make one service per tagged service; without them the
first-parent history of HEAD is shown and labelled as commits, not deploys, so nobody takes a
merge for a deploy. Only read-only git subcommands run, through `cockpit.core.readers`.
"""

from __future__ import annotations

from pathlib import Path

from cockpit.core.config import DeploySource, ServiceConfig
from cockpit.core.discovery.model import Origin, SourceReport, State, resolve_program

MAX_TAGS = 2000
MAX_SERVICES = 50
COMMITS_NOT_DEPLOYS = "first-parent commits of HEAD: commits, not deploys"


def _git(cwd: Path, timeout: float, *args: str) -> tuple[int, str, str]:
    from cockpit.core.readers import run_reader

    completed = run_reader(["git", "-C", str(cwd), *args], timeout=timeout)
    return (
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
    )


def git_history(cwd: Path, timeout: float) -> tuple[list[SourceReport], list[ServiceConfig]]:
    """Deploy history from the repository holding `cwd`, if any."""
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
    try:
        code, out, err = _git(cwd, timeout, "rev-parse", "--show-toplevel")
        if code != 0:
            reason = (
                f"{cwd} is not in a git repository"
                if "not a git repository" in err
                else f"git: {err.strip().splitlines()[0] if err.strip() else 'failed'}"
            )
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
        top = Path(out.strip())
        code, out, err = _git(
            top,
            timeout,
            "for-each-ref",
            f"--count={MAX_TAGS}",
            "--format=%(refname:strip=2)",
            "--end-of-options",
            "refs/tags/deploy/",
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
        code_head, _out, _err = _git(top, timeout, "rev-parse", "--verify", "--quiet", "HEAD")
    except Exception as exc:  # a timeout or a refused reader: say so, never a traceback
        reason = (
            f"git did not answer within {timeout:.1f} s"
            if type(exc).__name__ == "TimeoutExpired"
            else f"git: {exc}"
        )
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
    if code_head != 0:
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
