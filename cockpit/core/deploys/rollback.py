"""Rollback candidates: which deploy to roll back to, why, and the command a human would run.

For every service with an error burst, each deploy that could have started it is a
hypothesis, and so is "no deploy in view" (an outage elsewhere, a chronic flap). Each gets a
weight from visible evidence, every factor a likelihood ratio shown beside the score:

- timing: how likely the burst's onset (a posterior over minutes) is that long after the
  deploy if the deploy caused it, against any minute of the lookback if not; the time counts
  only while the deploy ran under comparable load, so a build that breaks ten minutes into a
  traffic peak is not cleared by its quiet first hour;
- versions: where lines carry a version or pod, the deploy's own labels against the rest in
  the same minutes (a canary's 28% next to 0.3% elsewhere; or everyone failing alike);
- calls: for another service's deploy, how many of the new errors name it (upstream, host,
  URL), against how many did before; a declared or learned dependency (or a callee failing
  with it) makes it a likely suspect, an unrelated one stays a weak one;
- new signatures: error signatures that first appeared after the deploy (modest weight);
- chronic noise: earlier bursts as bad in the lookback make "no deploy" more likely.

The score of "roll back to T" is the posterior probability that one of the deploys it undoes
caused the burst. A score of 0.5 or more is "correlated"; below it the cockpit says plainly
that rollback may not be the answer, and what it checked. The rollback TARGET of a suspect is
the last deploy of its service before it that did not fail to go out. Commands are filled
from templates and returned as text: nothing here (or anywhere) runs them.
"""

from __future__ import annotations

import itertools
import math
import shlex
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cockpit.core.config import (
    ROLLBACK_PLACEHOLDERS,
    Config,
    HealthConfig,
    RollbackTemplates,
)
from cockpit.core.deploys.changepoint import MIN_EXCESS
from cockpit.core.deploys.evidence import (
    LineDetail,
    labels_of_deploy,
    new_signatures,
    version_split,
)
from cockpit.core.deploys.health import (
    MINUTE,
    RECENT,
    Burst,
    DeployHealth,
    HealthSeries,
    Verdict,
    find_burst,
    floor_minute,
    judge_deploy,
)
from cockpit.core.deploys.model import Deploy
from cockpit.core.deploys.stats import smoothed_ratio
from cockpit.core.timefmt import hhmm, iso_utc

MAX_CANDIDATES = 5
NO_CORRELATION = "no correlated deploy: rollback may not be the answer"
FAILED_STATUSES = frozenset({"failed", "error", "aborted", "cancelled", "canceled", "rolled-back"})
"""Deploy statuses (deploy log, helm) of a deploy that never ran: never a rollback target."""
CORRELATED = 0.5
"""A candidate scored this or more is the cockpit's answer; below, only a suspect."""

# -- the model's priors, fixed in advance (not fitted to any benchmark) -----------------------
PRIOR_NO_DEPLOY = 1.0
"""Prior weight of "no deploy in view caused it", against 1 for one deploy of the failing
service: most incidents follow a change, but far from all."""
PRIOR_DEPENDENCY = 0.5
"""A deploy of a service the failing one calls: declared, learned (an upstream field, errors
that name it, before or now), or failing too, first."""
PRIOR_UNRELATED = 0.01
"""A deploy of a service with no known link: a suspect when the timing fits, never alone an
answer (a minute before the onset its timing weighs x76 at most: 0.43 with nothing else)."""
FAST_SHARE = 0.85
"""Share of deploy-caused failures that show within minutes of the deploy reaching traffic."""
FAST_MINUTES = 4.0
"""Mean lag of those (an exponential): a rollout, a warm-up, the first requests of a kind."""
RAMP_MINUTES = 20.0
"""Mean lag before a slow onset (a leak) starts to rise."""
LATE_HORIZON = 480.0
"""The rest arrive any time within eight hours (a cron, a cache expiry, a certificate)."""
LOAD_BOUND_SHARE = 0.3
"""Share of failures that need load: for those, only minutes at comparable load count..."""
LOAD_MINUTES = 10.0
"""...and they take longer to show: a pool or a queue fills over minutes of that load."""
COMPARABLE_LOAD = 0.8
"""A minute counts as comparable load at 80% of the failing minutes' request rate or more."""
UNDO_COST = 0.2
"""Ranking (not the score) prefers the nearer target unless the farther one adds this much."""
HORIZON = timedelta(hours=4)
"""Deploys up to this long before the onset are hypotheses (the running one always is)."""
DETAIL_BEFORE = timedelta(minutes=90)
"""How long before the onset the failing service's lines are read for evidence."""
MAX_LR = 1000.0
MIN_SHOWN = 0.2
"""A suspect less likely than this is not offered as a candidate (`checked` still names the
likeliest): no rollback row for a deploy the evidence has all but cleared."""
MAX_CALLS_LR = 30.0
MIN_CALLS_LR = 0.1
NAMED_LINK = 0.5
"""A service named by at least half of a caller's new errors is linked to it (learned)."""
SOURCE_SHARE = 0.5
"""Of "no deploy in view", the share a callee's own outage takes when errors name it."""


def pct(value: float | None) -> str:
    """An error ratio as people say it: 0.2%, 4.5%, 31%."""
    if value is None:
        return "n/a"
    percent = value * 100
    return f"{percent:.0f}%" if percent >= 10 else f"{percent:.1f}%"


@dataclass(frozen=True)
class Factor:
    """One piece of evidence for a suspect: a likelihood ratio (x1 means no information)."""

    name: str
    weight: float
    note: str = ""

    def describe(self) -> str:
        if self.weight >= MAX_LR:
            return f"{self.name} x{MAX_LR:.0f}+"
        if self.weight >= 10:
            return f"{self.name} x{self.weight:.0f}"
        if self.weight >= 1:
            return f"{self.name} x{self.weight:.1f}"
        return f"{self.name} x{self.weight:.2g}"


