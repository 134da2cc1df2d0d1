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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from cockpit.core.comms.events import FACT_SET, STATUS_UPDATE, comms_copies, is_comms_copy
from cockpit.core.config import CommsConfig, Config
from cockpit.core.deploys.health import RECOVERY_MINUTES
from cockpit.core.incident import Decision, IncidentState, Kind
from cockpit.core.runbook import Phase
from cockpit.core.store import Event
from cockpit.core.timefmt import hhmm, hhmm_z

if TYPE_CHECKING:
    from cockpit.core.signals import SuspectDeploy

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
class ServiceShare:
    """One service's error burst: when it began and its error and request lines since then."""

    service: str
    onset: datetime
    errors: int
    requests: int
    recovered: datetime | None = None
    """When its errors went back under the threshold (the end of its impact window), if so."""

    @property
    def share(self) -> float | None:
        return self.errors / self.requests if self.requests else None


@dataclass(frozen=True)
class LogFacts:
    """What the logs say about the incident window (the result of `read_log_facts`)."""

    first_error: datetime | None = None
    """Onset of the error burst (the earliest one across services)."""
    first_error_service: str | None = None
    services: tuple[str, ...] = ()
    """Services with an error burst in the window, the first to fail first."""
    errors: int = 0
    requests: int = 0
    """Error and request lines of the first failing service since its onset: the share is
    that service's. Shares are never added up across services: a proxy in front of a failing
    service sees the same failed requests again."""
    window: tuple[datetime, datetime] | None = None
    """[start, end) the share was counted over: the impact window, from the first failing
    service's onset to its recovery (or the end of the logs read while it goes on)."""
    recovered: datetime | None = None
    """When every service with a burst was back under the error threshold (the latest of
    their recoveries); None while any still fails. From the data: UNVERIFIED until a human
    verifies recovery."""
    notes: tuple[str, ...] = ()
    """Why something is unknown: no sources, no request pattern, a failed source..."""
    by_service: tuple[ServiceShare, ...] = ()
    """Every service with a burst, the first to fail first."""
    suspect: SuspectDeploy | None = None
    """The top rollback candidate's suspect deploy, when services have deploy sources."""

    @property
    def share(self) -> float | None:
        """Errors / requests of the first failing service, or None without requests."""
        return self.errors / self.requests if self.requests else None


def log_window(state: IncidentState, now: datetime) -> tuple[datetime, datetime]:
    """The span of logs worth reading: two hours before the incident opened up to recovery."""
    anchor = state.opened_at or (state.declared.at if state.declared else now)
    end = state.resolved.at if state.resolved else now
    return anchor - LOG_LOOKBACK, max(end, anchor)


def read_log_facts(config: Config, since: datetime, until: datetime) -> LogFacts:
    """The log facts from the incident's signals (`read_signals`: error and request lines per
    minute, each service's burst, the suspect deploy). Blocking I/O; any failure is a note."""
    from cockpit.core.signals import read_signals  # deploys and search: off the pane's import

    signals = read_signals(config, since, until)
    if not signals.counted:
        return LogFacts(notes=tuple(signals.notes))
    onsets = {service: burst.onset for service, burst in signals.bursts.items()}
    if not onsets:
        return LogFacts(notes=("no error burst found in the logs",))
    suspect = signals.suspect
    errors, requests = signals.errors, signals.requests
    # First to fail first; in the same minute, the service whose own deploy is the suspect
    # (its callers and proxies fail with it).
    order = sorted(
        onsets,
        key=lambda name: (onsets[name], suspect is None or suspect.service != name, name),
    )
    recoveries = signals.recoveries

    def impact(name: str, counts: Counter[datetime] | None) -> int:
        """Lines in the service's impact window: from its onset to its recovery (minutes after
        recovery would dilute the share)."""
        end = recoveries.get(name)
        return sum(
            count
            for minute, count in (counts or Counter()).items()
            if minute >= onsets[name] and (end is None or minute < end)
        )

    shares = tuple(
        ServiceShare(
            name,
            onsets[name],
            impact(name, errors.get(name)),
            impact(name, requests.get(name)),
            recoveries.get(name),
        )
        for name in order
    )
    first = shares[0]
    every_recovered = all(share.recovered is not None for share in shares)
    return LogFacts(
        first_error=first.onset,
        first_error_service=first.service,
        services=tuple(order),
        errors=first.errors,
        requests=first.requests,
        window=(first.onset, first.recovered or until),
        recovered=max(share.recovered for share in shares if share.recovered)
        if every_recovered
        else None,
        by_service=shares,
        suspect=suspect,
        notes=tuple(signals.notes),
    )


