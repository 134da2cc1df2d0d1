"""No code path executes anything but a read-only reader.

A static check parses every module under cockpit/ and fails if any module other than
cockpit/core/readers.py can start a process; readers.py itself must never use a shell and must
validate every argv with `reader_argv`. The checker is tested on snippets first, so a pass on
the real package means something.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cockpit"
READERS = PACKAGE / "core" / "readers.py"

# GitPython starts git itself, with the caller's environment and the repository's config: no
# module may import it (git runs through `run_reader` on an IsolatedGitDir instead).
GITPYTHON_MODULES: set[Path] = set()

SPAWNING_MODULES = {"subprocess", "pty", "multiprocessing", "webbrowser", "asyncio.subprocess"}
OS_SPAWNING = {
    "system", "popen", "fork", "forkpty", "startfile", "posix_spawn", "posix_spawnp",
    "execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe",
    "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe",
}  # fmt: skip
ASYNCIO_SPAWNING = {"create_subprocess_exec", "create_subprocess_shell"}
PTY_SPAWNING = {"spawn", "fork"}
# What a non-reader module may name from `subprocess`: exceptions and constants, and `Popen`
# only as a type (annotations, isinstance), never called.
SUBPROCESS_SAFE = {
    "TimeoutExpired", "CalledProcessError", "SubprocessError", "CompletedProcess",
    "PIPE", "DEVNULL", "STDOUT",
}  # fmt: skip
SUBPROCESS_SPAWNING = {"run", "Popen", "call", "check_call", "check_output", "getoutput",
                       "getstatusoutput"}  # fmt: skip


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _in_type_position(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether `node` is (part of) an annotation or the class argument of isinstance()."""
    current = node
    while current in parents:
        parent = parents[current]
        if isinstance(parent, ast.arg) and parent.annotation is current:
            return True
        if isinstance(parent, ast.AnnAssign) and parent.annotation is current:
            return True
        if (
            isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef))
            and parent.returns is current
        ):
            return True
        if (
            isinstance(parent, ast.Call)
            and isinstance(parent.func, ast.Name)
            and parent.func.id in ("isinstance", "issubclass")
            and current in parent.args[1:]
        ):
            return True
        if not isinstance(parent, (ast.Subscript, ast.Tuple, ast.BinOp, ast.Attribute)):
            return False
        current = parent
    return False


