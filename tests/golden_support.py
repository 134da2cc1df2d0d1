"""Golden files: compare text with tests/golden/NAME; `COCKPIT_REGEN_GOLDEN=1` rewrites them."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN_DIR = Path(__file__).parent / "golden"
REGEN_ENV = "COCKPIT_REGEN_GOLDEN"


def assert_golden(name: str, text: str) -> None:
    """Assert `text` equals the golden file `name` (or rewrite it when regenerating)."""
    path = GOLDEN_DIR / name
    if os.environ.get(REGEN_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run the test with {REGEN_ENV}=1 to create it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from the golden file; {REGEN_ENV}=1 regenerates"
