"""The only place in the cockpit that starts a process, and only a read-only reader.

Every process the cockpit spawns goes through `reader_argv`, which refuses anything but an
allowlisted program with a read-only subcommand. Nothing is ever run through a shell, and
nothing built from a suggestion, an AI reply or a template reaches here: rollback commands are
copied to the clipboard, never run. `tests/test_no_exec.py` checks that no other module spawns.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

# Read-only subcommands per program. git's list excludes anything that writes refs, the index,
# the work tree or files (`format-patch`, `archive --output`, `bundle`...).
READ_ONLY_SUBCOMMANDS: dict[str, frozenset[str]] = {
    "git": frozenset(
        {
            "log",
            "show",
            "diff",
            "rev-parse",
            "rev-list",
            "for-each-ref",
            "cat-file",
            "ls-tree",
            "describe",
            "merge-base",
            "name-rev",
            "shortlog",
            "blame",
            "ls-files",
            "version",
        }
    ),
    "journalctl": frozenset({""}),  # journalctl only reads; it has no write subcommand we allow
    "rg": frozenset({""}),
    "helm": frozenset({"history", "status", "list", "get"}),
    "kubectl": frozenset({"rollout history", "get", "describe"}),
    "argocd": frozenset({"app history", "app get", "app list"}),
}

# Options that would make a reader write or execute something.
FORBIDDEN_OPTIONS: dict[str, tuple[str, ...]] = {
    "git": ("--output", "-o", "--exec", "--upload-pack", "--receive-pack", "-c", "--config-env"),
    "journalctl": (
        "--rotate",
        "--vacuum",
        "--flush",
        "--sync",
        "--relinquish-var",
        "--setup-keys",
        "--update-catalog",
        "--smart-relinquish-var",
    ),
    "rg": ("--pre", "--search-zip-preprocess"),
    "helm": (),
    "kubectl": (),
    "argocd": (),
}


class ReaderRefused(Exception):
    """The command is not a read-only reader; it was not started."""


def _subcommand_ok(program: str, args: Sequence[str]) -> bool:
    allowed = READ_ONLY_SUBCOMMANDS[program]
    if "" in allowed:
        return True
    words = [a for a in args if not a.startswith("-")]
    return any(" ".join(words[:n]) in allowed for n in (1, 2))


def reader_argv(argv: Sequence[str]) -> list[str]:
    """Validate `argv` as a read-only reader invocation and return it with the program resolved.

    Raises ReaderRefused for any program, subcommand or option outside the allowlist.
    """
    if not argv:
        raise ReaderRefused("empty command")
    program = Path(argv[0]).name
    if program not in READ_ONLY_SUBCOMMANDS:
        raise ReaderRefused(f"{program!r} is not a read-only reader the cockpit may start")
    args = list(argv[1:])
    if program == "git":
        # Global options before the subcommand (`-C dir`, `--no-pager`) are allowed.
        rest = list(args)
        while rest and rest[0] in (
            "-C",
            "--git-dir",
            "--work-tree",
            "--no-pager",
            "--literal-pathspecs",
            "--no-optional-locks",
        ):
            rest = rest[2:] if rest[0] in ("-C", "--git-dir", "--work-tree") else rest[1:]
        check_args = rest
    else:
        check_args = args
    if not _subcommand_ok(program, check_args):
        raise ReaderRefused(f"{program} {' '.join(check_args[:2])!r} is not a read-only subcommand")
    # Options after `--end-of-options` or `--` are data (refs, patterns, paths), not options.
    for arg in check_args:
        if arg in ("--", "--end-of-options"):
            break
        for bad in FORBIDDEN_OPTIONS[program]:
            if arg == bad or arg.startswith(bad + "="):
                raise ReaderRefused(f"{program} option {arg!r} is not allowed")
    resolved = shutil.which(argv[0]) if "/" not in argv[0] else argv[0]
    if resolved is None:
        raise ReaderRefused(f"{program} is not installed (not found on PATH)")
    return [resolved, *args]


def run_reader(
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a read-only reader to completion and return its output (bytes)."""
    return subprocess.run(  # noqa: S603 - argv validated by reader_argv, never a shell
        reader_argv(argv),
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def start_reader(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a read-only reader whose stdout the caller streams; the caller must wait or kill it."""
    return subprocess.Popen(  # noqa: S603 - argv validated by reader_argv, never a shell
        reader_argv(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env=env,
    )
