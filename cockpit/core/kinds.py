"""The kinds of incident events (what `note` writes), apart from the state they fold into
(incident.py), so a command that only appends an event does not build the state's classes."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """Event kinds. Names are dotted and in the past tense: they record what happened."""

    OPENED = "incident.opened"
    RENAMED = "incident.renamed"
    DECLARED = "incident.declared"
    SEVERITY_CHANGED = "incident.severity_changed"
    ROLE_ASSIGNED = "incident.role_assigned"
    CONTAINED = "incident.contained"
    RESOLVED = "incident.resolved"
    PHASE_CHANGED = "phase.changed"
    ITEM_CHECKED = "checklist.checked"
    NOTE_ADDED = "note.added"
    PIN_ADDED = "pin.added"
    COMMAND_COPIED = "command.copied"
    SEARCH_RUN = "search.run"
    INJECT = "drill.inject"
    ALERT_FIRED = "alert.fired"
    """An alert summary recorded before alerts were objects (still read)."""
    ALERT_ATTACHED = "alert.attached"
    """An Alertmanager alert joined the incident (`opened_from`: the one it was opened from)."""
    ALERT_RESOLVED = "alert.resolved"
    ALERT_REFIRED = "alert.refired"
    """An alert of the incident fired again after it resolved or the incident was contained."""