@dataclass
class CommsFacts:
    """Every fact, derived or edited, in display order."""

    facts: dict[str, Fact] = field(default_factory=dict)
    phase: Phase = Phase.ASSESS
    day: datetime | None = None
    """The incident's date (for the email's wording)."""
    log_facts: LogFacts | None = None
    """What the logs (and deploys) said, for the postmortem's rows from the data."""
    recovery_verified: bool = False
    """True when a Verify phase, Verify checklist item or verification note came before the
    incident was resolved: only then do the drafts say the service operates normally."""

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
        return cls(
            facts=facts,
            phase=state.phase,
            day=day,
            log_facts=log_facts,
            recovery_verified=verification(state) is not None,
        )


def _status(text: str) -> CommsStatus | None:
    for status in CommsStatus:
        if text.strip().lower() == status.value.lower():
            return status
    return None


def _edits(events: Sequence[Event]) -> dict[str, Event]:
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
    source = f"edited by {edit.author} at {hhmm_z(edit.ts)}"
    if fact.name == "status" and _status(value) is None:
        return replace(fact, source=f"{fact.source} (edit '{value}' ignored: not a status)")
    at = parse_time_text(value, day) if fact.name in TIME_FACTS else None
    if fact.name == "status":
        value = str(_status(value))
    elif at is not None:
        value = f"{hhmm(at)} UTC"
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
        source = f"from the severity: {state.severity} declared by {state.declared.by}"
        if state.severity_changes:  # the latest severity counts, and says it changed
            change = state.severity_changes[-1]
            source = (
                f"from the severity: {change.to_severity}, changed from {change.from_severity} "
                f"by {change.by} at {hhmm(change.at)}"
            )
        facts["impact"] = _fact("impact", impact, source)
    else:
        facts["impact"] = _fact("impact", "", "not declared yet: no severity")

    alert = _alert_start(state)
    if logs is not None and logs.first_error is not None:
        # Customers were hit from the first error; an alert fires after its `for:` delay, so
        # it is named beside the logs, not instead of them.
        also = (
            f"; the alert raised by {alert[1]} says failing since {hhmm_z(alert[0])}"
            if alert is not None
            else ""
        )
        facts["start"] = _fact(
            "start",
            f"{hhmm(logs.first_error)} UTC",
            f"from logs: first errors of the burst on {logs.first_error_service}{also}",
            at=logs.first_error,
        )
    elif alert is not None:
        alert_at, alerter = alert
        facts["start"] = _fact(
            "start",
            f"{hhmm(alert_at)} UTC",
            f"from the alert raised by {alerter}: failing since {hhmm_z(alert_at)}",
            at=alert_at,
        )
    elif state.declared:
        facts["start"] = _fact(
            "start",
            f"{hhmm(state.declared.at)} UTC",
            f"from the timeline: declared by {state.declared.by} at {hhmm_z(state.declared.at)}",
            at=state.declared.at,
        )
    elif state.opened_at:
        opener = state.events[0].author if state.events else "?"
        facts["start"] = _fact(
            "start",
            f"{hhmm(state.opened_at)} UTC",
            f"from the timeline: opened by {opener} at {hhmm_z(state.opened_at)}",
            at=state.opened_at,
        )
    else:
        facts["start"] = _fact("start", "", "unknown")

    rollback_text = (
        f"rollback copied by {rollback.author} at {hhmm_z(rollback.ts)}" if rollback else ""
    )
    if state.contained:
        how = f"{rollback_text}, " if rollback_text else ""
        missing = "" if rollback_text else " (no rollback copy recorded)"
        facts["contained"] = _fact(
            "contained",
            f"{hhmm(state.contained.at)} UTC",
            f"from the timeline: {how}marked contained by {state.contained.by}"
            f" at {hhmm_z(state.contained.at)}{missing}",
            at=state.contained.at,
        )
    elif rollback_text:
        facts["contained"] = _fact(
            "contained", "", f"{rollback_text}; not yet marked contained by a human"
        )
    else:
        facts["contained"] = _fact("contained", "", "not contained yet")

    facts["recovered"] = _recovered_fact(state, logs)

    if logs is not None and logs.share is not None and logs.window is not None:
        start, end = logs.window
        service = logs.first_error_service
        others = "; ".join(
            f"{other.service}: {_percent(other.share)} from {hhmm_z(other.onset)}"
            for other in logs.by_service[1:]
            if other.share is not None
        )
        facts["share"] = _fact(
            "share",
            f"{_percent(logs.share)} of {service} requests" if service else _percent(logs.share),
            f"from logs: {logs.errors:,} of {logs.requests:,} {service or ''} request lines were"
            f" errors in the impact window {hhmm_z(start)}-{hhmm_z(end)}"
            + (" (onset to recovery)" if _first_recovered(logs) else " (onset to now)")
            + (f"; not added to {others} (it may carry the same requests)" if others else ""),
        )
    else:
        reason = "; ".join(logs.notes) if logs is not None and logs.notes else "logs not read"
        facts["share"] = _fact("share", "", f"unknown: {reason}")

    if logs is not None and logs.services:
        onsets = ""
        for index, share in enumerate(logs.by_service):
            if index:
                later = share.onset > logs.by_service[index - 1].onset
                onsets += ", then " if later else ", "
            onsets += f"{share.service} {hhmm_z(share.onset)}"
        facts["services"] = _fact(
            "services",
            ", ".join(logs.services),
            "from logs: services with an error burst, first to fail first"
            + (f" ({onsets})" if onsets else ""),
        )
    elif alerted := _alert_services(state):
        names, alertnames = alerted
        facts["services"] = _fact(
            "services",
            ", ".join(names),
            f"from the service label of the alert{'s' if len(alertnames) > 1 else ''} "
            f"{', '.join(alertnames)} (raised by Alertmanager); no error burst in the logs",
        )
    else:
        facts["services"] = _fact("services", "", "unknown: name them")

    times = update_times(state, status, now, comms.cadence_minutes)
    if times.promise is not None:
        facts["next_update"] = _fact(
            "next_update", f"{hhmm(times.promise)} UTC", times.basis, at=times.promise
        )
    else:
        facts["next_update"] = _fact("next_update", "", times.basis)
    return facts


