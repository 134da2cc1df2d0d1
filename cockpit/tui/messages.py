"""Messages any pane posts upward to the app. Panes never reach into their siblings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

PROSE_KINDS = frozenset({"comms", "log line"})
"""`CopyRequested.detail["kind"]` values that are words, not commands: the banner says
"COPIED" (never "NOT EXECUTED") and only hidden or look-alike characters are flagged."""


@dataclass
class CopyRequested(Message):
    """Copy `text` to the clipboard (OSC 52): checked, shown in full, recorded; never executed."""

    text: str
    purpose: str
    """What the text is, for the timeline: "rollback command", "status update", ..."""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class PinRequested(Message):
    """Pin a piece of evidence (a log line, a signature, a deploy, a diff) to the timeline."""

    source: str
    text: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class RecordRequested(Message):
    """Append one event of `kind` to the incident's log (the app writes it in a worker)."""

    kind: str
    payload: dict[str, Any]
    saved_message: str | None = "saved"
    """Said once the event is committed; None records quietly (high-rate events)."""


@dataclass
class ErrorsRead(Message):
    """Health was read: each service's error ratio over the last few minutes (the Deploys
    pane posts it; resolving says what is still failing)."""

    errors: dict[str, float]
