"""The Comms pane: the drafter (`pane`), the root-cause cross-check under the draft
(`root_cause`, a widget that owns its workers and its full view), and the pane's dialogs."""

from cockpit.tui.panes.comms.dialogs import ActionItemInput, ActionItemScreen
from cockpit.tui.panes.comms.pane import CommsPane
from cockpit.tui.panes.comms.root_cause import RootCauseCheck, RootCauseCheckScreen

__all__ = [
    "ActionItemInput",
    "ActionItemScreen",
    "CommsPane",
    "RootCauseCheck",
    "RootCauseCheckScreen",
]
