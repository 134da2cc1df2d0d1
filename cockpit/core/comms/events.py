"""The event kinds the comms drafter and the postmortem add, and how to read them back.

They are plain strings folded here, not in `IncidentState`: the timeline shows them through
`describe()`'s default (`kind: summary`), so every payload carries a human `summary`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cockpit.core.incident import Kind
from cockpit.core.store import Event

FACT_SET = "comms.fact_set"
"""A human edited a comms fact: {name, value, summary}. An empty value clears the edit."""
AI_REWRITE_SHOWN = "comms.ai_rewrite"
"""The AI rewrite of a draft was shown (UNVERIFIED): {purpose, summary}."""

DRAFT_EDITED = "comms.draft_edited"
"""A human's edit of a draft, saved as they type (after a pause, or on leaving the editor):
{purpose, text, summary}. An empty text means the draft went back to the one from the facts
(`g`). A copy of the draft consumes the edit."""

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


def is_comms_copy(event: Event) -> bool:
    """True for a `command.copied` event that copied a comms draft (not a shell command)."""
    detail = event.payload.get("detail")
    return (
        event.kind == Kind.COMMAND_COPIED
        and isinstance(detail, dict)
        and detail.get("kind") == COMMS_KIND
    )


def comms_copies(events: Sequence[Event]) -> list[CommsCopy]:
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


def fact_set_payload(name: str, label: str, value: str) -> dict[str, Any]:
    """The payload of a `comms.fact_set` event, with a summary the timeline can show."""
    summary = f"comms fact '{label}' set to '{value}'" if value else f"comms fact '{label}' reset"
    return {"name": name, "value": value, "summary": summary}


def draft_edited_payload(purpose: str, text: str) -> dict[str, Any]:
    """The payload of a `comms.draft_edited` event (the summary is the same for every edit of
    a draft, so a run of them folds into one timeline row)."""
    what = f"{purpose} draft edited" if text else f"{purpose} draft back to the one from the facts"
    return {"purpose": purpose, "text": text, "summary": what}


def saved_drafts(events: Sequence[Event]) -> dict[str, str]:
    """The edited text of each draft that a restart must bring back: the latest edit of that
    draft after its last copy, unless it was a reset (an empty text)."""
    drafts: dict[str, str] = {}
    for event in events:
        if event.kind == DRAFT_EDITED:
            purpose = str(event.payload.get("purpose", ""))
            text = str(event.payload.get("text", ""))
            if text:
                drafts[purpose] = text
            else:
                drafts.pop(purpose, None)
        elif is_comms_copy(event):
            drafts.pop(str(event.payload.get("purpose", "")), None)
    return drafts


def ai_rewrite_payload(purpose: str) -> dict[str, Any]:
    """The payload of a `comms.ai_rewrite` event."""
    return {"summary": f"AI rewrite of the {purpose} shown (UNVERIFIED)", "purpose": purpose}


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
