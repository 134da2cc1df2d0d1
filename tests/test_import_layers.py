"""The layers written in pyproject.toml hold: `lint-imports` keeps every contract.

CI and ./check run it too; here it also fails a plain `pytest` run, and the contract that
keeps the core's floors in order is shown to catch an import that runs back up.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


def lint_imports() -> str:
    beside = Path(sys.executable).parent / "lint-imports"
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.skip("lint-imports is not installed (pip install -e '.[test]' brings it)")
    return found


def test_every_import_contract_is_kept() -> None:
    done = subprocess.run(
        [lint_imports(), "--no-cache"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_the_floors_are_the_documented_order_and_one_import_runs_up() -> None:
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}
    layers = [layer.split(" | ") for layer in contracts["floors"]["layers"]]
    order = ["drills", "review", "comms", "ai", "signals", "deploys", "patterns", "search"]
    assert [layer[0] for layer in layers[: len(order)]] == [f"cockpit.core.{n}" for n in order]

    def floor(module: str) -> int | None:
        for index, layer in enumerate(layers):
            if any(module == name or module.startswith(name + ".") for name in layer):
                return index
        return None

    ups = set()
    for entry in contracts["floors"]["ignore_imports"]:
        importer, imported = entry.split(" -> ")
        low, high = floor(importer), floor(imported)
        if low is not None and high is not None and high < low:  # a higher floor
            ups.add((importer, layers[high][0]))
    assert ups == {("cockpit.core.config", "cockpit.core.search")}
