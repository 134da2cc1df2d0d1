"""One door for "what do the logs and deploys say": `read_signals`.

Comms facts, the review's cross-check and the AI's error evidence read the incident's signals
here and never assemble the pipeline themselves: per-service, per-minute error and request
counts from the log sources (through the search engine), each service's health series and
error burst (`deploys.health`), and the top correlated suspect deploy, ranked the way the
Deploys pane ranks rollback candidates (`deploys.rollback`). Deploys are read from local
sources only (git, deploy logs, history files: `local_deploys`), because a history command may
reach a cluster and these reads must work offline; they are a bonus and never fail a read.
Blocking I/O: call from a worker or a headless command.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from cockpit.core.config import Config
from cockpit.core.deploys import DEPLOY_HISTORY, list_deploys, local_sources_only
from cockpit.core.deploys.health import (
    Burst,
    HealthSeries,
    count_lines,
    find_burst,
    find_recovery,
    series_from_counts,
)
from cockpit.core.deploys.model import Deploy
from cockpit.core.deploys.rollback import rank_candidates
from cockpit.core.search.engine import (
    HitsFound,
    SearchFinished,
    make_sources,
    minute_counts,
    stream_search,
)
from cockpit.core.search.model import Hit, Query, Source
from cockpit.core.timefmt import floor_minute

if TYPE_CHECKING:
    from cockpit.core.search.logpass import LogPass


@dataclass(frozen=True)
class LocalDeploys:
    """Deploys read from local sources only; a failure is a line, never a raise."""

    deploys: list[Deploy] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """One line per deploy source that failed (the listing's own errors)."""
    failure: str | None = None
    """The whole read failed: `deploys could not be read: ...`."""

    @property
    def problems(self) -> list[str]:
        """What went wrong, one line each: the failure, else the sources' errors."""
        return [self.failure] if self.failure else list(self.errors)


def local_deploys(config: Config, since: datetime, until: datetime | None = None) -> LocalDeploys:
    """Every service's deploys between `since` and `until` from local sources only (git,
    deploy logs, history files; never a history command), newest first. Never raises."""
    if not config.services:
        return LocalDeploys()
    try:
        listing = list_deploys(local_sources_only(config), since=since)
    except Exception as exc:  # deploys are a bonus: never fail the read that wanted them
        return LocalDeploys(failure=f"deploys could not be read: {exc}")
    deploys = [d for d in listing.deploys if until is None or d.time <= until]
    return LocalDeploys(deploys, list(listing.errors))


@dataclass(frozen=True)
class SuspectDeploy:
    """The deploy the top rollback candidate suspects (the data's best guess at a trigger)."""

    service: str
    label: str
    """Short sha, version or revision."""
    actor: str | None
    at: datetime


@dataclass
class Signals:
    """What the logs and deploys said about [since, until)."""

    since: datetime
    until: datetime
    errors: dict[str, Counter[datetime]] = field(default_factory=dict)
    """Error lines (`health.error_pattern`, or the service's own) per service per minute."""
    requests: dict[str, Counter[datetime]] = field(default_factory=dict)
    """Request lines (`health.request_pattern`, or the service's own) per service per minute."""
    series: dict[str, HealthSeries] = field(default_factory=dict)
    """Per-service health from those counts, for every service that logged errors."""
    bursts: dict[str, Burst] = field(default_factory=dict)
    """The services with an error burst, and the burst."""
    recoveries: dict[str, datetime] = field(default_factory=dict)
    """When each burst ended (errors back under the threshold for a while), if it did."""
    suspect: SuspectDeploy | None = None
    """The top correlated rollback candidate's suspect deploy (local deploys only)."""
    notes: list[str] = field(default_factory=list)
    """Why something is unknown: no sources, a pattern that could not be counted, deploys
    that could not be read."""
    source_errors: list[str] = field(default_factory=list)
    """One line per log source that failed (streamed reads only)."""
    counted: bool = False
    """False when the logs could not be counted at all (see `notes`)."""


def read_signals(
    config: Config,
    since: datetime,
    until: datetime,
    *,
    health: bool = True,
    suspect: bool = True,
    sources: Sequence[Source] | None = None,
    error_pattern: str | None = None,
    on_error_line: Callable[[Hit, str], None] | None = None,
    logs: LogPass | None = None,
) -> Signals:
    """Read the incident's signals between `since` and `until`. Never raises for bad data.

    By default error and request lines are counted per service per minute (the engine's fast
    counting path; each service with its own `[services.health]` patterns, else `[health]`'s),
    each service's health series and burst found, and, when a service has a burst, the suspect
    deploy ranked from local deploys. `health=False` reads errors only.
    With `on_error_line`, the error lines are streamed instead (every one with its service, in
    no particular order, from the calling thread) so a caller can group them (the AI's error
    evidence), and the per-minute error counts come from that same pass. `sources` and
    `error_pattern` override the configured sources and the health patterns' error pattern.
    Counting failures become notes (`counted` stays False); a streamed read raises
    PatternError for a bad pattern. `logs`: the command's one read of the log files, which
    answers the streamed error lines where it covers the window.
    """
    signals = Signals(since, until)
    if sources is None and not config.sources:
        signals.notes.append("no log sources configured")
        return signals
    pattern = error_pattern or config.health.error_pattern
    if on_error_line is not None:
        # Streamed to a caller that groups the lines: a bad pattern raises, as a search does.
        signals.errors = _stream_errors(
            config, sources, pattern, since, until, on_error_line, signals.source_errors, logs
        )
    try:
        if health and on_error_line is None and sources is None and error_pattern is None:
            # Each service with its own patterns ([services.health]), as the Deploys pane reads it.
            signals.requests, signals.errors = count_lines(config, since=since, until=until)
        else:
            if on_error_line is None:
                signals.errors = _counts(config, sources, pattern, since, until)
            if health:
                request_pattern = config.health.request_pattern
                signals.requests = _counts(config, sources, request_pattern, since, until)
    except Exception as exc:  # a bad pattern or a broken source: say so, keep the rest
        signals.notes.append(f"logs could not be counted: {exc}")
        return signals
    signals.counted = True
    if not health:
        return signals
    for service, error_counts in signals.errors.items():
        series = series_from_counts(
            service, signals.requests.get(service) or Counter(), error_counts
        )
        signals.series[service] = series
        burst = find_burst(series, config.health)
        if burst is not None:
            signals.bursts[service] = burst
            recovered = find_recovery(series, burst, config.health)
            if recovered is not None:
                signals.recoveries[service] = recovered
    if suspect and signals.bursts:
        signals.suspect, more = _suspect_deploy(config, signals.series, since, until)
        signals.notes += more
    return signals


def _counts(
    config: Config, sources: Sequence[Source] | None, pattern: str, since: datetime, until: datetime
) -> dict[str, Counter[datetime]]:
    query = Query(pattern=pattern, regex=True, since=since, until=until)
    counted = minute_counts(config, query, sources=sources)
    return {service: counts for service, counts in counted.items() if service is not None}


def _stream_errors(
    config: Config,
    sources: Sequence[Source] | None,
    pattern: str,
    since: datetime,
    until: datetime,
    on_line: Callable[[Hit, str], None],
    source_errors: list[str],
    logs: LogPass | None = None,
) -> dict[str, Counter[datetime]]:
    """Every error line to `on_line` with its service (the line's, else its source's, else the
    source's name); returns the lines per service per minute."""
    counts: dict[str, Counter[datetime]] = {}
    if sources is None and logs is not None and logs.covers(since, until):
        service_of = {source.name: source.service for source in logs.sources}
        for hit in logs.lines([pattern], since=since, until=until, errors=source_errors):
            service = hit.service or service_of.get(hit.source) or hit.source
            on_line(hit, service)
            if hit.ts is not None:
                counts.setdefault(service, Counter())[floor_minute(hit.ts)] += 1
        return counts
    chosen = list(sources) if sources is not None else make_sources(config)
    service_of = {source.name: source.service for source in chosen}
    query = Query(pattern, regex=True, since=since, until=until)
    for event in stream_search(chosen, query, max_hits=0, lossless=True):
        if isinstance(event, HitsFound):
            for hit in event.hits:
                service = hit.service or service_of.get(hit.source) or hit.source
                on_line(hit, service)
                if hit.ts is not None:
                    counts.setdefault(service, Counter())[floor_minute(hit.ts)] += 1
        elif isinstance(event, SearchFinished):
            source_errors += event.result.errors
    return counts


def _suspect_deploy(
    config: Config, series: dict[str, HealthSeries], since: datetime, until: datetime
) -> tuple[SuspectDeploy | None, list[str]]:
    """The top correlated rollback candidate's suspect, ranked on the series just counted."""
    if not config.services:
        return None, []
    found = local_deploys(config, since - DEPLOY_HISTORY, until)
    if found.failure:
        return None, [found.failure]
    try:
        report = rank_candidates(found.deploys, series, local_sources_only(config))
    except Exception as exc:  # deploys are a bonus for the postmortem: never fail the facts
        return None, [f"deploys could not be read: {exc}"]
    for analysis in report.analyses:
        for candidate in analysis.candidates:
            if candidate.correlated:
                deploy = candidate.suspect
                return SuspectDeploy(deploy.service, deploy.label, deploy.actor, deploy.time), []
    return None, []