@dataclass(frozen=True)
class ScoreParts:
    """The visible components of a candidate's score.

    The first four (0..1) describe the suspect; `factors` are the likelihood ratios the
    posterior `probability` comes from (the score, when present)."""

    proximity: float
    """How close before the burst onset the suspect went out (1 = within clock skew)."""
    error_jump: float
    """How sharply the suspect's own service's error ratio rose after it."""
    same_service: float
    """1 when the suspect is a deploy of the service that is failing."""
    latest: float
    """1 when the suspect is its service's latest deploy (rolling back undoes nothing else)."""
    factors: tuple[Factor, ...] = ()
    probability: float | None = None
    """Posterior probability that rolling back to the target fixes the burst."""
    no_deploy: float | None = None
    """Posterior probability that no deploy in view caused it."""
    prior: float = 1.0

    @property
    def total(self) -> float:
        if self.probability is not None:
            return round(self.probability, 3)
        legacy = 0.40 * self.proximity + 0.35 * self.error_jump
        return round(legacy + 0.15 * self.same_service + 0.10 * self.latest, 3)

    def describe(self) -> str:
        """`timing x34 · versions x120 · new signatures x1.6 · prior 1 = 0.97 (no deploy 0.02)`."""
        if self.probability is None:
            return (
                f"proximity {self.proximity:.2f} · error jump {self.error_jump:.2f} · "
                f"same service {self.same_service:.0f} · latest {self.latest:.0f} = "
                f"{self.total:.2f}"
            )
        parts = [f.describe() for f in self.factors]
        parts.append(f"prior {self.prior:g}")
        tail = f" (no deploy {self.no_deploy:.2f})" if self.no_deploy is not None else ""
        return " · ".join(parts) + f" = {self.total:.2f}{tail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "proximity": round(self.proximity, 3),
            "error_jump": round(self.error_jump, 3),
            "same_service": self.same_service,
            "latest": self.latest,
            "factors": {f.name: round(f.weight, 3) for f in self.factors},
            "prior": self.prior,
            "no_deploy": round(self.no_deploy, 3) if self.no_deploy is not None else None,
            "total": self.total,
        }


@dataclass(frozen=True)
class FilledCommand:
    """A rollback command filled from a template: text to copy, never to run."""

    label: str
    """"rollback", "dry run", "git revert", a custom command's label, or `LABEL (dry run)`."""
    text: str
    prod_changing: bool
    missing: tuple[str, ...] = ()
    """Placeholders with no value (the command shows `<revision?>` there): check before use."""
    note: str | None = None
    template: str = ""
    """The config key it was filled from: `command`, `dry_run`, `revert`, `custom[0].command`,
    `custom[0].dry_run`."""
    filled: bool = True
    """False when the template could not be filled: shown as a note, never offered for copy."""

    @property
    def dry_run(self) -> bool:
        """A dry-run variant: previews the change, changes nothing."""
        return self.template.endswith("dry_run")

    @property
    def custom(self) -> bool:
        """Filled from one of the service's `[[services.rollback.custom]]` commands."""
        return self.template.startswith("custom[")

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "command": self.text,
            "prod_changing": self.prod_changing,
            "missing": list(self.missing),
            "note": self.note,
            "template": self.template,
            "custom": self.custom,
            "filled": self.filled,
            "executed": False,
        }


@dataclass
class Candidate:
    """Roll `service` back to `target`, undoing `suspect` (and any later deploys in `undoes`)."""

    service: str
    suspect: Deploy
    target: Deploy | None
    undoes: list[Deploy]
    parts: ScoreParts
    explanation: str
    correlated: bool
    target_health: DeployHealth | None = None
    commands: list[FilledCommand] = field(default_factory=list)
    applied: Deploy | None = None
    """The deploy that already put `target`'s commit back (the rollback was done)."""
    evidence: tuple[tuple[str, str], ...] = ()
    """The explanation's parts, `(kind, text)` (see `_explain`): the facts a human checks."""

    @property
    def score(self) -> float:
        return self.parts.total

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "suspect": self.suspect.to_json(),
            "target": self.target.to_json() if self.target else None,
            "undoes": [d.short_sha or d.label for d in self.undoes],
            "score": self.score,
            "score_parts": self.parts.to_json(),
            "explanation": self.explanation,
            "evidence": [{"kind": kind, "text": text} for kind, text in self.evidence],
            "correlated": self.correlated,
            "applied": self.applied.to_json() if self.applied else None,
            "commands": [c.to_json() for c in self.commands],
        }


@dataclass
class ServiceAnalysis:
    """One failing service: its burst, its last known-good deploy and the ranked candidates."""

    service: str
    burst: Burst
    last_good: Deploy | None
    candidates: list[Candidate]
    recovered_by: Deploy | None = None
    """A deploy of this service after the errors began whose window after it is healthy."""
    recovered_ratio: float | None = None
    """The error ratio after `recovered_by`."""
    checked: list[str] = field(default_factory=list)
    """What was weighed, in words: said with "no correlated deploy"."""
    no_deploy: float = 0.0
    """Posterior probability that no deploy in view caused the burst."""

    @property
    def correlated(self) -> bool:
        return any(c.correlated for c in self.candidates)

    @property
    def ended(self) -> bool:
        """The burst is over (on its own, or after a rollback): nothing left to roll back."""
        return self.burst.ended_at is not None or self.recovered_by is not None

    @property
    def recovery(self) -> str | None:
        """`errors 0.1% since 1b96278 at 14:19 UTC (root@vm)`, once a later deploy fixed it."""
        deploy = self.recovered_by
        if deploy is None:
            return None
        by = f" ({deploy.actor})" if deploy.actor else ""
        return (
            f"errors {pct(self.recovered_ratio)} since {deploy.label} at "
            f"{hhmm(deploy.time)} UTC{by}"
        )

    @property
    def summary(self) -> str:
        """One line: the top candidate's explanation, or the plain no-correlation statement."""
        burst = self.burst
        errors = _burst_words(burst)
        if self.recovery:
            return f"{self.service}: {errors}; recovered: {self.recovery}"
        if burst.ended_at is not None:
            return (
                f"{self.service}: {errors}; over since {hhmm(burst.ended_at)} UTC on its own: "
                "nothing to roll back"
            )
        if not self.correlated:
            checked = f" (checked {'; '.join(self.checked)})" if self.checked else ""
            return f"{self.service}: {errors}; {NO_CORRELATION}{checked}"
        return f"{self.service}: {self.candidates[0].explanation}"

    def to_json(self) -> dict[str, Any]:
        burst = self.burst
        return {
            "service": self.service,
            "burst": {
                "onset": iso_utc(burst.onset),
                "crossed": iso_utc(burst.crossed) if burst.crossed else None,
                "peak_at": iso_utc(burst.peak_at) if burst.peak_at else None,
                "ended_at": iso_utc(burst.ended_at) if burst.ended_at else None,
                "slow_onset": burst.slow_onset,
                "baseline": burst.baseline,
                "peak": burst.peak,
                "source": burst.source,
                "p_value": burst.p_value,
                "errors": burst.errors,
                "expected": burst.expected,
                "minutes": burst.strength_minutes,
                "strength": burst.strength,
                "overdispersion": round(burst.phi, 2),
                "earlier_bursts": burst.earlier,
                "scope": burst.scope,
            },
            "correlated": self.correlated,
            "verdict": "correlated deploy found" if self.correlated else NO_CORRELATION,
            "checked": self.checked,
            "no_deploy": round(self.no_deploy, 3),
            "last_good": self.last_good.to_json() if self.last_good else None,
            "recovered_by": self.recovered_by.to_json() if self.recovered_by else None,
            "recovered_error_ratio": self.recovered_ratio,
            "candidates": [c.to_json() for c in self.candidates],
        }


