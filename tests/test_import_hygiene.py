"""The core and the headless commands never import textual (not even indirectly).

After harlequin's tests/unit_tests/test_import_hygiene.py, batched: one fresh interpreter
imports the modules one at a time and checks `sys.modules` after each. `sys.modules` only
grows, so the first module after which textual appears is the one that pulled it in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = PROJECT / "cockpit"
# Commands that open the TUI may import textual (lazily, inside run()).
TUI_COMMANDS = {"open", "demo", "drill", "serve", "keys"}

_PROBE = """
import importlib, json, sys
report = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as exc:
        report[name] = f"import failed: {type(exc).__name__}: {exc}"
        continue
    textual = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
    if textual:
        report[name] = f"imports textual ({len(textual)} modules, e.g. {textual[0]})"
        break
print(json.dumps(report))
"""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def headless_modules() -> list[str]:
    """Every module under cockpit/core, cockpit.cli, and each non-TUI command module."""
    core = sorted(_module_name(p) for p in (PACKAGE / "core").rglob("*.py"))
    commands = sorted(
        _module_name(p) for p in (PACKAGE / "commands").glob("*.py") if p.stem not in TUI_COMMANDS
    )
    return ["cockpit", "cockpit.cli", *core, *commands]


def _probe(modules: list[str]) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_module_list_covers_the_core_and_the_headless_commands() -> None:
    modules = headless_modules()
    for expected in (
        "cockpit.cli",
        "cockpit.core.store",
        "cockpit.core.sanitize",
        "cockpit.core.clipboard",
        "cockpit.core.readers",
        "cockpit.core.search.model",
        "cockpit.commands.note",
        "cockpit.commands.timeline",
    ):
        assert expected in modules
    assert not any(m.split(".")[-1] in TUI_COMMANDS for m in modules if ".commands." in m)


def test_headless_modules_never_import_textual() -> None:
    assert _probe(headless_modules()) == {}


def test_probe_catches_a_module_that_imports_textual() -> None:
    # The probe must be able to fail: the TUI app module does import textual.
    report = _probe(["cockpit.core.store", "cockpit.tui.app"])
    assert list(report) == ["cockpit.tui.app"]
    assert report["cockpit.tui.app"].startswith("imports textual")
