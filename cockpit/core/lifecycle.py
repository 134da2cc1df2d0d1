"""The incident's lifecycle in words: status and phase side by side, what "verified" means,
what is missing before resolving, and which runbook items a decision ticks.

Pure functions over `IncidentState`: the TUI header, `cockpit incidents`, the resolve
confirmation and the drill debrief all say the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cockpit.core.incident import ROLES, IncidentState, Status
from cockpit.core.runbook import Phase

STATUS_WORDS = {
    Status.OPEN: "open, not declared",
    Status.DECLARED: "declared",
    Status.CONTAINED: "contained",
    Status.RESOLVED: "resolved",
}
"""How each status reads next to the phase: "declared · phase Diagnose"."""

VERIFICATION_KINDS = frozenset({"verification.recorded", "recovery.verified"})
"""Events that record a human's verification of recovery, besides a checked Verify item."""


def status_line(state: IncidentState) -> str:
    """`declared SEV2 · phase Diagnose`: the status and the phase, side by side, in words."""
    severity = f" {state.severity}" if state.severity and state.declared else ""
    return f"{STATUS_WORDS[state.status]}{severity} · phase {state.phase.title}"


def roles_line(state: IncidentState) -> str:
    """`lead alice · comms bob`, or "" when nobody holds a role."""
    short = {"incident_lead": "lead", "comms_lead": "comms"}
    return " · ".join(
        f"{short.get(role, role)} {state.roles[role].who}" for role in ROLES if role in state.roles
    )


def verification_recorded(state: IncidentState) -> bool:
    """A human recorded that prod is healthy again: a checked item of the Verify phase, or an
    explicit verification event."""
    if state.checked.get(Phase.VERIFY):
        return True
    return any(event.kind in VERIFICATION_KINDS for event in state.events)


@dataclass(frozen=True)
class ServiceErrors:
    """A service's error ratio now (the last minutes of its health series)."""

    service: str
    ratio: float


def resolve_gaps(
    state: IncidentState,
    errors_now: Iterable[ServiceErrors] | None,
    threshold: float,
) -> list[str]:
    """What is missing before "resolved" is safe to say, one phrase each, e.g.
    `checkout errors still 29%`, `no verification recorded`. Empty: nothing missing.
    `errors_now` None: the health data is not read yet, which is said (never taken as healthy)."""
    from cockpit.core.deploys.rollback import pct

    if errors_now is None:
        gaps = ["error ratios not read yet (3 Deploys reads them)"]
    else:
        gaps = [
            f"{item.service} errors still {pct(item.ratio)}"
            for item in sorted(errors_now, key=lambda e: -e.ratio)
            if item.ratio > threshold
        ]
    if not verification_recorded(state):
        gaps.append("no verification recorded")
    if state.contained is None:
        gaps.append("never marked contained")
    return gaps


_WORD = re.compile(r"[a-z]+")


def matching_item(items: Mapping[Phase, Iterable[str]], *words: str) -> tuple[Phase, str] | None:
    """The first runbook item (in phase order) whose text has every one of `words`, e.g. the
    Assess item "Declare the incident and set a severity" for ("declare",)."""
    for phase in Phase:
        for item in items.get(phase, ()):
            found = set(_WORD.findall(item.lower()))
            if all(any(w.startswith(word) for w in found) for word in words):
                return phase, item
    return None
