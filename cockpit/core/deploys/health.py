"""Per-service, per-minute health, error bursts, and each deploy's before/after verdict.

A series maps each minute (UTC, floored) to `(bad, total)`: from logs that is (5xx lines,
request lines); from Prometheus it is (error ratio, 1), so the mean of ratios. Either way the
ratio over a window is `sum(bad) / sum(total)`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from cockpit.core.config import Config, HealthConfig
from cockpit.core.deploys.model import Deploy, as_utc
from cockpit.core.search.model import Query

MINUTE = timedelta(minutes=1)
RATIO_FLOOR = 0.001
"""Ratios below 0.1% count as 0.1% when computing a jump factor, so 0 -> 2% is not infinite."""
BURST_MIN_MINUTES = 3
"""Elevated minutes (one gap allowed) that make a burst rather than a blip."""
SMOOTHING_MINUTES = 3
"""Log series are judged on a trailing 3-minute sum: one error among few requests is noise."""
BASELINE_WINDOW = timedelta(minutes=60)
"""A burst's baseline is the error ratio over the hour before its onset."""
PEAK_MINUTES = 5
"""A burst's peak is its worst 5-minute error ratio within the window after the onset."""


def floor_minute(value: datetime) -> datetime:
    """The minute `value` falls in, UTC."""
    return as_utc(value).replace(second=0, microsecond=0)


@dataclass
class HealthSeries:
    """One service's per-minute health from one source ("logs" or "prometheus")."""

    service: str
    source: str
    points: dict[datetime, tuple[float, float]] = field(default_factory=dict)
    latency_p95: dict[datetime, float] = field(default_factory=dict)

    def ratio(self, start: datetime, end: datetime) -> float | None:
        """The error ratio over [start, end), or None without data."""
        bad = total = 0.0
        minute = floor_minute(start)
        while minute < end:
            point = self.points.get(minute)
            if point is not None:
                bad += point[0]
                total += point[1]
            minute += MINUTE
        if total <= 0:
            return None
        return min(1.0, bad / total)

    @property
    def span(self) -> tuple[datetime, datetime] | None:
        """First and last minute with data."""
        if not self.points:
            return None
        return min(self.points), max(self.points)


def series_from_counts(
    service: str, requests: Mapping[datetime, int], errors: Mapping[datetime, int]
) -> HealthSeries:
    """A series from per-minute request and error line counts (the search engine's output)."""
    series = HealthSeries(service=service, source="logs")
    for minute in set(requests) | set(errors):
        total = float(requests.get(minute, 0))
        bad = float(errors.get(minute, 0))
        series.points[floor_minute(minute)] = (min(bad, total) if total else bad, max(total, bad))
    return series


def series_from_ratios(
    service: str, ratios: Iterable[tuple[datetime, float]], source: str = "prometheus"
) -> HealthSeries:
    """A series from (time, error ratio) samples, e.g. a Prometheus range query."""
    series = HealthSeries(service=service, source=source)
    for when, value in ratios:
        series.points[floor_minute(when)] = (max(0.0, value), 1.0)
    return series


@dataclass(frozen=True)
class Burst:
    """An error burst: when it began and how bad it got, next to the baseline before it."""

    service: str
    onset: datetime
    baseline: float
    """Error ratio over the window before the onset."""
    peak: float
    """Error ratio over the window from the onset on."""
    source: str


def find_burst(series: HealthSeries, health: HealthConfig) -> Burst | None:
    """The most recent error burst in `series`, or None when the service looks healthy.

    A minute is elevated when its (trailing 3-minute, for logs) error ratio is above the
    threshold; a burst is at least BURST_MIN_MINUTES elevated minutes with at most one gap, and
    its level must be `error_ratio_jump` times the baseline (a chronic error rate is no burst).
    """
    if not series.points:
        return None
    first, last = min(series.points), max(series.points)
    smoothing = SMOOTHING_MINUTES if series.source == "logs" else 1
    elevated: list[datetime] = []
    minute = first
    while minute <= last:
        ratio = series.ratio(minute - (smoothing - 1) * MINUTE, minute + MINUTE)
        if ratio is not None and ratio > health.error_ratio_threshold:
            elevated.append(minute)
        minute += MINUTE
    runs: list[list[datetime]] = []
    for minute in elevated:
        if runs and minute - runs[-1][-1] <= 2 * MINUTE:
            runs[-1].append(minute)
        else:
            runs.append([minute])
    window = timedelta(minutes=health.window_minutes)
    for run in reversed(runs):
        long_enough = len(run) >= BURST_MIN_MINUTES or (len(run) >= 2 and run[-1] >= last - MINUTE)
        if not long_enough:
            continue
        onset = _onset(series, run, smoothing, health.error_ratio_threshold)
        baseline = series.ratio(onset - BASELINE_WINDOW, onset)
        peak = _peak(series, onset, onset + window)
        if peak <= health.error_ratio_threshold:
            continue  # a few noisy minutes, not a burst in full swing
        if baseline is not None and peak < health.error_ratio_jump * max(baseline, RATIO_FLOOR):
            continue
        return Burst(
            service=series.service,
            onset=onset,
            baseline=baseline or 0.0,
            peak=peak,
            source=series.source,
        )
    return None


