"""The Logs pane's results view: a line-API view whose rows are highlighted as they are painted,
with a visible selection, wrapping, and `enter` to open a line's whole record."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rich.cells import get_character_cell_size
from rich.highlighter import Highlighter
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

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

    def highlight_body(self, text: Text) -> None:
        """Style the matches anywhere in `text` (a record line: no time or file in front)."""
        if self.query is not None:
            for start, end in highlight_spans(self.query, text.plain):
                text.stylize(MATCH_STYLE, start, end)


WRAP_INDENT = " " * 9
"""Rows after a wrapped line's first are indented under its file name."""


class HitLog(ScrollView, can_focus=True):
    """The results view: one row per hit (or several, wrapped), painted lazily and highlighted
    as the rows show. A selection (always visible once the view has focus) is what `enter`
    opens in full and `p` pins; `w` wraps long lines; `home`/`end` jump to the first/last."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"hit-log--cursor"}

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
            "page(-1)",
            "Page up",
            id="log-search-page-up",
            show=False,
            tooltip="Select a screenful up",
        ),
        Binding(
            "pagedown",
            "page(1)",
            "Page down",
            id="log-search-page-down",
            show=False,
            tooltip="Select a screenful down",
        ),
        Binding(
            "home,g",
            "jump(0)",
            "First",
            id="log-search-first-line",
            show=False,
            tooltip="Select the first (oldest) line",
        ),
        Binding(
            "end,G",
            "jump(-1)",
            "Last",
            id="log-search-last-line",
            show=False,
            tooltip="Select the last (newest) line",
        ),
        Binding(
            "right,l",
            "pan(1)",
            "Right",
            id="log-search-pan-right",
            show=False,
            tooltip="Scroll long lines right by half a screen (or wrap them)",
        ),
        Binding(
            "left,h",
            "pan(-1)",
            "Left",
            id="log-search-pan-left",
            show=False,
            tooltip="Scroll long lines back left",
        ),
        Binding(
            "enter",
            "open_record",
            "Open",
            id="log-search-open-record",
            tooltip="Open the selected line's whole record: wrapped, with its continuation lines",
        ),
        Binding(
            "w",
            "toggle_wrap",
            "Wrap",
            id="log-search-wrap",
            tooltip="Wrap long lines in the results, or show one row per line",
        ),
    ]

    @dataclass
    class Selected(Message):
        """The user moved the selection onto `hit`."""

        hit: Hit

    @dataclass
    class Opened(Message):
        """The user asked to read `hit`'s whole record."""

        hit: Hit

    wrap: reactive[bool] = reactive(False)

    def __init__(self, *, max_lines: int, highlight: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_lines = max_lines
        self.hits: deque[Hit] = deque(maxlen=max_lines)
        """The hits shown, in display order (parallel to `lines`)."""
        self._lines: deque[str] = deque(maxlen=max_lines)
        self.selected: int | None = None
        self.highlighter: Highlighter = MatchHighlighter(None)
        self._first_serial = 0
        """Serial number of `hits[0]`: cache keys survive lines dropping off the top."""
        self._width = 0
        self._row_starts: list[int] | None = None
        """In wrap mode, the first row of each hit (and the total at the end); None: stale."""
        self._cache: LRUCache[tuple[int, int, int, bool], Strip] = LRUCache(2048)
        self._at_end = True
        """The view shows the newest line: it stays there when its size changes."""

    @property
    def lines(self) -> list[str]:
        """The lines shown (`line_of` each hit), one per hit."""
        return list(self._lines)

    # -- content ------------------------------------------------------------------------------

    def forget(self, query: Query) -> None:
        """Empty, for a new search of `query` (whose matches are highlighted)."""
        self.highlighter = MatchHighlighter(query)
        self._reset((), ())

    def clear(self) -> None:
        """Empty."""
        self._reset((), ())

    def add_hits(self, hits: tuple[Hit, ...], lines: tuple[str, ...]) -> None:
        """Append a batch: `lines` are `line_of` each hit."""
        follow = self.selected is None and self.is_vertical_scroll_end
        overflow = max(0, len(self.hits) + len(hits) - self.max_lines)
        self.hits.extend(hits[-self.max_lines :])
        self._lines.extend(lines[-self.max_lines :])
        self._first_serial += overflow
        if self.selected is not None:
            # Lines dropped off the top move the selection up with them.
            self.selected = max(0, self.selected - overflow)
        self._width = max(self._width, max((len(line) for line in lines), default=0))
        self._content_changed(follow)
        if self.selected is None and self.has_focus:
            self.call_after_refresh(self._select_first_in_view)

    def replace_hits(self, hits: tuple[Hit, ...], lines: tuple[str, ...]) -> None:
        """Show exactly these hits (the final, time-ordered view). A selection stays on the
        same hit when it is still there, else on the same row."""
        chosen = self.current() if self.selected is not None else None
        row = self.selected
        self._reset(hits, lines)
        if chosen is not None and row is not None and self.hits:
            try:
                self.selected = list(self.hits).index(chosen)
            except ValueError:
                self.selected = min(row, len(self.hits) - 1)
            self._show_selected()
        elif self.has_focus:
            self.call_after_refresh(self._select_first_in_view)  # once scrolled to the end

    def _reset(self, hits: tuple[Hit, ...], lines: tuple[str, ...]) -> None:
        self.hits = deque(hits[-self.max_lines :], maxlen=self.max_lines)
        self._lines = deque(lines[-self.max_lines :], maxlen=self.max_lines)
        self._first_serial += self.max_lines + 1  # nothing cached is valid any more
        self.selected = None
        self._width = max((len(line) for line in self._lines), default=0)
        self._cache.clear()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._content_changed(follow=True)

    def _content_changed(self, follow: bool) -> None:
        self._row_starts = None
        self._update_virtual_size()
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

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

    # -- rows -----------------------------------------------------------------------------------

    def _rows_of(self, line: str, width: int) -> int:
        if len(line) <= width and line.isascii():
            return 1
        return len(wrap_starts(line, width)) - 1

    def _starts(self) -> list[int]:
        """First row of each hit, and the row count at the end (wrap mode)."""
        if self._row_starts is None:
            width = self._text_width()
            starts = [0]
            for line in self._lines:
                starts.append(starts[-1] + self._rows_of(line, width))
            self._row_starts = starts
        return self._row_starts

    def _text_width(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _row_count(self) -> int:
        return self._starts()[-1] if self.wrap else len(self._lines)

    def _update_virtual_size(self) -> None:
        width = self._text_width() if self.wrap else self._width
        self.virtual_size = Size(width, self._row_count())

    def _locate(self, row: int) -> tuple[int, int] | None:
        """(hit index, row within the hit) of a view row, or None past the end."""
        if not self.wrap:
            return (row, 0) if 0 <= row < len(self._lines) else None
        starts = self._starts()
        if not 0 <= row < starts[-1]:
            return None
        index = bisect_right(starts, row) - 1
        return index, row - starts[index]

    def _hit_rows(self, index: int) -> tuple[int, int]:
        """[first, end) view rows of hit `index`."""
        if not self.wrap:
            return index, index + 1
        starts = self._starts()
        return starts[index], starts[index + 1]

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._at_end = round(new_value) >= self.max_scroll_y

    def on_resize(self) -> None:
        if self.wrap:
            self._cache.clear()
            self._row_starts = None
            self._update_virtual_size()
        if self._at_end:
            # A view at its newest line stays there when the pane around it changes size.
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)
        else:
            self._show_selected()

    def watch_wrap(self) -> None:
        self.set_class(self.wrap, "-wrap")
        self._cache.clear()
        self._row_starts = None
        self._update_virtual_size()
        self.scroll_to(x=0, animate=False, immediate=True)
        self._show_selected()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        rich_style = self.rich_style
        where = self._locate(scroll_y + y)
        if where is None:
            return Strip.blank(width, rich_style)
        index, part = where
        selected = index == self.selected
        key = (self._first_serial + index, part, self._text_width() if self.wrap else 0, selected)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._paint_row(index, part, selected)
            self._cache[key] = strip
        if self.wrap:
            return strip.crop_extend(0, width, rich_style)
        return strip.crop_extend(scroll_x, scroll_x + width, rich_style)

    def _paint_row(self, index: int, part: int, selected: bool) -> Strip:
        line = self._lines[index]
        text = Text(line, no_wrap=True, end="")
        text.stylize(self.rich_style)
        self.highlighter.highlight(text)
        if self.wrap:
            text = self._wrapped_piece(text, part)
        if selected:
            text.pad_right(max(0, self._text_width() - text.cell_len))
            text.stylize(self.get_component_rich_style("hit-log--cursor"))
        return Strip(text.render(self.app.console), text.cell_len)

    def _wrapped_piece(self, text: Text, part: int) -> Text:
        starts = wrap_starts(text.plain, self._text_width())
        part = min(part, len(starts) - 2)
        piece = text[starts[part] : starts[part + 1]]
        if part:
            piece = Text(WRAP_INDENT, end="") + piece
        return piece

    # -- selection ------------------------------------------------------------------------------

    def on_focus(self) -> None:
        self._cache.clear()  # the cursor's colours follow focus
        self.refresh()
        if self.selected is None:
            self.call_after_refresh(self._select_first_in_view)

    def on_blur(self) -> None:
        self._cache.clear()
        self.refresh()

    def _select_first_in_view(self) -> None:
        """Select the first line on screen (the first result when the view is at its top)."""
        if not self.hits or self.selected is not None:
            return
        where = self._locate(round(self.scroll_offset.y))
        index = where[0] if where is not None else 0
        if where is not None and where[1] > 0 and index + 1 < len(self.hits):
            index += 1  # the top row is the tail of a wrapped line: the next line starts here
        self._select(index)

    def _select(self, index: int) -> None:
        self.selected = max(0, min(len(self.hits) - 1, index))
        self._show_selected()
        self.refresh()
        self.post_message(self.Selected(self.hits[self.selected]))

    def _show_selected(self) -> None:
        if self.selected is None or not self.hits:
            return
        first, end = self._hit_rows(self.selected)
        top, height = round(self.scroll_offset.y), max(1, self.scrollable_content_region.height)
        if first < top:
            self.scroll_to(y=first, animate=False, immediate=True)
        elif end > top + height:
            self.scroll_to(y=max(first, end - height), animate=False, immediate=True)

    def action_move(self, delta: int) -> None:
        if not self.hits:
            return
        last = len(self.hits) - 1
        current = last if self.selected is None else self.selected
        self._select(current + delta)

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, where: int) -> None:
        if self.hits:
            self._select(where if where >= 0 else len(self.hits) + where)

    def action_pan(self, direction: int) -> None:
        if not self.wrap:
            step = max(1, self.scrollable_content_region.width // 2)
            self.scroll_to(x=max(0, self.scroll_offset.x + direction * step), animate=False)

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_open_record(self) -> None:
        hit = self.current()
        if hit is not None:
            if self.selected is None:
                self._select(len(self.hits) - 1)
            self.post_message(self.Opened(hit))


WORD_BREAK_WINDOW = 24
"""A wrapped row ends at a space when there is one in its last this-many columns."""


def wrap_starts(line: str, width: int) -> list[int]:
    """Where each wrapped row of `line` starts (and its length at the end): the first row is
    `width` columns, the others `width - len(WRAP_INDENT)` after the indent; a row ends after
    a space near its end when there is one, else where it is full."""
    if width <= len(WRAP_INDENT) + 1:
        return [0, len(line)]
    if not line.isascii():
        return _cell_starts(line, width)
    starts = [0]
    start, room = 0, width
    while len(line) - start > room:
        end = start + room
        space = line.rfind(" ", max(start + 1, end - WORD_BREAK_WINDOW), end)
        start = space + 1 if space > start else end
        starts.append(start)
        room = width - len(WRAP_INDENT)
    starts.append(len(line))
    return starts


def _cell_starts(line: str, width: int) -> list[int]:
    """`wrap_starts` by terminal cells, for lines with wide characters (no word breaks)."""
    starts = [0]
    room, used = width, 0
    for position, char in enumerate(line):
        size = get_character_cell_size(char)
        if used + size > room and used:
            starts.append(position)
            room, used = width - len(WRAP_INDENT), 0
        used += size
    starts.append(len(line))
    return starts


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
