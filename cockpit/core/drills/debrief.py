"""The drill debrief: what the team did, when, measured against the scenario's truth.

Read after the drill only: the truth comes from the scenario file, the culprit deploy from the
sandbox's own deploy log, and the team's actions from the drill incident's events. Times are
reported in drill minutes: a drill runs the cockpit on a drill clock (the sandbox's `now` plus
wall time x speed), so every event is stamped in drill time. Every part of the score carries
its explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.core.ai.hypotheses import VERIFIED, Status, project
from cockpit.core.comms.events import STATUS_UPDATE, comms_copies, is_comms_copy
from cockpit.core.comms.facts import CommsFacts, LogFacts, log_window, read_log_facts
from cockpit.core.config import ConfigError, load_config_file
from cockpit.core.drills.runner import read_drill_marker
from cockpit.core.drills.scenarios import DrillScenario, DrillTruth, find_scenario
from cockpit.core.drills.truth import TruthError, containment_verdict, derive_truth
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.lifecycle import verification_recorded
from cockpit.core.review.events import root_cause
from cockpit.core.review.evidence import terms
from cockpit.core.runbook import Phase
from cockpit.core.sanitize import visible
from cockpit.core.store import Event, EventStore, StoreError
from cockpit.core.timefmt import hhmm_z, parse_iso

TARGET_MINUTES = {"declare": 5.0, "assess": 10.0, "contain": 25.0}
"""Drill minutes by which each step earns full points (later: half)."""
FIX_PHASES = {Phase.FIX.value, Phase.VERIFY.value, Phase.REVIEW.value}


class DebriefError(Exception):
    """No drill to debrief there: one line naming the folder."""


@dataclass(frozen=True)
class Part:
    """One part of the score and the reason for it."""

    name: str
    points: float
    max_points: float
    explanation: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "points": self.points,
            "max_points": self.max_points,
            "explanation": self.explanation,
        }


@dataclass
class Debrief:
    """Everything the debrief says."""

    scenario: str
    incident_id: str
    speed: float
    times: dict[str, float | None]
    """Drill minutes from the incident opening to declare, assess, contain and resolve."""
    parts: list[Part] = field(default_factory=list)
    executed_nothing: str = ""
    truth: str = ""
    impact: list[str] = field(default_factory=list)
    """What the logs say: when errors began and recovered, the share of requests hit in the
    impact window (empty when the logs were not read)."""

    @property
    def score(self) -> float:
        return round(sum(p.points for p in self.parts), 1)

    @property
    def max_score(self) -> float:
        return sum(p.max_points for p in self.parts)

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "incident": self.incident_id,
            "speed": self.speed,
            "times_drill_minutes": self.times,
            "score": self.score,
            "max_score": self.max_score,
            "parts": [p.to_json() for p in self.parts],
            "executed_nothing": self.executed_nothing,
            "truth": self.truth,
            "impact": self.impact,
            "executed": False,
        }

    def to_markdown(self) -> str:
        def minutes(value: float | None) -> str:
            return "never" if value is None else f"{value:.1f} min"

        lines = [
            f"# Drill debrief: {self.scenario}",
            "",
            f"Incident `{self.incident_id}`, replay speed x{self.speed:g}. "
            f"**Score: {self.score:g} / {self.max_score:g}**",
            "",
            "## Times (drill minutes from the alert)",
            "",
        ]
        lines += [f"- {name}: {minutes(value)}" for name, value in self.times.items()]
        if self.impact:
            lines += ["", "## Impact (from the logs)", ""]
            lines += [f"- {line}" for line in self.impact]
        lines += ["", "## Score", "", "| Part | Points | Why |", "|---|---|---|"]
        for p in self.parts:
            why = p.explanation.replace("|", "\\|")
            lines.append(f"| {p.name} | {p.points:g} / {p.max_points:g} | {why} |")
        lines += [
            "",
            "## Nothing executed",
            "",
            self.executed_nothing,
            "",
            "## What really happened",
            "",
            self.truth,
            "",
        ]
        return "\n".join(lines)


def _timed(points: float, value: float | None, target: float, what: str) -> tuple[float, str]:
    if value is None:
        return 0.0, f"never {what}"
    if value <= target:
        return points, f"{what} after {value:.1f} drill min (target {target:g})"
    return points / 2, f"{what} after {value:.1f} drill min, later than the {target:g} min target"


def debrief(
    scenario: DrillScenario,
    directory: Path,
    events: Sequence[Event],
    *,
    now: datetime,
    speed: float,
    log_facts: LogFacts | None = None,
) -> Debrief:
    """Score one drill incident's events against the scenario truth (pure apart from reading
    the sandbox's deploy log); `log_facts` (read from the sandbox's logs) adds the impact the
    data shows: errors began, recovered, the share of requests hit in that window."""
    truth = scenario.truth
    try:
        resolved = derive_truth(scenario, directory, now)
    except TruthError as exc:
        raise DebriefError(str(exc)) from None
    opened = next((e for e in events if e.kind == Kind.OPENED), None)
    if opened is None:
        raise DebriefError("the drill incident has no opening event")
    origin = opened.ts

    def minute(event: Event | None) -> float | None:
        if event is None:
            return None
        return round((event.ts - origin).total_seconds() / 60, 2)

    def first(*kinds: str, phases: set[str] | None = None) -> Event | None:
        for event in events:
            if event.kind in kinds and (
                phases is None or str(event.payload.get("phase", "")) in phases
            ):
                return event
        return None

    declared = first(Kind.DECLARED)
    # The log pane does not record searches yet: a pin or a checked item also shows assessing.
    assessed = first(Kind.SEARCH_RUN, Kind.PHASE_CHANGED, Kind.PIN_ADDED, Kind.ITEM_CHECKED)
    contained = first(Kind.CONTAINED)
    resolved_event = first(Kind.RESOLVED)
    diagnosed = _earliest(first(VERIFIED), first(Kind.PHASE_CHANGED, phases={Phase.DIAGNOSE}))
    fixing = first(Kind.PHASE_CHANGED, phases=FIX_PHASES)
    verified_hypothesis = first(VERIFIED)
    times = {
        "declare": minute(declared),
        "assess": minute(assessed),
        "contain": minute(contained),
        # Marking resolved is timed; whether it was verified first is the verify part's call.
        "resolve": minute(resolved_event),
    }
    result = Debrief(scenario.name, opened.incident_id, speed, times)

    for name, key, points, what in (
        ("declare", "declare", 5.0, "declared"),
        ("assess", "assess", 10.0, "assessed (search, pin, checklist or phase change)"),
        ("contain", "contain", 10.0, "marked contained"),
    ):
        got, why = _timed(points, times[key], TARGET_MINUTES[key], what)
        result.parts.append(Part(name, got, points, why))
        if name == "declare":
            result.parts.append(_severity_part(events, truth))
    result.parts.append(_verify_part(events, resolved_event, contained, times["resolve"]))

    verdict = containment_verdict(events, truth, resolved)
    if truth.rollback_is_right:
        name = "rollback target"
        points = 20.0 if verdict.target_matched else 0.0
    else:
        name = "no rollback"
        points = 20.0 if verdict.right and not verdict.rollback_copied else 0.0
        if not verdict.right and not verdict.rollback_copied and contained is not None:
            points = 5.0  # at least nobody reached for the wrong lever
    result.parts.append(Part(name, points, 20.0, verdict.explanation))

    if contained is None:
        result.parts.append(Part("contain before diagnose", 0.0, 10.0, "never contained"))
    elif diagnosed is None or contained.seq < diagnosed.seq:
        result.parts.append(
            Part(
                "contain before diagnose",
                10.0,
                10.0,
                "contained first, diagnosed after: the bleeding stopped before the deep dive",
            )
        )
    else:
        lag = minute(contained) or 0.0
        result.parts.append(
            Part(
                "contain before diagnose",
                0.0,
                10.0,
                f"diagnosis started at {minute(diagnosed):.1f} min, containment only at "
                f"{lag:.1f} min: customers waited for the root cause",
            )
        )

    if (
        fixing is not None
        and verified_hypothesis is not None
        and verified_hypothesis.seq < fixing.seq
    ):
        result.parts.append(
            Part(
                "hypothesis verified before fix",
                10.0,
                10.0,
                "a hypothesis was verified with "
                f"evidence at {minute(verified_hypothesis):.1f} min, before the Fix phase",
            )
        )
    elif fixing is not None:
        result.parts.append(
            Part(
                "hypothesis verified before fix",
                0.0,
                10.0,
                f"Fix phase entered at {minute(fixing):.1f} min with no hypothesis verified",
            )
        )
    elif verified_hypothesis is not None:
        result.parts.append(
            Part(
                "hypothesis verified before fix",
                7.0,
                10.0,
                "verified a hypothesis, but never moved to the Fix phase",
            )
        )
    else:
        result.parts.append(
            Part("hypothesis verified before fix", 0.0, 10.0, "no hypothesis was verified")
        )

    named = [
        view.hypothesis.claim
        for view in project(events)
        if view.status == Status.VERIFIED and truth.culprit_service in view.hypothesis.claim
    ]
    hypothesis_part = result.parts[-1]
    note = (
        f"; a verified hypothesis names {truth.culprit_service}, the culprit"
        if named
        else f"; no verified hypothesis names {truth.culprit_service}, the culprit"
    )
    result.parts[-1] = Part(
        hypothesis_part.name,
        hypothesis_part.points,
        hypothesis_part.max_points,
        hypothesis_part.explanation + note,
    )
    result.parts.append(_root_cause_part(events, truth))
    result.parts += _comms_parts(events, scenario, origin, declared, resolved_event)
    if log_facts is not None:
        result.impact = impact_lines(events, log_facts)
    result.executed_nothing = _executed_nothing(events)
    target = f" (roll back to {resolved.target_sha[:7]})" if resolved.target_sha else ""
    result.truth = (
        f"Culprit: {truth.culprit_service} ({truth.culprit_deploy} deploy"
        f"{' ' + resolved.culprit_sha[:7] if resolved.culprit_sha else ''}). "
        f"Root cause: {truth.root_cause}. Right containment: {truth.containment}{target}."
    )
    return result


def impact_lines(events: Sequence[Event], log_facts: LogFacts) -> list[str]:
    """The impact as the data shows it, with recovery told apart from the resolve."""
    state = IncidentState.from_events(events)
    facts = CommsFacts.from_state(state, now=events[-1].ts, log_facts=log_facts)
    if log_facts.first_error is None:
        return ["the logs show no error burst: " + "; ".join(log_facts.notes or ("nothing",))]
    begun = log_facts.first_error
    lines = [f"errors began {hhmm_z(begun)} on {log_facts.first_error_service}"]
    recovered = facts["recovered"]
    if log_facts.recovered is not None:
        minutes = (log_facts.recovered - begun).total_seconds() / 60
        lines.append(
            f"recovered {hhmm_z(log_facts.recovered)} ({minutes:.0f} min after the errors began):"
            f" {recovered.source}"
        )
    else:
        still = recovered.source.removeprefix("not recovered yet: ")
        lines.append(f"no recovery in the logs yet: {still}")
    if state.resolved is not None:
        lines.append(f"resolved {hhmm_z(state.resolved.at)} by {state.resolved.by} (the decision)")
    share = facts["share"]
    if share.known:
        lines.append(f"requests hit: {share.value} ({share.source})")
    return [visible(line, max_len=600) for line in lines]


def _severity_part(events: Sequence[Event], truth: DrillTruth) -> Part:
    """The latest severity (after every change) against the severities the impact called for."""
    state = IncidentState.from_events(events)
    if state.declared is None or not state.severity:
        return Part("severity", 0.0, 5.0, "never declared, so no severity was set")
    history = (
        f"declared {state.severity_changes[0].from_severity}" if state.severity_changes else ""
    )
    for change in state.severity_changes:
        history += f", changed to {change.to_severity} by {visible(change.by, 40)}"
    said = history or f"declared {state.severity}"
    if not truth.severities:
        return Part("severity", 5.0, 5.0, f"{said} (the scenario names no expected severity)")
    wanted = " or ".join(truth.severities)
    if state.severity in truth.severities:
        return Part("severity", 5.0, 5.0, f"{said}: fits the impact ({wanted})")
    return Part("severity", 0.0, 5.0, f"{said}: the impact called for {wanted}")


def _verify_part(
    events: Sequence[Event], resolved: Event | None, contained: Event | None, at: float | None
) -> Part:
    """Resolving is worth full points only after containing and with a recorded verification
    (a checked Verify item): resolving from Fix on a hunch is not verifying."""
    if resolved is None:
        return Part("verify", 0.0, 10.0, "never marked resolved")
    before = IncidentState.from_events([e for e in events if e.seq <= resolved.seq])
    verified = verification_recorded(before)
    contained_first = contained is not None and contained.seq < resolved.seq
    problems = []
    if not contained_first:
        problems.append("without first marking the incident contained")
    if not verified:
        problems.append(f"from {before.phase.title} with no verification recorded")
    if not problems:
        return Part("verify", 10.0, 10.0, f"verified, then resolved after {at:.1f} drill min")
    points = 5.0 if verified else (3.0 if contained_first else 0.0)
    return Part("verify", points, 10.0, "resolved " + " and ".join(problems))


def _root_cause_part(events: Sequence[Event], truth: DrillTruth) -> Part:
    """The root cause the team stated (the latest) against the truth: each keyword must be
    there (`a|b`: either); without keywords, the culprit service and two words of the truth."""
    stated = root_cause(events)
    if stated is None:
        return Part("root cause", 0.0, 10.0, "no root cause was stated")
    text = stated.text.lower()
    quoted = f"'{visible(stated.text, 160)}'"
    if truth.root_cause_keywords:
        missing = [
            words
            for words in truth.root_cause_keywords
            if not any(w.strip() and w.strip() in text for w in words.split("|"))
        ]
    else:
        shared = {w for w in terms(truth.root_cause) if w in text}
        missing = [] if truth.culprit_service in text and len(shared) >= 2 else ["the culprit"]
    if not missing:
        return Part("root cause", 10.0, 10.0, f"{quoted} matches what happened")
    return Part(
        "root cause",
        0.0,
        10.0,
        f"{quoted} misses the truth (nothing on {', '.join(missing)})",
    )


def _earliest(*events: Event | None) -> Event | None:
    present = [e for e in events if e is not None]
    return min(present, key=lambda e: e.seq) if present else None


def _comms_parts(
    events: Sequence[Event],
    scenario: DrillScenario,
    origin: datetime,
    declared: Event | None,
    resolved: Event | None,
) -> list[Part]:
    """Cadence (in drill minutes) and lint of the status updates the team copied."""
    copies = comms_copies(events)
    updates = [c for c in copies if c.purpose == STATUS_UPDATE]
    cadence = scenario.comms_cadence_minutes
    if not copies:
        return [
            Part("comms cadence", 0.0, 5.0, "no status update was copied"),
            Part("comms lint", 0.0, 5.0, "no comms to lint"),
        ]
    every = timedelta(minutes=cadence)
    end = resolved.ts if resolved is not None else events[-1].ts
    due = (declared.ts if declared is not None else origin) + every
    missed = 0
    for update in updates:
        while update.at > due:
            missed += 1
            due += every
        due = update.at + every
    while end > due:
        missed += 1
        due += every
    if not updates:
        cadence_part = Part("comms cadence", 0.0, 5.0, "no status update was copied")
    elif missed == 0:
        cadence_part = Part(
            "comms cadence",
            5.0,
            5.0,
            f"{len(updates)} status update(s), none later than every {cadence} drill min",
        )
    else:
        cadence_part = Part(
            "comms cadence",
            2.5 if missed == 1 else 0.0,
            5.0,
            f"{len(updates)} status update(s); {missed} {cadence}-minute slot(s) passed "
            "without one",
        )
    # The comms pane's lint (detail) and the app's hidden-character check (findings) both count.
    lint = [
        [*_strings(e.payload["detail"].get("lint")), *_strings(e.payload.get("findings"))]
        for e in events
        if is_comms_copy(e)
    ]
    flagged = [found for found in lint if found]
    if flagged:
        findings = "; ".join(visible(f, 120) for found in flagged for f in found)
        lint_part = Part(
            "comms lint",
            0.0,
            5.0,
            f"{len(flagged)} of {len(copies)} copied with lint findings: {findings}",
        )
    else:
        lint_part = Part("comms lint", 5.0, 5.0, f"all {len(copies)} passed lint when copied")
    return [cadence_part, lint_part]


def _executed_nothing(events: Sequence[Event]) -> str:
    """The confirmation, from the event log, that every command was only copied."""
    copies = [e for e in events if e.kind == Kind.COMMAND_COPIED]
    commands = [e for e in copies if not is_comms_copy(e)]
    claims = [
        e
        for e in events
        if "execut" in e.kind
        or (isinstance(e.payload.get("detail"), dict) and e.payload["detail"].get("executed"))
    ]
    if claims:
        return (
            f"WARNING: {len(claims)} event(s) claim an execution "
            f"({', '.join(sorted({e.kind for e in claims}))}); the cockpit has no execution path, "
            "so they were written by something else."
        )
    return (
        f"The cockpit executed nothing: {len(commands)} command(s) and "
        f"{len(copies) - len(commands)} comms draft(s) were copied, not executed; the event log "
        f"has {len(events)} events and none records an execution (there is no execution path)."
    )


def debrief_sandbox(directory: Path, *, scenarios: Path | None = None) -> Debrief:
    """Debrief the drill in sandbox `directory`: its marker names the scenario and incident."""

    directory = Path(directory)
    marker = read_drill_marker(directory)
    if marker is None:
        raise DebriefError(f"{directory}: not a drill sandbox (no drill was built there)")
    folder = marker.get("scenarios_folder")
    if scenarios is None and isinstance(folder, str):
        scenarios = Path(folder)
    scenario = find_scenario(str(marker.get("scenario")), scenarios)
    try:
        config = load_config_file(directory / "cockpit.toml")
        store = EventStore(config.store_path)
    except (ConfigError, StoreError) as exc:
        raise DebriefError(str(exc)) from None
    try:
        incident_id = marker.get("incident")
        if not isinstance(incident_id, str):
            drills = store.incidents(drill=True)
            if not drills:
                raise DebriefError(f"{directory}: the drill was built but never run")
            incident_id = drills[0].id
        events = store.events(incident_id)
    finally:
        store.close()
    speed = marker.get("speed")
    log_facts = None
    if events:
        since, until = log_window(IncidentState.from_events(events), events[-1].ts)
        log_facts = read_log_facts(config, since, until)
    return debrief(
        scenario,
        directory,
        events,
        now=parse_iso(str(marker["now"])),
        speed=float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0,
        log_facts=log_facts,
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)] if value else []
