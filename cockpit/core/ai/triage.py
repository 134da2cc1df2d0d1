"""The read-only triage: recent deploys, error patterns, the five most likely rollback targets,
and hypotheses (heuristic, plus the model's with `--ai`), all UNVERIFIED. Nothing is executed.

Shared by `cockpit triage` and the Hypotheses pane's triage key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cockpit.core.ai.evidence import ErrorEvidence, collect_errors
from cockpit.core.ai.heuristics import propose
from cockpit.core.ai.hypotheses import UNVERIFIED_LABEL, Hypothesis
from cockpit.core.config import Config
from cockpit.core.deploys import analyse_rollback, log_pass
from cockpit.core.deploys.model import Deploy
from cockpit.core.deploys.rollback import Candidate, RollbackReport
from cockpit.core.sanitize import visible
from cockpit.core.timefmt import hhmm, hhmmss, iso_utc

NOTHING_EXECUTED = (
    "Read-only triage: nothing was executed. Commands are text for a human to check and run."
)
BASELINE = timedelta(hours=6)
"""How far before the window error signatures are read, to tell new ones from old."""
TOP_TARGETS = 5
TRIAGE_PROMPT = (
    "Triage this incident: which recent change most likely caused the errors, what to roll "
    "back to, and what to check next. Use the tools to confirm before proposing."
)


class SkillError(Exception):
    """A triage skill file named in the config cannot be read (one line naming it)."""


def load_skills(config: Config) -> list[str]:
    """The text of every Markdown skill file in `[ai] skills`, in order."""
    from cockpit.core.safe_files import UnsafeFileError, read_regular_text

    texts = []
    for path in config.ai.skills:
        resolved = config.resolve(path)
        try:
            # A regular file of at most 1 MB: a FIFO or /dev/zero is refused, never read.
            texts.append(read_regular_text(resolved, what="triage skill"))
        except UnsafeFileError as exc:
            raise SkillError(str(exc)) from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise SkillError(f"{resolved}: cannot read triage skill file ({reason})") from None
    return texts


@dataclass
class TriageReport:
    """Everything the triage found."""

    now: datetime
    since: datetime
    deploys: list[Deploy]
    errors: ErrorEvidence
    targets: list[Candidate]
    hypotheses: list[Hypothesis]
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ai_status: str | None = None
    ai_text: str = ""

    @property
    def recent_signatures(self) -> list[Any]:
        return [s for s in self.errors.signatures if s.last_seen and s.last_seen >= self.since]

    def to_json(self) -> dict[str, Any]:
        return {
            "now": iso_utc(self.now),
            "since": iso_utc(self.since),
            "deploys": [d.to_json() for d in self.deploys],
            "error_patterns": [
                s.to_json() | {"new": bool(s.first_seen and s.first_seen >= self.since)}
                for s in self.recent_signatures
            ],
            "rollback_targets": [c.to_json() for c in self.targets],
            "hypotheses": [h.model_dump() | {"status": UNVERIFIED_LABEL} for h in self.hypotheses],
            "ai": {"status": self.ai_status, "text": self.ai_text} if self.ai_status else None,
            "notes": self.notes,
            "problems": self.problems,
            "executed": False,
            "note": NOTHING_EXECUTED,
        }

    def lines(self, markdown: bool = False) -> list[str]:
        """The report as text (or Markdown); outside text made visible-safe."""
        h2 = "## " if markdown else ""
        item = "- " if markdown else "  "
        sub = "    - " if markdown else "     "
        code = (lambda s: f"`{s}`") if markdown else (lambda s: s)
        out = [
            ("# " if markdown else "")
            + f"Triage {hhmm(self.since)}-{hhmm(self.now)} UTC {self.now:%Y-%m-%d}",
            "",
            f"{h2}Recent deploys ({len(self.deploys)})",
        ]
        for d in self.deploys:
            out.append(
                f"{item}{iso_utc(d.time)} {visible(d.service, 60)} {code(d.short_sha or d.label)}"
                + (f" {visible(d.version, 40)}" if d.version else "")
                + (f" by {visible(d.actor, 40)}" if d.actor else "")
            )
        if not self.deploys:
            out.append(f"{item}none in the window")
        out += ["", f"{h2}Error patterns in the window ({len(self.recent_signatures)})"]
        for s in self.recent_signatures[:15]:
            new = " NEW" if s.first_seen and s.first_seen >= self.since else ""
            first = hhmmss(s.first_seen) if s.first_seen else "?"
            where = ", ".join(f"{name} {n}" for name, n in s.services.most_common(3))
            out.append(
                f"{item}{s.count}x{new} since {first} ({visible(where, 80)}): "
                f"{code(visible(s.template, 200))}"
            )
        if not self.recent_signatures:
            out.append(f"{item}no error lines in the window")
        out += ["", f"{h2}Most likely rollback targets (top {TOP_TARGETS})"]
        for rank, c in enumerate(self.targets, start=1):
            target = c.target.label if c.target else "(no earlier deploy)"
            out.append(
                f"{item}{rank}. roll back {visible(c.service, 60)} to {code(visible(target, 40))} "
                f"(undoes {visible(c.suspect.label, 40)}), score {c.score:.2f}"
                + ("" if c.correlated else " [weak: not correlated]")
            )
            for command in c.commands:
                if command.label == "rollback":
                    out.append(f"{sub}command (not executed): {code(visible(command.text, 300))}")
        if not self.targets:
            out.append(f"{item}no rollback candidates (no error burst correlated with a deploy)")
        out += ["", f"{h2}Hypotheses ({len(self.hypotheses)}, all {UNVERIFIED_LABEL})"]
        for rank, h in enumerate(self.hypotheses, start=1):
            out.append(f"{item}{rank}. [{UNVERIFIED_LABEL}, {h.origin}] {visible(h.claim, 400)}")
            for ref in h.evidence[:4]:
                out.append(f"{sub}evidence: {visible(ref, 300)}")
            if h.containment:
                out.append(f"{sub}containment (not executed): {code(visible(h.containment, 300))}")
        if self.ai_status:
            out += ["", f"{h2}AI", f"{item}{visible(self.ai_status, 300)}"]
        for note in self.notes:
            out.append(f"note: {visible(note, 300)}")
        for problem in self.problems:
            out.append(f"problem: {visible(problem, 300)}")
        out += ["", NOTHING_EXECUTED]
        return out


def top_targets(report: RollbackReport, limit: int = TOP_TARGETS) -> list[Candidate]:
    """The best candidates over all failing services, one per (service, target), best first."""
    seen: dict[tuple[str, str | None], Candidate] = {}
    for analysis in report.analyses:
        for candidate in analysis.candidates:
            key = (candidate.service, candidate.target.sha if candidate.target else None)
            kept = seen.get(key)
            if kept is None or (candidate.correlated, candidate.score) > (
                kept.correlated,
                kept.score,
            ):
                seen[key] = candidate
    ranked = sorted(seen.values(), key=lambda c: (not c.correlated, -c.score))
    return ranked[:limit]


def gather(
    config: Config, *, now: datetime, window: timedelta = timedelta(hours=1)
) -> TriageReport:
    """The offline triage: deploys, error patterns, rollback targets, heuristic hypotheses."""
    since = now - window
    lookback = max(BASELINE, window)
    until = now + timedelta(minutes=1)
    # One read of the log files answers the health counts, the rollback evidence and the
    # error lines of the signatures.
    logs = log_pass(config, since=min(now - lookback, since - BASELINE), until=until)
    listing, report = analyse_rollback(config, now=now, lookback=lookback, logs=logs)
    errors = collect_errors(config, since=since - BASELINE, until=until, logs=logs)
    recent = [d for d in listing.deploys if since - timedelta(hours=1) <= d.time <= now]
    hypotheses = propose(
        listing.deploys, errors, config=config, now=now, recent_since=since, rollback=report
    )
    return TriageReport(
        now=now,
        since=since,
        deploys=recent or listing.deploys[:5],
        errors=errors,
        targets=top_targets(report),
        hypotheses=hypotheses,
        notes=list(report.notes),
        problems=list(report.errors) + list(errors.errors),
    )


def ai_context(report: TriageReport, extra: str = "") -> str:
    """The triage findings (plus `extra`, e.g. the incident's pins) as data for the model."""
    text = "\n".join(line for line in report.lines() if line != NOTHING_EXECUTED)
    return f"{text}\n\n{extra}" if extra else text


def triage_session(
    report: TriageReport,
    config: Config,
    *,
    record: Callable[[str, dict[str, Any]], None],
    store_reader: Callable[[], list[Any]] | None = None,
    on_text: Callable[[str], None] | None = None,
    redactor: Any = None,
    boundary: Any = None,
    client_factory: Callable[[], Any] | None = None,
) -> Any:
    """The `ModelSession` a triage runs (and previews) with.

    Without `redactor`, placeholders use this process's salt: pass the incident's redactor
    (`Redactor(salt=store.redaction_salt(...))`) to keep them stable across processes.
    """
    from cockpit.core.ai.loop import ModelSession
    from cockpit.core.ai.redact import Redactor, config_secret_names
    from cockpit.core.ai.tools import registry

    redactor = redactor or Redactor(extra_secret_names=config_secret_names(config))
    return ModelSession(
        config,
        # The tools redact outside text before cutting it (the body is redacted again whole).
        registry(config, store_reader, clock=lambda: report.now, redactor=redactor),
        redactor=redactor,
        record=record,
        boundary=boundary,
        on_text=on_text,
        client_factory=client_factory,
        skills=load_skills(config),
    )


async def run_ai(
    report: TriageReport,
    config: Config,
    *,
    record: Callable[[str, dict[str, Any]], None],
    store_reader: Callable[[], list[Any]] | None = None,
    on_text: Callable[[str], None] | None = None,
    redactor: Any = None,
    boundary: Any = None,
    client_factory: Callable[[], Any] | None = None,
    extra_context: str = "",
) -> Any:
    """Run the model on the triage; its hypotheses go first in the report. Returns the Outcome."""
    session = triage_session(
        report,
        config,
        record=record,
        store_reader=store_reader,
        on_text=on_text,
        redactor=redactor,
        boundary=boundary,
        client_factory=client_factory,
    )
    outcome = await session.run(TRIAGE_PROMPT, ai_context(report, extra_context))
    report.ai_status = (
        outcome.message
        if outcome.status != "done"
        else (
            f"model proposed {len(outcome.hypotheses)} hypotheses "
            f"after {outcome.tool_calls} tool calls"
        )
    )
    report.ai_text = outcome.text
    report.hypotheses = outcome.hypotheses + report.hypotheses
    return outcome
