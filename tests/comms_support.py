"""A demo-like incident for comms and postmortem tests: a fixed sequence of events, frozen times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.core.comms.events import COMMS_KIND, FACT_SET, STATUS_UPDATE, fact_set_payload
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.review.events import (
    ACTION_ITEM_ADDED,
    ROOT_CAUSE_STATED,
    action_item_payload,
    root_cause_payload,
)
from cockpit.core.store import EventStore

DAY = datetime(2026, 11, 28, tzinfo=UTC)


def at(hhmmss: str) -> datetime:
    """`"14:31:05"` on the demo day, UTC."""
    hours, minutes, seconds = (int(part) for part in hhmmss.split(":"))
    return DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds)


@dataclass
class SteppingClock:
    """A frozen clock the test moves by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


FIRST_UPDATE = (
    "Since 14:31 UTC, about 10% of requests to checkout have been failing. We are investigating"
    " and working to restore service; the cause is under investigation. We will post the next"
    " update by 15:15 UTC."
)

ROOT_CAUSE = (
    "The 14:29 deploy of checkout lowered the payments client timeout to 800ms."
    " Payments was down during the incident."
)

# (time, author, kind, payload) after `incident.opened` at 14:33:00 by alice.
DEMO_EVENTS: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "14:33:10",
        "alertmanager",
        "alert.fired",
        {"summary": "checkout 5xx ratio above 5% for 2 minutes"},
    ),
    (
        "14:35:00",
        "alice",
        Kind.DECLARED,
        {"severity": "SEV2", "detail": "checkout returns 5xx for about 10% of requests"},
    ),
    ("14:36:00", "alice", Kind.PHASE_CHANGED, {"phase": "contain"}),
    (
        "14:37:00",
        "alice",
        Kind.PIN_ADDED,
        {
            "source": "logs",
            "text": "2026-11-28T14:31:05Z level=error service=checkout status=504"
            ' msg="upstream timeout calling payments after 800ms"',
            "detail": {},
        },
    ),
    (
        "14:38:00",
        "bob",
        Kind.PIN_ADDED,
        {
            "source": "deploys",
            "text": "deploy of checkout 3f9e2ab at 14:29 UTC lowered the payments"
            " client timeout to 800ms",
            "detail": {"sha": "3f9e2ab"},
        },
    ),
    ("14:39:00", "alice", FACT_SET, fact_set_payload("start", "Started", "14:31")),
    ("14:39:30", "alice", FACT_SET, fact_set_payload("services", "Services", "checkout")),
    ("14:39:40", "alice", FACT_SET, fact_set_payload("share", "Requests hit", "about 10%")),
    (
        "14:40:00",
        "bob",
        Kind.COMMAND_COPIED,
        {
            "text": "kubectl rollout undo deploy/checkout --to-revision=41",
            "purpose": "rollback command",
            "findings": [],
            "detail": {"service": "checkout"},
        },
    ),
    (
        "14:41:00",
        "alice",
        Kind.COMMAND_COPIED,
        {
            "text": FIRST_UPDATE,
            "purpose": STATUS_UPDATE,
            "findings": [],
            "detail": {"kind": COMMS_KIND, "lint": [], "next_update": "2026-11-28T15:15:00+00:00"},
        },
    ),
    ("14:44:00", "alice", Kind.CONTAINED, {"detail": "rolled back checkout to b9c1d4e"}),
    ("14:45:00", "bob", Kind.PHASE_CHANGED, {"phase": "diagnose"}),
    (
        "14:47:00",
        "bob",
        Kind.NOTE_ADDED,
        {
            "text": "payments latency normal the whole time; the client timeout of 800ms in the"
            " deploy is too low"
        },
    ),
    ("14:52:00", "alice", Kind.PHASE_CHANGED, {"phase": "verify"}),
    ("14:58:00", "alice", Kind.RESOLVED, {"detail": "5xx back to 0.2% for 5 minutes"}),
    ("15:05:00", "alice", Kind.PHASE_CHANGED, {"phase": "review"}),
    ("15:10:00", "alice", ROOT_CAUSE_STATED, root_cause_payload(ROOT_CAUSE)),
    (
        "15:12:00",
        "bob",
        ACTION_ITEM_ADDED,
        action_item_payload(
            "Reject client timeouts below the callee's p99 latency in deploy checks",
            "bob",
            "2026-12-05",
        ),
    ),
    (
        "15:13:00",
        "alice",
        ACTION_ITEM_ADDED,
        action_item_payload(
            "Alert on checkout 5xx ratio above 2% for 3 minutes", "alice", "2026-12-12"
        ),
    ),
]


def build_demo_incident(
    path: Path, *, until: str | None = None
) -> tuple[EventStore, str, SteppingClock]:
    """The demo incident in a real store at `path`; events after `until` (HH:MM:SS) left out."""
    clock = SteppingClock(at("14:33:00"))
    store = EventStore(path, clock=clock)
    record = store.create_incident("Checkout: elevated 5xx errors", "alice")
    for when, author, kind, payload in DEMO_EVENTS:
        if until is not None and when > until:
            break
        clock.now = at(when)
        store.append(record.id, kind, payload, author)
    return store, record.id, clock


def demo_state(path: Path, *, until: str | None = None) -> tuple[IncidentState, SteppingClock]:
    """The demo incident folded into its state (the store is closed again)."""
    store, incident_id, clock = build_demo_incident(path, until=until)
    with store:
        return IncidentState.from_events(store.events(incident_id)), clock
