"""Regenerate the README's key map from the TUI's bindings (the default keys).

    python docs/make_keymap.py

`tests/test_tui_keys.py` fails when the README and the bindings disagree.
"""

from __future__ import annotations

from pathlib import Path

from cockpit.tui.keymap import keymap_markdown, readme_with_keymap

README = Path(__file__).resolve().parents[1] / "README.md"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    README.write_text(readme_with_keymap(text, keymap_markdown({})), encoding="utf-8")
    print(f"wrote the key map into {README}")


if __name__ == "__main__":
    main()
