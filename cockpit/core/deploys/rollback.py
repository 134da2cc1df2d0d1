"""Rollback candidates: which deploy to roll back to, why, and the command a human would run.

For every service with an error burst, each deploy shortly before the burst's onset is a
suspect. The rollback TARGET of a suspect is the last deploy of the suspect's service before it
that was not itself unhealthy: usually the suspect's predecessor. Candidates are ranked by
visible score components and explained in one line a human can check in seconds. Commands are
filled from templates and returned as text: nothing here (or anywhere) runs them.
"""

from __future__ import annotations

import itertools
import math
import shlex
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cockpit.core.config import (
    ROLLBACK_PLACEHOLDERS,
    Config,
    HealthConfig,
    RollbackTemplates,
)
from cockpit.core.deploys.health import (
    Burst,
    DeployHealth,
    HealthSeries,
    Verdict,
    find_burst,
    floor_minute,
    judge_deploy,
)
from cockpit.core.deploys.model import Deploy
from cockpit.core.timefmt import hhmm, iso_utc

MAX_CANDIDATES = 5
WEIGHTS = {"proximity": 0.40, "error_jump": 0.35, "same_service": 0.15, "latest": 0.10}
"""How much each score component counts; the components are shown next to every candidate."""
NO_CORRELATION = "no correlated deploy: rollback may not be the answer"
FAILED_STATUSES = frozenset({"failed", "error", "aborted", "cancelled", "canceled", "rolled-back"})
"""Deploy statuses (deploy log, helm) of a deploy that never ran: never a rollback target."""


def pct(value: float | None) -> str:
    """An error ratio as people say it: 0.2%, 4.5%, 31%."""
    if value is None:
        return "n/a"
    percent = value * 100
    return f"{percent:.0f}%" if percent >= 10 else f"{percent:.1f}%"


@dataclass(frozen=True)
class ScoreParts:
    """The visible components of a candidate's score, each 0..1."""

    proximity: float
    """How close before the burst onset the suspect went out (1 = within clock skew)."""
    error_jump: float
    """How sharply the suspect's own service's error ratio rose after it."""
    same_service: float
    """1 when the suspect is a deploy of the service that is failing."""
    latest: float
    """1 when the suspect is its service's latest deploy (rolling back undoes nothing else)."""

    @property
    def total(self) -> float:
        return round(sum(WEIGHTS[name] * getattr(self, name) for name in WEIGHTS), 3)

    def describe(self) -> str:
        """`proximity 0.90 · error jump 1.00 · same service 1 · latest 1 = 0.96`."""
        return (
            f"proximity {self.proximity:.2f} · error jump {self.error_jump:.2f} · "
            f"same service {self.same_service:.0f} · latest {self.latest:.0f} = {self.total:.2f}"
        )

    def to_json(self) -> dict[str, float]:
        return {
            "proximity": round(self.proximity, 3),
            "error_jump": round(self.error_jump, 3),
            "same_service": self.same_service,
            "latest": self.latest,
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

    @property
    def correlated(self) -> bool:
        return any(c.correlated for c in self.candidates)

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
        errors = (
            _rising(burst)
            if burst.slow_onset
            else (
                f"error ratio {pct(burst.baseline)} -> {pct(burst.peak)} "
                f"from {hhmm(burst.onset)} UTC"
            )
        )
        if self.recovery:
            return f"{self.service}: {errors}; recovered: {self.recovery}"
        if not self.correlated:
            return f"{self.service}: {errors}; {NO_CORRELATION}"
        return f"{self.service}: {self.candidates[0].explanation}"

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "burst": {
                "onset": iso_utc(self.burst.onset),
                "crossed": iso_utc(self.burst.crossed) if self.burst.crossed else None,
                "peak_at": iso_utc(self.burst.peak_at) if self.burst.peak_at else None,
                "slow_onset": self.burst.slow_onset,
                "baseline": self.burst.baseline,
                "peak": self.burst.peak,
                "source": self.burst.source,
            },
            "correlated": self.correlated,
            "verdict": "correlated deploy found" if self.correlated else NO_CORRELATION,
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


def _proximity(deploy: Deploy, onset: datetime, health: HealthConfig) -> float | None:
    """1 within the clock-skew tolerance of the onset, falling to 0 at the correlation window's
    edge; None when the deploy cannot have caused the burst (too early, or after it)."""
    skew = timedelta(seconds=health.clock_skew_seconds)
    lead = onset - deploy.time
    if lead < -skew:
        return None
    if lead <= skew:
        return 1.0
    window = timedelta(minutes=health.correlation_minutes)
    if lead > window:
        return None
    return max(0.0, 1.0 - (lead - skew) / (window - skew))


def _jump_score(verdict: DeployHealth, health: HealthConfig) -> float:
    if verdict.after is None or verdict.after <= health.error_ratio_threshold:
        return 0.0
    # A tenfold rise scores 1: log scale, so 0.2% -> 31% and 1% -> 30% both count as sharp.
    return min(1.0, max(0.0, math.log10(max(verdict.jump, 1.0))))


def _minutes(delta: timedelta) -> int:
    return round(delta.total_seconds() / 60)


def rank_candidates(
    deploys: list[Deploy], series: dict[str, HealthSeries], config: Config
) -> RollbackReport:
    """Find bursts per service and rank rollback candidates for each; pure, no I/O."""
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
    services = sorted(set(by_service) | set(series))
    for service in services:
        one = series.get(service)
        if one is None:
            report.no_data_services.append(service)
            continue
        burst = find_burst(one, health)
        if burst is None:
            report.healthy_services.append(service)
            continue
        report.analyses.append(_analyse(service, burst, by_service, report, config, one))
    # A burst explained by the failing service's own deploy is the most direct evidence, so
    # it leads; then the service whose errors began first (callers fail after it).
    report.analyses.sort(
        key=lambda a: (
            not a.correlated,
            not (a.candidates and a.candidates[0].parts.same_service),
            a.burst.onset,
            -a.burst.peak,
        )
    )
    return report


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
                    if after_next.before <= health.error_ratio_threshold
                    else Verdict.UNHEALTHY
                )
                report.deploy_health[key] = DeployHealth(
                    state, None, after_next.before, after_next.source
                )