@dataclass
class RollbackReport:
    """Everything `cockpit rollback` and the Deploys pane show."""

    analyses: list[ServiceAnalysis] = field(default_factory=list)
    healthy_services: list[str] = field(default_factory=list)
    no_data_services: list[str] = field(default_factory=list)
    deploy_health: dict[tuple[str, str], DeployHealth] = field(default_factory=dict)
    """Verdict per (service, deploy time ISO)."""
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    series: dict[str, HealthSeries] = field(default_factory=dict)
    """Per-minute health per service, as read (for trends on screen)."""

    def health_of(self, deploy: Deploy) -> DeployHealth | None:
        return self.deploy_health.get((deploy.service, iso_utc(deploy.time)))

    def to_json(self) -> dict[str, Any]:
        return {
            "analyses": [a.to_json() for a in self.analyses],
            "healthy_services": self.healthy_services,
            "no_health_data": self.no_data_services,
            "notes": self.notes,
            "errors": self.errors,
            "commands_executed": False,
        }


DetailReader = Callable[[str, datetime, datetime, list[str]], LineDetail | None]
"""Reads a failing service's lines in [since, until) as evidence (see `evidence.read_detail`);
given to `rank_candidates` by `rank_listing`, absent in pure uses."""


def _minutes(delta: timedelta) -> int:
    return round(delta.total_seconds() / 60)


LONG_AGO = 120
"""From two hours, a lag is said in hours: "5 h after", not "within 300 min of"."""


def _span(minutes: int) -> str:
    """`3 min`, `2 h 5 min`, `27 h`."""
    if minutes < LONG_AGO:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if hours >= 10 or rest == 0 else f"{hours} h {rest} min"


def _proximity(deploy: Deploy, onset: datetime, health: HealthConfig) -> float:
    """1 within the clock-skew tolerance of the onset, falling to 0 at the correlation
    window's edge (a description; the score uses the timing likelihood)."""
    skew = timedelta(seconds=health.clock_skew_seconds)
    lead = onset - deploy.time
    if lead <= skew:
        return 1.0
    window = timedelta(minutes=health.correlation_minutes)
    if lead > window:
        return 0.0
    return max(0.0, 1.0 - (lead - skew) / (window - skew))


def rank_candidates(
    deploys: list[Deploy],
    series: dict[str, HealthSeries],
    config: Config,
    *,
    now: datetime | None = None,
    details: DetailReader | None = None,
) -> RollbackReport:
    """Find bursts per service and rank rollback candidates for each. Pure unless `details`
    (a reader of the failing services' own lines) is given."""
    health = config.health
    report = RollbackReport(series=dict(series))
    by_service: dict[str, list[Deploy]] = {}
    for deploy in sorted(deploys, key=lambda d: d.time):
        by_service.setdefault(deploy.service, []).append(deploy)
    for service, items in by_service.items():
        for deploy in items:
            report.deploy_health[(service, iso_utc(deploy.time))] = judge_deploy(
                deploy, series.get(service), health
            )
    _infer_running_health(by_service, report, health)
    ends = [max(s.points) + MINUTE for s in series.values() if s.points]
    end = floor_minute(now) + MINUTE if now is not None else (max(ends) if ends else None)
    bursts: dict[str, Burst] = {}
    services = sorted(set(by_service) | set(series))
    for service in services:
        one = series.get(service)
        if one is None:
            report.no_data_services.append(service)
            continue
        burst = find_burst(one, health, now=end - MINUTE if end else None, recent=RECENT)
        if burst is None and details is not None and end is not None:
            # The service as a whole looks fine; one version of it (a canary) may not.
            burst = _version_burst(
                config, service, one, by_service.get(service, []), details, end, sorted(series)
            )
        if burst is None:
            report.healthy_services.append(service)
        else:
            bursts[service] = burst
    context = _Context(config, by_service, report, bursts, details, end)
    for service, burst in bursts.items():
        report.analyses.append(context.analyse(service, burst))
    # An answer first, explained by the failing service's own deploy first (the most direct
    # evidence); then the service whose errors began first (callers fail after it).
    report.analyses.sort(
        key=lambda a: (
            a.ended,
            not a.correlated,
            not (a.candidates and a.candidates[0].parts.same_service),
            a.burst.onset,
            -(a.candidates[0].score if a.candidates else 0.0),
        )
    )
    return report


RUNNING_UNHEALTHY = 0.05
"""The health column of a deploy too old for its own after-window reads the window before its
successor: unhealthy from 5% (a description only; the ranking weighs the bursts themselves)."""
VERSION_HORIZON = timedelta(hours=4)
"""A version is checked on its own for deploys up to this old (a canary is recent)."""


def _version_burst(
    config: Config,
    service: str,
    series: HealthSeries,
    own: list[Deploy],
    details: DetailReader,
    end: datetime,
    services: list[str],
) -> Burst | None:
    """A burst on the labels (versions, pods) one recent deploy brought, when the service's
    overall ratio stays low: the minutes before the deploy as the service ran, then only the
    deploy's own labels, through the same test."""
    from dataclasses import replace

    from cockpit.core.deploys.health import patterns_for

    if not patterns_for(config, service).labelled or series.source != "logs":
        return None
    recent = [
        d
        for d in own
        if d.time >= end - VERSION_HORIZON and (d.status or "").lower() not in FAILED_STATUSES
    ]
    if not recent:
        return None
    # A canary's extra errors are the service's extra errors: without at least the minimum
    # count of them since the first recent deploy, no version can have a burst. (Cheap: the
    # series is already read; the lines are not.)
    since = floor_minute(recent[0].time)
    bad_before, total_before = series.counts(since - timedelta(hours=2), since)
    bad_after, total_after = series.counts(since, end)
    expected = total_after * smoothed_ratio(bad_before, total_before)
    if bad_after - expected < MIN_EXCESS:
        return None
    skew = timedelta(seconds=config.health.clock_skew_seconds)
    try:
        # The window an analysis of this service would read too (the reader keeps it).
        detail = details(service, end - VERSION_HORIZON - DETAIL_BEFORE, end, services)
    except Exception:  # evidence is a bonus
        return None
    if detail is None or not detail.labels:
        return None
    for deploy in reversed(recent):
        new, old = labels_of_deploy(detail, deploy.time, deploy.version, deploy.sha, skew)
        if not new or not old:
            continue
        pivot = floor_minute(deploy.time)
        points = {m: p for m, p in series.points.items() if m < pivot}
        for label in new:
            for minute, (n, e) in detail.labels.get(label, {}).items():
                if minute >= pivot:
                    bad, total = points.get(minute, (0.0, 0.0))
                    points[minute] = (bad + e, total + n)
        alone = HealthSeries(service, "logs", points)
        burst = find_burst(alone, config.health, now=end - MINUTE, recent=RECENT)
        if burst is None or burst.ended_at is not None or burst.onset < deploy.time - skew:
            continue
        scope = (
            f"{next(iter(new))} (new with {deploy.label})"
            if len(new) == 1
            else f"the {len(new)} pods or versions new with {deploy.label}"
        )
        return replace(burst, scope=scope)
    return None


