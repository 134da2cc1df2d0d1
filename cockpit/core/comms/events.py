"""The event kinds the comms drafter and the postmortem add, and how to read them back.

They are plain strings folded here, not in `IncidentState`: the timeline shows them through
`describe()`'s default (`kind: summary`), so every payload carries a human `summary`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cockpit.core.incident import Kind
from cockpit.core.store import Event

FACT_SET = "comms.fact_set"
"""A human edited a comms fact: {name, value, summary}. An empty value clears the edit."""
ACTION_ITEM_ADDED = "action_item.added"
"""An action item for the postmortem: {text, owner, due (YYYY-MM-DD), summary}."""
ROOT_CAUSE_STATED = "review.root_cause"
"""The root cause in a human's words: {text, summary}. The latest one counts."""
AI_REWRITE_SHOWN = "comms.ai_rewrite"
"""The AI rewrite of a draft was shown (UNVERIFIED): {purpose, summary}."""

COMMS_KIND = "comms"
"""`detail["kind"]` of a `command.copied` event that copied a comms draft."""
STATUS_UPDATE = "status update"
CUSTOMER_EMAIL = "customer email"
DRAFT_PURPOSES = (STATUS_UPDATE, CUSTOMER_EMAIL)


@dataclass(frozen=True)
class CommsCopy:
    """A comms draft a human copied (to send themselves): the cockpit never publishes."""

    author: str
    at: datetime
    purpose: str
    text: str
    lint: tuple[str, ...]
    next_update: datetime | None


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


def is_comms_copy(event: Event) -> bool:
    """True for a `command.copied` event that copied a comms draft (not a shell command)."""
    detail = event.payload.get("detail")
    return (
        event.kind == Kind.COMMAND_COPIED
        and isinstance(detail, dict)
        and detail.get("kind") == COMMS_KIND
    )


def comms_copies(events: list[Event]) -> list[CommsCopy]:
    """Every comms draft copied, oldest first."""
    copies = []
    for event in events:
        if not is_comms_copy(event):
            continue
        detail = event.payload.get("detail") or {}
        copies.append(
            CommsCopy(
                author=event.author,
                at=event.ts,
                purpose=str(event.payload.get("purpose", "")),
                text=str(event.payload.get("text", "")),
                lint=_strings(detail.get("lint")),
                next_update=_parse_iso(detail.get("next_update")),
            )
        )
    return copies


def action_items(events: list[Event]) -> list[ActionItem]:
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


def root_cause(events: list[Event]) -> RootCause | None:
    """The most recently stated root cause, or None."""
    found = None
    for event in events:
        if event.kind == ROOT_CAUSE_STATED and str(event.payload.get("text", "")).strip():
            found = RootCause(str(event.payload["text"]).strip(), event.author, event.ts)
    return found


def fact_set_payload(name: str, label: str, value: str) -> dict[str, Any]:
    """The payload of a `comms.fact_set` event, with a summary the timeline can show."""
    summary = f"comms fact '{label}' set to '{value}'" if value else f"comms fact '{label}' reset"
    return {"name": name, "value": value, "summary": summary}


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


def ai_rewrite_payload(purpose: str) -> dict[str, Any]:
    """The payload of a `comms.ai_rewrite` event."""
    return {"summary": f"AI rewrite of the {purpose} shown (UNVERIFIED)", "purpose": purpose}


def root_cause_payload(text: str) -> dict[str, Any]:
    """The payload of a `review.root_cause` event."""
    return {"text": text, "summary": f"root cause stated: {text}"}


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return (str(value),) if value else ()


def _parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