def violations(
    source: str, *, is_reader: bool = False, may_use_gitpython: bool = False
) -> list[str]:
    """Every way `source` could start a process, as "line N: what" strings."""
    tree = ast.parse(source)
    parents = _parents(tree)
    found: list[str] = []
    aliases: dict[str, str] = {}  # local name -> module it stands for

    def flag(node: ast.AST, what: str) -> None:
        found.append(f"line {getattr(node, 'lineno', '?')}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                aliases[alias.asname or name.split(".")[0]] = (
                    name if alias.asname else name.split(".")[0]
                )
                if name.split(".")[0] == "git" and not may_use_gitpython:
                    flag(node, f"imports GitPython ({name}), which runs git")
                elif (
                    name.split(".")[0] in ("multiprocessing", "webbrowser")
                    or name == "asyncio.subprocess"
                ):
                    flag(node, f"imports {name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            names = {alias.name for alias in node.names}
            for alias in node.names:
                if module == "concurrent" and alias.name == "futures":
                    aliases[alias.asname or alias.name] = "concurrent.futures"
            if module.split(".")[0] == "git" and not may_use_gitpython:
                flag(node, f"imports GitPython ({module}), which runs git")
            elif (
                module.split(".")[0] in ("multiprocessing", "webbrowser")
                or module == "asyncio.subprocess"
            ):
                flag(node, f"imports from {module}")
            elif module == "asyncio" and names & (ASYNCIO_SPAWNING | {"subprocess"}):
                flag(
                    node,
                    f"imports {sorted(names & (ASYNCIO_SPAWNING | {'subprocess'}))} from asyncio",
                )
            elif module == "pty" and names & PTY_SPAWNING:
                flag(node, f"imports {sorted(names & PTY_SPAWNING)} from pty")
            elif module == "os" and names & OS_SPAWNING:
                flag(node, f"imports {sorted(names & OS_SPAWNING)} from os")
            elif module == "concurrent.futures" and "ProcessPoolExecutor" in names:
                flag(node, "imports ProcessPoolExecutor")
            elif module == "subprocess" and not is_reader and names - SUBPROCESS_SAFE:
                flag(node, f"imports {sorted(names - SUBPROCESS_SAFE)} from subprocess")

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = aliases.get(node.value.id, "")
            attr = node.attr
            if target == "os" and attr in OS_SPAWNING:
                flag(node, f"uses os.{attr}")
            elif target == "asyncio" and (attr in ASYNCIO_SPAWNING or attr == "subprocess"):
                flag(node, f"uses asyncio.{attr}")
            elif target == "pty" and attr in PTY_SPAWNING:
                flag(node, f"uses pty.{attr}")
            elif target == "concurrent" and attr == "futures":
                parent = parents.get(node)
                if isinstance(parent, ast.Attribute) and parent.attr == "ProcessPoolExecutor":
                    flag(node, "uses ProcessPoolExecutor")
            elif target == "concurrent.futures" and attr == "ProcessPoolExecutor":
                flag(node, "uses ProcessPoolExecutor")
            elif target == "subprocess" and not is_reader:
                call = parents.get(node)
                called = isinstance(call, ast.Call) and call.func is node
                if attr in SUBPROCESS_SPAWNING and called:
                    flag(node, f"calls subprocess.{attr}")
                elif attr == "Popen" and not _in_type_position(node, parents):
                    flag(node, "names subprocess.Popen outside a type annotation or isinstance")
                elif attr not in SUBPROCESS_SAFE and attr != "Popen":
                    flag(node, f"uses subprocess.{attr}")
        elif isinstance(node, ast.Name) and aliases.get(node.id) == "subprocess" and not is_reader:
            parent = parents.get(node)
            if not (isinstance(parent, ast.Attribute) and parent.value is node):
                flag(node, "passes the subprocess module around")
        elif isinstance(node, ast.Call):
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            strings = [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if name in ("__import__", "import_module") and any(
                s.split(".")[0] in {m.split(".")[0] for m in SPAWNING_MODULES} for s in strings
            ):
                flag(node, f"imports {strings[0]} dynamically")
            if name == "getattr" and any(
                s in OS_SPAWNING | SUBPROCESS_SPAWNING | ASYNCIO_SPAWNING for s in strings
            ):
                flag(node, f"looks up {strings[0]} with getattr")
            for keyword in node.keywords:
                if keyword.arg == "shell" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value in (False, None)
                ):
                    flag(node, "passes shell=... (never use a shell)")
    return found


def reader_spawns_validated(source: str) -> list[str]:
    """In readers.py, every subprocess call must take `reader_argv(...)` as its argv."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "subprocess"
            and node.func.attr in SUBPROCESS_SPAWNING
        ):
            first = node.args[0] if node.args else None
            if not (
                isinstance(first, ast.Call)
                and isinstance(first.func, ast.Name)
                and first.func.id == "reader_argv"
            ):
                problems.append(
                    f"line {node.lineno}: subprocess.{node.func.attr} without reader_argv"
                )
    return problems


# --- the checker catches each way of spawning -----------------------------------------------


@pytest.mark.parametrize(
    "snippet",
    [
        "import subprocess\nsubprocess.run(['ls'])",
        "import subprocess\nsubprocess.Popen(['ls'])",
        "import subprocess as sp\nsp.check_output(['ls'])",
        "import subprocess\nspawn = subprocess.Popen\nspawn(['ls'])",
        "import subprocess\nrun = getattr(subprocess, 'run')",
        "import subprocess\nsubprocess.getoutput('ls')",
        "from subprocess import run\nrun(['ls'])",
        "from subprocess import Popen",
        "import os\nos.system('ls')",
        "import os\nos.popen('ls')",
        "import os as o\no.execvp('ls', ['ls'])",
        "import os\nos.execv('/bin/ls', ['ls'])",
        "import os\nos.spawnlp(os.P_WAIT, 'ls', 'ls')",
        "import os\nos.posix_spawn('/bin/ls', ['ls'], {})",
        "import os\nos.fork()",
        "from os import system",
        "from os import execvpe as e",
        "import os\ngetattr(os, 'system')('ls')",
        "import pty\npty.spawn('sh')",
        "from pty import spawn",
        "import asyncio\nasyncio.create_subprocess_exec('ls')",
        "import asyncio\nasyncio.create_subprocess_shell('ls')",
        "from asyncio import create_subprocess_exec",
        "import asyncio.subprocess",
        "import multiprocessing",
        "from multiprocessing import Process",
        "import multiprocessing.pool",
        "from concurrent.futures import ProcessPoolExecutor",
        "import concurrent.futures\nconcurrent.futures.ProcessPoolExecutor()",
        "import webbrowser\nwebbrowser.open('https://x')",
        "__import__('subprocess').run(['ls'])",
        "import importlib\nimportlib.import_module('subprocess')",
        "import git\ngit.Repo('.').git.push()",
        "from git import Repo",
        "def f():\n    import subprocess\n    subprocess.call(['ls'])",
    ],
)
def test_checker_flags_each_way_to_spawn(snippet: str) -> None:
    assert violations(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "import os\nos.path.join('a', 'b')\nos.environ.get('TMUX')",
        "import subprocess\ntry:\n    pass\nexcept subprocess.TimeoutExpired:\n    pass",
        "import subprocess\ndef stop(p: subprocess.Popen[bytes]) -> None: ...",
        "import subprocess\ndef f(p: object) -> None:\n    assert isinstance(p, subprocess.Popen)",
        "from subprocess import CalledProcessError, TimeoutExpired",
        "import asyncio\nasyncio.run(main())",
        "from concurrent.futures import ThreadPoolExecutor",
        "import pty\nprint(pty.STDIN_FILENO)",
        "import shutil\nshutil.which('git')",
    ],
)
def test_checker_allows_what_cannot_spawn(snippet: str) -> None:
    assert violations(snippet) == []


def test_checker_flags_a_shell_even_in_the_reader_module() -> None:
    reader = "import subprocess\nsubprocess.run(reader_argv(a), shell=True)"
    assert violations(reader, is_reader=True) == ["line 2: passes shell=... (never use a shell)"]
    assert violations("import subprocess\nsubprocess.run(reader_argv(a))", is_reader=True) == []


def test_checker_requires_reader_argv_in_the_reader_module() -> None:
    assert reader_spawns_validated("import subprocess\nsubprocess.run(['git', 'push'])")
    assert reader_spawns_validated("import subprocess\nsubprocess.Popen(reader_argv(x))") == []


# --- the real package ---------------------------------------------------------------------


def _modules() -> list[Path]:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert READERS in modules and len(modules) > 10
    return modules


def test_only_the_reader_module_can_start_a_process() -> None:
    problems = []
    for path in _modules():
        found = violations(
            path.read_text(encoding="utf-8"),
            is_reader=path == READERS,
            may_use_gitpython=path in GITPYTHON_MODULES,
        )
        problems += [f"{path.relative_to(PACKAGE.parent)}: {v}" for v in found]
    assert problems == []


def test_reader_module_validates_every_argv_and_never_uses_a_shell() -> None:
    source = READERS.read_text(encoding="utf-8")
    assert reader_spawns_validated(source) == []
    assert not any("shell" in v for v in violations(source, is_reader=True))
    spawns = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in SUBPROCESS_SPAWNING
    ]
    assert len(spawns) == 2  # run_reader and start_reader, nothing else


def test_git_runs_only_through_the_reader_on_an_isolated_git_dir() -> None:
    source = (PACKAGE / "core" / "deploys" / "git_source.py").read_text(encoding="utf-8")
    assert "readers.run_reader(" in source and "git_dir=self._isolated" in source
    assert "import git\n" not in source and "from git " not in source


def test_git_command_log_records_every_git_call(git_command_log, tmp_path: Path) -> None:
    from cockpit.core import readers
    from cockpit.core.deploys.git_source import GitRepo
    from tests.deploys_support import BASE_TIME, commit, init_repo

    path = init_repo(tmp_path / "repo")
    commit(path, "first", BASE_TIME)
    repo = GitRepo(path)
    repo.read("rev-parse", "HEAD")
    repo.read("log", "--oneline")
    assert git_command_log.subcommands() == ["rev-parse", "log"]
    git_command_log.assert_read_only()

    with pytest.raises(readers.ReaderRefused):  # refused, but recorded: the check must fail
        readers.run_reader(["git", "status"], git_dir=readers.IsolatedGitDir(path))
    with pytest.raises(AssertionError, match="status"):
        git_command_log.assert_read_only()


# --- a full pilot session with every way to spawn patched to fail --------------------------


@pytest.fixture
def spawn_attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Patch subprocess, os.system/exec*/spawn*/fork and friends to record and raise."""
    import asyncio
    import os
    import pty
    import subprocess

    attempts: list[str] = []

    def refuse(name: str) -> Callable[..., None]:
        def refused(*args: object, **kwargs: object) -> None:
            attempts.append(f"{name}{args!r:.200}")
            raise AssertionError(f"{name} called during a cockpit session")

        return refused

    # Popen's _execute_child is shared by every Popen, including the one GitPython imported by
    # name before this fixture ran, so patching it catches spawns that bypass `subprocess.Popen`.
    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse("Popen._execute_child"))
    for name in ("Popen", "run", "call", "check_call", "check_output", "getoutput"):
        monkeypatch.setattr(subprocess, name, refuse(f"subprocess.{name}"))
    for name in sorted(OS_SPAWNING):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse(f"os.{name}"))
    for name in sorted(ASYNCIO_SPAWNING):
        monkeypatch.setattr(asyncio, name, refuse(f"asyncio.{name}"))
    monkeypatch.setattr(pty, "spawn", refuse("pty.spawn"))
    return attempts


