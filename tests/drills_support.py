"""Shared helpers for the drill tests: building a drill sandbox and scripting a run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.core.ai.hypotheses import PROPOSED, VERIFIED, HypothesisInput, from_input
from cockpit.core.comms.events import COMMS_KIND, STATUS_UPDATE
from cockpit.core.demo import SandboxInfo
from cockpit.core.drills.runner import build_drill, open_drill_incident
from cockpit.core.drills.scenarios import DrillScenario
from cockpit.core.drills.truth import ResolvedTruth, derive_truth
from cockpit.core.incident import Kind
from cockpit.core.review.events import ROOT_CAUSE_STATED, root_cause_payload
from cockpit.core.store import EventStore

NOW = datetime(2026, 11, 28, 14, 31, tzinfo=UTC)
SMALL_MB = 2.0


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def at(self, minutes: float) -> ManualClock:
        self.moment = NOW + timedelta(minutes=minutes)
        return self


def build(directory: Path, scenario: DrillScenario, *, seed: int = 7) -> SandboxInfo:
    return build_drill(directory, scenario, seed=seed, now=NOW, log_mb=SMALL_MB)


@dataclass
class Script:
    """Writes a drill run's events at chosen drill minutes into the sandbox's store."""

    store: EventStore
    clock: ManualClock
    incident_id: str
    truth: ResolvedTruth
    scenario: DrillScenario

    def at(self, minutes: float, kind: str, payload: dict[str, Any], author: str = "alice") -> None:
        self.clock.at(minutes)
        self.store.append(self.incident_id, kind, payload, author)

    def rollback(self, minutes: float, service: str, target_sha: str | None) -> None:
        self.at(
            minutes,
            Kind.COMMAND_COPIED,
            {
                "text": f"kubectl rollout undo deployment/{service} -n prod --to-revision=41",
                "purpose": "rollback command",
                "findings": [],
                "detail": {"service": service, "target_sha": target_sha, "executed": False},
            },
        )

    def status_update(self, minutes: float, lint: list[str]) -> None:
        self.at(
            minutes,
            Kind.COMMAND_COPIED,
            {
                "text": "We are investigating elevated errors. Next update in 20 minutes.",
                "purpose": STATUS_UPDATE,
                "findings": [],
                "detail": {"kind": COMMS_KIND, "lint": lint, "next_update": None},
            },
        )

    def hypothesis(self, minutes: float, *, verify_at: float | None) -> None:
        claim = f"a recent change to {self.scenario.truth.culprit_service} causes the errors"
        hypothesis = from_input(HypothesisInput(claim=claim), "heuristic")
        self.at(minutes, PROPOSED, hypothesis.payload(), "cockpit-heuristics")
        if verify_at is not None:
            self.at(
                verify_at,
                VERIFIED,
                {
                    "id": hypothesis.id,
                    "note": "errors start right after it",
                    "evidence": ["log burst"],
                    "by": "alice",
                    "summary": "verified",
                },
            )


def open_script(info: SandboxInfo, scenario: DrillScenario, speed: float = 1.0) -> Script:
    clock = ManualClock(NOW)
    incident_id = open_drill_incident(info, scenario, speed=speed, clock=clock)
    store = EventStore(info.directory / "incidents.db", clock=clock)
    truth = derive_truth(scenario, info.directory, info.now)
    return Script(store, clock, incident_id, truth, scenario)


def good_run(script: Script, *, severity: str | None = None, cause: str | None = None) -> None:
    """Declare with a fitting severity, assess, contain the right way, then diagnose, fix,
    verify (a checked Verify item) and resolve; comms on time; the root cause stated."""
    truth = script.scenario.truth
    fitting = truth.severities[0] if truth.severities else "SEV2"
    script.at(2, Kind.DECLARED, {"severity": severity or fitting})
    script.at(3, Kind.SEARCH_RUN, {"query": "status=5", "hits": 120})
    script.at(4, Kind.PHASE_CHANGED, {"phase": "contain"})
    if truth.rollback_is_right:
        script.rollback(6, truth.culprit_service, script.truth.target_sha)
        script.at(7, Kind.CONTAINED, {"detail": f"rolled back {truth.culprit_service}"})
    else:
        lever = truth.containment_keywords[0]
        script.at(6, Kind.NOTE_ADDED, {"text": f"no correlated deploy; applying {lever}"})
        script.at(7, Kind.CONTAINED, {"detail": f"{lever} applied by bob"})
    script.status_update(8, [])
    script.at(9, Kind.PHASE_CHANGED, {"phase": "diagnose"})
    script.hypothesis(10, verify_at=11)
    script.at(12, Kind.PHASE_CHANGED, {"phase": "fix"})
    script.at(15, Kind.PHASE_CHANGED, {"phase": "verify"})
    script.status_update(17, [])
    script.at(
        19, Kind.ITEM_CHECKED, {"phase": "verify", "item": "Error rate back", "checked": True}
    )
    script.at(20, Kind.RESOLVED, {"detail": "error ratio back to baseline"})
    script.at(21, ROOT_CAUSE_STATED, root_cause_payload(cause or truth.root_cause))


def poor_run(script: Script) -> None:
    """Late, diagnosis first, the wrong lever, an unverified fix, late and flagged comms."""
    truth = script.scenario.truth
    script.at(12, Kind.DECLARED, {"severity": "SEV4"})
    script.at(14, Kind.PHASE_CHANGED, {"phase": "diagnose"})
    script.hypothesis(15, verify_at=None)
    script.at(20, Kind.PHASE_CHANGED, {"phase": "fix"})
    if truth.rollback_is_right:
        # The classic trap: roll back the latest deploy, i.e. "to" the culprit itself.
        script.rollback(28, truth.culprit_service, script.truth.culprit_sha)
    else:
        script.rollback(28, truth.culprit_service, "0" * 40)
    script.at(30, Kind.CONTAINED, {"detail": "rolled back"})
    script.status_update(45, ["no impact stated"])
    script.at(50, Kind.NOTE_ADDED, {"text": "handing over"})


Runner = Callable[[Script], None]
