"""Deploys and suspect diffs from a git repository, read-only, with git itself.

Every git process goes through `cockpit.core.readers.run_reader` on an `IsolatedGitDir`: git
reads the repository's objects and refs but never its config, hooks or attributes, in an
environment built from scratch, so nothing a repository (or the caller's `GIT_*` variables)
says can make git start a program. Only read-only subcommands run, refs and patterns always
come after `--end-of-options` so a ref named `--output=/tmp/x` is data, never an option, and
diffs run with `--no-ext-diff --no-textconv`. Listings never walk the whole history: tags come
from one `for-each-ref --count`, a branch from one `log --first-parent --max-count`, and no
per-commit stats are computed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cockpit.core import readers
from cockpit.core.deploys.model import Deploy, DeployError
from cockpit.core.sanitize import decode_lossy
from cockpit.core.timefmt import as_utc

DEFAULT_LIMIT = 200
"""Most deploys one listing returns."""
MAX_SUSPECT_COMMITS = 200
MAX_SUSPECT_FILES = 500
MAX_DIFF_LINES = 400
MAX_DIFF_BYTES = 256_000
GIT_TIMEOUT_SECONDS = 60.0
"""Longest one git read may take before it is stopped and reported."""

_FIELD = "%00"
_RECORD = "%1e"


class GitRepo:
    """A repository opened for reading. Every git process goes through `read`."""

    def __init__(self, path: Path | str, *, what: str = "") -> None:
        self.path = Path(path).expanduser()
        label = f"{what}: " if what else ""
        self._label = label
        if not self.path.exists():
            raise DeployError(f"{label}git repo {self.path} not found")
        try:
            self._isolated = readers.IsolatedGitDir(self.path)
        except readers.NotARepository as exc:
            raise DeployError(f"{label}{exc}") from None
        except OSError as exc:
            raise DeployError(
                f"{label}cannot read git repo {self.path} ({exc.strerror or exc})"
            ) from None

    def close(self) -> None:
        """Remove the private git directory (also done when the object is collected)."""
        self._isolated.close()

    def read(self, *args: str, timeout: float = GIT_TIMEOUT_SECONDS) -> str:
        """Run `git ARGS` (a read-only subcommand) and return stdout, decoded lossily."""
        argv = ["git", *args]
        try:
            done = readers.run_reader(argv, git_dir=self._isolated, timeout=timeout)
        except readers.ReaderRefused as exc:
            raise DeployError(f"{self._label}{exc}") from None
        except subprocess.TimeoutExpired:
            raise DeployError(
                f"{self._label}git {args[0]} in {self.path} took over {timeout:g} s and was stopped"
            ) from None
        except OSError as exc:
            raise DeployError(f"{self._label}git could not start ({exc.strerror or exc})") from None
        if done.returncode != 0:
            stderr = decode_lossy(done.stderr).strip()
            lines = [line for line in stderr.splitlines() if line.strip()]
            first = lines[0] if lines else f"exit {done.returncode}"
            raise DeployError(f"{self._label}git {args[0]} failed in {self.path}: {first}")
        return decode_lossy(done.stdout)

    def shallow_depth(self) -> int | None:
        """How many commits a shallow clone holds, or None for a full clone."""
        if not self._isolated.shallow:
            return None
        # A shallow clone is small by construction, so counting it is cheap.
        try:
            return int(self.read("rev-list", "--count", "HEAD", "--").strip() or 0)
        except DeployError:  # unborn or broken HEAD: count what is there
            return int(self.read("rev-list", "--count", "--all").strip() or 0)


def _parse_time(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text.strip()))


def _version_from_tag(tag: str) -> str:
    return tag.rsplit("/", 1)[-1]


def tag_deploys(
    repo: GitRepo,
    pattern: str,
    service: str,
    *,
    limit: int = DEFAULT_LIMIT,
    since: datetime | None = None,
) -> list[Deploy]:
    """Deploy tags matching the glob `pattern` (e.g. `deploy/checkout/*`), newest first.

    One `git for-each-ref --sort=-creatordate --count=N`: cost grows with the number of
    matching tags, not with the number of commits. `*` does not cross a `/`.
    """
    pattern = pattern.replace("{service}", service).replace("<service>", service)
    ref_pattern = pattern if pattern.startswith("refs/") else f"refs/tags/{pattern}"
    fields = [
        "%(refname)",
        "%(objectname)",
        "%(*objectname)",
        "%(creatordate:iso-strict)",
        "%(taggername)",
        "%(authorname)",
        "%(*authorname)",
        "%(contents:subject)",
        "%(*subject)",
    ]
    out = repo.read(
        "for-each-ref",
        "--sort=-creatordate",
        f"--count={max(1, limit)}",
        "--format=" + _FIELD.join(fields) + _RECORD,
        "--end-of-options",
        ref_pattern,
    )
    deploys: list[Deploy] = []
    for record in out.split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        parts = record.split("\x00")
        if len(parts) != len(fields):
            continue
        ref, obj, peeled, date, tagger, author, peeled_author, subject, peeled_subject = parts
        when = _parse_time(date)
        if since is not None and when < since:
            break  # sorted newest first
        tag = ref.removeprefix("refs/tags/")
        # Ad hoc listings pass no service: `deploy/<service>/<id>` names it.
        owner = service or (tag.split("/")[-2] if tag.count("/") >= 2 else "")
        deploys.append(
            Deploy(
                service=owner,
                time=when,
                sha=peeled or obj,
                version=_version_from_tag(tag),
                actor=tagger or peeled_author or author or None,
                status=None,
                source="git-tag",
                ref=tag,
                subject=(subject or peeled_subject) or None,
            )
        )
    return deploys


def branch_deploys(
    repo: GitRepo,
    branch: str | None,
    service: str,
    *,
    limit: int = DEFAULT_LIMIT,
    since: datetime | None = None,
) -> list[Deploy]:
    """First-parent commits of the deploy branch (HEAD when None; a detached HEAD works)."""
    rev = branch or "HEAD"
    args = [
        "log",
        "--first-parent",
        f"--max-count={max(1, limit)}",
        "--no-color",
        "--format=%H%x00%cI%x00%an%x00%s%x1e",
    ]
    if since is not None:
        args.append(f"--since={as_utc(since).isoformat()}")
    out = repo.read(*args, "--end-of-options", rev, "--")
    deploys: list[Deploy] = []
    for record in out.split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        parts = record.split("\x00")
        if len(parts) != 4:
            continue
        sha, date, author, subject = parts
        deploys.append(
            Deploy(
                service=service,
                time=_parse_time(date),
                sha=sha,
                actor=author or None,
                source="git-branch",
                ref=branch,
                subject=subject or None,
            )
        )
    return deploys


@dataclass(frozen=True)
class SuspectCommit:
    """One commit between the rollback target and the current deploy (untrusted text)."""

    sha: str
    author: str
    time: datetime
    subject: str


@dataclass
class SuspectDiff:
    """What changed between the rollback target (`base`) and the current deploy (`head`)."""

    base: str
    head: str
    commits: list[SuspectCommit] = field(default_factory=list)
    commit_count: int = 0
    """All commits in the range; `commits` holds at most MAX_SUSPECT_COMMITS of them."""
    files: list[tuple[str, str]] = field(default_factory=list)
    """(status letter, path) pairs; renames show as `old -> new`."""
    file_count: int = 0
    shortstat: str = ""
    notes: list[str] = field(default_factory=list)
    paths: tuple[str, ...] = ()
    """The service's paths the range was narrowed to (commits and files touching them); empty:
    the whole range."""
    all_commit_count: int = 0
    """Commits in the whole range (equal to `commit_count` when not narrowed)."""
    all_file_count: int = 0
    """Files changed in the whole range (equal to `file_count` when not narrowed)."""


def suspect_diff(
    repo: GitRepo,
    base: str,
    head: str,
    *,
    paths: Sequence[str] = (),
    max_commits: int = MAX_SUSPECT_COMMITS,
    max_files: int = MAX_SUSPECT_FILES,
) -> SuspectDiff:
    """Commits in `base..head`, the files changed and the shortstat: four git calls in all
    (six when narrowed to a service's `paths`, which also counts the whole range)."""
    result = SuspectDiff(base=base, head=head, paths=tuple(paths))
    spec = list(paths)
    count = repo.read("rev-list", "--count", "--end-of-options", f"{base}..{head}", "--", *spec)
    result.commit_count = int(count.strip() or 0)
    result.all_commit_count = result.commit_count
    if spec:
        every = repo.read("rev-list", "--count", "--end-of-options", f"{base}..{head}", "--")
        result.all_commit_count = int(every.strip() or 0)
        changed = repo.read(
            "diff",
            "--name-only",
            "-z",
            "--no-ext-diff",
            "--no-textconv",
            "--end-of-options",
            base,
            head,
            "--",
        )
        result.all_file_count = len([name for name in changed.split("\x00") if name])
    log = repo.read(
        "log",
        f"--max-count={max_commits}",
        "--no-color",
        "--format=%H%x00%an%x00%cI%x00%s%x1e",
        "--end-of-options",
        f"{base}..{head}",
        "--",
        *spec,
    )
    for record in log.split("\x1e"):
        parts = record.strip("\n").split("\x00")
        if len(parts) == 4:
            sha, author, date, subject = parts
            result.commits.append(SuspectCommit(sha, author, _parse_time(date), subject))
    if result.commit_count > len(result.commits):
        result.notes.append(f"showing {len(result.commits)} of {result.commit_count} commits")
    names = repo.read(
        "diff",
        "--name-status",
        "-z",
        "--no-ext-diff",
        "--no-textconv",
        "--end-of-options",
        base,
        head,
        "--",
        *spec,
    )
    items = names.split("\x00")
    i = 0
    while i < len(items) and items[i]:
        status = items[i]
        if status[:1] in ("R", "C") and i + 2 < len(items):
            result.files.append((status[:1], f"{items[i + 1]} -> {items[i + 2]}"))
            i += 3
        elif i + 1 < len(items):
            result.files.append((status[:1], items[i + 1]))
            i += 2
        else:
            break
    result.file_count = len(result.files)
    if not spec:
        result.all_file_count = result.file_count
    if result.file_count > max_files:
        result.notes.append(f"showing {max_files} of {result.file_count} files")
        result.files = result.files[:max_files]
    result.shortstat = repo.read(
        "diff",
        "--shortstat",
        "--no-ext-diff",
        "--no-textconv",
        "--end-of-options",
        base,
        head,
        "--",
        *spec,
    ).strip()
    return result


def file_diff(
    repo: GitRepo,
    base: str,
    head: str,
    path: str,
    *,
    max_lines: int = MAX_DIFF_LINES,
    max_bytes: int = MAX_DIFF_BYTES,
) -> tuple[list[str], str | None]:
    """The diff of one file between `base` and `head`: (lines, truncation note or None)."""
    if " -> " in path:
        path = path.split(" -> ", 1)[1]
    out = repo.read(
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--end-of-options",
        base,
        head,
        "--",
        path,
    )
    note = None
    if len(out) > max_bytes:
        # Cut at a line end: half a line could hold the start of a secret no rule recognises.
        out = out[: out.rfind("\n", 0, max_bytes) + 1]
        note = f"diff cut at {max_bytes} bytes"
    lines = out.splitlines()
    if len(lines) > max_lines:
        note = f"showing {max_lines} of {len(lines)} lines"
        lines = lines[:max_lines]
    return lines, note