def _recovered_fact(state: IncidentState, logs: LogFacts | None) -> Fact:
    """Recovery as the data shows it (errors back under the threshold, else the incident's
    alerts all resolved in Alertmanager), UNVERIFIED until a human verifies it; the resolve
    time only when the data says nothing. What the alerts did is named beside it."""
    from cockpit.core.alerts.incident import ALERT_SOURCE

    how = verification(state)
    checked = f"verified: {how}" if how else "UNVERIFIED: no human has verified recovery yet"
    alerts = _alerts_recovery(state)
    also = f"; {alerts}" if alerts else ""
    if logs is not None and logs.recovered is not None:
        which = ", ".join(
            f"{share.service} {hhmm_z(share.recovered)}"
            for share in logs.by_service
            if share.recovered is not None
        )
        return _fact(
            "recovered",
            f"{hhmm(logs.recovered)} UTC",
            f"from logs: errors back under the threshold ({which}); {checked}{also}",
            at=logs.recovered,
        )
    resolved = alerts_resolved(state)
    if resolved is not None:
        return _fact(
            "recovered",
            f"{hhmm(resolved)} UTC",
            f"from the alerts: every alert resolved ({ALERT_SOURCE}, {hhmm_z(resolved)}); "
            f"{checked}{also}",
            at=resolved,
        )
    if state.resolved:
        return _fact(
            "recovered",
            f"{hhmm(state.resolved.at)} UTC",
            f"from the timeline: {recovery_text(state, state.resolved)}{also}"
            + ("; the logs do not show a recovery" if logs is not None and logs.by_service else ""),
            at=state.resolved.at,
        )
    if logs is not None and logs.by_service:
        failing = [share.service for share in logs.by_service if share.recovered is None]
        return _fact(
            "recovered",
            "",
            f"not recovered yet: {', '.join(failing)} not back under the error threshold"
            f" for {RECOVERY_MINUTES} minutes{also}",
        )
    waiting = f"{alerts}; not yet marked resolved by a human" if alerts else ""
    return _fact("recovered", "", waiting or "not recovered yet")