def _target_for(
    suspect: Deploy, history: list[Deploy], report: RollbackReport
) -> tuple[Deploy | None, list[Deploy]]:
    """The last deploy before `suspect` that was not unhealthy (and did not fail to go out),
    and every deploy a rollback to it undoes."""
    earlier = [d for d in history if d.time < suspect.time]
    for deploy in reversed(earlier):
        if (deploy.status or "").lower() in FAILED_STATUSES:
            continue
        verdict = report.health_of(deploy)
        if verdict is None or verdict.verdict != Verdict.UNHEALTHY:
            undone = [d for d in history if d.time > deploy.time]
            return deploy, undone
    return None, [d for d in history if d.time >= suspect.time]


def _analyse(
    service: str,
    burst: Burst,
    by_service: dict[str, list[Deploy]],
    report: RollbackReport,
    config: Config,
    series: HealthSeries | None = None,
) -> ServiceAnalysis:
    health = config.health
    skew = timedelta(seconds=health.clock_skew_seconds)
    own = by_service.get(service, [])
    last_good = None
    for deploy in reversed(own):
        verdict = report.health_of(deploy)
        if (
            deploy.time < burst.onset - skew
            and verdict
            and verdict.verdict == Verdict.HEALTHY
            and not _rise_began_under(deploy, own, burst, health)
            and (deploy.status or "").lower() not in FAILED_STATUSES
        ):
            last_good = deploy
            break
    running_at_onset = [
        d
        for d in own
        if d.time < burst.onset - skew and not _rise_began_under(d, own, burst, health)
    ]
    if last_good is None and running_at_onset and burst.baseline <= health.error_ratio_threshold:
        # Deployed before the health window began: it is known good because it was the one
        # running while the error ratio stayed at the baseline, right up to the burst.
        verdict = report.health_of(running_at_onset[-1])
        if verdict is None or verdict.verdict != Verdict.UNHEALTHY:
            last_good = running_at_onset[-1]
    recovered_by, recovered_ratio = None, None
    if own and own[-1].time > burst.onset and series is not None:
        # Judged on the minutes after the deploy went out (no skew allowance): a recovery is
        # the error ratio back under the threshold, not merely lower than during the burst.
        start = floor_minute(own[-1].time) + timedelta(minutes=1)
        after = series.ratio(start, start + timedelta(minutes=health.window_minutes))
        if after is not None and after <= health.error_ratio_threshold:
            recovered_by, recovered_ratio = own[-1], after
    found: dict[tuple[str, str | None], Candidate] = {}
    for other_service, history in by_service.items():
        for suspect in history:
            proximity = _proximity(suspect, burst.onset, health)
            if proximity is None:
                continue
            verdict = report.health_of(suspect) or DeployHealth(Verdict.UNKNOWN, None, None)
            same = other_service == service
            parts = ScoreParts(
                proximity=round(proximity, 3),
                error_jump=round(_jump_score(verdict, health), 3),
                same_service=1.0 if same else 0.0,
                latest=1.0 if suspect is history[-1] else 0.0,
            )
            # "Healthy" is no alibi for a deploy of the failing service when the errors began
            # rising while it ran: its after-window saw at most the start of a slow onset.
            correlated = (same or parts.error_jump > 0) and (
                verdict.verdict != Verdict.HEALTHY
                or (same and _rise_began_under(suspect, history, burst, health))
            )
            target, undoes = _target_for(suspect, history, report)
            candidate = Candidate(
                service=other_service,
                suspect=suspect,
                target=target,
                undoes=undoes,
                parts=parts,
                explanation="",
                correlated=correlated,
                target_health=report.health_of(target) if target else None,
                applied=_already_applied(target, suspect, history),
            )
            candidate.explanation = _explain(candidate, burst, verdict, health, series)
            candidate.commands = fill_commands(config, candidate)
            key = (other_service, iso_utc(target.time) if target else None)
            kept = found.get(key)
            if kept is None or (candidate.correlated, candidate.score) > (
                kept.correlated,
                kept.score,
            ):
                found[key] = candidate
    ranked = sorted(found.values(), key=lambda c: (not c.correlated, -c.score))
    return ServiceAnalysis(
        service, burst, last_good, ranked[:MAX_CANDIDATES], recovered_by, recovered_ratio
    )


