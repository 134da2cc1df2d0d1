"""The only place in the cockpit that starts a process, and only a read-only reader.

Every process the cockpit spawns goes through `reader_argv`, which refuses anything but an
allowlisted program with a read-only subcommand. Nothing is ever run through a shell, and
nothing built from a suggestion, an AI reply or a template reaches here: rollback commands are
copied to the clipboard, never run. `tests/test_no_exec.py` checks that no other module spawns.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

# Read-only subcommands per program. git's list excludes anything that writes refs, the index,
# the work tree or files (`format-patch`, `archive --output`, `bundle`...). A multi-word entry
# ("rollout history") must be the first words of the arguments.
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
    # --ext-diff/--textconv/--filters run programs named in the repository's config.
    "git": (
        "--output",
        "-o",
        "--exec",
        "--upload-pack",
        "--receive-pack",
        "-c",
        "--config-env",
        "--ext-diff",
        "--textconv",
        "--filters",
    ),
    # --cursor-file writes the last cursor to the given file.
    "journalctl": (
        "--rotate",
        "--vacuum-size",
        "--vacuum-files",
        "--vacuum-time",
        "--flush",
        "--sync",
        "--relinquish-var",
        "--smart-relinquish-var",
        "--setup-keys",
        "--update-catalog",
        "--cursor-file",
    ),
    # --pre and --hostname-bin run a program.
    "rg": ("--pre", "--hostname-bin", "--search-zip-preprocess"),
    "helm": (),
    "kubectl": (),
    "argocd": (),
}

# journalctl parses options with getopt_long, which accepts any unambiguous abbreviation
# (`--rot` is `--rotate`), so a prefix of a forbidden option is refused too.
_ABBREVIATING = frozenset({"journalctl"})

# git options allowed before the subcommand; the first three take the next argument as value.
# Anything else there (`-c`, `-p`, `--exec-path`, `--namespace X`) is refused: a global option
# that takes a value could hide the real subcommand behind an allowed-looking word.
_GIT_GLOBAL_WITH_VALUE = ("-C", "--git-dir", "--work-tree")
_GIT_GLOBAL_FLAGS = (
    "--no-pager",
    "--literal-pathspecs",
    "--glob-pathspecs",
    "--noglob-pathspecs",
    "--icase-pathspecs",
    "--no-optional-locks",
    "--no-replace-objects",
)


class ReaderRefused(Exception):
    """The command is not a read-only reader; it was not started."""


def _strip_git_globals(args: list[str]) -> list[str]:
    rest = list(args)
    while rest:
        head = rest[0]
        if head in _GIT_GLOBAL_WITH_VALUE:
            if len(rest) < 2:
                raise ReaderRefused(f"git option {head!r} needs a value")
            rest = rest[2:]
        elif head in _GIT_GLOBAL_FLAGS or head.startswith(("--git-dir=", "--work-tree=")):
            rest = rest[1:]
        else:
            break
    return rest


def _check_subcommand(program: str, args: Sequence[str]) -> None:
    """Refuse unless `args` starts with an allowed read-only subcommand (no options before it).

    The subcommand must come first: with an option in front, a word that looks like an allowed
    subcommand may really be that option's value (`kubectl -n get delete pod x`).
    """
    allowed = READ_ONLY_SUBCOMMANDS[program]
    if "" in allowed:
        return
    for words in (2, 1):
        head = list(args[:words])
        if len(head) == words and " ".join(head) in allowed:
            return
    shown = " ".join(args[:2]) if args else "(none)"
    if args and args[0].startswith("-"):
        raise ReaderRefused(
            f"{program} {shown!r}: put options after the read-only subcommand "
            f"({', '.join(sorted(allowed))})"
        )
    raise ReaderRefused(f"{program} {shown!r} is not a read-only subcommand")


def _check_options(program: str, args: Sequence[str]) -> None:
    forbidden = FORBIDDEN_OPTIONS[program]
    # After `--` come data (paths, patterns); git also honours `--end-of-options`, after which
    # `--output=x` is a revision name. The other readers do not know that marker.
    stops = ("--", "--end-of-options") if program == "git" else ("--",)
    for arg in args:
        if arg in stops:
            return
        for bad in forbidden:
            if arg == bad or arg.startswith(bad + "="):
                raise ReaderRefused(f"{program} option {arg!r} is not allowed")
            if program in _ABBREVIATING and arg.startswith("--") and len(arg) > 3:
                name = arg.split("=", 1)[0]
                if bad.startswith(name):
                    raise ReaderRefused(
                        f"{program} option {arg!r} (abbreviates {bad}) is not allowed"
                    )


def _resolve(command: str, program: str) -> str:
    """Find the executable; a path must really be the program it is named after."""
    if "/" not in command and os.sep not in command:
        found = shutil.which(command)
        if found is None:
            raise ReaderRefused(f"{program} is not installed (not found on PATH)")
        return found
    real = Path(os.path.realpath(command))
    # A symlink named `git` that points at a shell is not git.
    if real.name != program:
        raise ReaderRefused(f"{command!r} is {real}, not {program}")
    if not (real.is_file() and os.access(real, os.X_OK)):
        raise ReaderRefused(f"{command!r} is not an executable file")
    return command


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
    check_args = _strip_git_globals(args) if program == "git" else args
    _check_subcommand(program, check_args)
    _check_options(program, check_args)
    return [_resolve(argv[0], program), *args]


# Environment variables through which git (or a repo's config) could be told to run a program.
_UNSAFE_ENV = (
    "GIT_EXTERNAL_DIFF",
    "GIT_PAGER",
    "PAGER",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_EDITOR",
    "GIT_PROXY_COMMAND",
    "GIT_CONFIG",
)


def reader_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a reader runs in: no pagers, helpers or system git config."""
    clean = {
        k: v
        for k, v in (os.environ if env is None else env).items()
        if k not in _UNSAFE_ENV and not k.startswith("GIT_CONFIG_")
    }
    clean.update(
        {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    )
    return clean


def run_reader(
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a read-only reader to completion and return its output (bytes)."""
    return subprocess.run(  # argv validated by reader_argv; never a shell
        reader_argv(argv),
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
        env=reader_env(env),
        stdin=subprocess.DEVNULL,
        check=False,
    )


def start_reader(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdin: bool = False,
) -> subprocess.Popen[bytes]:
    """Start a read-only reader whose stdout the caller streams; the caller must wait or kill it.

    `stdin=True`: the caller writes the reader's input (rg matching what the cockpit read or
    decompressed itself).
    """
    return subprocess.Popen(  # argv validated by reader_argv; never a shell
        reader_argv(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        cwd=cwd,
        env=reader_env(env),
    )
