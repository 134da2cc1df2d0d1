"""The Logs pane's NEW mark as an event: signatures first seen after it are marked NEW.

Chosen once (a deploy picked from the list, or a typed time), it is recorded as
`logs.new_mark_set`, so it survives a restart and a pairing partner's Logs pane marks the
same signatures NEW.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cockpit.core.store import Event
from cockpit.core.timefmt import hhmm, iso_utc, parse_iso

NEW_MARK_SET = "logs.new_mark_set"
"""The NEW mark was set: {at (ISO, or null: the incident's start), label, summary}."""


@dataclass(frozen=True)
class NewMark:
    """When signatures count as NEW from, and the deploy it was picked from, if any."""

    at: datetime | None
    """None: from the incident's start (the default)."""
    label: str | None = None


def new_mark_payload(at: datetime | None, label: str | None) -> dict[str, Any]:
    """The payload of a `logs.new_mark_set` event, with a summary for the timeline."""
    if at is None:
        summary = "log signatures marked NEW since the incident started"
    else:
        what = f"{label} " if label else ""
        summary = f"log signatures marked NEW since {what}{hhmm(at)} UTC"
    return {"at": iso_utc(at) if at else None, "label": label, "summary": summary}


def latest_new_mark(events: Iterable[Event]) -> NewMark | None:
    """The NEW mark the latest `logs.new_mark_set` event set, or None when none was set."""
    mark: NewMark | None = None
    for event in events:
        if event.kind != NEW_MARK_SET:
            continue
        raw = event.payload.get("at")
        try:
            at = parse_iso(raw) if isinstance(raw, str) else None
        except ValueError:
            continue  # a payload from outside that is not a time: ignored
        label = event.payload.get("label")
        mark = NewMark(at, str(label) if isinstance(label, str) and label else None)
    return mark
