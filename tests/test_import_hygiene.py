"""The core and the headless commands never import textual (not even indirectly).

After harlequin's tests/unit_tests/test_import_hygiene.py, batched: one fresh interpreter
imports the modules one at a time and checks `sys.modules` after each. `sys.modules` only
grows, so the first module after which textual appears is the one that pulled it in.

Then each start-up-critical command runs for real and lists what it loaded: `note`, `timeline`
and `incidents` load the store and nothing heavier (no pydantic once their config was
validated, no search engine); `search PATH` loads neither the config nor the store.
"""

from __future__ import annotations

import json
import os
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


# -- what each headless command loads ---------------------------------------------------------

_RUN_AND_LIST = """
import json, os, sys
from cockpit.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
with open(os.environ["MODULES_OUT"], "w") as out:
    json.dump(sorted(sys.modules), out)
raise SystemExit(code)
"""

HEAVY_FOR_EVERY_HEADLESS_COMMAND = ("textual", "rich", "httpx", "anthropic", "psycopg")
"""Never loaded by note, timeline, incidents or search over PATHs."""
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # The store and the config's [cockpit] table, nothing else: no pydantic (the config text
    # was validated before, see config_file.py), no search engine, no presence board.
    "store": (
        "pydantic",
        "cockpit.core.config",
        "cockpit.core.search",
        "cockpit.core.presence",
        "cockpit.core.readers",
        "uuid",
        "_strptime",
        "shutil",  # argparse's formatter would load it for the terminal width (cli.py)
        # ~9 ms of CPU with inspect, plus ~1 ms per class: the store's classes are Records.
        "dataclasses",
        "inspect",
        "hashlib",  # OpenSSL's module; config_file.py hashes with the built-in SHA-256
    ),
    # Ad hoc PATHs need neither a config nor the store; plain files go to rg, so neither the
    # in-process scan pool (concurrent.futures, logging) nor a private temporary folder.
    "search": (
        "pydantic",
        "cockpit.core.config",
        "cockpit.core.store",
        "sqlite3",
        "tomllib",
        "concurrent.futures",
        "logging",
        "tempfile",
        "dataclasses",  # the engine's queries, hits and statuses are Records
        "inspect",
        "shutil",  # git readers only
    ),
}


def _loaded(tmp_path: Path, *argv: str) -> set[str]:
    out = tmp_path / "modules.json"
    env = {**os.environ, "MODULES_OUT": str(out), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST, *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return set(json.loads(out.read_text()))


def _offending(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))


def test_note_timeline_and_incidents_load_only_the_store(tmp_path: Path) -> None:
    config = tmp_path / "cockpit.toml"
    config.write_text('[cockpit]\nstore = "incidents.db"\nauthor = "ana"\n')
    first = _loaded(tmp_path, "--config", str(config), "incidents", "--new", "db down")
    assert "pydantic" in first  # a config never seen is validated in full, then remembered
    forbidden = FORBIDDEN["store"] + HEAVY_FOR_EVERY_HEADLESS_COMMAND
    for argv in (("note", "restarted the primary"), ("timeline",), ("incidents",)):
        modules = _loaded(tmp_path, "--config", str(config), *argv)
        assert "cockpit.core.store" in modules, argv
        assert _offending(modules, forbidden) == [], argv
        if argv[0] == "note":
            assert "cockpit.core.incident" not in modules  # appends; nothing to fold


