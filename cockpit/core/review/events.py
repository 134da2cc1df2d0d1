"""The review event kinds: the root cause as a human stated it, and the action items.

Plain strings folded here, not in `IncidentState`: the timeline shows them through
`describe()`'s default (`kind: summary`), so every payload carries a human `summary`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cockpit.core.store import Event

ACTION_ITEM_ADDED = "action_item.added"
"""An action item for the postmortem: {text, owner, due (YYYY-MM-DD), summary}."""


ROOT_CAUSE_STATED = "review.root_cause"
"""The root cause in a human's words: {text, summary}. The latest one counts."""


@dataclass(frozen=True)
class ActionItem:
    """One follow-up: what, who owns it, by when, and who wrote it down."""

    text: str
    owner: str
    due: str
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class RootCause:
    """The root cause as a human stated it."""

    text: str
    by: str
    at: datetime


def action_items(events: Sequence[Event]) -> list[ActionItem]:
    """Every action item added, oldest first."""
    return [
        ActionItem(
            text=str(event.payload.get("text", "")),
            owner=str(event.payload.get("owner", "")),
            due=str(event.payload.get("due", "")),
            added_by=event.author,
            added_at=event.ts,
        )
        for event in events
        if event.kind == ACTION_ITEM_ADDED
    ]


def root_cause(events: Sequence[Event]) -> RootCause | None:
    """The most recently stated root cause, or None."""
    found = None
    for event in events:
        if event.kind == ROOT_CAUSE_STATED and str(event.payload.get("text", "")).strip():
            found = RootCause(str(event.payload["text"]).strip(), event.author, event.ts)
    return found


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_RELATIVE_DUE = re.compile(
    r"^\+?\s*(?P<n>\d{1,3})\s*(?P<unit>d|days?|w|wks?|weeks?)$", re.IGNORECASE
)


def parse_due(text: str, today: date) -> date:
    """A due date from `2026-12-05`, or relative to `today`: `+3d`, `3d`, `1w`, `+2w`.

    Raises ValueError with a one-line message naming what was typed.
    """
    typed = text.strip()
    if not typed:
        raise ValueError("due date is required: YYYY-MM-DD, or +3d / 1w from today")
    relative = _RELATIVE_DUE.match(typed)
    if relative is not None:
        days = int(relative["n"]) * (7 if relative["unit"].lower().startswith("w") else 1)
        return today + timedelta(days=days)
    shown = typed if len(typed) <= 30 else typed[:29] + "…"
    if not _ISO_DATE.match(typed):
        raise ValueError(f"due date '{shown}' is not a date: use YYYY-MM-DD, or +3d / 1w")
    try:
        due = date.fromisoformat(typed)
    except ValueError:
        raise ValueError(f"due date '{shown}' does not exist on the calendar") from None
    if due < today:
        raise ValueError(f"due date {due.isoformat()} is in the past (today is {today})")
    return due


def iso_due(text: str) -> str:
    """The due date as YYYY-MM-DD for a tracker, or "" when the text recorded is not one (an
    item saved before due dates were checked)."""
    typed = text.strip()
    if not _ISO_DATE.match(typed):
        return ""
    try:
        return date.fromisoformat(typed).isoformat()
    except ValueError:
        return ""


def action_item_payload(text: str, owner: str, due: str) -> dict[str, Any]:
    """The payload of an `action_item.added` event."""
    return {
        "text": text,
        "owner": owner,
        "due": due,
        "summary": f"action item: {text} (owner {owner or '?'}, due {due or '?'})",
    }


def root_cause_payload(text: str) -> dict[str, Any]:
    """The payload of a `review.root_cause` event."""
    return {"text": text, "summary": f"root cause stated: {text}"}
