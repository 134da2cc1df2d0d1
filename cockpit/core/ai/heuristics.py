"""The offline evidence engine: deterministic hypotheses from deploys and error signatures.

Used when there is no API key or the API is unreachable, and by `cockpit triage` without
`--ai`. Three rules, each visible in the hypothesis it produces:

1. a deploy followed within minutes by error signatures that were never seen before it;
2. a new error signature (first seen in the recent window, absent before);
3. a step change in a service's per-minute error count.

Everything it proposes is labelled "heuristic" and UNVERIFIED, like the model's hypotheses.
Ids come from what a hypothesis is about (the deploy, the signature, the step), not from its
wording, so running the heuristics again does not propose the same suspicion twice.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.core.ai.evidence import ErrorEvidence, Signature
from cockpit.core.ai.hypotheses import Hypothesis, hypothesis_id
from cockpit.core.config import Config
from cockpit.core.deploys.model import Deploy
from cockpit.core.deploys.rollback import RollbackReport
from cockpit.core.timefmt import hhmm, hhmmss, iso_utc

MINUTE = timedelta(minutes=1)
STEP_MIN_MINUTES = 3
"""A step must last this long (up to now) to count."""
STEP_MIN_RATE = 0.5
"""...and reach this many error lines per minute."""
STEP_MIN_FACTOR = 5.0
BASELINE_FLOOR = 0.05
"""Errors per minute assumed at least before a step, so 0 -> 1/min is a finite factor."""
MAX_HYPOTHESES = 6


@dataclass(frozen=True)
class Step:
    """A step up in one service's per-minute error count."""

    service: str
    onset: datetime
    before: float
    after: float

    @property
    def factor(self) -> float:
        return self.after / max(self.before, BASELINE_FLOOR)


def find_step(
    service: str, counts: Counter[datetime], *, since: datetime, now: datetime
) -> Step | None:
    """The strongest step up in `counts` that lasts until now, or None."""
    end = now.replace(second=0, microsecond=0) + MINUTE
    best: Step | None = None
    for onset in sorted(m for m in counts if m >= since):
        after_minutes = (end - onset) / MINUTE
        before_minutes = (onset - since) / MINUTE
        if after_minutes < STEP_MIN_MINUTES or before_minutes < STEP_MIN_MINUTES:
            continue
        after = sum(n for m, n in counts.items() if m >= onset) / after_minutes
        before = sum(n for m, n in counts.items() if since <= m < onset) / before_minutes
        step = Step(service, onset, before, after)
        if after < STEP_MIN_RATE or step.factor < STEP_MIN_FACTOR:
            continue
        if best is None or step.factor > best.factor:
            best = step
    return best


def _quote(text: str, limit: int = 90) -> str:
    """The text quoted, cut at a word boundary (with an ellipsis) when it is long."""
    if len(text) <= limit:
        return f"'{text}'"
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return f"'{cut[:space] if space > limit // 2 else cut}…'"


def _signature_ref(signature: Signature) -> str:
    first = hhmmss(signature.first_seen) if signature.first_seen else "?"
    where = ", ".join(f"{s} {n}" for s, n in signature.services.most_common(3))
    count = f"{signature.count} lines, first seen {first} UTC"
    return f"signature {_quote(signature.template)}: {count} ({where})"


def _rollback_command(
    report: RollbackReport | None, deploy: Deploy
) -> tuple[str | None, str | None]:
    """The filled rollback command that undoes `deploy`, and its target's label."""
    if report is None:
        return None, None
    for analysis in report.analyses:
        for candidate in analysis.candidates:
            if candidate.service != deploy.service or candidate.suspect.time != deploy.time:
                continue
            target = candidate.target.label if candidate.target else None
            for command in candidate.commands:
                if command.label == "rollback":
                    return command.text, target
            return None, target
    return None, None