def test_search_over_paths_loads_no_config_and_no_store(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("status=500 boom\nstatus=200 ok\n")
    forbidden = FORBIDDEN["search"] + HEAVY_FOR_EVERY_HEADLESS_COMMAND
    for argv in (
        ("search", r"status=5\d\d", str(log), "--count"),
        ("search", "-F", "ok", str(log)),
    ):
        modules = _loaded(tmp_path, *argv)
        assert "cockpit.core.search.engine" in modules
        assert _offending(modules, forbidden) == [], argv


COUNT_PLAIN_FORBIDDEN = (
    # Counting plain files is rg's: no timestamp parsing, no .gz reading, no time window.
    "cockpit.core.search.blocks",
    "cockpit.core.search.timestamps",
    "cockpit.core.search.timewindow",
    "cockpit.core.search.gz",
    "zlib",
    "isal",
    # Its modules import typing only for the type checker (`TYPE_CHECKING = False`): ~3 ms.
    "typing",
    # A count has no timestamps: datetime loads with the first hit or time window.
    "datetime",
    "cockpit.core.timefmt",
)


def test_counting_plain_files_loads_no_in_process_engine(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("status=500 boom\nstatus=200 ok\n")
    modules = _loaded(tmp_path, "search", r"status=5\d\d", str(log), "--count")
    assert "cockpit.core.search.files" in modules
    assert _offending(modules, COUNT_PLAIN_FORBIDDEN) == []
    # Able to fail: a time window or a .gz file does need them.
    windowed = _loaded(tmp_path, "search", "boom", str(log), "--count", "--since", "1h")
    assert "cockpit.core.search.timewindow" in windowed
    assert "cockpit.core.search.timestamps" in windowed


def test_the_command_probe_sees_a_heavy_import(tmp_path: Path) -> None:
    # Able to fail: a search of the config's sources does load the config (and pydantic).
    log = tmp_path / "app.log"
    log.write_text("status=500 boom\n")
    config = tmp_path / "cockpit.toml"
    config.write_text('[[sources]]\nkind = "files"\nname = "app"\npaths = ["app.log"]\n')
    modules = _loaded(tmp_path, "--config", str(config), "search", "boom", "--count")
    offending = _offending(modules, FORBIDDEN["search"])
    assert "cockpit.core.config" in offending
    assert "pydantic" in offending


# -- what the TUI's first frame loads ---------------------------------------------------------

_FIRST_FRAME = """
import json, os, sys
from cockpit.tui import app as tui_app

def snapshot(app):
    # Queued before the app's own after-the-first-frame work, so it runs first after it.
    with open(os.environ["MODULES_OUT"], "w") as out:
        json.dump(sorted(sys.modules), out)
    app.exit()

mount = tui_app.CockpitApp.on_mount
def on_mount(self):
    self.call_after_refresh(snapshot, self)
    mount(self)
tui_app.CockpitApp.on_mount = on_mount
run = tui_app.CockpitApp.run
tui_app.CockpitApp.run = lambda self, **kw: run(self, headless=True, size=(80, 24))
from cockpit.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def _first_frame_modules(tmp_path: Path, config: Path) -> set[str]:
    out = tmp_path / "first-frame.json"
    out.unlink(missing_ok=True)
    env = {
        **os.environ,
        "MODULES_OUT": str(out),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_FRAME, "--config", str(config), "open", "--new", "db"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(out.read_text()))


def test_the_tuis_first_frame_loads_no_pydantic_once_its_config_was_validated(
    tmp_path: Path,
) -> None:
    config = tmp_path / "cockpit.toml"
    config.write_text(
        '[cockpit]\nstore = "incidents.db"\nauthor = "ana"\n[keymap]\nadd-note = "N"\n'
    )
    # Able to fail: a config never seen is validated in full before the first frame...
    first = _first_frame_modules(tmp_path, config)
    assert "textual.app" in first
    assert "pydantic" in first and "cockpit.core.config" in first
    # ... and remembered: from then on the first frame comes from its TOML alone, and the
    # typed config (pydantic) is built after it. Nor does it wait for a pane's engine.
    forbidden = ("pydantic", "cockpit.core.config", "cockpit.core.search", "cockpit.core.deploys")
    assert _offending(_first_frame_modules(tmp_path, config), forbidden) == []
    # An edited file is a new text: validated in full again before anything uses it.
    config.write_text(config.read_text() + "# edited\n")
    assert "pydantic" in _first_frame_modules(tmp_path, config)
