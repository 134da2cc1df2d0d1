"""The drill debrief: what the team did, when, measured against the scenario's truth.

Read after the drill only: the truth comes from the scenario file, the culprit deploy from the
sandbox's own deploy log, and the team's actions from the drill incident's events. Times are
reported in drill minutes: a drill runs the cockpit on a drill clock (the sandbox's `now` plus
wall time x speed), so every event is stamped in drill time. Every part of the score carries
its explanation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.core.ai.hypotheses import VERIFIED, Status, project
from cockpit.core.comms.events import STATUS_UPDATE, comms_copies, is_comms_copy, root_cause
from cockpit.core.demo.history import floor_minute
from cockpit.core.drills.scenarios import DrillScenario, DrillTruth
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.lifecycle import verification_recorded
from cockpit.core.runbook import Phase
from cockpit.core.sanitize import visible
from cockpit.core.store import Event

TARGET_MINUTES = {"declare": 5.0, "assess": 10.0, "contain": 25.0}
"""Drill minutes by which each step earns full points (later: half)."""
FIX_PHASES = {Phase.FIX.value, Phase.VERIFY.value, Phase.REVIEW.value}


class DebriefError(Exception):
    """No drill to debrief there: one line naming the folder."""


@dataclass(frozen=True)
class ResolvedTruth:
    """The scenario truth pinned to this sandbox's deploys."""

    burst_start: datetime
    culprit_sha: str | None
    target_sha: str | None
    target_revision: int | None