def _infer_running_health(
    by_service: dict[str, list[Deploy]], report: RollbackReport, health: HealthConfig
) -> None:
    """A deploy too old for its own after-window is judged by the window before its successor:
    that is the stretch when it was the one running."""
    for service, items in by_service.items():
        for deploy, successor in itertools.pairwise(items):
            key = (service, iso_utc(deploy.time))
            verdict = report.deploy_health.get(key)
            after_next = report.deploy_health.get((service, iso_utc(successor.time)))
            if verdict is None or verdict.verdict != Verdict.UNKNOWN or after_next is None:
                continue
            if after_next.before is not None:
                state = (
                    Verdict.HEALTHY
                    if after_next.before < max(health.error_ratio_threshold, RUNNING_UNHEALTHY)
                    else Verdict.UNHEALTHY
                )
                report.deploy_health[key] = DeployHealth(
                    state, None, after_next.before, after_next.source
                )


def _target_for(suspect: Deploy, history: list[Deploy]) -> tuple[Deploy | None, list[Deploy]]:
    """The last deploy before `suspect` that did not fail to go out, and every deploy a
    rollback to it undoes."""
    earlier = [
        d
        for d in history
        if d.time < suspect.time and (d.status or "").lower() not in FAILED_STATUSES
    ]
    if not earlier:
        return None, [d for d in history if d.time >= suspect.time]
    target = earlier[-1]
    return target, [d for d in history if d.time > target.time]


@dataclass(frozen=True)
class _Named:
    """How much the failing service's new errors name another service."""

    service: str
    lr: float
    share: float
    """Share of the new errors (beyond the usual rate) that name it."""


@dataclass
class _Hypothesis:
    deploy: Deploy
    relation: str
    """"own", "dependency" or "unrelated"."""
    prior: float
    factors: list[Factor]
    lag: float
    """Minutes from the deploy to the onset (negative: recorded after it)."""
    evidence: list[tuple[str, str]] = field(default_factory=list)
    """(kind, phrase): "versions", "calls", "cascade", "signatures"."""
    posterior: float = 0.0

    @property
    def weight(self) -> float:
        product = self.prior
        for factor in self.factors:
            product *= factor.weight
        return product


