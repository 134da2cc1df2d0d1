"""Pattern validation and the in-process line matcher (hyperscan, or RE2 where hyperscan is absent).

Both engines are linear-time: no backtracking, so `(a+)+$` against a long line of `a`s returns
at once. Every pattern is validated with RE2 first, so a bad regex gets the same one-line error
whichever engine (ripgrep or in-process) would have run it.

The matcher works on large newline-aligned blocks of bytes and reports which *lines* match,
with ripgrep's semantics: a line matches when the pattern matches within it (never across the
newline), `^`/`$` anchor at line boundaries, and a pattern that matches the empty string
matches every line. Hyperscan scans release the GIL, so several files search in parallel.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from cockpit.core.search.model import Query

# Regex tokens that can match a newline; only patterns containing one need each matching
# line re-checked on its own (hyperscan would otherwise report a match spanning two lines).
_MAY_MATCH_NEWLINE = (
    "\\s",
    "\\S",
    "\\W",
    "\\D",
    "\\H",
    "\\V",
    "\\R",
    "\\n",
    "\\x0",
    "\\x{",
    "[^",
    "(?s",
    "\\p",
    "\\P",
    "\\N",
    "\\012",
    "\\c",
)
# After this many matches inside one line, stop the scan and resume at the next line, so a
# pattern like `\d` costs one callback per line, not one per character.
_MAX_CALLBACKS_PER_LINE = 16


class PatternError(ValueError):
    """The search pattern is not a valid regex; the message is one line."""


def re2_options(*, ignore_case: bool = False) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print parse errors to stderr itself
    options.case_sensitive = not ignore_case
    options.never_nl = True
    return options


def literal_regex(text: str) -> str:
    """A regex matching `text` literally, in syntax that RE2, hyperscan and ripgrep share."""
    return "".join(
        ch if ch.isalnum() or ch in " _" or ord(ch) > 127 else f"\\x{ord(ch):02x}" for ch in text
    )


def regex_of(query: Query) -> str:
    """The query as a regex (literals escaped), without case flags."""
    return query.pattern if query.regex else literal_regex(query.pattern)


def validate(query: Query) -> None:
    """Raise PatternError (one line) when the query's regex does not compile, or the pattern is
    not UTF-8 text (a byte that is not UTF-8 on the command line). Literals always compile."""
    try:
        query.pattern.encode("utf-8")
    except UnicodeEncodeError as exc:
        from cockpit.core.store import storable

        raise PatternError(
            f"pattern '{storable(query.pattern)}' is not UTF-8 text (a byte at {exc.start}); "
            "write such a byte as \\xNN in a regex"
        ) from None
    if not query.regex:
        return
    import re2

    try:
        re2.compile(query.pattern.encode("utf-8"), options=re2_options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        reason = str(reason).split(":", 1)[0].strip() or "syntax error"
        raise PatternError(f"invalid regex {query.pattern!r}: {reason}") from None


class LineMatcher:
    """Finds the lines of a block that match a query. Build once per search; thread-safe."""

    def __init__(self, query: Query) -> None:
        validate(query)
        import re2

        self.query = query
        pattern = regex_of(query).encode("utf-8")
        self._re2 = re2.compile(pattern, options=re2_options(ignore_case=query.ignore_case))
        self.matches_everything = self._re2.search(b"") is not None
        self._needs_line_check = query.regex and any(t in query.pattern for t in _MAY_MATCH_NEWLINE)
        self._hs: Any = None
        self._scratch = threading.local()  # hyperscan scratch space is per thread
        self.engine = "re2"
        if not self.matches_everything:
            self._hs = _compile_hyperscan(pattern, ignore_case=query.ignore_case)
            if self._hs is not None:
                self.engine = "hyperscan"

    def line_matches(self, line: bytes) -> bool:
        """Whether one line (without its newline) matches."""
        return self._re2.search(line) is not None

    def spans(self, block: bytes) -> list[tuple[int, int]]:
        """(start, end) of every matching line in `block`, which must end with a newline.

        `end` is the index of the line's newline.
        """
        if self.matches_everything:
            return _all_lines(block)
        if self._hs is not None:
            return self._spans_hyperscan(block)
        return self._spans_re2(block)

    def _spans_re2(self, block: bytes) -> list[tuple[int, int]]:
        # never_nl keeps every match inside one line.
        spans: list[tuple[int, int]] = []
        search = self._re2.search
        pos = 0
        while True:
            match = search(block, pos)
            if match is None:
                return spans
            start = block.rfind(b"\n", 0, match.start()) + 1
            end = block.find(b"\n", match.start())
            spans.append((start, end))
            pos = end + 1

    def _spans_hyperscan(self, block: bytes) -> list[tuple[int, int]]:
        import hyperscan

        spans: list[tuple[int, int]] = []
        rfind, find = block.rfind, block.find
        check = self.line_matches if self._needs_line_check else None
        # [offset of the scanned view, end of the current line, callbacks in it, resume at]
        state = [0, -1, 0, -1]

        def on_match(_id: int, _start: int, end: int, _flags: int, _ctx: object) -> bool:
            last = state[0] + end - 1  # the match's last byte
            if last < 0:
                last = 0
            if last <= state[1]:
                state[2] += 1
                if state[2] > _MAX_CALLBACKS_PER_LINE:
                    state[3] = state[1] + 1
                    return True  # stop; resume after this line
                return False
            line_start = rfind(b"\n", 0, last) + 1
            line_end = find(b"\n", last)
            state[1] = line_end
            state[2] = 0
            if check is None or check(block[line_start:line_end]):
                spans.append((line_start, line_end))
            return False

        scratch = getattr(self._scratch, "space", None)
        if scratch is None:
            scratch = self._scratch.space = hyperscan.Scratch(self._hs)
        view = memoryview(block)
        offset = 0
        while offset < len(block):
            state[0], state[3] = offset, -1
            with contextlib.suppress(hyperscan.ScanTerminated):  # stopped to skip a line
                self._hs.scan(view[offset:], match_event_handler=on_match, scratch=scratch)
            if state[3] < 0:
                break
            offset = state[3]
        return spans


def _all_lines(block: bytes) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    find = block.find
    while True:
        end = find(b"\n", start)
        if end < 0:
            return spans
        spans.append((start, end))
        start = end + 1


def _compile_hyperscan(pattern: bytes, *, ignore_case: bool) -> Any:
    """A hyperscan block-mode database, or None when hyperscan is missing or refuses the regex."""
    try:
        import hyperscan
    except ImportError:
        return None
    flags = hyperscan.HS_FLAG_MULTILINE
    if ignore_case:
        flags |= hyperscan.HS_FLAG_CASELESS
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(expressions=[pattern], flags=[flags])
    except hyperscan.error:
        return None  # e.g. Unicode classes outside UTF-8 mode: RE2 handles those
    return database