async def test_full_pilot_session_spawns_nothing(tmp_path: Path, spawn_attempts: list[str]) -> None:
    from cockpit.core.incident import Kind
    from cockpit.core.store import EventStore
    from cockpit.tui.messages import CopyRequested
    from cockpit.tui.panes.checklist import PhaseChecklist
    from tests.tui_support import make_app, settle, write_config

    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="checkout 5xx")
    rollback = "kubectl rollout undo deployment/checkout --to-revision=41 -n prod"
    injected = "helm rollback checkout 41\nkubectl delete ns prod\n"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n", *"$(id) `id`", "enter")  # a note that looks like shell
        await settle(pilot)
        await pilot.press("down", "space")  # check an item
        await settle(pilot)
        checklist = app.query_one(PhaseChecklist)
        checklist.post_message(CopyRequested(rollback, "rollback command"))
        await settle(pilot)
        assert app.clipboard == rollback
        checklist.post_message(CopyRequested(injected, "suggested command"))
        await settle(pilot)
        assert app.clipboard == injected
        await pilot.press("ctrl+p", *"note", "escape")  # the command palette, opened and closed
        await settle(pilot)
        assert app.is_running
    assert spawn_attempts == []

    store = EventStore(config.store_path)
    try:
        incident = store.current_incident()
        assert incident is not None
        events = store.events(incident.id)
    finally:
        store.close()
    kinds = [event.kind for event in events]
    notes = [event.payload["text"] for event in events if event.kind == Kind.NOTE_ADDED]
    assert notes == ["$(id) `id`"]
    assert Kind.NOTE_ADDED in kinds
    assert Kind.ITEM_CHECKED in kinds
    assert kinds.count(Kind.COMMAND_COPIED) == 2


@pytest.fixture
def gitpython_imported() -> None:
    """Import GitPython before the patches: its import runs `git version` once."""
    import git  # noqa: F401


def test_spawn_patches_really_catch_a_spawn(
    gitpython_imported: None, spawn_attempts: list[str]
) -> None:
    # Guard against a vacuous pass: the patched functions do refuse, including GitPython's.
    import os
    import subprocess

    import git

    with pytest.raises(AssertionError):
        subprocess.run(["true"])
    with pytest.raises(AssertionError):
        os.system("true")
    with pytest.raises(AssertionError):
        git.Git().execute(["git", "version"])
    assert len(spawn_attempts) == 3