def alerts_resolved(state: IncidentState) -> datetime | None:
    """When the last of the incident's alerts resolved (`alert.resolved`, as Alertmanager
    stopped reporting each); None while any still fires (or fired again) or none was attached."""
    from cockpit.core.alerts.incident import incident_alerts

    alerts = incident_alerts(state.events)
    if not alerts.all_resolved:
        return None
    return max((t.resolved_at for t in alerts.tracked if t.resolved_at is not None), default=None)


def _percent(share: float | None) -> str:
    if share is None:
        return "unknown"
    percent = share * 100
    return f"about {percent:.0f}%" if percent >= 1 else "under 1%"


@dataclass(frozen=True)
class UpdateTimes:
    """The one source of the next-update time: the pane's countdown, the fact and the draft."""

    due: datetime | None
    """When the next status update is due: the time the last copied one promised (else a
    cadence after it), or, before any copy, a cadence after the incident was declared."""
    promise: datetime | None
    """The next-update time a draft written now promises: `due`, unless `due` is less than
    half a cadence away (or past), because then the draft is the update that is due and
    promises the one after it, a cadence from now."""
    basis: str
    """Where the time comes from, in words (the fact's source)."""


def update_times(
    state: IncidentState, status: CommsStatus, now: datetime, cadence_minutes: int = 30
) -> UpdateTimes:
    """When the next status update is due and what a draft written at `now` promises."""
    if status not in CADENCE_STATUSES:
        return UpdateTimes(None, None, f"no fixed cadence once {status.value}")
    every = timedelta(minutes=cadence_minutes)
    copies = [copy for copy in comms_copies(state.events) if copy.purpose == STATUS_UPDATE]
    if copies:
        last = copies[-1]
        due = last.next_update or ceil_minutes(last.at + every)
        basis = (
            f"promised by the update {last.author} copied at {hhmm_z(last.at)}"
            if last.next_update
            else f"{cadence_minutes} min after the update {last.author} copied at {hhmm_z(last.at)}"
        )
    else:
        anchor = state.declared.at if state.declared else state.opened_at or now
        due = ceil_minutes(anchor + every)
        how = "declared" if state.declared else "opened"
        basis = f"first update, {cadence_minutes} min after the incident was {how}"
    if due - now >= every / 2:
        return UpdateTimes(
            due, due, f"cadence: {basis}; every {cadence_minutes} min until Monitoring"
        )
    promise = ceil_minutes(now + every)
    return UpdateTimes(
        due,
        promise,
        f"cadence: this draft is the update due {hhmm(due)} UTC; it promises the next one"
        f" {cadence_minutes} min later",
    )