class _Context:
    """What every failing service's analysis shares: deploys, verdicts, other bursts."""

    def __init__(
        self,
        config: Config,
        by_service: dict[str, list[Deploy]],
        report: RollbackReport,
        bursts: dict[str, Burst],
        details: DetailReader | None,
        end: datetime | None,
    ) -> None:
        self.config = config
        self.health = config.health
        self.by_service = by_service
        self.report = report
        self.bursts = bursts
        self.details = details
        self.end = end
        self.skew = timedelta(seconds=config.health.clock_skew_seconds)
        self.declared = {s.name: set(s.depends_on) for s in config.services}

    # -- one failing service ----------------------------------------------------------------

    def analyse(self, service: str, burst: Burst) -> ServiceAnalysis:
        series = self.report.series.get(service)
        own = self.by_service.get(service, [])
        weights = burst.onset_weights or ((burst.onset, 1.0),)
        latest_onset = max(t for t, _w in weights)
        earliest_onset = min(t for t, _w in weights)
        detail = self._detail(service, burst)
        naming: dict[str, _Named] = {}
        if detail is not None:
            for other in self.by_service:
                if other != service and (named := self._naming(burst, other, detail)):
                    naming[other] = named
        hypotheses = [
            h
            for other, history in self.by_service.items()
            for deploy in history
            if (h := self._hypothesis(service, burst, other, deploy, detail, latest_onset, naming))
            is not None
        ]
        self._credit_signatures(hypotheses, detail, burst)
        relations = {h.deploy.service: h.relation for h in hypotheses}
        for other in naming:
            relations.setdefault(other, self._link(service, other, detail, burst, naming)[0])
        nobody = self._no_deploy_weight(naming, relations)
        total = nobody + sum(h.weight for h in hypotheses)
        for h in hypotheses:
            h.posterior = h.weight / total
        no_deploy = nobody / total
        candidates = self._candidates(service, burst, hypotheses, no_deploy, series)
        last_good = self._last_good(own, burst, hypotheses, earliest_onset)
        recovered_by, recovered_ratio = self._recovery(own, burst, series)
        checked = self._checked(burst, hypotheses, detail)
        return ServiceAnalysis(
            service,
            burst,
            last_good,
            candidates,
            recovered_by,
            recovered_ratio,
            checked,
            no_deploy,
        )

    def _detail(self, service: str, burst: Burst) -> LineDetail | None:
        if self.details is None or self.end is None:
            return None
        since = burst.onset - DETAIL_BEFORE
        try:
            return self.details(service, since, self.end, sorted(self.by_service))
        except Exception:  # evidence is a bonus: the counts already made the burst
            return None

    def _link(
        self,
        service: str,
        other: str,
        detail: LineDetail | None,
        burst: Burst,
        naming: dict[str, _Named] | None = None,
    ) -> tuple[str, str]:
        """("own" | "dependency" | "unrelated", why, in words)."""
        if other == service:
            return "own", ""
        if other in self.declared.get(service, set()):
            return "dependency", f"{service} depends on {other} (depends_on)"
        if detail is not None:
            if detail.upstreams.get(other, 0) >= 3:
                return "dependency", f"{service} calls {other} (learned from its upstream field)"
            if detail.named_counts(other, detail.since, burst.onset - self.skew)[0] >= 2:
                return "dependency", f"{service} calls {other} (learned: its errors name it)"
            named = (naming or {}).get(other)
            if named is not None and named.share >= NAMED_LINK and named.lr > 1:
                # Most of the new errors are calls to it: the caller evidently calls it.
                return "dependency", ""
        theirs = self.bursts.get(other)
        if (
            theirs is not None
            and burst.onset - timedelta(minutes=30) <= theirs.onset <= burst.onset + self.skew
        ):
            return "dependency", ""  # failing with it, and first: said as its own error ratio
        return "unrelated", ""

    def _no_deploy_weight(self, naming: dict[str, _Named], relations: dict[str, str]) -> float:
        """ "No deploy in view", split: a named callee that broke by itself (its share of the
        prior scaled by the same naming evidence its deploys get), or anything else."""
        shares = {
            other: (SOURCE_SHARE if relations.get(other) == "dependency" else SOURCE_SHARE / 5)
            for other, named in naming.items()
            if named.lr > 1
        }
        total = sum(shares.values())
        if total > 0.9:
            shares = {k: v * 0.9 / total for k, v in shares.items()}
            total = 0.9
        return PRIOR_NO_DEPLOY * (
            (1 - total) + sum(share * naming[k].lr for k, share in shares.items())
        )

    def _hypothesis(
        self,
        service: str,
        burst: Burst,
        other: str,
        deploy: Deploy,
        detail: LineDetail | None,
        latest_onset: datetime,
        naming: dict[str, _Named],
    ) -> _Hypothesis | None:
        if (deploy.status or "").lower() in FAILED_STATUSES:
            return None
        if deploy.time > latest_onset + self.skew:
            return None  # went out after the errors began
        history = self.by_service[other]
        running = [d for d in history if d.time <= burst.onset + self.skew]
        if deploy.time < burst.onset - HORIZON and not (running and running[-1] is deploy):
            return None
        relation, why = self._link(service, other, detail, burst, naming)
        prior = {"own": 1.0, "dependency": PRIOR_DEPENDENCY}.get(relation, PRIOR_UNRELATED)
        lag = (burst.onset - deploy.time).total_seconds() / 60
        hypothesis = _Hypothesis(deploy, relation, prior, [], lag)
        if why:
            hypothesis.evidence.append(("calls", why))
        hypothesis.factors.append(self._timing(service, burst, deploy))
        if relation == "own" and detail is not None and detail.labelled:
            factor = self._versions(burst, deploy, detail, hypothesis)
            if factor is not None:
                hypothesis.factors.append(factor)
        if relation == "own" and naming:
            # The new errors are calls to a callee: an own change can break those calls too.
            strongest = max(naming.values(), key=lambda n: n.lr)
            if strongest.lr > 1:
                hypothesis.factors.append(Factor("calls", strongest.lr))
                if strongest.share >= 0.2:
                    hypothesis.evidence.append(
                        (
                            "calls",
                            f"{strongest.share * 100:.0f}% of the new errors are calls to "
                            f"{strongest.service}",
                        )
                    )
        elif other in naming:
            named = naming[other]
            if named.lr != 1:
                hypothesis.factors.append(Factor("calls", named.lr))
            if named.lr < 1:
                hypothesis.evidence.append(
                    ("calls", f"{service}'s errors usually name {other}; the new ones do not")
                )
            if named.share >= 0.2:
                minutes = _minutes(burst.onset - deploy.time)
                when = f"{_span(minutes)} after" if minutes >= 1 else "as"
                hypothesis.evidence.append(
                    (
                        "calls",
                        f"{service} errors rose {when} {other} {deploy.label} deployed; "
                        f"{named.share * 100:.0f}% of the new errors are calls to {other}",
                    )
                )
        if relation != "own":
            theirs = self.bursts.get(other)
            if theirs is not None and theirs.onset <= burst.onset + self.skew:
                hypothesis.evidence.append(
                    (
                        "cascade",
                        f"{other}'s own error ratio {pct(theirs.baseline)} -> "
                        f"{pct(theirs.peak)} from {hhmm(theirs.onset)} UTC",
                    )
                )
        return hypothesis

    # -- the factors ------------------------------------------------------------------------

    def _timing(self, service: str, burst: Burst, deploy: Deploy) -> Factor:
        """E[f(lag)] over the onset posterior, against the chance of an onset in any minute of
        the lookback (more likely if the service had bursts as bad before)."""
        series = self.report.series.get(service)
        weights = burst.onset_weights or ((burst.onset, 1.0),)
        mean = RAMP_MINUTES if burst.slow_onset else FAST_MINUTES
        density = 0.0
        # The load it failed under was new to it (a peak): a load-bound failure counts only
        # the minutes at that load, and takes a few of them to fill its pools.
        loaded = _loaded_minutes(series, deploy.time, burst.onset) if series else None
        for onset, weight in weights:
            lag = (onset - deploy.time).total_seconds() / 60
            if lag < -self.skew.total_seconds() / 60:
                continue
            lag = max(lag, 0.0)
            fast = FAST_SHARE * math.exp(-lag / mean) / mean
            if loaded is not None:
                load_mean = max(mean, LOAD_MINUTES)
                fast = (1 - LOAD_BOUND_SHARE) * fast + LOAD_BOUND_SHARE * FAST_SHARE * math.exp(
                    -loaded / load_mean
                ) / load_mean
            density += weight * (fast + (1 - FAST_SHARE) / LATE_HORIZON)
        observed = max(burst.observed_minutes, 60)
        chance = (1 + burst.earlier) / observed
        return Factor("timing", min(MAX_LR, density / chance))

    def _versions(
        self, burst: Burst, deploy: Deploy, detail: LineDetail, hypothesis: _Hypothesis
    ) -> Factor | None:
        new, old = labels_of_deploy(detail, deploy.time, deploy.version, deploy.sha, self.skew)
        start = max(burst.onset, floor_minute(deploy.time))
        split = version_split(
            detail, new, old, start, self.end or detail.until, burst.usual, burst.phi
        )
        if split is None:
            return None
        lr = min(MAX_LR, math.exp(max(-7.0, min(7.0, split.llr))))
        shown = (
            f"{split.new_name} (new with {deploy.label})"
            if len(new) == 1
            else f"the {len(new)} pods or versions new with {deploy.label}"
        )
        hypothesis.evidence.append(
            (
                "versions",
                f"errors {pct(split.new_ratio)} on {shown} vs {pct(split.old_ratio)} on the "
                f"rest (same minutes, {split.new_requests:.0f} vs {split.old_requests:.0f} "
                "requests)",
            )
        )
        return Factor("versions", lr)

    def _naming(self, burst: Burst, other: str, detail: LineDetail) -> _Named | None:
        """How many of the new errors name `other`, against how many errors did before: a
        likelihood ratio of the observed share against the usual one (at most 200 items, so
        a flood cannot shout). Silence says nothing (a caller's errors need not name what
        broke it), unless its errors usually do name `other`: then new errors that do not are
        evidence against `other` (they come from somewhere else)."""
        before_end = burst.onset - self.skew
        named_before, items_before = detail.named_counts(other, detail.since, before_end)
        named_after, items_after = detail.named_counts(other, burst.onset, detail.until)
        usual = min(0.9, max(0.01, (named_before + 0.5) / (items_before + 1)))
        minutes_before = max((before_end - detail.since).total_seconds() / 60, 1)
        minutes_after = max((detail.until - burst.onset).total_seconds() / 60, 1)
        background = items_before / minutes_before * minutes_after
        new_items = items_after - background
        share = (named_after - usual * background) / new_items if new_items >= 1 else 0.0
        share = min(1.0, max(0.0, share))
        cap = min(items_after, 200)
        named = named_after * (cap / items_after) if items_after else 0.0
        observed = named / cap if cap else 0.0
        if named_after and observed > usual:
            llr = named * math.log(observed / usual) + (cap - named) * math.log(
                max(1 - observed, 1e-9) / (1 - usual)
            )
            return _Named(other, math.exp(min(math.log(MAX_CALLS_LR), llr)), share)
        if named_before >= 3 and usual >= 0.1 and new_items >= 10 and share < usual / 2:
            # Its errors name `other` as a rule; these new ones do not. If `other` broke it,
            # at least half of them would name it.
            involved = max(usual, 0.5)
            new_named = share * min(new_items, 200)
            count = min(new_items, 200)
            llr = new_named * math.log(involved / usual) + (count - new_named) * math.log(
                (1 - involved) / (1 - usual)
            )
            return _Named(other, math.exp(max(math.log(MIN_CALLS_LR), llr)), share)
        return None

    def _credit_signatures(
        self, hypotheses: list[_Hypothesis], detail: LineDetail | None, burst: Burst
    ) -> None:
        """New error signatures, credited to the last deploy before each first appeared."""
        if detail is None or not detail.items or not hypotheses:
            return
        keyed = [(id(h), h.deploy.time) for h in hypotheses]
        shares, _count = new_signatures(detail, burst.onset, keyed, self.skew)
        for h in hypotheses:
            share = shares.get(id(h), 0.0)
            if share <= 0 or h.relation == "unrelated":
                continue  # a new signature here says nothing about an unrelated service
            h.factors.append(Factor("new signatures", 1.0 + share))
            h.evidence.append(
                ("signatures", f"new error signatures since it: {share * 100:.0f}% of the errors")
            )

    # -- candidates -------------------------------------------------------------------------

    def _candidates(
        self,
        service: str,
        burst: Burst,
        hypotheses: list[_Hypothesis],
        no_deploy: float,
        series: HealthSeries | None,
    ) -> list[Candidate]:
        groups: dict[tuple[str, str | None], tuple[Deploy | None, list[Deploy]]] = {}
        for h in hypotheses:
            if h.posterior < MIN_SHOWN:
                continue
            history = self.by_service[h.deploy.service]
            target, undoes = _target_for(h.deploy, history)
            key = (h.deploy.service, iso_utc(target.time) if target else None)
            groups.setdefault(key, (target, undoes))
        candidates: list[tuple[float, Candidate]] = []
        for (other, _key), (target, undoes) in groups.items():
            undone = [
                h
                for h in hypotheses
                if h.deploy.service == other and (target is None or h.deploy.time > target.time)
            ]
            if not undone:
                continue
            probability = min(1.0, sum(h.posterior for h in undone))
            lead = max(undone, key=lambda h: h.posterior)
            history = self.by_service[other]
            suspect = lead.deploy
            verdict = self.report.health_of(suspect) or DeployHealth(Verdict.UNKNOWN, None, None)
            parts = ScoreParts(
                proximity=round(_proximity(suspect, burst.onset, self.health), 3),
                error_jump=round(_jump_score(verdict), 3),
                same_service=1.0 if other == service else 0.0,
                latest=1.0 if suspect is history[-1] else 0.0,
                factors=tuple(lead.factors),
                probability=probability,
                no_deploy=no_deploy,
                prior=lead.prior,
            )
            pre_onset = [d for d in undone if d.deploy.time <= burst.onset + self.skew]
            candidate = Candidate(
                service=other,
                suspect=suspect,
                target=target,
                undoes=undoes,
                parts=parts,
                explanation="",
                correlated=probability >= CORRELATED and burst.ended_at is None,
                target_health=self.report.health_of(target) if target else None,
                applied=_already_applied(target, suspect, history),
            )
            candidate.explanation, candidate.evidence = _explain(
                candidate, burst, self.health, series, lead, verdict
            )
            candidate.commands = fill_commands(self.config, candidate)
            utility = probability - UNDO_COST * max(0, len(pre_onset) - 1)
            candidates.append((utility, candidate))
        # Rolling back further always fixes at least as much: a farther target of the same
        # service is offered only if what it also undoes adds UNDO_COST, or crosses the line.
        kept: list[tuple[float, Candidate]] = []
        nearest_first = sorted(
            candidates,
            key=lambda item: -(item[1].target.time.timestamp() if item[1].target else 0.0),
        )
        for utility, candidate in nearest_first:
            nearer = [c for _u, c in kept if c.service == candidate.service]
            if nearer:
                best = max(c.score for c in nearer)
                adds = candidate.score - best
                crosses = candidate.score >= CORRELATED > best
                if adds < UNDO_COST and not crosses:
                    continue
            kept.append((utility, candidate))
        kept.sort(key=lambda item: (-item[1].score, -item[0]))
        return [c for _u, c in kept[:MAX_CANDIDATES]]

    def _last_good(
        self,
        own: list[Deploy],
        burst: Burst,
        hypotheses: list[_Hypothesis],
        earliest_onset: datetime,
    ) -> Deploy | None:
        """The last deploy of the service before the burst that is not a suspect and did not
        fail to go out: it ran while the error ratio stayed at its usual level."""
        suspects = {id(h.deploy) for h in hypotheses if h.posterior >= 0.25}
        for deploy in reversed(own):
            if deploy.time >= earliest_onset - self.skew and id(deploy) not in suspects:
                continue
            if id(deploy) in suspects or (deploy.status or "").lower() in FAILED_STATUSES:
                continue
            verdict = self.report.health_of(deploy)
            if verdict is not None and verdict.verdict == Verdict.UNHEALTHY:
                continue
            return deploy
        return None

    def _recovery(
        self, own: list[Deploy], burst: Burst, series: HealthSeries | None
    ) -> tuple[Deploy | None, float | None]:
        """The deploy after the onset that ended the burst (a rollback, a fix), if any."""
        if not own or series is None or own[-1].time <= burst.onset:
            return None, None
        deploy = own[-1]
        start = floor_minute(deploy.time) + MINUTE
        window = timedelta(minutes=self.health.window_minutes)
        after = series.ratio(start, start + window)
        ended = burst.ended_at
        if ended is not None and deploy.time <= ended + self.skew:
            return deploy, after
        if after is not None and after < max(self.health.error_ratio_threshold, burst.level / 4):
            bad, total = series.counts(start, start + window)
            if total > 0 and bad < burst.level * total / 2:
                return deploy, after
        return None, None

    def _checked(
        self, burst: Burst, hypotheses: list[_Hypothesis], detail: LineDetail | None
    ) -> list[str]:
        """What was weighed, for the no-correlation statement."""
        said = []
        if hypotheses:
            earliest = min(h.deploy.time for h in hypotheses)
            best = max(hypotheses, key=lambda h: h.posterior)
            said.append(
                f"{len(hypotheses)} deploy(s) since {hhmm(earliest)} UTC, the likeliest "
                f"{best.deploy.service} {best.deploy.label} at {best.posterior:.2f}"
            )
        else:
            said.append(f"no deploy in the {int(HORIZON.total_seconds() // 3600)} h before")
        if burst.earlier:
            said.append(f"{burst.earlier} earlier burst(s) as bad in the lookback")
        if detail is not None and detail.labelled:
            said.append("the error ratio per version")
        if detail is not None and detail.named:
            named = sorted(detail.named, key=lambda n: -sum(detail.named[n].values()))[:2]
            said.append("errors naming " + ", ".join(named))
        return said


