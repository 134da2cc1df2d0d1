"""Shared fixtures: a log of every git command the cockpit runs, and a frozen clock.

Also a guard, installed for the whole session, that fails any spawn of a bare `python`: on a
fresh machine the `python` on PATH is not this interpreter (tests spawn `sys.executable`).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

_BARE_PYTHON = re.compile(r"^python(?:\d+(?:\.\d+)?)?$")


def _refuse_bare_python(original: Any) -> Any:
    def init(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        if isinstance(args, str | bytes):
            try:
                argv: list[Any] = shlex.split(os.fsdecode(args))
            except ValueError:  # unbalanced quotes: Popen will say so itself
                argv = []
        else:
            argv = [args] if isinstance(args, os.PathLike) else list(args)
        program = os.fsdecode(argv[0]) if argv else ""
        if _BARE_PYTHON.match(program):
            raise AssertionError(
                f"a test spawned a bare {program!r} (found on PATH, maybe without the project's "
                "dependencies): spawn sys.executable instead"
            )
        original(self, args, *rest, **kwargs)

    return init


def pytest_configure(config: pytest.Config) -> None:
    """Install the bare-python guard for the whole session (and every xdist worker), and give
    the session its own cache folder: config verdicts (config_file.py) and search caches written
    by tests never land in, nor come from, the user's ~/.cache."""
    subprocess.Popen.__init__ = _refuse_bare_python(subprocess.Popen.__init__)  # type: ignore[method-assign]
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="cockpit-test-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session's cache folder."""
    folder = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.basename(folder).startswith("cockpit-test-cache-"):
        shutil.rmtree(folder, ignore_errors=True)


FROZEN_NOW = datetime(2026, 11, 28, 14, 45, tzinfo=UTC)
"""The instant `frozen_clock` always returns."""


def _git_subcommand(argv: list[str]) -> str:
    rest = argv[1:]
    while rest and rest[0].startswith("-"):
        takes_value = rest[0] in ("-C", "-c", "--git-dir", "--work-tree", "--namespace")
        rest = rest[2:] if takes_value else rest[1:]
    return rest[0] if rest else ""


class GitCommandLog:
    """Every git argv handed to `cockpit.core.readers.run_reader` while the fixture was active."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []
        """Each git invocation as an argv list (as the caller wrote it), in call order."""
        self.shell_requested: list[list[str]] = []
        """Invocations that asked for a shell (must stay empty; run_reader has no shell)."""
        self.isolated: list[bool] = []
        """Whether each invocation ran on an IsolatedGitDir (must all be True)."""

    def subcommands(self) -> list[str]:
        """The git subcommand of each recorded call (`log`, `cat-file`, ...)."""
        return [_git_subcommand(argv) for argv in self.commands]

    def assert_read_only(self) -> None:
        """Fail unless every recorded call passes the reader allowlist, ran on an isolated git
        directory, and none used a shell.

        The allowlist is `cockpit.core.readers.READ_ONLY_SUBCOMMANDS` (via `reader_argv`, which
        also refuses writing options such as `--output` and global `-c`).
        """
        from cockpit.core.readers import READ_ONLY_SUBCOMMANDS, ReaderRefused, reader_argv

        problems = [f"shell requested: {shlex.join(argv)}" for argv in self.shell_requested]
        for argv, name, isolated in zip(
            self.commands, self.subcommands(), self.isolated, strict=True
        ):
            if not isolated:
                problems.append(f"{shlex.join(argv)}: not on an IsolatedGitDir")
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
    """Record every git argv the cockpit runs (all of them go through `run_reader`).

    Use `git_command_log.assert_read_only()` at the end of a test, or inspect `.commands`.
    """
    from cockpit.core import readers

    log = GitCommandLog()
    original = readers.run_reader

    def recording_run_reader(argv: Any, *args: Any, **kwargs: Any) -> Any:
        argv = [str(a) for a in argv]
        if argv and os.path.basename(argv[0]) == "git":
            log.commands.append(argv)
            log.isolated.append(isinstance(kwargs.get("git_dir"), readers.IsolatedGitDir))
            if kwargs.get("shell"):
                log.shell_requested.append(argv)
        return original(argv, *args, **kwargs)

    monkeypatch.setattr(readers, "run_reader", recording_run_reader)
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
    from cockpit.core.store_target import PgTarget, StoreURL
    from tests.pg_server import PASSWORD_ENV

    if not pg_server.running():  # a test that stopped it failed before starting it again
        pg_server.start()
    database = pg_server.create_database()
    return PgTarget(StoreURL(pg_server.url(database)), PASSWORD_ENV, tmp_path / "outbox.db")