def propose(
    deploys: Sequence[Deploy],
    errors: ErrorEvidence,
    *,
    config: Config,
    now: datetime,
    recent_since: datetime,
    rollback: RollbackReport | None = None,
) -> list[Hypothesis]:
    """Ranked heuristic hypotheses (best first), at most MAX_HYPOTHESES."""
    health = config.health
    skew = timedelta(seconds=health.clock_skew_seconds)
    window = timedelta(minutes=health.correlation_minutes)
    real = [s for s in errors.signatures if s.first_seen is not None]
    new = [s for s in real if s.first_seen is not None and s.first_seen >= recent_since]
    new_lines = sum(s.count for s in new) or 1
    steps = {
        service: step
        for service, counts in errors.per_minute.items()
        if (step := find_step(service, counts, since=errors.since, now=now)) is not None
    }
    found: list[Hypothesis] = []
    explained: set[str] = set()
    for deploy in deploys:
        if deploy.time > now or deploy.time < recent_since - window:
            continue
        after = [
            s
            for s in new
            if s.first_seen is not None
            and deploy.time - skew <= s.first_seen <= deploy.time + window
        ]
        if not after:
            continue
        first = min(s.first_seen for s in after if s.first_seen is not None)
        lead = max(first - deploy.time, timedelta(0))
        proximity = 1.0 if lead <= skew else max(0.0, 1 - (lead - skew) / (window - skew))
        lines = sum(s.count for s in after)
        share = lines / new_lines
        own = sum(s.services.get(deploy.service, 0) for s in after) / max(lines, 1)
        step = steps.get(deploy.service)
        stepped = step is not None and deploy.time - skew <= step.onset <= deploy.time + window
        score = round(0.45 * proximity + 0.2 * share + 0.25 * own + 0.1 * stepped, 3)
        after.sort(key=lambda s: -s.count)
        explained |= {s.template for s in after}
        minutes = round(lead / MINUTE)
        claim = (
            f"The {deploy.service} deploy {deploy.label} at {hhmm(deploy.time)} UTC introduced "
            f"the errors: {len(after)} new error signature(s) appeared within {max(minutes, 1)} "
            f"min of it, led by {_quote(after[0].template, 70)}"
        )
        evidence = [
            f"deploy {deploy.service} {deploy.short_sha or deploy.label} at {iso_utc(deploy.time)}"
            + (f" by {deploy.actor}" if deploy.actor else ""),
            *(_signature_ref(s) for s in after[:4]),
        ]
        if stepped and step is not None:
            evidence.append(
                f"step: {step.service} errors {step.before:.2f}/min -> {step.after:.1f}/min "
                f"from {hhmm(step.onset)} UTC"
            )
        command, target = _rollback_command(rollback, deploy)
        checks = [f"cockpit search {search_term(after[0])}"]
        if deploy.sha and target:
            git = _git_prefix(config, deploy.service)
            checks.insert(0, f"{git} log --oneline {target}..{deploy.short_sha}")
            checks.insert(1, f"{git} diff --stat {target} {deploy.short_sha}")
        found.append(
            Hypothesis(
                id=hypothesis_id(
                    "heuristic",
                    f"deploy:{deploy.service}:{deploy.sha or deploy.label}:{iso_utc(deploy.time)}",
                ),
                origin="heuristic",
                claim=claim,
                evidence=evidence,
                confirm_if=(
                    f"the errors stop within minutes of rolling {deploy.service} back"
                    + (f" to {target}" if target else "")
                    + f"; the change in {deploy.label} touches the failing call path"
                ),
                refute_if=(
                    f"the same signatures occur before {hhmm(deploy.time)} UTC, or continue "
                    f"unchanged once {deploy.label} is rolled back"
                ),
                checks=checks,
                containment=command,
                score=score,
            )
        )
    for signature in new:
        if signature.template in explained:
            continue
        assert signature.first_seen is not None
        claim = (
            f"A new error appeared in {signature.service} at {hhmm(signature.first_seen)} UTC "
            f"with no deploy shortly before it: {_quote(signature.template, 70)}"
        )
        found.append(
            Hypothesis(
                id=hypothesis_id("heuristic", f"new-signature:{signature.template}"),
                origin="heuristic",
                claim=claim,
                evidence=[_signature_ref(signature)],
                confirm_if="the signature tracks the customer-facing errors minute by minute",
                refute_if="the signature is rare noise that also occurs on healthy days",
                checks=[f"cockpit search {search_term(signature)}"],
                score=round(0.2 * min(1.0, signature.count / new_lines) + 0.15, 3),
            )
        )
    for service, step in steps.items():
        if any(service in h.claim for h in found if (h.score or 0) >= 0.5):
            continue
        claim = (
            f"{service} errors stepped up at {hhmm(step.onset)} UTC, from "
            f"{step.before:.2f}/min to {step.after:.1f}/min ({step.factor:.0f}x)"
        )
        found.append(
            Hypothesis(
                id=hypothesis_id("heuristic", f"step:{service}:{iso_utc(step.onset)}"),
                origin="heuristic",
                claim=claim,
                evidence=[f"per-minute error lines of {service} from the logs"],
                confirm_if="the step matches the alert's start and another signal (latency, 5xx)",
                refute_if="the step is a logging change rather than failing requests",
                checks=[
                    f"cockpit search --since 1h --regex --service {shlex.quote(service)} "
                    f"{shlex.quote(health.error_pattern)}"
                ],
                score=round(min(0.35, 0.1 + step.factor / 400), 3),
            )
        )
    # Ties broken by id: sources are searched in parallel, so signatures arrive in any order,
    # and the same data must give the same hypotheses (a rerun must not propose new ones).
    found.sort(key=lambda h: (-(h.score or 0), h.id))
    return found[:MAX_HYPOTHESES]


def _git_prefix(config: Config, service: str) -> str:
    """`git -C REPO` for the service's configured repository (quoted), else plain `git`."""
    found = next((s for s in config.services if s.name == service), None)
    if found is None or found.deploys.repo is None:
        return "git"
    return f"git -C {shlex.quote(str(config.resolve(found.deploys.repo)))}"


def search_term(signature: Signature) -> str:
    """A literal, shell-quoted search term for a signature: its longest placeholder-free run
    that occurs verbatim in the raw example line (a JSON or logfmt line spells its message
    escaped or quoted)."""
    runs = [
        run.strip(" ,:;()'\"")
        for piece in signature.template.split("<")
        for run in (piece.split(">", 1)[-1],)
    ]
    found = []
    for run in runs:
        words = run.split(" ")
        # Drop leading words (e.g. `error checkout:`) until the rest is in the raw line.
        for start in range(len(words)):
            tail = " ".join(words[start:]).strip(" ,:;()'\"")
            if len(tail) >= 4 and tail in signature.example.text:
                found.append(tail)
                break
    best = max(found or runs, key=len, default=signature.template) or signature.template
    return shlex.quote(best)
