"""The one way headless commands print: untrusted text never reaches a terminal raw.

Log lines, commit subjects, file names, notes, titles and model output are shown through the
same sanitizer as the TUI (`cockpit.core.sanitize`): escape sequences (OSC 52, `CSI 2J`, OSC 8
links, window titles), C0/C1 controls, DEL, bidi and zero-width characters become visible
escapes such as `\\x1b`. JSON keeps its values exact but writes every such character as a
`\\uXXXX` escape, so `cockpit ... --json` on a terminal is inert too and parses back to the
same data. Every command that prints data uses these functions (search, triage and its
streamed `--ai` text, rollback, deploys, timeline, incidents, export to stdout, drill debrief;
patterns and alerts too).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from cockpit.core.sanitize import json_safe, visible, visible_stream

TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from typing import Any, TextIO


def _out(file: TextIO | None) -> TextIO:
    return sys.stdout if file is None else file


def safe_line(text: str) -> str:
    """One line of untrusted text, inert (newlines inside it shown as `\\n`), never cut."""
    return visible(text, max_len=None)


def emit(text: str = "", *, file: TextIO | None = None) -> None:
    """Print one line of (possibly untrusted) text, made inert."""
    print(safe_line(text), file=_out(file))


def emit_lines(lines: Iterable[str], *, file: TextIO | None = None) -> None:
    """Print each line made inert (a line holding newlines is split first)."""
    out = _out(file)
    for line in lines:
        for part in line.split("\n") if "\n" in line else (line,):
            print(safe_line(part.removesuffix("\r")), file=out)


def emit_document(text: str, *, file: TextIO | None = None) -> None:
    """Print a multi-line document (Markdown, CSV) line by line, every line made inert."""
    body = text[:-1] if text.endswith("\n") else text
    emit_lines(body.split("\n") if body else [], file=file)


def json_text(value: Any, *, indent: int | None = None, default: Any = None) -> str:
    """`value` as JSON text in which no character can act on a terminal (see `json_safe`)."""
    import json  # only --json output (`search --count` prints a number); ~1.5 ms at start-up

    return json_safe(json.dumps(value, ensure_ascii=False, indent=indent, default=default))


def emit_json(
    value: Any, *, file: TextIO | None = None, indent: int | None = 2, default: Any = None
) -> None:
    """Print `value` as inert JSON (one document, newline-terminated)."""
    print(json_text(value, indent=indent, default=default), file=_out(file))


def stream_text(text: str, *, file: TextIO | None = None) -> None:
    """Write a chunk of streamed prose (the model's answer as it arrives): line breaks kept,
    everything else that could act on the terminal escaped, flushed at once."""
    out = sys.stderr if file is None else file
    out.write(visible_stream(text))
    out.flush()


def emit_error(message: str, *, prefix: str = "cockpit: ", file: TextIO | None = None) -> None:
    """A one-line message on stderr (it may quote file names or tool output), made inert."""
    print(prefix + safe_line(message), file=sys.stderr if file is None else file)