def _rise_began_under(
    deploy: Deploy, history: list[Deploy], burst: Burst, health: HealthConfig
) -> bool:
    """True when the errors began rising while `deploy` ran, so its healthy verdict clears
    nothing: the onset falls in its after-window (the one `judge_deploy` reads, which saw at
    most the start), or the burst is a slow onset (a leak, say, that takes its time) and this
    was the service's running deploy when the rise began, within the correlation window."""
    skew = timedelta(seconds=health.clock_skew_seconds)
    window = timedelta(minutes=health.window_minutes)
    if floor_minute(deploy.time - skew) <= burst.onset < floor_minute(deploy.time) + window:
        return True
    if not burst.slow_onset or _proximity(deploy, burst.onset, health) is None:
        return False
    running = [
        d
        for d in history
        if d.time <= burst.onset + skew and (d.status or "").lower() not in FAILED_STATUSES
    ]
    return bool(running) and running[-1] is deploy


def _already_applied(
    target: Deploy | None, suspect: Deploy, history: list[Deploy]
) -> Deploy | None:
    """The service's running deploy when it put the target's commit back after the suspect."""
    running = history[-1]
    if target is None or not target.sha or running is target or running.time <= suspect.time:
        return None
    return running if running.sha == target.sha else None


def _explain(
    candidate: Candidate,
    burst: Burst,
    verdict: DeployHealth,
    health: HealthConfig,
    series: HealthSeries | None = None,
) -> str:
    suspect = candidate.suspect
    lead = _minutes(burst.onset - suspect.time)
    who = (
        suspect.label
        if candidate.service == burst.service
        else (f"{candidate.service} deploy {suspect.label}")
    )
    if lead >= 0:
        timing = f"within {max(lead, 1)} min of {who} at {hhmm(suspect.time)} UTC"
    else:
        timing = (
            f"{-lead} min before {who} recorded at {hhmm(suspect.time)} UTC "
            f"(within the {health.clock_skew_seconds}s clock-skew tolerance)"
        )
    if burst.slow_onset:
        text = f"{_rising(burst)}, starting {timing}"
    else:
        text = f"error ratio {pct(burst.baseline)} -> {pct(burst.peak)} {timing}"
    if candidate.applied is not None:
        by = f" by {candidate.applied.actor}" if candidate.applied.actor else ""
        text = (
            f"DONE: {candidate.service} runs {candidate.applied.label} again since "
            f"{hhmm(candidate.applied.time)} UTC{by}; {text}"
        )
    latency = _latency_change(series, burst.onset, health)
    if latency:
        text += f"; p95 latency {latency}"
    if candidate.service != burst.service:
        if candidate.parts.error_jump > 0:
            text += (
                f"; {candidate.service}'s own error ratio {pct(verdict.before)} -> "
                f"{pct(verdict.after)}"
            )
        else:
            text += f"; {candidate.service}'s own error ratio did not rise ({pct(verdict.after)})"
    if candidate.target is not None:
        state = candidate.target_health.verdict if candidate.target_health else Verdict.UNKNOWN
        word = (
            "last healthy deploy"
            if state == Verdict.HEALTHY
            else ("previous deploy (health unknown)")
        )
        text += f"; {word} {candidate.target.label} at {hhmm(candidate.target.time)} UTC"
        if candidate.target.time.date() != suspect.time.date():
            text += f" on {candidate.target.time:%Y-%m-%d}"
    else:
        text += f"; no earlier deploy of {candidate.service} to roll back to"
    later = [d for d in candidate.undoes if d.time > suspect.time and d is not candidate.applied]
    if later:
        shown = ", ".join(f"{d.label} at {hhmm(d.time)}" for d in later[:3])
        text += f"; also undoes {len(later)} later deploy(s): {shown}"
    return text


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
