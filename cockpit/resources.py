"""Where the shipped `styles/` and `config/` folders live, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The shipped folder `name` ("styles" or "config").

    A wheel carries them under `cockpit/_data/`; a checkout or editable install has them at
    the repository root, one level above the package.
    """
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cockpit: shipped folder {name!r} is missing from the installation")
