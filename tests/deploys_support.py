"""Real git repositories for the deploy tests and the bench, built with the git CLI."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_TIME = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def git(repo: Path, *args: str, when: datetime | None = None, **kw: object) -> str:
    """Run git in `repo` (test setup only), with fixed identities and dates."""
    env = dict(os.environ)
    env.update(
        {
            "GIT_AUTHOR_NAME": "Ada",
            "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada",
            "GIT_COMMITTER_EMAIL": "ada@example.com",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
    )
    if when is not None:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = stamp
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        **kw,  # type: ignore[call-overload]
    )
    return str(done.stdout)


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


def commit(repo: Path, message: str, when: datetime, files: dict[str, str] | None = None) -> str:
    """Write `files`, commit them at `when`, return the sha."""
    for name, content in (files or {f"log-{message[:20]}.txt": message}).items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message, when=when)
    return git(repo, "rev-parse", "HEAD").strip()


def tag(
    repo: Path,
    name: str,
    sha: str,
    when: datetime,
    *,
    annotated: bool = True,
    message: str = "deploy",
) -> None:
    if annotated:
        git(repo, "tag", "-a", "-m", message, name, sha, when=when)
    else:
        git(repo, "tag", name, sha, when=when)


def build_fast_import_repo(path: Path, commits: int = 100_000, tag_every: int = 100) -> Path:
    """A repo with `commits` first-parent commits (one a minute) and an annotated
    `deploy/big/<n>` tag on every `tag_every`-th, written by one `git fast-import`."""
    init_repo(path)
    lines: list[bytes] = []
    start = int(BASE_TIME.timestamp()) - commits * 60
    for n in range(1, commits + 1):
        stamp = start + n * 60
        message = f"change {n}\n".encode()
        lines.append(b"commit refs/heads/main\n")
        lines.append(b"mark :%d\n" % n)
        lines.append(b"committer Ada <ada@example.com> %d +0000\n" % stamp)
        lines.append(b"data %d\n%s" % (len(message), message))
        if n > 1:
            lines.append(b"from :%d\n" % (n - 1))
        if n == 1:
            content = b"file %d\n" % n
            lines.append(b"M 100644 inline f.txt\ndata %d\n%s" % (len(content), content))
        lines.append(b"\n")
        if n % tag_every == 0:
            tag_message = f"deploy {n}\n".encode()
            lines.append(b"tag deploy/big/%06d\nfrom :%d\n" % (n, n))
            lines.append(b"tagger Bot <bot@example.com> %d +0000\n" % (stamp + 30))
            lines.append(b"data %d\n%s\n" % (len(tag_message), tag_message))
    # No compression and no deltas: a test fixture wants speed, not a small pack.
    fast = ["-c", "core.compression=0", "-c", "pack.compression=0"]
    subprocess.run(
        ["git", *fast, "fast-import", "--quiet", "--depth=0"],
        cwd=path,
        input=b"".join(lines),
        check=True,
        capture_output=True,
    )
    git(path, "checkout", "-q", "main")
    return path


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
