"""The Logs pane's results view: a fast `Log` whose lines are highlighted as they are painted."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rich.highlighter import Highlighter
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Log

from cockpit.core.sanitize import visible
from cockpit.core.search.engine import highlight_spans
from cockpit.core.search.model import Hit, Query
from cockpit.core.timefmt import hhmmss

LINE_CHARS = 1000
"""Characters of one log line shown (sanitized; the rest is cut with a marker)."""
MATCH_STYLE = "bold reverse"


# Docker names a json-file log after its 64-hex container id: shown as `docker ps` shows
# ids (12 characters), or the id alone fills an 80-column line and hides the log text.
_CONTAINER_ID = re.compile(r"^([0-9a-f]{12})[0-9a-f]{52}(?=-json\.log)")


def line_of(hit: Hit) -> str:
    """One results line: `HH:MM:SS file:line text`, sanitized (one line, no controls)."""
    name = _CONTAINER_ID.sub(r"\1", hit.file.rsplit("/", 1)[-1]) if hit.file else ""
    where = hit.source if hit.file is None else f"{name}:{hit.line_no}"
    when = hhmmss(hit.ts) if hit.ts else "--:--:--"
    return f"{when} {visible(where, max_len=60)} {visible(hit.text, max_len=LINE_CHARS)}"


class MatchHighlighter(Highlighter):
    """Styles a results line as it is painted: dim time, the file, and the matches."""

    def __init__(self, query: Query | None = None) -> None:
        self.query = query

    def highlight(self, text: Text) -> None:
        plain = text.plain
        text.stylize("dim", 0, 8)
        body = plain.find(" ", 9) + 1
        if body <= 0:
            return
        text.stylize("cyan", 9, body - 1)
        if self.query is not None:
            for start, end in highlight_spans(self.query, plain[body:]):
                text.stylize(MATCH_STYLE, body + start, body + end)


class HitLog(Log):
    """The results view: a fast `Log` (lines painted lazily, highlighted as they show) whose
    up/down keys move a selection, for pinning."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "up,k",
            "move(-1)",
            "Up",
            id="log-search-line-up",
            show=False,
            tooltip="Select the previous line",
        ),
        Binding(
            "down,j",
            "move(1)",
            "Down",
            id="log-search-line-down",
            show=False,
            tooltip="Select the next line",
        ),
        Binding(
            "pageup",
            "move(-10)",
            "Page up",
            id="log-search-page-up",
            show=False,
            tooltip="Select ten lines up",
        ),
        Binding(
            "pagedown",
            "move(10)",
            "Page down",
            id="log-search-page-down",
            show=False,
            tooltip="Select ten lines down",
        ),
    ]

    @dataclass
    class Selected(Message):
        """The user moved the selection onto `hit`."""

        hit: Hit

    def __init__(self, *, max_lines: int, **kwargs: Any) -> None:
        super().__init__(max_lines=max_lines, **kwargs)
        self.hits: deque[Hit] = deque(maxlen=max_lines)
        """The hits shown, in display order (parallel to the lines)."""
        self.selected: int | None = None

    def forget(self, query: Query) -> None:
        """Empty, for a new search of `query` (whose matches are highlighted)."""
        self.clear()
        self.hits.clear()
        self.selected = None
        self.highlighter = MatchHighlighter(query)

    def add_hits(self, hits: tuple[Hit, ...], lines: tuple[str, ...]) -> None:
        """Append a batch: `lines` are `line_of` each hit."""
        limit = self.hits.maxlen or len(hits)
        self.write_lines(lines[-limit:])
        self.hits.extend(hits[-limit:])
        if self.selected is not None:
            # Lines dropped off the top move the selection up with them.
            self.selected = max(0, self.selected - max(0, len(self.hits) - limit))

    def replace_hits(self, hits: tuple[Hit, ...], lines: tuple[str, ...]) -> None:
        """Show exactly these hits (the final, time-ordered view); the selection is dropped."""
        self.clear()
        self.write_lines(lines)
        self.hits = deque(hits, maxlen=self.hits.maxlen)
        self.selected = None

    def current(self) -> Hit | None:
        """The selected hit, else the newest one, else None."""
        if not self.hits:
            return None
        return self.hits[self.selected if self.selected is not None else len(self.hits) - 1]

    def render_hit(self, hit: Hit) -> Text:
        """`hit` as a highlighted line, as the view paints it."""
        text = Text(line_of(hit), no_wrap=True)
        self.highlighter.highlight(text)
        return text

    def action_move(self, delta: int) -> None:
        if not self.hits:
            return
        last = len(self.hits) - 1
        current = last if self.selected is None else self.selected
        self.selected = max(0, min(last, current + delta))
        if not self.scroll_offset.y <= self.selected < self.scroll_offset.y + self.size.height:
            self.scroll_to(y=max(0, self.selected - self.size.height // 2), animate=False)
        self.post_message(self.Selected(self.hits[self.selected]))


def iso_z(ts: datetime | None) -> str | None:
    """`2026-11-28T14:31:05Z`-style ISO time for an evidence detail, or None."""
    return ts.isoformat().replace("+00:00", "Z") if ts else None


def line_evidence(hit: Hit, pattern: str | None) -> dict[str, Any]:
    """The detail a pinned log line carries: where it came from and what was searched."""
    return {
        "kind": "log line",
        "source": hit.source,
        "service": hit.service,
        "file": hit.file,
        "line": hit.line_no,
        "ts": iso_z(hit.ts),
        "query": pattern,
    }
