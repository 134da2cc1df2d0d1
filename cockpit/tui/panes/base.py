"""What every pane shares: the config, the clock, the incident snapshot (bound down), F1 help."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual.reactive import reactive
from textual.widget import Widget

from cockpit.core.incident import IncidentState

if TYPE_CHECKING:
    from cockpit.core.config import Config


class Pane(Widget, can_focus=False):
    """A top-level pane. The app sets `incident` to a new immutable snapshot whenever the event
    log changes; a pane's `watch_incident` redraws, and its workers take the snapshot along."""

    PANE_TITLE: ClassVar[str] = ""
    """Tab and border title."""
    HELP: ClassVar[str] = ""
    """Markdown shown by F1 while this pane has focus."""
    VIEWS: ClassVar[tuple[tuple[str, str], ...]] = ()
    """Full-screen views the pane opens, as (title, "module:Class"): the key map lists their
    keys under the pane's."""

    incident: reactive[IncidentState | None] = reactive(None)

    def __init__(
        self, config: Config | None, clock: Callable[[], datetime], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._config = config
        self.clock = clock
        self.border_title = self.PANE_TITLE

    @property
    def config(self) -> Config:
        """The validated config. None was given when the app composed this pane before its
        typed config was built (see `CockpitApp.config`): then it is the app's."""
        if self._config is None:
            return self.app.config  # type: ignore[attr-defined]
        return self._config

    @config.setter
    def config(self, config: Config) -> None:
        self._config = config