def derive_truth(scenario: DrillScenario, directory: Path, now: datetime) -> ResolvedTruth:
    """The culprit and rollback target from the sandbox's deploy log: the culprit service's
    last deploy at or before the errors began, and the deploy before it."""
    burst_start = floor_minute(now) - timedelta(minutes=scenario.sandbox.burst_minutes_before_now)
    if scenario.truth.culprit_deploy == "none":
        return ResolvedTruth(burst_start, None, None, None)
    deploys = []
    for line in (directory / "deploys.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("service") == scenario.truth.culprit_service:
            deploys.append(record)
    deploys.sort(key=lambda r: r["time"])
    before = [r for r in deploys if _iso(r["time"]) <= burst_start]
    culprit = before[-1] if before else None
    target = before[-2] if len(before) > 1 else None
    return ResolvedTruth(
        burst_start,
        culprit["sha"] if culprit else None,
        target["sha"] if target else None,
        int(target["revision"]) if target else None,
    )


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def is_rollback_copy(event: Event) -> bool:
    """A copied shell command that rolls something back (not a comms draft)."""
    if event.kind != Kind.COMMAND_COPIED or is_comms_copy(event):
        return False
    purpose = str(event.payload.get("purpose", "")).lower()
    text = str(event.payload.get("text", "")).lower()
    return "rollback" in purpose or any(word in text for word in ("rollback", "rollout undo"))


@dataclass(frozen=True)
class ContainmentVerdict:
    """Whether the containment the team chose was the right one, and why."""

    right: bool
    rollback_copied: bool
    target_matched: bool | None
    """For rollback scenarios: did a copied rollback go to the truth's target?"""
    explanation: str


def containment_verdict(
    events: list[Event], truth: DrillTruth, resolved: ResolvedTruth
) -> ContainmentVerdict:
    """Judge the containment from the events: rollback target for rollback scenarios, the
    containment keywords (and no rollback) for the others."""
    rollbacks = [e for e in events if is_rollback_copy(e)]
    contained = [e for e in events if e.kind == Kind.CONTAINED]
    if truth.rollback_is_right:
        matched = [e for e in rollbacks if _targets_truth(e, truth, resolved)]
        # A rollback run from elsewhere still counts when the decision names service and target.
        short = (resolved.target_sha or "")[:7]
        matched += [
            e
            for e in events
            if short
            and e.kind in (Kind.CONTAINED, Kind.NOTE_ADDED)
            and short in _words(e).lower()
            and truth.culprit_service.lower() in _words(e).lower()
        ]
        if matched:
            how = "copied" if is_rollback_copy(matched[0]) else "named in the decision"
            why = (
                f"rollback of {truth.culprit_service} to {short} {how}"
                " (the deploy before the culprit)"
            )
        elif rollbacks:
            got = _target_label(rollbacks[-1])
            why = (
                f"rollback copied to {got}, but the right target was {truth.culprit_service} "
                f"{(resolved.target_sha or '?')[:7]}"
            )
        else:
            why = f"no rollback copied; right was: {truth.containment}"
        return ContainmentVerdict(
            bool(matched) and bool(contained), bool(rollbacks), bool(matched), why
        )
    said = " ".join(_words(e) for e in events).lower()
    found = [k for k in truth.containment_keywords if k in said]
    if rollbacks:
        why = (
            f"a rollback was copied ({_target_label(rollbacks[0])}), but no deploy caused this: "
            f"right was: {truth.containment}"
        )
    elif found:
        why = f"contained with the right lever ({', '.join(found)}): {truth.containment}"
    else:
        why = f"the right containment was never named; right was: {truth.containment}"
    return ContainmentVerdict(bool(found) and bool(contained), bool(rollbacks), None, why)


def _words(event: Event) -> str:
    """What a human said in an event: decision details, notes, copied text."""
    if event.kind in (Kind.CONTAINED, Kind.NOTE_ADDED, Kind.RESOLVED):
        return f"{event.payload.get('detail', '')} {event.payload.get('text', '')}"
    if event.kind == Kind.COMMAND_COPIED and not is_comms_copy(event):
        return str(event.payload.get("text", ""))
    return ""


def _targets_truth(event: Event, truth: DrillTruth, resolved: ResolvedTruth) -> bool:
    detail = event.payload.get("detail")
    if not isinstance(detail, dict) or detail.get("service") != truth.culprit_service:
        return False
    sha = detail.get("target_sha")
    if sha and resolved.target_sha:
        return str(sha) == resolved.target_sha
    revision = detail.get("target_revision")
    return resolved.target_revision is not None and revision == resolved.target_revision


def _target_label(event: Event) -> str:
    detail = event.payload.get("detail")
    if isinstance(detail, dict) and detail.get("service"):
        sha = str(detail.get("target_sha") or "?")[:7]
        return f"{visible(str(detail['service']), 60)} {sha}"
    return visible(str(event.payload.get("text", "")), 120)


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
    """Drill minutes from the incident opening to declare, assess, contain and verify."""
    parts: list[Part] = field(default_factory=list)
    executed_nothing: str = ""
    truth: str = ""

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
    events: list[Event],
    *,
    now: datetime,
    speed: float,
) -> Debrief:
    """Score one drill incident's events against the scenario truth (pure apart from reading
    the sandbox's deploy log)."""
    truth = scenario.truth
    resolved = derive_truth(scenario, directory, now)
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
        "verify": minute(resolved_event),
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
    result.parts.append(_verify_part(events, resolved_event, contained, times["verify"]))

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
    result.executed_nothing = _executed_nothing(events)
    target = f" (roll back to {resolved.target_sha[:7]})" if resolved.target_sha else ""
    result.truth = (
        f"Culprit: {truth.culprit_service} ({truth.culprit_deploy} deploy"
        f"{' ' + resolved.culprit_sha[:7] if resolved.culprit_sha else ''}). "
        f"Root cause: {truth.root_cause}. Right containment: {truth.containment}{target}."
    )
    return result


def _severity_part(events: list[Event], truth: DrillTruth) -> Part:
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
    events: list[Event], resolved: Event | None, contained: Event | None, at: float | None
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


def _root_cause_part(events: list[Event], truth: DrillTruth) -> Part:
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
        shared = {w for w in _significant(truth.root_cause) if w in text}
        missing = [] if truth.culprit_service in text and len(shared) >= 2 else ["the culprit"]
    if not missing:
        return Part("root cause", 10.0, 10.0, f"{quoted} matches what happened")
    return Part(
        "root cause",
        0.0,
        10.0,
        f"{quoted} misses the truth (nothing on {', '.join(missing)})",
    )


def _significant(text: str) -> set[str]:
    return set(re.findall(r"[a-z][a-z0-9-]{3,}", text.lower()))


def _earliest(*events: Event | None) -> Event | None:
    present = [e for e in events if e is not None]
    return min(present, key=lambda e: e.seq) if present else None


def _comms_parts(
    events: list[Event],
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


def _executed_nothing(events: list[Event]) -> str:
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
    from cockpit.core.config import ConfigError, load_config_file
    from cockpit.core.drills.runner import read_drill_marker
    from cockpit.core.drills.scenarios import find_scenario
    from cockpit.core.store import EventStore, StoreError

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
    return debrief(
        scenario,
        directory,
        events,
        now=_iso(str(marker["now"])),
        speed=float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0,
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)] if value else []
