"""The Logs pane's error patterns: one row per signature, NEW against the chosen mark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widget import Widget
from textual.widgets import DataTable

from cockpit.core.patterns.display import short_template, short_templates
from cockpit.core.sanitize import safe_text, visible
from cockpit.core.timefmt import hhmm
from cockpit.tui.panes.hit_log import iso_z
from cockpit.tui.panes.log_stream import PATTERN_LINE_LIMIT, PatternRow, PatternsFound

TEMPLATE_MIN_CHARS = 24
TEMPLATE_MAX_CHARS = 200


def _minute(ts: datetime | None) -> str:
    return hhmm(ts) if ts else "--:--"


MIN_ELIDED = 6
"""A shared prefix shorter than this is shown: eliding it would save next to nothing."""


def shared_prefixes(keys: Sequence[str]) -> list[str]:
    """For each signature, the longest run of leading words it shares with a sibling row
    (`error checkout:` of `error checkout: upstream timeout after <dur>`), or "". The rest is
    what tells the row apart, so that is what the narrow column shows first."""
    words = [key.split(" ") for key in keys]
    prefixes = []
    for index, mine in enumerate(words):
        best = 0
        for other_index, other in enumerate(words):
            if other_index == index:
                continue
            same = 0
            # Leave at least one word: a row is never elided to nothing.
            while same < min(len(mine) - 1, len(other)) and mine[same] == other[same]:
                same += 1
            best = max(best, same)
        prefix = " ".join(mine[:best])
        prefixes.append(prefix if len(prefix) >= MIN_ELIDED else "")
    return prefixes


def signature_cell(key: str, prefix: str, width: int = TEMPLATE_MAX_CHARS) -> Text:
    """The distinctive part first (`…upstream timeout after <*>`), the shared prefix after
    it, dim, in brackets, all in `width` characters: the distinctive part is cut only when it
    alone is wider, the prefix first. The whole key (fitted) when nothing is shared."""
    if not prefix:
        return safe_text(short_template(key, width), max_len=TEMPLATE_MAX_CHARS)
    rest = key[len(prefix) :].lstrip()
    cell = Text("…", style="dim")
    cell.append_text(safe_text(short_template(rest, width - 1), max_len=TEMPLATE_MAX_CHARS))
    room = width - cell.cell_len - len("  […]")
    if room >= MIN_ELIDED:
        cell.append("  [", style="dim")
        cell.append_text(safe_text(short_template(prefix, room + 1), None, style="dim"))
        cell.append("]", style="dim")
    return cell


class PatternTable(DataTable[Text]):
    """Signatures with count, NEW, first and last seen, a per-minute trend; a row cursor."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.rows_shown: tuple[PatternRow, ...] = ()
        """The signatures on screen, in row order (the notes below them are not rows)."""
        self._painted: tuple[PatternsFound, datetime | None, int] | None = None
        """What was painted last, and at which template width."""

    def on_mount(self) -> None:
        # The short columns come first and the signature last: it can be long, and at 80
        # columns it is cut at the edge instead of pushing First/Last out of sight.
        for label in ("Count", "", "First", "Last", "Trend", "Signature"):
            self.add_column(label)

    def forget(self) -> None:
        """Empty, for a new search."""
        self.rows_shown = ()
        self._painted = None
        self.clear()

    def on_resize(self) -> None:
        # The templates are fitted to the width: fit them again (a maximized pane, `z`).
        if self._painted is not None and self._painted[2] != self._template_chars():
            self.paint(*self._painted[:2])

    def paint(self, found: PatternsFound, mark: datetime | None) -> None:
        """Show the snapshot `found`, marking NEW what was first seen at or after `mark`."""
        # Same rule as PatternIndex.is_new: a signature's first_seen is its earliest line, so
        # "first seen at or after the mark" means "never seen before it". Recomputed here so
        # a mark chosen after the search (a deploy) applies at once.
        self.rows_shown = tuple(
            replace(
                row,
                new=mark is not None and row.first_seen is not None and row.first_seen >= mark,
            )
            for row in found.rows
        )
        cursor = self.cursor_row
        self.clear()
        # The signature column gets what the short columns leave; each row leads with what
        # tells it from its siblings, the prefix it shares with them after it (or cut).
        keys = [row.key for row in self.rows_shown]
        self._painted = (found, mark, self._template_chars())
        width = min(self._painted[2], TEMPLATE_MAX_CHARS)
        shown = zip(
            self.rows_shown, shared_prefixes(keys), short_templates(keys, width), strict=True
        )
        for row, prefix, template in shown:
            self.add_row(
                Text(f"{row.count:,}"),
                Text("NEW", style="bold yellow") if row.new else Text(""),
                Text(_minute(row.first_seen)),
                Text(_minute(row.last_seen)),
                Text(row.trend, style="cyan"),
                signature_cell(row.key, prefix, width)
                if prefix
                else safe_text(template, max_len=TEMPLATE_MAX_CHARS),
            )
        blank = Text("")
        if found.total >= PATTERN_LINE_LIMIT:
            note = f"(signatures from the first {PATTERN_LINE_LIMIT:,} matching lines only)"
            self.add_row(blank, blank, blank, blank, blank, Text(note, style="dim"))
        if found.hidden:
            note = f"({found.hidden:,} more signatures not shown, each rarer than these)"
            self.add_row(blank, blank, blank, blank, blank, Text(note, style="dim"))
        if found.untracked:
            self.add_row(
                Text(f"{found.untracked:,}"),
                blank,
                blank,
                blank,
                blank,
                Text("(lines of more distinct shapes than the index tracks)", style="dim"),
            )
        if found.rows:
            self.move_cursor(row=min(cursor, len(found.rows) - 1))

    def _template_chars(self) -> int:
        """What the template column can show: the table's width less the short columns
        (each with its padding) and a scrollbar."""
        # The views' switcher has its width even while the table is hidden (lines view).
        width = self.size.width
        if not width and isinstance(self.parent, Widget):
            width = self.parent.size.width
        count = max([5, *(len(f"{row.count:,}") for row in self.rows_shown)])
        short = count + len("NEW") + len("--:--") * 2 + 12  # 12: the trend
        return max(TEMPLATE_MIN_CHARS, width - short - 2 * 6 - 2)

    def selected(self) -> PatternRow | None:
        """The signature under the cursor, or None."""
        if 0 <= self.cursor_row < len(self.rows_shown):
            return self.rows_shown[self.cursor_row]
        return None


def signature_evidence(row: PatternRow, pattern: str | None) -> dict[str, Any]:
    """The detail a pinned signature carries: counts, when, NEW, an example, the search."""
    return {
        "kind": "log signature",
        "count": row.count,
        "first_seen": iso_z(row.first_seen),
        "last_seen": iso_z(row.last_seen),
        "new": row.new,
        "example": visible(row.example.text),
        "example_source": row.example.source,
        "query": pattern,
    }


def signature_context(key: str, count: int) -> Text:
    """The line above an example's record: which signature it stands for, in full."""
    context = Text("example of the signature ", style="dim")
    context.append_text(safe_text(key, max_len=600, style="bold"))
    context.append(f" · {count:,} lines", style="dim")
    return context
