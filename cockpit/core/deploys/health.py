"""Per-service, per-minute health, error bursts, and each deploy's before/after verdict.

A series maps each minute (UTC, floored) to `(bad, total)`: from logs that is (5xx lines,
request lines); from Prometheus it is (error ratio, 1), so the mean of ratios. Either way the
ratio over a window is `sum(bad) / sum(total)`.

A burst is decided by statistics on those counts, not by fixed ratios (see `changepoint`):
the series is cut where its error ratio changes, a stretch significantly above the service's
usual level (and past the effect floors) is elevated, and the latest run of elevated
stretches is the burst, with a posterior over the minute it began.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from cockpit.core.config import Config, HealthConfig
from cockpit.core.deploys import changepoint as cp
from cockpit.core.deploys.model import Deploy
from cockpit.core.deploys.stats import excess_p_value, format_p, smoothed_ratio
from cockpit.core.search.model import Query
from cockpit.core.timefmt import floor_minute

if TYPE_CHECKING:
    from cockpit.core.search.logpass import LogPass

MINUTE = timedelta(minutes=1)
RATIO_FLOOR = 0.001
"""Ratios below 0.1% count as 0.1% when computing a jump factor, so 0 -> 2% is not infinite."""
PEAK_MINUTES = 5
"""A burst's peak is its worst 5-minute error ratio within the window after the onset."""
SLOW_ONSET = timedelta(minutes=4)
"""A burst that takes at least this long from its onset to most of its level is a slow onset
(a ramp, such as a leak), told as "rising from ... to ..."; a step gets there at once."""
RECENT = timedelta(minutes=60)
"""A burst that ended longer ago than this is history: the service is healthy now."""
STRENGTH_MINUTES = 30
"""The strength shown is the test over the burst's first half hour (or all of it, if shorter)."""


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

    def counts(self, start: datetime, end: datetime) -> tuple[float, float]:
        """(errors, requests) over [start, end)."""
        bad = total = 0.0
        minute = floor_minute(start)
        while minute < end:
            point = self.points.get(minute)
            if point is not None:
                bad += point[0]
                total += point[1]
            minute += MINUTE
        return bad, total

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
    """An error burst: when it began, how bad it got, and how sure the test is."""

    service: str
    onset: datetime
    """When the errors began to rise: the most likely minute (see `onset_weights`)."""
    baseline: float
    """Error ratio before the onset."""
    peak: float
    """The worst 5-minute error ratio within the window after the onset; for a slow onset,
    the worst up to the end of the burst."""
    source: str
    crossed: datetime | None = None
    """The first minute of the first elevated stretch."""
    peak_at: datetime | None = None
    """First minute of the worst 5 minutes."""
    climbed_at: datetime | None = None
    """Where the burst reached most of its level (the onset itself for a step)."""
    errors: float = 0.0
    """Errors over the strength window (a ratio series: its mean ratio)."""
    expected: float = 0.0
    """Errors the usual level predicts over the same minutes (a ratio series: that level)."""
    requests: float = 0.0
    p_value: float = 1.0
    """One-sided test of the strength window against the usual level, with overdispersion."""
    strength_minutes: int = 0
    usual: float = 0.0
    """The service's usual error ratio over the lookback."""
    phi: float = 1.0
    """Overdispersion of the service's counts (1: as noisy as binomial counts can be)."""
    ended_at: datetime | None = None
    """When it stopped (None: still going)."""
    onset_weights: tuple[tuple[datetime, float], ...] = ()
    """Posterior weight of each minute being the onset (sums to 1)."""
    earlier: int = 0
    """Earlier bursts in the lookback at least about as bad (chronic flaps, an old incident)."""
    observed_minutes: int = 0
    """Minutes of the lookback with data."""
    level: float = 0.0
    """The error ratio over the whole burst so far."""
    scope: str | None = None
    """Set when the burst is on some versions only (a canary): which, in words."""

    @property
    def slow_onset(self) -> bool:
        """True for a ramp: most of its level came SLOW_ONSET or more after the onset."""
        return self.climbed_at is not None and self.climbed_at - self.onset >= SLOW_ONSET

    @property
    def ongoing(self) -> bool:
        return self.ended_at is None

    @property
    def strength(self) -> str:
        """`p < 0.001 over 14 min; 37 errors vs 3 expected` (ratios: `4.1% vs 0.2% usual`)."""
        over = f"{format_p(self.p_value)} over {self.strength_minutes} min"
        if self.source == "logs":
            expected = f"{self.expected:.1f}" if self.expected < 10 else f"{self.expected:.0f}"
            return f"{over}; {self.errors:.0f} errors vs {expected} expected"
        return f"{over}; {self.errors * 100:.1f}% vs {self.expected * 100:.1f}% usual"


