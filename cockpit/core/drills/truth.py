"""A drill's truth pinned to its sandbox, and whether the team's containment was the right one.

The replay uses it to stop the fault once the right containment is recorded; the debrief uses
it to score. The truth comes from the scenario file and the sandbox's own deploy log, never
from anything the team saw.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cockpit.core.comms.events import is_comms_copy
from cockpit.core.drills.scenarios import DrillScenario, DrillTruth
from cockpit.core.incident import Kind
from cockpit.core.sanitize import visible
from cockpit.core.store import Event
from cockpit.core.timefmt import floor_minute, parse_iso

TARGET_MINUTES = {"declare": 5.0, "assess": 10.0, "contain": 25.0}


class TruthError(Exception):
    """The sandbox's deploy log cannot be read: one line naming the file."""


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
    from cockpit.core.safe_files import DATA_MAX_BYTES, UnsafeFileError, read_regular_text

    try:
        log = read_regular_text(
            directory / "deploys.jsonl", what="deploy log", max_bytes=DATA_MAX_BYTES
        )
    except (OSError, UnsafeFileError) as exc:
        raise TruthError(f"{directory / 'deploys.jsonl'}: cannot read ({exc})") from None
    for line in log.splitlines():
        record = json.loads(line)
        if record.get("service") == scenario.truth.culprit_service:
            deploys.append(record)
    deploys.sort(key=lambda r: r["time"])
    before = [r for r in deploys if parse_iso(r["time"]) <= burst_start]
    culprit = before[-1] if before else None
    target = before[-2] if len(before) > 1 else None
    return ResolvedTruth(
        burst_start,
        culprit["sha"] if culprit else None,
        target["sha"] if target else None,
        int(target["revision"]) if target else None,
    )


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
    events: Sequence[Event], truth: DrillTruth, resolved: ResolvedTruth
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
