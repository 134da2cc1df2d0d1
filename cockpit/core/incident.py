"""Incident state as a projection of its events.

Nothing here is stored twice: phase, checklist, notes, pins, copies and the human decisions are
all folded from the event log, so two processes reading the same log see the same incident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from cockpit.core.kinds import Kind as Kind  # re-exported; kinds.py is `note`'s, alone
from cockpit.core.records import Record
from cockpit.core.runbook import Phase
from cockpit.core.store import Event

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
ROLES = {"incident_lead": "incident lead", "comms_lead": "comms lead"}
"""The incident roles a human assigns (`O`), by payload name, with the words shown for them."""
UNTITLED = "Untitled incident"
"""The title of an incident opened without one; declaring it asks for a name."""


class Status(StrEnum):
    """Where the incident stands, derived from the human decisions recorded."""

    OPEN = "open"
    DECLARED = "declared"
    CONTAINED = "contained"
    RESOLVED = "resolved"


class Decision(Record):
    """An explicit human decision: who made it and when."""

    _fields = ("by", "at", "detail")

    by: str
    at: datetime
    detail: str

    def __init__(
        self,
        by: str,
        at: datetime,
        detail: str = "",
    ) -> None:
        self.__dict__.update(
            by=by,
            at=at,
            detail=detail,
        )


class SeverityChange(Record):
    """The severity changed after declaring: from, to, why, who and when."""

    _fields = ("from_severity", "to_severity", "reason", "by", "at")

    from_severity: str
    to_severity: str
    reason: str
    by: str
    at: datetime

    def __init__(
        self,
        from_severity: str,
        to_severity: str,
        reason: str,
        by: str,
        at: datetime,
    ) -> None:
        self.__dict__.update(
            from_severity=from_severity,
            to_severity=to_severity,
            reason=reason,
            by=by,
            at=at,
        )


class RoleHolder(Record):
    """Who holds an incident role, who said so and when."""

    _fields = ("who", "by", "at")

    who: str
    by: str
    at: datetime

    def __init__(
        self,
        who: str,
        by: str,
        at: datetime,
    ) -> None:
        self.__dict__.update(
            who=who,
            by=by,
            at=at,
        )


class Note(Record):
    _fields = ("author", "at", "text")

    author: str
    at: datetime
    text: str

    def __init__(
        self,
        author: str,
        at: datetime,
        text: str,
    ) -> None:
        self.__dict__.update(
            author=author,
            at=at,
            text=text,
        )


class Pin(Record):
    """A piece of evidence pinned to the timeline: a log line, a signature, a deploy, a diff."""

    _fields = ("author", "at", "source", "text", "detail")

    author: str
    at: datetime
    source: str
    text: str
    detail: dict[str, Any]

    def __init__(
        self,
        author: str,
        at: datetime,
        source: str,
        text: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.__dict__.update(
            author=author,
            at=at,
            source=source,
            text=text,
            detail={} if detail is None else detail,
        )


class CopiedCommand(Record):
    _fields = ("author", "at", "text", "purpose", "findings")

    author: str
    at: datetime
    text: str
    purpose: str
    findings: tuple[str, ...]

    def __init__(
        self,
        author: str,
        at: datetime,
        text: str,
        purpose: str,
        findings: tuple[str, ...] = (),
    ) -> None:
        self.__dict__.update(
            author=author,
            at=at,
            text=text,
            purpose=purpose,
            findings=findings,
        )


class IncidentState(Record):
    """One immutable snapshot of an incident, folded from its events.

    `apply` returns a new snapshot per batch of events and never changes one in place, so the
    app, its panes and their workers can all hold the same snapshot, in any thread.
    """

    _fields = (
        "incident_id",
        "title",
        "drill",
        "opened_at",
        "severity",
        "declared",
        "contained",
        "resolved",
        "severity_changes",
        "roles",
        "resolve_warnings",
        "phase",
        "checked",
        "notes",
        "pins",
        "copies",
        "events",
        "last_seq",
    )

    incident_id: str
    title: str
    drill: bool
    opened_at: datetime | None
    severity: str | None
    declared: Decision | None
    contained: Decision | None
    resolved: Decision | None
    severity_changes: tuple[SeverityChange, ...]
    roles: Mapping[str, RoleHolder]
    """Role name (`ROLES`) to its current holder; a role set to nobody is absent."""
    resolve_warnings: tuple[str, ...]
    """What was missing when the incident was resolved anyway ("no verification recorded")."""
    phase: Phase
    checked: Mapping[Phase, frozenset[str]]
    notes: tuple[Note, ...]
    pins: tuple[Pin, ...]
    copies: tuple[CopiedCommand, ...]
    events: tuple[Event, ...]
    last_seq: int

    def __init__(
        self,
        incident_id: str = "",
        title: str = "",
        drill: bool = False,
        opened_at: datetime | None = None,
        severity: str | None = None,
        declared: Decision | None = None,
        contained: Decision | None = None,
        resolved: Decision | None = None,
        severity_changes: tuple[SeverityChange, ...] = (),
        roles: Mapping[str, RoleHolder] | None = None,
        resolve_warnings: tuple[str, ...] = (),
        phase: Phase = Phase.ASSESS,
        checked: Mapping[Phase, frozenset[str]] | None = None,
        notes: tuple[Note, ...] = (),
        pins: tuple[Pin, ...] = (),
        copies: tuple[CopiedCommand, ...] = (),
        events: tuple[Event, ...] = (),
        last_seq: int = 0,
    ) -> None:
        self.__dict__.update(
            incident_id=incident_id,
            title=title,
            drill=drill,
            opened_at=opened_at,
            severity=severity,
            declared=declared,
            contained=contained,
            resolved=resolved,
            severity_changes=severity_changes,
            roles={} if roles is None else roles,
            resolve_warnings=resolve_warnings,
            phase=phase,
            checked={} if checked is None else checked,
            notes=notes,
            pins=pins,
            copies=copies,
            events=events,
            last_seq=last_seq,
        )

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> IncidentState:
        """The snapshot after `events`, folded from nothing."""
        return cls().apply(events)

    @property
    def status(self) -> Status:
        if self.resolved:
            return Status.RESOLVED
        if self.contained:
            return Status.CONTAINED
        if self.declared:
            return Status.DECLARED
        return Status.OPEN

    def is_checked(self, phase: Phase, item: str) -> bool:
        return item in self.checked.get(phase, frozenset())

    def apply(self, events: Iterable[Event]) -> IncidentState:
        """A new snapshot with `events` folded in, or this one when none is new: an event at
        or below `last_seq` was applied already (polling can hand the same event over twice).
        Unknown kinds are kept on the timeline only."""
        fold: _Fold | None = None
        for event in events:
            if event.seq <= (fold.last_seq if fold else self.last_seq):
                continue
            fold = fold or _Fold(self)
            fold.add(event)
        return fold.snapshot() if fold else self


class _Fold:
    """A snapshot being extended by one batch: copied once, changed in place, frozen again."""

    def __init__(self, state: IncidentState) -> None:
        self.state = state
        self.last_seq = state.last_seq
        self.changes: dict[str, Any] = {}
        self.checked = {phase: set(items) for phase, items in state.checked.items()}
        self.notes = list(state.notes)
        self.pins = list(state.pins)
        self.copies = list(state.copies)
        self.events = list(state.events)
        self.severity_changes = list(state.severity_changes)
        self.roles = dict(state.roles)

    def snapshot(self) -> IncidentState:
        return self.state.replace(
            **self.changes,
            checked={phase: frozenset(items) for phase, items in self.checked.items()},
            notes=tuple(self.notes),
            pins=tuple(self.pins),
            copies=tuple(self.copies),
            events=tuple(self.events),
            severity_changes=tuple(self.severity_changes),
            roles=dict(self.roles),
            last_seq=self.last_seq,
        )

    def add(self, event: Event) -> None:
        self.last_seq = event.seq
        self.events.append(event)
        payload = event.payload
        decision = Decision(event.author, event.ts, str(payload.get("detail", "")))
        changes = self.changes
        match event.kind:
            case Kind.OPENED:
                changes["incident_id"] = event.incident_id
                changes["title"] = str(payload.get("title", ""))
                changes["drill"] = bool(payload.get("drill", False))
                changes["opened_at"] = event.ts
            case Kind.RENAMED:
                title = changes.get("title", self.state.title)
                changes["title"] = str(payload.get("title", "")) or title
            case Kind.DECLARED:
                changes["declared"] = decision
                changes["severity"] = str(payload.get("severity", "")) or None
            case Kind.CONTAINED:
                changes["contained"] = decision
            case Kind.SEVERITY_CHANGED:
                to = str(payload.get("to", ""))
                if to:
                    severity = changes.get("severity", self.state.severity)
                    self.severity_changes.append(
                        SeverityChange(
                            str(payload.get("from", "")) or (severity or ""),
                            to,
                            str(payload.get("reason", "")),
                            event.author,
                            event.ts,
                        )
                    )
                    changes["severity"] = to
            case Kind.ROLE_ASSIGNED:
                role, who = str(payload.get("role", "")), str(payload.get("who", "")).strip()
                if who:
                    self.roles[role] = RoleHolder(who, event.author, event.ts)
                else:
                    self.roles.pop(role, None)
            case Kind.RESOLVED:
                changes["resolved"] = decision
                changes["resolve_warnings"] = _strings(payload.get("unverified"))
            case Kind.PHASE_CHANGED:
                changes["phase"] = _phase(payload) or changes.get("phase", self.state.phase)
            case Kind.ITEM_CHECKED:
                phase = _phase(payload)
                if phase is None:
                    return  # a phase this version does not know: kept on the timeline only
                items = self.checked.setdefault(phase, set())
                item = str(payload.get("item", ""))
                if payload.get("checked", True):
                    items.add(item)
                else:
                    items.discard(item)
            case Kind.NOTE_ADDED:
                self.notes.append(Note(event.author, event.ts, str(payload.get("text", ""))))
            case Kind.PIN_ADDED:
                self.pins.append(
                    Pin(
                        event.author,
                        event.ts,
                        str(payload.get("source", "")),
                        str(payload.get("text", "")),
                        _mapping(payload.get("detail")),
                    )
                )
            case Kind.COMMAND_COPIED:
                self.copies.append(
                    CopiedCommand(
                        event.author,
                        event.ts,
                        str(payload.get("text", "")),
                        str(payload.get("purpose", "")),
                        _strings(payload.get("findings")),
                    )
                )


def describe(event: Event) -> str:
    """One line for the timeline: what happened, in words. The caller sanitizes for display."""
    p = event.payload
    match event.kind:
        case Kind.OPENED:
            return f"incident opened: {p.get('title', '')}" + (" (drill)" if p.get("drill") else "")
        case Kind.RENAMED:
            return f"incident renamed: {p.get('previous', '')} -> {p.get('title', '')}"
        case Kind.DECLARED:
            return f"incident DECLARED {p.get('severity', '')}".rstrip() + _detail(p)
        case Kind.CONTAINED:
            return "incident marked CONTAINED" + _detail(p)
        case Kind.SEVERITY_CHANGED:
            reason = f": {p.get('reason')}" if p.get("reason") else ""
            return f"severity changed {p.get('from', '?')} -> {p.get('to', '?')}{reason}"
        case Kind.ROLE_ASSIGNED:
            role = ROLES.get(str(p.get("role", "")), str(p.get("role", "")))
            who = p.get("who") or "nobody"
            return f"{role} is now {who}"
        case Kind.RESOLVED:
            unverified = _strings(p.get("unverified"))
            warning = f" WITHOUT VERIFICATION: {'; '.join(unverified)}" if unverified else ""
            return "incident marked RESOLVED" + _detail(p) + warning
        case Kind.PHASE_CHANGED:
            return f"phase -> {str(p.get('phase', '')).capitalize()}"
        case Kind.ITEM_CHECKED:
            mark = "checked" if p.get("checked", True) else "unchecked"
            return f"{mark} [{str(p.get('phase', '')).capitalize()}] {p.get('item', '')}"
        case Kind.NOTE_ADDED:
            return f"note: {p.get('text', '')}"
        case Kind.PIN_ADDED:
            return f"pinned from {p.get('source', '?')}: {p.get('text', '')}"
        case Kind.COMMAND_COPIED:
            findings = _strings(p.get("findings"))
            detail = p.get("detail")
            if isinstance(detail, dict) and detail.get("kind") == "comms":
                lint = _strings(detail.get("lint")) + findings
                linted = f" [lint: {'; '.join(lint)}]" if lint else " [lint clean]"
                what = p.get("purpose") or "comms draft"
                return f"{what} drafted and copied by {event.author}, not published{linted}"
            flagged = f" [flagged: {'; '.join(findings)}]" if findings else ""
            purpose = p.get("purpose") or "command"
            return f"copied, not executed ({purpose}): {p.get('text', '')}{flagged}"
        case Kind.ALERT_ATTACHED | Kind.ALERT_RESOLVED | Kind.ALERT_REFIRED:
            # The summary says it whole ("incident opened from alert X by alice").
            return str(p.get("summary") or event.kind)
        case _:
            summary = p.get("summary") or p.get("text") or ""
            return f"{event.kind}: {summary}" if summary else event.kind


def _phase(payload: dict[str, Any]) -> Phase | None:
    """The payload's phase, or None when it is missing or not one this version knows."""
    try:
        return Phase(str(payload.get("phase", "")))
    except ValueError:
        return None


def _mapping(value: Any) -> dict[str, Any]:
    """A copy of `value` if it is a JSON object, else empty (a payload is outside input)."""
    return dict(value) if isinstance(value, dict) else {}


def _strings(value: Any) -> tuple[str, ...]:
    """`value` as a tuple of strings: a list becomes its items, a lone string one item."""
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return (str(value),) if value else ()


def _detail(payload: dict[str, Any]) -> str:
    detail = payload.get("detail")
    return f" ({detail})" if detail else ""
