"""Deploys and rollback candidates: change history, health correlation, copy-only commands.

`list_deploys` reads every configured source; `analyse_rollback` adds per-minute health (from
Prometheus and from logs through the search engine) and ranks rollback targets. Nothing in
this package imports textual or runs anything but read-only readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cockpit.core.config import Config
from cockpit.core.deploys.evidence import LineDetail
from cockpit.core.deploys.health import HealthSeries, health_from_logs, health_from_prometheus
from cockpit.core.deploys.model import Deploy, DeployError, DeployListing
from cockpit.core.deploys.rollback import (
    NO_CORRELATION,
    DetailReader,
    RollbackReport,
    rank_candidates,
)
from cockpit.core.deploys.sources import list_deploys, list_repo_deploys, unknown_service

if TYPE_CHECKING:
    from cockpit.core.search.logpass import LogPass

__all__ = [
    "NO_CORRELATION",
    "Deploy",
    "DeployError",
    "DeployListing",
    "HealthData",
    "RollbackReport",
    "analyse_rollback",
    "collect_health",
    "list_deploys",
    "list_repo_deploys",
    "local_sources_only",
    "log_pass",
    "rank_listing",
]

DEFAULT_LOOKBACK = timedelta(hours=6)
"""How far back health is read for rollback analysis."""
DEPLOY_HISTORY = timedelta(days=7)
"""How far back deploys are listed for rollback analysis."""


@dataclass
class HealthData:
    """Per-service series (Prometheus preferred, logs otherwise) plus notes and errors."""

    series: dict[str, HealthSeries]
    notes: list[str]
    errors: list[str]


def local_sources_only(config: Config) -> Config:
    """The config without `history_command`s: deploys read from files and git only, so a
    background read (comms facts, the root-cause check) never runs a cluster command."""
    return config.model_copy(
        update={
            "services": [
                service.model_copy(
                    update={"deploys": service.deploys.model_copy(update={"history_command": None})}
                )
                for service in config.services
            ]
        }
    )


def collect_health(
    config: Config,
    services: list[str],
    *,
    since: datetime,
    until: datetime,
    prometheus_transport: object | None = None,
    logs: LogPass | None = None,
) -> HealthData:
    """Read health for `services`; an unreachable Prometheus becomes one error line. `logs`:
    the command's one read of the log files (see `log_pass`)."""
    from cockpit.core.deploys.prometheus import PrometheusError

    notes: list[str] = []
    errors: list[str] = []
    series: dict[str, HealthSeries] = {}
    if config.prometheus is not None:
        try:
            found, more = health_from_prometheus(
                config, services, since=since, until=until, transport=prometheus_transport
            )
            series.update(found)
            notes += more
        except PrometheusError as exc:
            errors.append(str(exc))
    missing = [s for s in services if s not in series]
    if missing:
        try:
            # A skipped or failed log source is an error, not a note: a burst in it is invisible.
            found, more = health_from_logs(
                config, missing, since=since, until=until, problems=errors, logs=logs
            )
        except Exception as exc:  # a broken log source must not hide the deploy list
            errors.append(f"health from logs failed: {exc}")
        else:
            series.update(found)
            notes += more
    return HealthData(series, notes, errors)


def rank_listing(
    config: Config,
    listing: DeployListing,
    *,
    now: datetime,
    service: str | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
    prometheus_transport: object | None = None,
    logs: LogPass | None = None,
) -> RollbackReport:
    """Health of the last `lookback` for every service, ranked into rollback candidates.
    `logs` (made here when not given): the one read of the log files health and evidence
    share."""
    services = sorted({s.name for s in config.services} | {d.service for d in listing.deploys})
    if logs is None:
        # Evidence is read up to the end of the current minute (`rank_candidates`' end).
        logs = log_pass(config, since=now - lookback, until=now + timedelta(minutes=1))
    health = collect_health(
        config,
        services,
        since=now - lookback,
        until=now,
        prometheus_transport=prometheus_transport,
        logs=logs,
    )
    report = rank_candidates(
        listing.deploys,
        health.series,
        config,
        now=now,
        details=_detail_reader(config, health.series, logs),
    )
    if service is not None:
        report.analyses = [
            a
            for a in report.analyses
            if a.service == service or any(c.service == service for c in a.candidates)
        ]
        report.analyses.sort(key=lambda a: a.service != service)  # stable: its own burst first
    report.notes = listing.notes + health.notes
    report.errors = listing.errors + health.errors
    return report


def log_pass(config: Config, *, since: datetime, until: datetime) -> LogPass | None:
    """One read of the configured log files for [since, until), shared by every question a
    command asks them (counts, error lines, a service's evidence); None where the sources are
    not all local text files (those are asked the usual way)."""
    if not config.sources:
        return None
    # Deferred: the search engine's file modules are needed only once logs are read.
    from cockpit.core.search.logpass import LogPass

    return LogPass.for_config(config, since=since, until=until)


def _detail_reader(
    config: Config, series: dict[str, HealthSeries], logs: LogPass | None = None
) -> DetailReader | None:
    """Reads a failing service's own lines around its burst (versions, callees, signatures),
    when it has log sources."""
    if not config.sources:
        return None
    from cockpit.core.deploys.evidence import read_detail

    kept: dict[str, LineDetail] = {}

    def read(
        service: str, since: datetime, until: datetime, others: list[str]
    ) -> LineDetail | None:
        if not any(source.service == service for source in config.sources):
            return None
        cached = kept.get(service)
        if cached is not None and cached.since <= since and cached.until == until:
            return cached
        one = series.get(service)
        expected = one.counts(since, until)[1] if one is not None and one.source == "logs" else 0
        kept[service] = read_detail(
            config,
            service,
            since=since,
            until=until,
            others=others,
            expected_lines=expected,
            logs=logs,
        )
        return kept[service]

    return read


def analyse_rollback(
    config: Config,
    *,
    now: datetime,
    service: str | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
    prometheus_transport: object | None = None,
    logs: LogPass | None = None,
) -> tuple[DeployListing, RollbackReport]:
    """Deploys of the last week plus health of the last `lookback`, ranked into candidates.
    `logs`: a read of the log files the caller shares with its own questions (see
    `log_pass`); made here when not given."""
    if (unknown := unknown_service(config, service)) is not None:
        return DeployListing(errors=[unknown]), RollbackReport(errors=[unknown])
    # Every service's deploys: another service's deploy can be the culprit.
    listing = list_deploys(config, since=now - DEPLOY_HISTORY)
    report = rank_listing(
        config,
        listing,
        now=now,
        service=service,
        lookback=lookback,
        prometheus_transport=prometheus_transport,
        logs=logs,
    )
    return listing, report