def _loaded_minutes(series: HealthSeries, start: datetime, onset: datetime) -> float | None:
    """Minutes between `start` and `onset` that ran at comparable load (a 5-minute mean of at
    least COMPARABLE_LOAD of the burst's first ten minutes), or None when most of that stretch
    did: a load-bound failure then has no excuse for waiting (and a ratio series, without
    request counts, cannot tell)."""
    if onset <= start or series.source != "logs":
        return None
    _bad, failing = series.counts(onset, onset + 10 * MINUTE)
    rate = failing / 10
    if rate <= 0:
        return None
    loaded = total = 0
    recent: list[float] = []
    minute = floor_minute(start) + MINUTE
    while minute < onset:
        point = series.points.get(minute)
        recent = [*recent[-4:], point[1] if point is not None else 0.0]
        total += 1
        if sum(recent) / len(recent) >= COMPARABLE_LOAD * rate:
            loaded += 1
        minute += MINUTE
    return float(loaded) if loaded < total / 2 else None


def _jump_score(verdict: DeployHealth) -> float:
    if verdict.verdict != Verdict.UNHEALTHY or verdict.after is None:
        return 0.0
    # A tenfold rise scores 1: log scale, so 0.2% -> 31% and 1% -> 30% both count as sharp.
    return min(1.0, max(0.0, math.log10(max(verdict.jump, 1.0))))