def _raw_elevated(series: HealthSeries, minute: datetime, threshold: float) -> bool:
    raw = series.ratio(minute, minute + MINUTE)
    return raw is not None and raw > threshold


def _onset(series: HealthSeries, run: list[datetime], smoothing: int, threshold: float) -> datetime:
    """The first minute of the burst. A trailing window turns elevated only once enough errors
    pile up, so the errors may have begun up to `smoothing - 1` minutes earlier: walk back over
    minutes that are themselves elevated. If the run's first minute is not (the window was
    tipped by earlier minutes), step forward to the first one that is."""
    first = run[0]
    if _raw_elevated(series, first, threshold):
        onset = first
        for back in range(1, smoothing):
            earlier = first - back * MINUTE
            if not _raw_elevated(series, earlier, threshold):
                break
            onset = earlier
        return onset
    return next((m for m in run if _raw_elevated(series, m, threshold)), first)


def _peak(series: HealthSeries, start: datetime, end: datetime) -> float:
    """The worst PEAK_MINUTES-long error ratio in [start, end): what "in full swing" means."""
    worst = 0.0
    minute = start
    while minute + PEAK_MINUTES * MINUTE <= end:
        ratio = series.ratio(minute, minute + PEAK_MINUTES * MINUTE)
        worst = max(worst, ratio or 0.0)
        minute += MINUTE
    return worst


class Verdict(StrEnum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DeployHealth:
    """A deploy's verdict from the error ratio in the window before it and the window after."""

    verdict: Verdict
    before: float | None
    after: float | None
    source: str | None = None

    @property
    def jump(self) -> float:
        """after / before (with the 0.1% floor), 1.0 without data."""
        if self.before is None or self.after is None:
            return 1.0
        return self.after / max(self.before, RATIO_FLOOR)


def judge_deploy(deploy: Deploy, series: HealthSeries | None, health: HealthConfig) -> DeployHealth:
    """Compare the window after the deploy with the window before it.

    Both windows are shifted back by the clock-skew tolerance, so errors that the logs place
    slightly before the recorded deploy time still count as after it.
    """
    if series is None:
        return DeployHealth(Verdict.UNKNOWN, None, None)
    window = timedelta(minutes=health.window_minutes)
    skew = timedelta(seconds=health.clock_skew_seconds)
    pivot = floor_minute(deploy.time - skew)
    before = series.ratio(pivot - window, pivot)
    after = series.ratio(pivot, floor_minute(deploy.time) + window)
    if after is None:
        return DeployHealth(Verdict.UNKNOWN, before, None, series.source)
    base = before if before is not None else 0.0
    if after > health.error_ratio_threshold and after >= health.error_ratio_jump * max(
        base, RATIO_FLOOR
    ):
        return DeployHealth(Verdict.UNHEALTHY, before, after, series.source)
    return DeployHealth(Verdict.HEALTHY, before, after, series.source)


def health_from_logs(
    config: Config,
    services: Iterable[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[dict[str, HealthSeries], list[str]]:
    """Per-minute requests and errors per service from the log sources, via the search engine.

    Returns (series by service, notes). Needs `health.request_pattern`; without it (or without
    log sources) there is nothing to read and a note says so.
    """
    wanted = list(services)
    notes: list[str] = []
    request_pattern = config.health.request_pattern
    if not config.sources:
        return {}, ["no log sources configured: health from logs is off"]
    if not request_pattern:
        return {}, ["health.request_pattern is not set: health from logs is off"]
    from cockpit.core.search.engine import minute_counts

    services_filter = frozenset(wanted) if wanted else None

    def counts(pattern: str) -> dict[str | None, Counter[datetime]]:
        query = Query(
            pattern=pattern, regex=True, since=since, until=until, services=services_filter
        )
        return minute_counts(config, query, services=services_filter)

    requests = counts(request_pattern)
    errors = counts(config.health.error_pattern)
    result: dict[str, HealthSeries] = {}
    for service in wanted:
        req = requests.get(service) or Counter()
        err = errors.get(service) or Counter()
        if req or err:
            result[service] = series_from_counts(service, req, err)
    return result, notes


def health_from_prometheus(
    config: Config,
    services: Iterable[str],
    *,
    since: datetime,
    until: datetime,
    transport: object | None = None,
) -> tuple[dict[str, HealthSeries], list[str]]:
    """Error ratio (and p95 latency) per service from Prometheus; raises PrometheusError."""
    from cockpit.core.deploys.prometheus import query_range, service_query

    prom = config.prometheus
    if prom is None:
        return {}, []
    result: dict[str, HealthSeries] = {}
    for service in services:
        rows = query_range(
            prom,
            service_query(prom.error_ratio_query, service),
            since,
            until,
            transport=transport,
        )
        samples = [point for _labels, points in rows for point in points]
        if not samples:
            continue
        series = series_from_ratios(service, samples)
        latency = query_range(
            prom,
            service_query(prom.latency_p95_query, service),
            since,
            until,
            transport=transport,
        )
        for _labels, points in latency:
            for when, value in points:
                series.latency_p95[floor_minute(when)] = value
        result[service] = series
    return result, []
