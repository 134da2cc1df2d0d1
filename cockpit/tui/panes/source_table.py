"""The Logs pane's per-source progress: state, exact count, and the latest warning or error."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from cockpit.core.sanitize import safe_text
from cockpit.core.search.model import SourceState, SourceStatus

STATE_STYLES = {
    SourceState.PENDING: "dim",
    SourceState.RUNNING: "bold",
    SourceState.DONE: "green",
    SourceState.ERROR: "bold red",
}
COLUMNS = ("source", "state", "count", "note")


class SourceTable(DataTable[Text]):
    """One row per source, updated in place as statuses change."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="none", show_cursor=False, **kwargs)

    def on_mount(self) -> None:
        for key in COLUMNS:
            self.add_column(key.capitalize(), key=key)

    def show(self, status: SourceStatus, *, known: bool) -> None:
        """Show `status`: a new row, or (`known`) its row updated."""
        state = Text(status.state.value, style=STATE_STYLES.get(status.state, ""))
        note = status.error or (status.warnings[-1] if status.warnings else "")
        if status.warnings and not status.error and len(status.warnings) > 1:
            note = f"{note} (+{len(status.warnings) - 1} warnings)"
        cells = (
            safe_text(status.source, max_len=30),
            state,
            Text(f"{status.count:,}"),
            safe_text(note, max_len=200, style="red" if status.error else "yellow"),
        )
        if known:
            for column, value in zip(COLUMNS, cells, strict=True):
                self.update_cell(status.source, column, value)
        else:
            self.add_row(*cells, key=status.source)