def _already_applied(
    target: Deploy | None, suspect: Deploy, history: list[Deploy]
) -> Deploy | None:
    """The service's running deploy when it put the target's commit back after the suspect."""
    running = history[-1]
    if target is None or not target.sha or running is target or running.time <= suspect.time:
        return None
    return running if running.sha == target.sha else None


def _burst_words(burst: Burst) -> str:
    scope = f"on {burst.scope}: " if burst.scope else ""
    if burst.slow_onset:
        return scope + _rising(burst)
    return (
        f"{scope}error ratio {pct(burst.baseline)} -> {pct(burst.peak)} "
        f"from {hhmm(burst.onset)} UTC"
    )


def _explain(
    candidate: Candidate,
    burst: Burst,
    health: HealthConfig,
    series: HealthSeries | None,
    lead: _Hypothesis,
    verdict: DeployHealth,
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The one-line explanation and its parts, each `(kind, text)`: "timing", "strength",
    "done", "latency", "versions", "calls", "cascade", "signatures", "own", "target",
    "undoes". The strength follows the timing in parentheses; the rest are joined by "; "."""
    suspect = candidate.suspect
    minutes = _minutes(burst.onset - suspect.time)
    who = (
        suspect.label
        if candidate.service == burst.service
        else (f"{candidate.service} deploy {suspect.label}")
    )
    if minutes >= LONG_AGO:
        day = f" on {suspect.time:%Y-%m-%d}" if suspect.time.date() != burst.onset.date() else ""
        timing = f"{_span(minutes)} after {who} at {hhmm(suspect.time)} UTC{day}"
    elif minutes >= 0:
        timing = f"within {max(minutes, 1)} min of {who} at {hhmm(suspect.time)} UTC"
    else:
        timing = (
            f"{-minutes} min before {who} recorded at {hhmm(suspect.time)} UTC "
            f"(within the {health.clock_skew_seconds}s clock-skew tolerance)"
        )
    if burst.slow_onset:
        timing = f"{_rising(burst)}, starting {timing}"
    else:
        timing = f"error ratio {pct(burst.baseline)} -> {pct(burst.peak)} {timing}"
    if burst.scope:
        timing = f"on {burst.scope}: {timing}"
    parts: list[tuple[str, str]] = []
    if candidate.applied is not None:
        by = f" by {candidate.applied.actor}" if candidate.applied.actor else ""
        parts.append(
            (
                "done",
                f"DONE: {candidate.service} runs {candidate.applied.label} again since "
                f"{hhmm(candidate.applied.time)} UTC{by}",
            )
        )
    parts += [("timing", timing), ("strength", f"({burst.strength})")]
    latency = _latency_change(series, burst.onset, health)
    if latency:
        parts.append(("latency", f"p95 latency {latency}"))
    parts += lead.evidence
    if candidate.service != burst.service and not any(k == "cascade" for k, _ in lead.evidence):
        after = f" ({pct(verdict.after)})" if verdict.after is not None else ""
        parts.append(("own", f"{candidate.service}'s own error ratio did not rise{after}"))
    if candidate.target is not None:
        state = candidate.target_health.verdict if candidate.target_health else Verdict.UNKNOWN
        word = (
            "last healthy deploy"
            if state == Verdict.HEALTHY
            else ("previous deploy (health unknown)")
        )
        target = f"{word} {candidate.target.label} at {hhmm(candidate.target.time)} UTC"
        if candidate.target.time.date() != suspect.time.date():
            target += f" on {candidate.target.time:%Y-%m-%d}"
        parts.append(("target", target))
    else:
        parts.append(("target", f"no earlier deploy of {candidate.service} to roll back to"))
    later = [d for d in candidate.undoes if d.time > suspect.time and d is not candidate.applied]
    if later:
        shown = ", ".join(f"{d.label} at {hhmm(d.time)}" for d in later[:3])
        parts.append(("undoes", f"also undoes {len(later)} later deploy(s): {shown}"))
    text = ""
    for kind, phrase in parts:
        if not text:
            text = phrase
        elif kind == "strength":
            text += f" {phrase}"
        else:
            text += f"; {phrase}"
    return text, tuple(parts)


def _rising(burst: Burst) -> str:
    """`error ratio rising from 0.2% at 13:46 to 34% at 14:04 UTC`: a slow onset, checkable at
    both ends in the logs."""
    peak_at = f" at {hhmm(burst.peak_at)}" if burst.peak_at else ""
    return (
        f"error ratio rising from {pct(burst.baseline)} at {hhmm(burst.onset)} to "
        f"{pct(burst.peak)}{peak_at} UTC"
    )


def _latency_change(
    series: HealthSeries | None, onset: datetime, health: HealthConfig
) -> str | None:
    """`0.12s -> 0.85s`: mean p95 in the window before the onset and after it (Prometheus)."""
    if series is None or not series.latency_p95:
        return None
    window = timedelta(minutes=health.window_minutes)

    def mean(start: datetime, end: datetime) -> float | None:
        values = [v for t, v in series.latency_p95.items() if start <= t < end]
        return sum(values) / len(values) if values else None

    before, after = mean(onset - window, onset), mean(onset, onset + window)
    if before is None or after is None:
        return None
    return f"{before:.2f}s -> {after:.2f}s"


def auto_dry_run(command: str) -> tuple[str | None, str | None]:
    """The dry-run variant of a known rollback command, or (None, why not)."""
    words = command.split()
    if words[:3] == ["kubectl", "rollout", "undo"]:
        return command + " --dry-run=server", None
    if words[:2] == ["helm", "rollback"]:
        return command + " --dry-run", None
    if words[:3] == ["argocd", "app", "rollback"]:
        return None, "argocd app rollback has no dry-run flag; preview with `argocd app diff`"
    return None, None


def _fill(template: str, values: dict[str, str | None]) -> tuple[str, tuple[str, ...]]:
    """Fill placeholders, shell-quoting every value (they come from deploy logs and tags)."""
    missing: list[str] = []
    out: list[str] = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        if name is None:
            continue
        if name not in ROLLBACK_PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {{{name}}}")
        value = values.get(name)
        if value is None:
            missing.append(name)
            out.append(f"<{name}?>")
        else:
            out.append(shlex.quote(value))
    return "".join(out), tuple(missing)


def fill_commands(config: Config, candidate: Candidate) -> list[FilledCommand]:
    """The service's rollback templates filled for `candidate`'s target. Text only."""
    index, service = next(
        ((i, s) for i, s in enumerate(config.services) if s.name == candidate.service),
        (None, None),
    )
    templates = service.rollback if service else RollbackTemplates()
    target = candidate.target
    if target is None:
        return []
    suspect = candidate.suspect
    values: dict[str, str | None] = {
        "service": candidate.service,
        "sha": target.sha,
        "short_sha": target.short_sha,
        "revision": target.revision,
        "version": target.version,
        "bad_sha": suspect.sha,
        "bad_short_sha": suspect.short_sha,
        "revert_range": f"{target.sha}..{suspect.sha}" if target.sha and suspect.sha else None,
    }
    commands: list[FilledCommand] = []
    source = f"{config.source_path}: " if config.source_path else ""
    where = f"{source}services[{index}].rollback" if index is not None else "rollback"

    def unfilled(label: str, key: str, problem: ValueError) -> FilledCommand:
        # The loader rejects such templates; should one get here anyway, it is shown as an
        # inert shell comment under another label, so no copy key ever offers it as a command.
        return FilledCommand(
            f"{label} (not filled)",
            f"# not filled: {where}.{key}: {problem}",
            False,
            template=key,
            filled=False,
        )

    for label, key, template in (
        ("rollback", "command", templates.command),
        ("git revert", "revert", templates.revert),
    ):
        if not template:
            continue
        try:
            text, missing = _fill(template, values)
        except ValueError as exc:
            commands.append(unfilled(label, key, exc))
            continue
        commands.append(FilledCommand(label, text, True, missing, template=key))
        if label == "rollback":
            dry_template, why_not = (
                (templates.dry_run, None) if templates.dry_run else (auto_dry_run(template))
            )
            if dry_template:
                try:
                    dry_text, dry_missing = _fill(dry_template, values)
                except ValueError as exc:
                    commands.append(unfilled("dry run", "dry_run", exc))
                    continue
                commands.append(
                    FilledCommand(
                        "dry run",
                        dry_text,
                        False,
                        dry_missing,
                        note="dry run: previews the rollback, changes nothing",
                        template="dry_run",
                    )
                )
            elif why_not:
                commands[-1] = FilledCommand(label, text, True, missing, note=why_not, template=key)
    for index, custom in enumerate(templates.custom):
        key = f"custom[{index}]"
        try:
            text, missing = _fill(custom.command, values)
        except ValueError as exc:
            commands.append(unfilled(custom.label, f"{key}.command", exc))
            continue
        commands.append(
            FilledCommand(
                custom.label, text, custom.prod_changing, missing, template=f"{key}.command"
            )
        )
        if custom.dry_run:
            try:
                dry_text, dry_missing = _fill(custom.dry_run, values)
            except ValueError as exc:
                commands.append(unfilled(f"{custom.label} (dry run)", f"{key}.dry_run", exc))
                continue
            commands.append(
                FilledCommand(
                    f"{custom.label} (dry run)",
                    dry_text,
                    False,
                    dry_missing,
                    note="dry run: previews the custom command, changes nothing",
                    template=f"{key}.dry_run",
                )
            )
    return commands