def dense_minutes(series: HealthSeries, end: datetime) -> tuple[cp.Minutes, datetime]:
    """`series` as dense per-minute lists up to `end` (exclusive), and the first minute."""
    first = min(series.points)
    size = max(1, int((floor_minute(end) - first) / MINUTE))
    requests = [0.0] * size
    errors = [0.0] * size
    for minute, (bad, total) in series.points.items():
        index = int((minute - first) / MINUTE)
        if 0 <= index < size:
            requests[index] += total
            errors[index] += bad
    return cp.Minutes(requests, errors, ratios=series.source != "logs"), first


def find_burst(
    series: HealthSeries,
    health: HealthConfig,
    *,
    now: datetime | None = None,
    recent: timedelta | None = None,
) -> Burst | None:
    """The service's current (or recently ended) error burst, or None when it looks healthy.

    See the module docstring: significance on counts with overdispersion, a minimum count,
    effect floors (`error_ratio_threshold`, `error_ratio_jump`), then the onset as a posterior.
    `now` is the end of the data (default: just after the last minute with data). With
    `recent`, a burst that ended longer ago than that is history (None: healthy now);
    without, the latest burst is returned however old (a postmortem wants it).
    """
    if not series.points:
        return None
    end = floor_minute(now) + MINUTE if now is not None else max(series.points) + MINUTE
    minutes, first = dense_minutes(series, end)
    if len(minutes) < 3:
        return None
    at = lambda index: first + index * MINUTE  # noqa: E731
    # Cut at every block alignment and keep the clearest account of the latest burst: where
    # 5-minute boundaries happen to fall must not decide a borderline burst, nor its start.
    best: tuple[float, list[cp.Episode], cp.Noise, float] | None = None
    known: cp.Noise | None = None
    every: list[cp.Episode] = []
    for shift in range(cp.BLOCK_MINUTES):
        blocks, starts = cp.blocks_of(minutes, shift=shift)
        noise, cut = cp.noise_of(minutes, blocks, known)
        known = noise
        stretches = cp.in_minutes(cut, starts, len(minutes), minutes)
        usual = cp.usual_level(stretches, minutes.ratios)
        found = cp.find_episodes(
            minutes, stretches, usual, noise, health.error_ratio_threshold, health.error_ratio_jump
        )
        every += found
        if not found:
            continue
        latest = found[-1]
        if not latest.ongoing and recent is not None and end - at(latest.end) > recent:
            continue
        # Going on beats over; then the latest start (the most specific account: a coarse
        # cut can lump the burst with a flap an hour before it); then the stronger test.
        rank = (0.0 if latest.ongoing else 1e9) - latest.start + latest.p_value
        if best is None or rank < best[0]:
            best = (rank, found, noise, usual)
    if best is None:
        return None
    _rank, found, noise, usual = best
    latest = found[-1]
    ended_at = None if latest.ongoing else at(latest.end)
    # The onset never reaches back past an earlier burst, as any alignment saw it.
    floor = max((ep.end for ep in every if ep.end <= latest.start), default=0)
    onset = cp.onset_of(minutes, latest, floor, noise)
    onset_at = at(onset.best)
    span = min(STRENGTH_MINUTES, max(latest.end - onset.best, 1))
    p, errors, requests, expected = cp.test_above(
        minutes, onset.best, onset.best + span, usual, noise
    )
    if not minutes.ratios and errors - expected < cp.MIN_EXCESS:
        # A thin half hour (50 requests an hour): the test over the whole burst instead.
        span = max(latest.end - onset.best, 1)
        p, errors, requests, expected = cp.test_above(
            minutes, onset.best, onset.best + span, usual, noise
        )
    window = timedelta(minutes=health.window_minutes)
    climbed = at(onset.reached)
    peak_end = at(latest.end)
    if climbed - onset_at >= SLOW_ONSET:
        peak, peak_at = _peak(series, onset_at, peak_end)
    else:
        peak, peak_at = _peak(series, onset_at, min(onset_at + max(window, 5 * MINUTE), peak_end))
    # The level before: the hour before the earliest plausible onset (its 5% quantile), as a
    # median for a ratio series (a few smoothed minutes of the rise must not lift it).
    acc, early = 0.0, onset.best
    for minute, weight in sorted(onset.weights.items()):
        acc += weight
        if acc >= 0.05:
            early = minute
            break
    start_before = max(at(floor), at(early) - timedelta(minutes=60))
    before = _level_before(series, start_before, at(early))
    # Earlier bursts at least half as bad (excess errors, or excess ratio for a ratio series):
    # chronic flaps or an old incident make "it happens anyway" likelier.
    if minutes.ratios:
        excess = latest.excess_ratio * min(latest.minutes, 60)
        earlier = sum(
            1 for ep in found[:-1] if ep.excess_ratio * min(ep.minutes, 60) >= 0.5 * excess
        )
    else:
        excess = latest.errors - latest.expected
        earlier = sum(1 for ep in found[:-1] if ep.errors - ep.expected >= 0.5 * excess)
    return Burst(
        service=series.service,
        onset=onset_at,
        baseline=before if before is not None else usual,
        peak=max(peak, latest.level),
        source=series.source,
        crossed=at(latest.start),
        peak_at=peak_at,
        climbed_at=climbed,
        errors=errors,
        expected=expected,
        requests=requests,
        p_value=p,
        strength_minutes=span,
        usual=usual,
        phi=noise.phi,
        ended_at=ended_at,
        onset_weights=tuple((at(t), w) for t, w in sorted(onset.weights.items())),
        earlier=earlier,
        observed_minutes=sum(1 for n in minutes.requests if n > 0),
        level=latest.level,
    )