def promise_moved(
    state: IncidentState, facts: CommsFacts, now: datetime, cadence_minutes: int = 30
) -> bool:
    """True when a draft written at `now` would promise another next-update time than `facts`
    say (the due time came within half a cadence), unless a human set that time."""
    if facts["next_update"].edited:
        return False
    times = update_times(state, facts.status, now, cadence_minutes)
    return times.promise != facts["next_update"].at


def verification(state: IncidentState) -> str | None:
    """How recovery was verified before the incident was resolved, in words, or None.

    A Verify checklist item checked, the Verify phase entered, or a note that says it
    verified, before the resolve (or at any time while not resolved yet).
    """
    end = state.resolved.at if state.resolved else None
    checked, entered, noted = [], None, None
    for event in state.events:
        if end is not None and event.ts > end:
            break
        phase = str(event.payload.get("phase", ""))
        if (
            event.kind == Kind.ITEM_CHECKED
            and phase == Phase.VERIFY
            and event.payload.get("checked", True)
        ):
            checked.append(event)
        elif event.kind == Kind.PHASE_CHANGED and phase == Phase.VERIFY and entered is None:
            entered = event
        elif (
            event.kind == Kind.NOTE_ADDED
            and noted is None
            and _VERIFIED_NOTE.search(str(event.payload.get("text", "")))
        ):
            noted = event
    if checked:
        last = checked[-1]
        return (
            f"{len(checked)} Verify checklist item(s) checked, the last by {last.author}"
            f" at {hhmm_z(last.ts)}"
        )
    if entered is not None:
        return f"Verify phase entered by {entered.author} at {hhmm_z(entered.ts)}"
    if noted is not None:
        return f"verification note by {noted.author} at {hhmm_z(noted.ts)}"
    return None


_VERIFIED_NOTE = re.compile(r"\bverif(?:y|ied|ies|ication)\b", re.IGNORECASE)


def recovery_text(state: IncidentState, resolved: Decision) -> str:
    """`marked resolved at 14:58Z by alice after ...`, or `(no verification recorded)`."""
    marked = f"marked resolved at {hhmm_z(resolved.at)} by {resolved.by}"
    how = verification(state)
    return f"{marked}; verified: {how}" if how else f"{marked} (no verification recorded)"


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
    """When the alert says the failure began (the `startsAt` of the alert the incident was
    opened from, else the first alert's), and who raised it (Alertmanager)."""
    from cockpit.core.alerts.incident import alert_start

    found = alert_start(state)
    return (found.at, found.by) if found is not None else None


def _first_recovered(logs: LogFacts) -> datetime | None:
    """When the first failing service (the share's) recovered: the end of its impact window."""
    return logs.by_service[0].recovered if logs.by_service else logs.recovered


def _alert_services(state: IncidentState) -> tuple[list[str], list[str]] | None:
    """The services the incident's alerts name (the opened-from alert's first) and the alerts
    that name them, or None when no alert carries a service label."""
    from cockpit.core.alerts.incident import incident_alerts
    from cockpit.core.sanitize import visible

    mine = incident_alerts(state.events)
    ordered = ([mine.opened_from] if mine.opened_from else []) + list(mine.tracked)
    names: list[str] = []
    alertnames: list[str] = []
    for tracked in ordered:
        if tracked is None or not tracked.alert.service:
            continue
        # Labels are outside text: they reach drafts a human copies, so they stay inert.
        service = visible(tracked.alert.service, 60).replace(",", " ")
        if service not in names:
            names.append(service)
        alertname = visible(tracked.alert.alertname, 60)
        if alertname not in alertnames:
            alertnames.append(alertname)
    return (names, alertnames) if names else None


def _alerts_recovery(state: IncidentState) -> str:
    """What the incident's alerts did, for the recovered fact: resolved when, or fired again."""
    from cockpit.core.alerts.incident import resolution_lines

    lines = resolution_lines(state)
    return f"alerts: {'; '.join(lines)}" if lines else ""
