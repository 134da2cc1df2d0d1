"""The Logs pane's error patterns: one row per signature, NEW against the chosen mark."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widget import Widget
from textual.widgets import DataTable

from cockpit.core.patterns.display import short_templates
from cockpit.core.sanitize import safe_text, visible
from cockpit.core.timefmt import hhmm
from cockpit.tui.panes.hit_log import iso_z
from cockpit.tui.panes.log_stream import PATTERN_LINE_LIMIT, PatternRow, PatternsFound

TEMPLATE_MIN_CHARS = 24
TEMPLATE_MAX_CHARS = 200


def _minute(ts: datetime | None) -> str:
    return hhmm(ts) if ts else "--:--"


class PatternTable(DataTable[Text]):
    """Signatures with count, NEW, first and last seen, a per-minute trend; a row cursor."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.rows_shown: tuple[PatternRow, ...] = ()
        """The signatures on screen, in row order (the notes below them are not rows)."""

    def on_mount(self) -> None:
        # The short columns come first and the signature last: it can be long, and at 80
        # columns it is cut at the edge instead of pushing First/Last out of sight.
        for label in ("Count", "", "First", "Last", "Trend", "Signature"):
            self.add_column(label)

    def forget(self) -> None:
        """Empty, for a new search."""
        self.rows_shown = ()
        self.clear()

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
        # The template column gets what the short columns leave; a long template keeps the
        # tokens that tell it from its neighbours (`pam_unix(sshd:auth): … user=<*>`).
        shown = short_templates([row.key for row in self.rows_shown], self._template_chars())
        for row, template in zip(self.rows_shown, shown, strict=True):
            self.add_row(
                Text(f"{row.count:,}"),
                Text("NEW", style="bold yellow") if row.new else Text(""),
                Text(_minute(row.first_seen)),
                Text(_minute(row.last_seen)),
                Text(row.trend, style="cyan"),
                safe_text(template, max_len=TEMPLATE_MAX_CHARS),
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
