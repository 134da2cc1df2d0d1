"""What the Deploys pane's tables and detail say, as rich Text (outside text sanitized)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from cockpit.core.deploys.model import Deploy
from cockpit.core.deploys.rollback import Candidate, RollbackReport
from cockpit.core.sanitize import safe_text, visible
from cockpit.tui.panes.command_picker import command_line

HEALTH_STYLES = {"healthy": "green", "unhealthy": "bold red", "unknown": "dim"}
EVIDENCE_STYLES = {
    "strength": "bold",
    "versions": "bold",
    "calls": "bold",
    "cascade": "bold",
    "done": "bold green",
}
"""What a human checks first in a candidate's line: the test's strength, the version split,
the dependency link."""


@dataclass(frozen=True)
class CandidateRow:
    """One row of the candidates table: the failing service and the candidate for it."""

    failing: str
    candidate: Candidate


def candidate_rows(report: RollbackReport) -> list[CandidateRow]:
    """Every candidate, best first per failing service; a caller failing because of the same
    deploy adds no new choice, so there is one row per (service, target)."""
    seen: set[tuple[str, str | None]] = set()
    rows = []
    for analysis in report.analyses:
        for candidate in analysis.candidates:
            key = (candidate.service, candidate.target.sha if candidate.target else None)
            if key not in seen:
                seen.add(key)
                rows.append(CandidateRow(analysis.service, candidate))
    return rows


def health_cell(report: RollbackReport | None, deploy: Deploy) -> Text:
    """healthy / unhealthy / ? for one deploy (… while health is being read)."""
    health = report.health_of(deploy) if report else None
    if health is None:
        return Text("…" if report is None else "?", style="dim")
    word = health.verdict.value
    return Text(word if word != "unknown" else "?", style=HEALTH_STYLES[word])


def evidence_line(candidate: Candidate) -> Text:
    """The explanation, its checkable parts emphasised; outside text made visible-safe."""
    parts = candidate.evidence or (("timing", candidate.explanation),)
    line = Text()
    for index, (kind, phrase) in enumerate(parts):
        if index:
            line.append(" " if kind == "strength" else "; ")
        line.append(safe_text(phrase, 300, style=EVIDENCE_STYLES.get(kind, "")))
    return line


def detail_text(report: RollbackReport, chosen: CandidateRow | None) -> Text:
    """Why the chosen candidate, its score and its commands (copy only), or why none."""
    text = Text()
    for analysis in report.analyses:
        if not analysis.correlated:
            text.append(safe_text(analysis.summary, 400, style="bold yellow"))
            text.append("\n")
    if chosen is not None:
        candidate = chosen.candidate
        text.append("why: ", style="bold")
        text.append(evidence_line(candidate))
        text.append("\nscore: ", style="bold")
        text.append(candidate.parts.describe())
        if not candidate.correlated:
            text.append("  (weak: not correlated)", style="dim")
        for command in candidate.commands:
            text.append("\n")
            text.append(command_line(command))
        if candidate.target is not None and not candidate.commands:
            text.append(
                f"\nno rollback template for {visible(candidate.service)}: "
                "set [services.rollback] command in the config",
                style="dim",
            )
    elif not report.analyses:
        text.append(
            "nothing to roll back: no error burst found"
            if report.healthy_services
            else "no health data: configure log sources or Prometheus",
            style="dim",
        )
    return text
