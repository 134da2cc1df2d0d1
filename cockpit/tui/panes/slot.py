"""A pane's place on screen, filled once its module is imported after the first frame.

Importing every pane (search engines, deploy health, comms lint, the AI loop) before the
first paint would cost about half a second; the slot draws the border and title at once and
mounts the real pane right after.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit.tui.panes.base import Pane

if TYPE_CHECKING:
    from cockpit.core.config import Config


@dataclass(frozen=True)
class PaneSpec:
    """Where a pane lives: its id, tab key and title, and `module:Class` to import it from."""

    pane_id: str
    key: str
    title: str
    target: str

    def load_class(self) -> type[Pane]:
        module_name, _, class_name = self.target.partition(":")
        pane_class = getattr(importlib.import_module(module_name), class_name)
        assert issubclass(pane_class, Pane), f"{self.target} is not a Pane"
        return pane_class


class PaneSlot(Pane):
    """Holds the border, title and incident for a pane until `load` mounts the real one."""

    def __init__(
        self, spec: PaneSpec, config: Config | None, clock: Callable[[], datetime]
    ) -> None:
        super().__init__(config, clock, id=spec.pane_id)
        self.spec = spec
        self.border_title = spec.title
        self.inner: Pane | None = None

    @property
    def help_text(self) -> str:
        return self.inner.HELP if self.inner is not None else ""

    def compose(self) -> ComposeResult:
        yield Static(Text(f"loading {self.spec.title}…", style="dim"), classes="pane-loading")

    _load_on_mount = False

    def on_mount(self) -> None:
        if self._load_on_mount:
            self.call_later(self.load)  # once mounted: `is_mounted` turns true after on_mount

    def load(self) -> None:
        """Import the pane's module and mount it here (on the UI thread, once); asked before
        the slot itself is mounted (slots mounted after the first frame), once it is."""
        if self.inner is None and not self.is_mounted:
            self._load_on_mount = True
            return
        if self.inner is not None or not (
            self.is_attached and self.is_running and self.is_parent_active
        ):
            return  # loaded already, or the app is shutting down
        self.inner = self.spec.load_class()(self.config, self.clock)
        self.query(".pane-loading").remove()
        self.mount(self.inner)
        # A reactive set before mount does not reach the watchers: hand the state over after.
        self.call_after_refresh(self.watch_incident)

    def watch_incident(self) -> None:
        if self.inner is not None:
            self.inner.incident = self.incident
