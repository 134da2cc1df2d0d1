"""No test spawns a bare `python`: on a fresh machine that is some other interpreter.

`python` from PATH may be a system Python without the project's dependencies (it was, in a
fresh clone: 2 tests failed). Tests spawn `sys.executable`. Two guards: a static scan of every
test module for an argv or a shell command that starts with a bare python name, and a runtime
guard (installed by conftest.py) that makes such a spawn fail loudly whatever built the argv.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
BARE_PYTHON = re.compile(r"^python(?:\d+(?:\.\d+)?)?$")
"""`python`, `python3`, `python3.11`: resolved through PATH, so not this interpreter."""
SHELL_PYTHON = re.compile(r"(?:^|[;&|(]\s*)python(?:\d+(?:\.\d+)?)?\s+-")
"""A shell command line that runs a bare python (`sh -c "python -m x"`)."""
DATA_MARK = "# data: never spawned"
"""A line that names python only as data (an argv a test expects to be refused) says so."""


def bare_python_spawns(source: str) -> list[str]:
    """Lines of `source` with an argv (list/tuple literal) or a command string starting with a
    bare python name, except lines marked as data."""
    lines = source.splitlines()
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        first: ast.expr | None = None
        if isinstance(node, ast.List | ast.Tuple) and node.elts:
            first = node.elts[0]
        argv_of_python = (
            isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and BARE_PYTHON.match(first.value) is not None
        )
        shell_python = (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SHELL_PYTHON.search(node.value.strip()) is not None
        )
        line = getattr(node, "lineno", 1)
        if (argv_of_python or shell_python) and DATA_MARK not in lines[line - 1]:
            found.append(f"line {line}: {lines[line - 1].strip()}")
    return sorted(set(found))


@pytest.mark.parametrize(
    "snippet",
    [
        'subprocess.run(["python", "-c", "0"])',
        'subprocess.Popen(["python3", "-m", "cockpit"])',
        'argv = ("python3.11", "-m", "cockpit")',
        'subprocess.run("python -m cockpit search x", shell=True)',
    ],
)
def test_the_scan_finds_a_bare_python(snippet: str) -> None:
    assert bare_python_spawns(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        "subprocess.run([sys.executable, '-c', '0'])",
        "subprocess.run(['/usr/bin/python3', '-c', '0'])",
        "text = 'python is a language'",
        f'refused = ["python3", "-c", "print(1)"]  {DATA_MARK}',
    ],
)
def test_the_scan_passes_sys_executable_and_prose(snippet: str) -> None:
    assert bare_python_spawns(snippet) == []


def test_no_test_module_spawns_a_bare_python() -> None:
    problems = {
        path.name: hits
        for path in sorted(TESTS.rglob("*.py"))
        if (hits := bare_python_spawns(path.read_text(encoding="utf-8")))
    }
    assert problems == {}, f"spawn sys.executable, not a bare python: {problems}"


def test_a_bare_python_spawn_fails_at_run_time() -> None:
    argv = ["python3", "-c", "0"]  # data: never spawned (the guard refuses it before exec)
    with pytest.raises(AssertionError, match=r"sys\.executable"):
        subprocess.run(argv, capture_output=True, check=False)
