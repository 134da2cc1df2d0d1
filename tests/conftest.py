"""Shared fixtures: a log of every git command GitPython runs, and a frozen clock."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

FROZEN_NOW = datetime(2026, 11, 28, 14, 45, tzinfo=UTC)
"""The instant `frozen_clock` always returns."""


def _git_subcommand(argv: list[str]) -> str:
    rest = argv[1:]
    while rest and rest[0].startswith("-"):
        takes_value = rest[0] in ("-C", "-c", "--git-dir", "--work-tree", "--namespace")
        rest = rest[2:] if takes_value else rest[1:]
    return rest[0] if rest else ""


class GitCommandLog:
    """Every argv GitPython handed to `git.cmd.Git.execute` while the fixture was active."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []
        """Each git invocation as an argv list, in call order."""
        self.shell_requested: list[list[str]] = []
        """Invocations that asked for a shell (must stay empty)."""

    def subcommands(self) -> list[str]:
        """The git subcommand of each recorded call (`log`, `cat-file`, ...)."""
        return [_git_subcommand(argv) for argv in self.commands]

    def assert_read_only(self) -> None:
        """Fail unless every recorded call passes the reader allowlist and none used a shell.

        The allowlist is `cockpit.core.readers.READ_ONLY_SUBCOMMANDS` (via `reader_argv`, which
        also refuses writing options such as `--output` and global `-c`).
        """
        from cockpit.core.readers import READ_ONLY_SUBCOMMANDS, ReaderRefused, reader_argv

        problems = [f"shell requested: {shlex.join(argv)}" for argv in self.shell_requested]
        for argv, name in zip(self.commands, self.subcommands(), strict=True):
            try:
                reader_argv(argv)
            except ReaderRefused as exc:
                problems.append(f"{shlex.join(argv)}: {exc}")
                continue
            if name not in READ_ONLY_SUBCOMMANDS["git"]:
                problems.append(f"{shlex.join(argv)}: {name!r} is not read-only")
        assert not problems, "git ran non-read-only commands:\n" + "\n".join(problems)


@pytest.fixture
def git_command_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitCommandLog]:
    """Record every git argv GitPython runs (GitPython spawns git itself, outside readers.py).

    Use `git_command_log.assert_read_only()` at the end of a test, or inspect `.commands`.
    """
    import git.cmd

    log = GitCommandLog()
    original = git.cmd.Git.execute

    def recording_execute(self: git.cmd.Git, command: Any, *args: Any, **kwargs: Any) -> Any:
        argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
        log.commands.append(argv)
        if kwargs.get("shell"):
            log.shell_requested.append(argv)
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(git.cmd.Git, "execute", recording_execute)
    yield log


@pytest.fixture
def frozen_clock() -> Callable[[], datetime]:
    """A clock (zero-argument callable) that always returns 2026-11-28 14:45 UTC."""
    return lambda: FROZEN_NOW


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A real PostgreSQL server for this test session (one per xdist worker), or a skip
    naming the `postgresql` package when it is not installed."""
    from tests.pg_server import running_server

    try:
        context = running_server()
        server = context.__enter__()
    except LookupError as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        context.__exit__(None, None, None)


@pytest.fixture
def pg_target(pg_server: Any, tmp_path: Any) -> Any:
    """A fresh database on the session's server, as the cockpit's PgTarget (outbox in
    tmp_path, password from the test variable)."""
    from cockpit.core.pg.target import PgTarget, StoreURL
    from tests.pg_server import PASSWORD_ENV

    if not pg_server.running():  # a test that stopped it failed before starting it again
        pg_server.start()
    database = pg_server.create_database()
    return PgTarget(StoreURL(pg_server.url(database)), PASSWORD_ENV, tmp_path / "outbox.db")
