"""The facts customer comms are written from, each with the source it came from.

Facts come from the event log (declared, contained, resolved, severity, copies) and, when log
sources are configured, from the logs (first error of the burst, share of requests failing,
affected services). Every fact can be overridden by a human (`comms.fact_set`), and the
override is shown as such. Reading the logs is I/O: `read_log_facts` runs in a worker thread;
folding the facts (`CommsFacts.from_state`) is pure and fast.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cockpit.core.comms.events import FACT_SET, is_comms_copy
from cockpit.core.config import CommsConfig, Config
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.runbook import Phase
from cockpit.core.store import Event

LOG_LOOKBACK = timedelta(hours=2)
"""How far before the incident was opened the logs are read for the first error."""


class CommsStatus(StrEnum):
    """The status-page vocabulary."""

    INVESTIGATING = "Investigating"
    IDENTIFIED = "Identified"
    MONITORING = "Monitoring"
    RESOLVED = "Resolved"


IMPACT_BY_SEVERITY = {
    "SEV1": "Major outage",
    "SEV2": "Partial outage",
    "SEV3": "Degraded performance",
    "SEV4": "Minor, no known customer impact",
}

# (name, label) in display order.
FACT_LABELS: dict[str, str] = {
    "status": "Status",
    "impact": "Impact",
    "start": "Started",
    "contained": "Contained",
    "recovered": "Recovered",
    "share": "Requests hit",
    "services": "Services",
    "next_update": "Next update",
}
TIME_FACTS = frozenset({"start", "contained", "recovered", "next_update"})
CADENCE_STATUSES = frozenset({CommsStatus.INVESTIGATING, CommsStatus.IDENTIFIED})
"""Statuses that promise a next update on a fixed cadence (until Monitoring)."""


def hhmm(moment: datetime) -> str:
    """`14:31 UTC`: how the drafts and the pane write a time."""
    return moment.astimezone(UTC).strftime("%H:%M UTC")


def stamp(moment: datetime) -> str:
    """`14:31Z`: a compact time for sources."""
    return moment.astimezone(UTC).strftime("%H:%MZ")


def ceil_minutes(moment: datetime, step: int = 5) -> datetime:
    """`moment` rounded up to the next multiple of `step` minutes (a time people can read)."""
    floor = moment.replace(second=0, microsecond=0)
    if floor != moment:
        floor += timedelta(minutes=1)
    return floor + timedelta(minutes=(-floor.minute) % step)


_TIME_TEXT = re.compile(
    r"^\s*(?:(?P<date>\d{4}-\d{2}-\d{2})[ T])?(?P<h>\d{1,2}):(?P<m>\d{2})(?::\d{2}(?:\.\d+)?)?"
    r"\s*(?:Z|UTC)?\s*$",
    re.IGNORECASE,
)


def parse_time_text(text: str, day: datetime) -> datetime | None:
    """A human-typed time ("14:31", "14:31 UTC", "2026-11-28 14:31") in UTC, or None.

    A time without a date is taken on `day`'s date.
    """
    match = _TIME_TEXT.match(text)
    if match is None:
        return None
    hour, minute = int(match["h"]), int(match["m"])
    if hour > 23 or minute > 59:
        return None
    if match["date"]:
        try:
            base = datetime.strptime(match["date"], "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            return None
    else:
        base = day.astimezone(UTC)
    return base.replace(hour=hour, minute=minute, second=0, microsecond=0)


@dataclass(frozen=True)
class Fact:
    """One fact: its value as text ("" when unknown), where it came from, and its time if any."""

    name: str
    label: str
    value: str
    source: str
    at: datetime | None = None
    edited: bool = False

    @property
    def known(self) -> bool:
        return bool(self.value.strip())


@dataclass(frozen=True)
class LogFacts:
    """What the logs say about the incident window (the result of `read_log_facts`)."""

    first_error: datetime | None = None
    """Onset of the error burst (the earliest one across services)."""
    first_error_service: str | None = None
    services: tuple[str, ...] = ()
    """Services with an error burst in the window."""
    errors: int = 0
    requests: int = 0
    window: tuple[datetime, datetime] | None = None
    """[start, end) the share was counted over."""
    notes: tuple[str, ...] = ()
    """Why something is unknown: no sources, no request pattern, a failed source..."""

    @property
    def share(self) -> float | None:
        """Errors / requests over the window, or None without requests."""
        return self.errors / self.requests if self.requests else None


def log_window(state: IncidentState, now: datetime) -> tuple[datetime, datetime]:
    """The span of logs worth reading: two hours before the incident opened up to recovery."""
    anchor = state.opened_at or (state.declared.at if state.declared else now)
    end = state.resolved.at if state.resolved else now
    return anchor - LOG_LOOKBACK, max(end, anchor)


def read_log_facts(config: Config, since: datetime, until: datetime) -> LogFacts:
    """Count error and request lines per minute and find the error burst. Blocking I/O.

    Uses the search engine's `minute_counts` and the deploy health's burst detection, with
    `HealthConfig.error_pattern` and `request_pattern`. Any failure becomes a note, not a raise.
    """
    if not config.sources:
        return LogFacts(notes=("no log sources configured",))
    from cockpit.core.deploys.health import find_burst, series_from_counts
    from cockpit.core.search.engine import minute_counts
    from cockpit.core.search.model import Query

    health = config.health
    try:
        errors = minute_counts(
            config, Query(pattern=health.error_pattern, regex=True, since=since, until=until)
        )
        requests = minute_counts(
            config, Query(pattern=health.request_pattern, regex=True, since=since, until=until)
        )
    except Exception as exc:  # a bad pattern or a broken source: say so, keep the rest
        return LogFacts(notes=(f"logs could not be counted: {exc}",))
    onsets: dict[str, datetime] = {}
    for service, error_counts in errors.items():
        if service is None:
            continue
        series = series_from_counts(service, requests.get(service) or Counter(), error_counts)
        burst = find_burst(series, health)
        if burst is not None:
            onsets[service] = burst.onset
    if not onsets:
        return LogFacts(notes=("no error burst found in the logs",))
    first_service = min(onsets, key=lambda name: (onsets[name], name))
    first = onsets[first_service]
    error_total = sum(
        count for name in onsets for minute, count in errors[name].items() if minute >= first
    )
    request_total = sum(
        count
        for name in onsets
        for minute, count in (requests.get(name) or Counter()).items()
        if minute >= first
    )
    return LogFacts(
        first_error=first,
        first_error_service=first_service,
        services=tuple(sorted(onsets)),
        errors=error_total,
        requests=request_total,
        window=(first, until),
    )


@dataclass
class CommsFacts:
    """Every fact, derived or edited, in display order."""

    facts: dict[str, Fact] = field(default_factory=dict)
    phase: Phase = Phase.ASSESS
    day: datetime | None = None
    """The incident's date (for the email's wording)."""

    def __getitem__(self, name: str) -> Fact:
        return self.facts[name]

    def __iter__(self) -> Iterator[Fact]:
        return iter(self.facts.values())

    @property
    def status(self) -> CommsStatus:
        """The status fact as the vocabulary (an edit that is not one of them is ignored)."""
        return _status(self.facts["status"].value) or CommsStatus.INVESTIGATING

    @property
    def in_review(self) -> bool:
        """True once the incident reached Review: only then may a cause be stated."""
        return self.phase == Phase.REVIEW

    @classmethod
    def from_state(
        cls,
        state: IncidentState,
        *,
        now: datetime,
        comms: CommsConfig | None = None,
        log_facts: LogFacts | None = None,
    ) -> CommsFacts:
        """Derive every fact from the event log (and the logs, when read), then apply edits."""
        comms = comms or CommsConfig()
        derived = _derived(state, now, comms, log_facts)
        edits = _edits(state.events)
        day = state.opened_at or now
        facts: dict[str, Fact] = {}
        for name, fact in derived.items():
            edit = edits.get(name)
            facts[name] = _apply_edit(fact, edit, day) if edit is not None else fact
        return cls(facts=facts, phase=state.phase, day=day)


def _status(text: str) -> CommsStatus | None:
    for status in CommsStatus:
        if text.strip().lower() == status.value.lower():
            return status
    return None


def _edits(events: list[Event]) -> dict[str, Event]:
    """The latest `comms.fact_set` per fact name; an empty value clears the edit."""
    edits: dict[str, Event] = {}
    for event in events:
        if event.kind != FACT_SET:
            continue
        name = str(event.payload.get("name", ""))
        if str(event.payload.get("value", "")).strip():
            edits[name] = event
        else:
            edits.pop(name, None)
    return edits


def _apply_edit(fact: Fact, edit: Event, day: datetime) -> Fact:
    value = str(edit.payload.get("value", "")).strip()
    source = f"edited by {edit.author} at {stamp(edit.ts)}"
    if fact.name == "status" and _status(value) is None:
        return replace(fact, source=f"{fact.source} (edit '{value}' ignored: not a status)")
    at = parse_time_text(value, day) if fact.name in TIME_FACTS else None
    if fact.name == "status":
        value = str(_status(value))
    elif at is not None:
        value = hhmm(at)
    return Fact(fact.name, fact.label, value, source, at=at, edited=True)


def _fact(name: str, value: str, source: str, at: datetime | None = None) -> Fact:
    return Fact(name, FACT_LABELS[name], value, source, at=at)


def _derived(
    state: IncidentState, now: datetime, comms: CommsConfig, logs: LogFacts | None
) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    rollback = next(
        (
            event
            for event in state.events
            if event.kind == Kind.COMMAND_COPIED
            and not is_comms_copy(event)
            and "rollback" in str(event.payload.get("purpose", "")).lower()
        ),
        None,
    )
    status, status_source = _derived_status(state, rollback is not None)
    facts["status"] = _fact("status", status.value, status_source)

    if state.severity and state.declared:
        impact = IMPACT_BY_SEVERITY.get(state.severity, state.severity)
        facts["impact"] = _fact(
            "impact",
            impact,
            f"from the severity: {state.severity} declared by {state.declared.by}",
        )
    else:
        facts["impact"] = _fact("impact", "", "not declared yet: no severity")

    if logs is not None and logs.first_error is not None:
        facts["start"] = _fact(
            "start",
            hhmm(logs.first_error),
            f"from logs: first errors of the burst on {logs.first_error_service}",
            at=logs.first_error,
        )
    elif (alert := _alert_start(state)) is not None:
        alert_at, alerter = alert
        facts["start"] = _fact(
            "start",
            hhmm(alert_at),
            f"from the alert raised by {alerter}: failing since {stamp(alert_at)}",
            at=alert_at,
        )
    elif state.declared:
        facts["start"] = _fact(
            "start",
            hhmm(state.declared.at),
            f"from the timeline: declared by {state.declared.by} at {stamp(state.declared.at)}",
            at=state.declared.at,
        )
    elif state.opened_at:
        opener = state.events[0].author if state.events else "?"
        facts["start"] = _fact(
            "start",
            hhmm(state.opened_at),
            f"from the timeline: opened by {opener} at {stamp(state.opened_at)}",
            at=state.opened_at,
        )
    else:
        facts["start"] = _fact("start", "", "unknown")

    rollback_text = (
        f"rollback copied by {rollback.author} at {stamp(rollback.ts)}" if rollback else ""
    )
    if state.contained:
        how = f"{rollback_text}, " if rollback_text else ""
        missing = "" if rollback_text else " (no rollback copy recorded)"
        facts["contained"] = _fact(
            "contained",
            hhmm(state.contained.at),
            f"from the timeline: {how}marked contained by {state.contained.by}"
            f" at {stamp(state.contained.at)}{missing}",
            at=state.contained.at,
        )
    elif rollback_text:
        facts["contained"] = _fact(
            "contained", "", f"{rollback_text}; not yet marked contained by a human"
        )
    else:
        facts["contained"] = _fact("contained", "", "not contained yet")

    if state.resolved:
        facts["recovered"] = _fact(
            "recovered",
            hhmm(state.resolved.at),
            f"from the timeline: marked resolved by {state.resolved.by}"
            f" at {stamp(state.resolved.at)}",
            at=state.resolved.at,
        )
    else:
        facts["recovered"] = _fact("recovered", "", "not recovered yet")

    if logs is not None and logs.share is not None and logs.window is not None:
        start, end = logs.window
        share = logs.share * 100
        facts["share"] = _fact(
            "share",
            f"about {share:.0f}%" if share >= 1 else "under 1%",
            f"from logs: {logs.errors:,} of {logs.requests:,} request lines were errors,"
            f" {stamp(start)}-{stamp(end)}",
        )
    else:
        reason = "; ".join(logs.notes) if logs is not None and logs.notes else "logs not read"
        facts["share"] = _fact("share", "", f"unknown: {reason}")

    if logs is not None and logs.services:
        facts["services"] = _fact(
            "services", ", ".join(logs.services), "from logs: services with an error burst"
        )
    else:
        facts["services"] = _fact("services", "", "unknown: name them")

    if status in CADENCE_STATUSES:
        due = ceil_minutes(now + timedelta(minutes=comms.cadence_minutes))
        facts["next_update"] = _fact(
            "next_update",
            hhmm(due),
            f"cadence: every {comms.cadence_minutes} min until Monitoring",
            at=due,
        )
    else:
        facts["next_update"] = _fact("next_update", "", f"no fixed cadence once {status.value}")
    return facts


def _derived_status(state: IncidentState, rollback_copied: bool) -> tuple[CommsStatus, str]:
    if state.resolved:
        return CommsStatus.RESOLVED, f"from the timeline: resolved by {state.resolved.by}"
    if state.contained:
        return CommsStatus.MONITORING, f"from the timeline: contained by {state.contained.by}"
    if state.phase in (Phase.VERIFY, Phase.REVIEW):
        return CommsStatus.MONITORING, f"from the phase: {state.phase.title}"
    if state.phase == Phase.FIX:
        return CommsStatus.IDENTIFIED, "from the phase: Fix"
    if rollback_copied:
        return CommsStatus.IDENTIFIED, "from the timeline: a rollback command was copied"
    return CommsStatus.INVESTIGATING, f"from the phase: {state.phase.title}"


def _alert_start(state: IncidentState) -> tuple[datetime, str] | None:
    """When the first alert says the failure began (`alert.fired` with `started_at`), if it does."""
    for event in state.events:
        if event.kind == "alert.fired" and isinstance(event.payload.get("started_at"), str):
            try:
                started = datetime.fromisoformat(event.payload["started_at"].replace("Z", "+00:00"))
            except ValueError:
                continue
            return (started if started.tzinfo else started.replace(tzinfo=UTC)), event.author
    return None
