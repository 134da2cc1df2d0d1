"""Per-service, per-minute health, error bursts, and each deploy's before/after verdict.

A series maps each minute (UTC, floored) to `(bad, total)`: from logs that is (5xx lines,
request lines); from Prometheus it is (error ratio, 1), so the mean of ratios. Either way the
ratio over a window is `sum(bad) / sum(total)`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from cockpit.core.config import Config, HealthConfig
from cockpit.core.deploys.model import Deploy
from cockpit.core.search.model import Query
from cockpit.core.timefmt import floor_minute

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
RISE_SIGMAS = 3.0
RAMP_APPROACH = timedelta(minutes=10)
"""The stretch just before a crossing that must be above the baseline for a rise to be a ramp."""
MIN_RISE = 0.005
"""The least error ratio above the baseline that counts towards a rise (half a percent)."""
"""Before the threshold crossing, a minute counts toward a rise by what its error ratio has
beyond the quiet level plus this many standard errors (and at least double the quiet level):
noise stays below that."""
RISE_LOOKBACK = timedelta(minutes=180)
"""How far before the threshold crossing a slow rise is traced back, at most; the quiet level
it rises from comes from the same stretch."""
QUIET_BLOCK = timedelta(minutes=10)
"""The quiet level is the error ratio of the calmer half of the 10-minute blocks."""
SLOW_ONSET = timedelta(minutes=4)
"""A burst that takes at least this long from its onset to two thirds of its typical level is
a slow onset (a ramp, such as a leak), told as "rising from ... to ..."; a step gets there at
once (within a minute or two, noise included, on the drills' low-traffic logs)."""


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

    def ratio_trend(self, end: datetime, minutes: int = 60, width: int = 12) -> list[float | None]:
        """The error ratio in `width` equal buckets of the `minutes` before `end` (None where a
        bucket has no data): the shape of the failure, for a sparkline."""
        step = timedelta(minutes=minutes / width)
        start = floor_minute(end) - timedelta(minutes=minutes)
        return [self.ratio(start + step * i, start + step * (i + 1)) for i in range(width)]

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
    """When the errors began to rise: for a slow onset, well before the threshold crossing."""
    baseline: float
    """Error ratio over the window before the onset."""
    peak: float
    """The worst 5-minute error ratio within the window after the crossing; for a slow onset,
    the worst up to the end of the burst."""
    source: str
    crossed: datetime | None = None
    """The first minute above the threshold (the same as `onset` for a step)."""
    peak_at: datetime | None = None
    """First minute of the worst 5 minutes."""
    climbed_at: datetime | None = None
    """First minute of the first 5 minutes at 2/3 of the burst's typical level, from the onset."""

    @property
    def slow_onset(self) -> bool:
        """True for a ramp: 2/3 of its typical level came SLOW_ONSET or more after the onset."""
        return self.climbed_at is not None and self.climbed_at - self.onset >= SLOW_ONSET


def find_burst(series: HealthSeries, health: HealthConfig) -> Burst | None:
    """The most recent error burst in `series`, or None when the service looks healthy.

    A minute is elevated when its (trailing 3-minute, for logs) error ratio is above the
    threshold; a burst is at least BURST_MIN_MINUTES elevated minutes with at most one gap, and
    its level must be `error_ratio_jump` times the baseline (a chronic error rate is no burst).
    The onset is where the rise began (see `_rise_start`): for a slow onset such as a memory
    leak, minutes or more before the ratio crossed the threshold.
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
        crossed = _onset(series, run, smoothing, health.error_ratio_threshold)
        onset = _rise_start(series, crossed)
        baseline = series.ratio(onset - BASELINE_WINDOW, onset)
        peak, peak_at = _peak(series, crossed, crossed + window)
        if peak <= health.error_ratio_threshold:
            continue  # a few noisy minutes, not a burst in full swing
        if baseline is not None and peak < health.error_ratio_jump * max(baseline, RATIO_FLOOR):
            continue
        climbed_at = _climb(series, onset, last + MINUTE)
        if climbed_at is not None and climbed_at - onset >= SLOW_ONSET:
            # A ramp keeps climbing after the first window: report how bad it got.
            peak, peak_at = _peak(series, onset, last + MINUTE)
        return Burst(
            service=series.service,
            onset=onset,
            baseline=baseline or 0.0,
            peak=peak,
            source=series.source,
            crossed=crossed,
            peak_at=peak_at,
            climbed_at=climbed_at,
        )
    return None


RECOVERY_MINUTES = 5
"""Minutes in a row back under the threshold that make a recovery rather than a lull."""


def find_recovery(series: HealthSeries, burst: Burst, health: HealthConfig) -> datetime | None:
    """When `burst` ended: the first minute of a stretch of `RECOVERY_MINUTES` judged (as the
    burst was) under the error-ratio threshold, or None while the errors go on. A trailing
    window lags the raw minutes, so the moment walks back over minutes already healthy."""
    if not series.points:
        return None
    smoothing = SMOOTHING_MINUTES if series.source == "logs" else 1
    threshold = health.error_ratio_threshold
    last = max(series.points)
    minute = (burst.crossed or burst.onset) + MINUTE
    run_start: datetime | None = None
    healthy = 0
    while minute <= last:
        ratio = series.ratio(minute - (smoothing - 1) * MINUTE, minute + MINUTE)
        if ratio is not None and ratio <= threshold:
            run_start = run_start or minute
            healthy += 1
            if healthy >= RECOVERY_MINUTES:
                start = run_start
                for back in range(1, smoothing):
                    earlier = run_start - back * MINUTE
                    if earlier <= burst.onset or _raw_elevated(series, earlier, threshold):
                        break
                    if series.ratio(earlier, earlier + MINUTE) is None:
                        break
                    start = earlier
                return start
        elif ratio is not None:
            run_start, healthy = None, 0
        minute += MINUTE
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


def _peak(series: HealthSeries, start: datetime, end: datetime) -> tuple[float, datetime | None]:
    """The worst PEAK_MINUTES-long error ratio in [start, end) and the minute it begins: what
    "in full swing" means."""
    worst, worst_at = 0.0, None
    minute = start
    while minute + PEAK_MINUTES * MINUTE <= end:
        ratio = series.ratio(minute, minute + PEAK_MINUTES * MINUTE) or 0.0
        if worst_at is None or ratio > worst:
            worst, worst_at = ratio, minute
        minute += MINUTE
    return worst, worst_at


def _climb(series: HealthSeries, onset: datetime, end: datetime) -> datetime | None:
    """The first minute from `onset` whose 5 minutes reach 2/3 of the burst's typical level (the
    median 5 minutes before `end`; the worst is too noisy at low traffic): at once for a step,
    minutes later for a ramp."""
    windows: list[tuple[datetime, float]] = []
    minute = onset
    while minute + PEAK_MINUTES * MINUTE <= end:
        windows.append((minute, series.ratio(minute, minute + PEAK_MINUTES * MINUTE) or 0.0))
        minute += MINUTE
    if not windows:
        return None
    typical = sorted(ratio for _minute, ratio in windows)[len(windows) // 2]
    return next(minute for minute, ratio in windows if ratio >= typical * 2 / 3)


def _rise_start(series: HealthSeries, crossed: datetime) -> datetime:
    """Where the rise that crossed the threshold at `crossed` began.

    A step is elevated from its first minute; a ramp (a leak) creeps up below the threshold
    first, and at low traffic its first errors come with quiet minutes between them. So keep a
    running excess of errors over the quiet level plus noise (a CUSUM, floored at zero): the
    rise began just after it last stood at zero. One stray error is no rise: the excess must be
    significant, or the crossing is the onset.
    """
    quiet = _quiet_level(series, crossed - RISE_LOOKBACK, crossed)
    if quiet is None:
        return crossed
    baseline, spread = quiet
    running, start = 0.0, crossed - RISE_LOOKBACK
    minute = start
    while minute < crossed:
        point = series.points.get(minute)
        if point is not None and point[1] > 0:
            bad, total = point
            margin = _margin(series, total, baseline, spread)
            running = max(0.0, running + bad - (baseline + margin) * total)
        if running <= 0:
            start = minute + MINUTE
        minute += MINUTE
    # A ramp is still climbing just before it crosses; a step has only background there, and
    # background noise on a quiet series must not pull the onset back before its deploy.
    approach = series.ratio(crossed - RAMP_APPROACH, crossed)
    if approach is None or approach < baseline + MIN_RISE:
        return crossed
    return start if _significant_rise(series, start, crossed, baseline, spread) else crossed


def _significant_rise(
    series: HealthSeries, start: datetime, end: datetime, baseline: float, spread: float
) -> bool:
    """True when [start, end) holds more errors than the baseline explains: three standard
    errors, and at least two errors (two minutes at double the baseline for a ratio series)."""
    excess = requests = 0.0
    minutes = 0
    for minute, (bad, total) in series.points.items():
        if start <= minute < end:
            excess += bad - baseline * total
            requests += total
            minutes += 1
    if minutes == 0:
        return False
    level = max(baseline, RATIO_FLOOR)
    if series.source == "logs":
        return excess >= max(RISE_SIGMAS * math.sqrt(level * (1 - level) * requests), 2.0)
    return excess >= max(RISE_SIGMAS * spread * math.sqrt(minutes), 2 * level)


def _quiet_level(
    series: HealthSeries, start: datetime, end: datetime
) -> tuple[float, float] | None:
    """The error ratio of the calmer half of the QUIET_BLOCK-long blocks in [start, end) (a ramp
    that fills the hour before the crossing does not inflate it, as long as it fills less than
    half the stretch), and the noise of a ratio series over the stretch (see `_spread`)."""
    blocks: list[tuple[float, float, float, datetime]] = []
    block = start
    while block < end:
        bad = total = 0.0
        for offset in range(int(QUIET_BLOCK / MINUTE)):
            point = series.points.get(block + offset * MINUTE)
            if point is not None:
                bad += point[0]
                total += point[1]
        if total > 0:
            blocks.append((min(1.0, bad / total), bad, total, block))
        block += QUIET_BLOCK
    if not blocks:
        return None
    calm = sorted(blocks)[: (len(blocks) + 1) // 2]
    level = min(1.0, sum(b[1] for b in calm) / sum(b[2] for b in calm))
    return level, _spread(series, start, end)


def _spread(series: HealthSeries, start: datetime, end: datetime) -> float:
    """The noise of a ratio series (which has no request counts to tell it) in [start, end):
    the mean absolute change over PEAK_MINUTES minutes, over 1.128 (which makes it the standard
    deviation for independent noise). Changes over 5 minutes, not 1, because a Prometheus
    rate() smears one error over its window; a steady climb barely moves it."""
    lag = PEAK_MINUTES * MINUTE
    changes = [
        abs(point[0] / point[1] - earlier[0] / earlier[1])
        for minute, point in series.points.items()
        if start + lag <= minute < end
        and point[1] > 0
        and (earlier := series.points.get(minute - lag)) is not None
        and earlier[1] > 0
    ]
    return sum(changes) / len(changes) / 1.128 if changes else 0.0


def _margin(series: HealthSeries, total: float, baseline: float, spread: float) -> float:
    """How far above the baseline a minute's error ratio must be to stand out: RISE_SIGMAS
    standard errors, and at least the baseline again. From logs the standard error is the
    binomial one of the minute's request count (one error among 8 requests is 12%, among 800 it
    is noise); a ratio series has no counts, so it is the spread of its minutes."""
    level = max(baseline, RATIO_FLOOR)
    noise = math.sqrt(level * (1 - level) / total) if series.source == "logs" else spread
    # A rise is at least MIN_RISE over the baseline: a quiet series whose calm half has no
    # errors at all (baseline 0) must not count the usual background errors as a ramp.
    return max(RISE_SIGMAS * noise, level, MIN_RISE)


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
    problems: list[str] | None = None,
) -> tuple[dict[str, HealthSeries], list[str]]:
    """Per-minute requests and errors per service from the log sources, via the search engine.

    Returns (series by service, notes). Needs `health.request_pattern`; without it (or without
    log sources) there is nothing to read and a note says so. `problems` receives each log
    file or source that was skipped or failed, once: the health read from logs is incomplete.
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
        return minute_counts(config, query, services=services_filter, problems=found)

    found: list[str] = []
    requests = counts(request_pattern)
    errors = counts(config.health.error_pattern)
    if problems is not None:
        for problem in dict.fromkeys(found):  # both passes skip the same files: say it once
            problems.append(f"health from logs is incomplete: {problem}")
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
