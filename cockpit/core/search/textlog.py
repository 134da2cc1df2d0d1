"""Whether a file is a text log or binary data, decided the way a human reading it would.

grep and rg call a file binary at its first NUL byte. A text log with a stray NUL (a crashed
writer) or the NUL hole copytruncate leaves at its start is still a log, so it is searched with
its NULs shown as `\\0`; only data that is mostly not text is skipped, with a note.
"""

from __future__ import annotations

import re
from pathlib import Path

BINARY_PROBE_BYTES = 8192
"""How much of a file's start `looks_binary` examines (as grep and ripgrep do)."""
NUL_SHOWN_AS = b"\\0"
"""How a NUL byte inside a searched line is shown."""
_NUL_RUN = re.compile(rb"\0+")
_NOT_TEXT = re.compile(rb"[\x01-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def looks_binary(head: bytes) -> bool:
    """Whether a file whose first bytes are `head` is binary data rather than a text log.

    grep and rg call a file binary at its first NUL byte; a text log with a stray NUL, or
    the NUL hole copytruncate leaves at its start, is still a log. Binary data has NULs all
    over (more than 8 separate runs, and over one per 256 bytes) or little that is text: over
    a tenth of the rest invalid UTF-8 or control bytes.
    """
    if b"\0" not in head:
        return False
    runs = len(_NUL_RUN.findall(head))
    if runs > max(8, len(head) // 256):
        return True
    rest = _NUL_RUN.sub(b"", head)
    if not rest:
        return False  # only a NUL hole so far: the text follows it
    bad = rest.decode("utf-8", "replace").count("\ufffd") + len(_NOT_TEXT.findall(rest))
    return bad * 10 > len(rest)


_SEARCHED_AS_TEXT = "searched as text"


def _nul_note(path: Path) -> str:
    return f"{path}: NUL bytes in a text log, shown as \\0; {_SEARCHED_AS_TEXT}"


def _binary_note(path: Path) -> str:
    return f"{path}: binary file skipped (NUL bytes and non-text data at its start); not searched"