def _level_before(series: HealthSeries, start: datetime, end: datetime) -> float | None:
    if series.source == "logs":
        return series.ratio(start, end)
    values = sorted(
        bad / total
        for minute, (bad, total) in series.points.items()
        if start <= minute < end and total > 0
    )
    return values[len(values) // 2] if values else None


RECOVERY_MINUTES = 5
"""Minutes in a row back under the burst's bar that make a recovery rather than a lull."""
RECOVERY_SMOOTHING = 3
"""Log series are judged for recovery on a trailing 3-minute sum: one error among few requests
is noise."""


def recovery_bar(burst: Burst, health: HealthConfig) -> float:
    """The error ratio a burst must stay under to be over: the effect floors that made it a
    burst (`error_ratio_threshold`, and `error_ratio_jump` times the service's usual ratio)."""
    return max(health.error_ratio_threshold, health.error_ratio_jump * burst.usual)


def find_recovery(series: HealthSeries, burst: Burst, health: HealthConfig) -> datetime | None:
    """When `burst` ended: the first minute of a stretch of `RECOVERY_MINUTES` judged under
    its bar (`recovery_bar`), or None while the errors go on. A trailing window lags the raw
    minutes, so the moment walks back over minutes already healthy."""
    if not series.points:
        return None
    smoothing = RECOVERY_SMOOTHING if series.source == "logs" else 1
    threshold = recovery_bar(burst, health)
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


PEAK_REQUESTS = 20
"""A peak window needs this many requests (widening past 5 minutes at low traffic): one error
among two requests is not "50%"."""


def _peak(series: HealthSeries, start: datetime, end: datetime) -> tuple[float, datetime | None]:
    """The worst PEAK_MINUTES-long error ratio in [start, end) and the minute it begins: what
    "in full swing" means. At low traffic a window widens until it holds PEAK_REQUESTS."""
    worst, worst_at = 0.0, None
    minute = start
    need = PEAK_REQUESTS if series.source == "logs" else 0
    while minute < end:
        stop = minute + PEAK_MINUTES * MINUTE
        bad, total = series.counts(minute, stop)
        while total < need and stop < end:
            stop += MINUTE
            bad, total = series.counts(minute, stop)
        if total > 0 and (total >= need or worst_at is None):
            ratio = min(1.0, bad / total)
            if worst_at is None or ratio > worst:
                worst, worst_at = ratio, minute
        if stop >= end and total < need:
            break
        minute += MINUTE
        if minute + PEAK_MINUTES * MINUTE > end and worst_at is not None:
            break
    return worst, worst_at


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
    """Compare the window after the deploy with the window before it, by significance.

    Unhealthy when the after-window holds significantly more errors than the before-window's
    ratio predicts (p < 0.001, at least five more) and past the effect floors. Both windows
    are shifted back by the clock-skew tolerance, so errors that the logs place slightly
    before the recorded deploy time still count as after it.
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
    floor = max(health.error_ratio_threshold, health.error_ratio_jump * max(base, RATIO_FLOOR))
    if after < floor:
        return DeployHealth(Verdict.HEALTHY, before, after, series.source)
    if series.source != "logs":
        worse = after - base >= 0.005
    else:
        bad_before, total_before = series.counts(pivot - window, pivot)
        bad_after, total_after = series.counts(pivot, floor_minute(deploy.time) + window)
        expected = total_after * smoothed_ratio(bad_before, total_before)
        worse = bad_after - expected >= cp.MIN_EXCESS and (
            excess_p_value(bad_after, expected) < cp.ALPHA
        )
    verdict = Verdict.UNHEALTHY if worse else Verdict.HEALTHY
    return DeployHealth(verdict, before, after, series.source)


@dataclass(frozen=True)
class ServicePatterns:
    """The health patterns and label fields in force for one service: its own
    `[services.health]` keys over `[health]`'s."""

    request_pattern: str
    error_pattern: str
    version_field: str | None = None
    version_pattern: str | None = None
    upstream_field: str | None = None
    upstream_pattern: str | None = None

    @property
    def labelled(self) -> bool:
        """Lines carry a version (or pod) label."""
        return bool(self.version_field or self.version_pattern)

    @property
    def routed(self) -> bool:
        """Lines name the service a request went to."""
        return bool(self.upstream_field or self.upstream_pattern)


def patterns_for(config: Config, service: str) -> ServicePatterns:
    """The patterns in force for `service` (a service not in the config gets `[health]`'s)."""
    own = next((s.health for s in config.services if s.name == service), None)
    health = config.health

    def pick(name: str) -> str | None:
        value = getattr(own, name, None) if own is not None else None
        return value if value is not None else getattr(health, name)

    # A service that names its own label (field or pattern) replaces [health]'s pair whole.
    version_field, version_pattern = pick("version_field"), pick("version_pattern")
    if own is not None and (own.version_field or own.version_pattern):
        version_field, version_pattern = own.version_field, own.version_pattern
    upstream_field, upstream_pattern = pick("upstream_field"), pick("upstream_pattern")
    if own is not None and (own.upstream_field or own.upstream_pattern):
        upstream_field, upstream_pattern = own.upstream_field, own.upstream_pattern
    return ServicePatterns(
        pick("request_pattern") or health.request_pattern,
        pick("error_pattern") or health.error_pattern,
        version_field,
        version_pattern,
        upstream_field,
        upstream_pattern,
    )


def health_from_logs(
    config: Config,
    services: Iterable[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    problems: list[str] | None = None,
    logs: LogPass | None = None,
) -> tuple[dict[str, HealthSeries], list[str]]:
    """Per-minute requests and errors per service from the log sources, via the search engine
    (or `logs`, the command's one read of the files, where it covers the window).

    Each service is counted with its own patterns (`[services.health]`, else `[health]`);
    services sharing patterns share one pass. Returns (series by service, notes). Needs
    `health.request_pattern`; without it (or without log sources) there is nothing to read and a
    note says so. `problems` receives each log file or source that was skipped or failed, once:
    the health read from logs is incomplete.
    """
    wanted = list(services)
    if not config.sources:
        return {}, ["no log sources configured: health from logs is off"]
    if not config.health.request_pattern:
        return {}, ["health.request_pattern is not set: health from logs is off"]
    found: list[str] = []
    requests, errors = count_lines(
        config, wanted, since=since, until=until, problems=found, logs=logs
    )
    if problems is not None:
        for problem in dict.fromkeys(found):  # every pass skips the same files: say it once
            problems.append(f"health from logs is incomplete: {problem}")
    result: dict[str, HealthSeries] = {}
    for service in wanted:
        req = requests.get(service) or Counter()
        err = errors.get(service) or Counter()
        if req or err:
            result[service] = series_from_counts(service, req, err)
    return result, []


def count_lines(
    config: Config,
    services: Iterable[str] | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    problems: list[str] | None = None,
    logs: LogPass | None = None,
) -> tuple[dict[str, Counter[datetime]], dict[str, Counter[datetime]]]:
    """(request lines, error lines) per service per minute, each service counted with its own
    patterns. `services` None means every service the lines name (a source's service, else the
    line's own): one pass with `[health]`'s patterns, and one for each service with its own.
    `problems` receives one line per source or file a pass skipped or read in part. Raises
    PatternError. With `logs` covering the window, both patterns come from its one read."""

    every = services is None
    default = (config.health.request_pattern, config.health.error_pattern)
    wanted = [s.name for s in config.services] if services is None else list(services)
    groups: dict[tuple[str, str], frozenset[str] | None] = {default: None} if every else {}
    own: set[str] = set()
    for service in wanted:
        patterns = patterns_for(config, service)
        key = (patterns.request_pattern, patterns.error_pattern)
        if every and key == default:
            continue  # counted in the pass over every service
        own.add(service)
        groups[key] = (groups.get(key) or frozenset()) | {service}

    def counts(pattern: str, members: frozenset[str] | None) -> dict[str | None, Counter[datetime]]:
        from cockpit.core.search.engine import minute_counts

        query = Query(pattern=pattern, regex=True, since=since, until=until, services=members)
        return minute_counts(config, query, services=members, problems=problems)

    jobs = [(key, kind, members) for key, members in groups.items() for kind in (0, 1)]
    if logs is not None and logs.covers(since, until):
        done = []
        for key, members in groups.items():
            done += logs.minute_counts_many(
                key, since=since, until=until, services=members, problems=problems
            )
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(4, len(jobs) or 1)) as pool:
            done = list(pool.map(lambda job: counts(job[0][job[1]], job[2]), jobs))
    requests: dict[str, Counter[datetime]] = {}
    errors: dict[str, Counter[datetime]] = {}
    for (_key, kind, members), found in zip(jobs, done, strict=True):
        target = requests if kind == 0 else errors
        for name, counted in found.items():
            if name is None or not counted:
                continue
            if members is None and name in own:
                continue  # counted with its own patterns
            if members is None or name in members:
                target[name] = counted
    return requests, errors


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
