"""Change points in a service's per-minute errors: when it got worse, and how sure we are.

The series is cut into stretches of constant error ratio by penalised likelihood (PELT,
optimal partitioning with pruning): binomial for counts from logs, Gaussian for ratios from
Prometheus. A cut needs a likelihood gain above a BIC-like penalty (scaled by the series' own
overdispersion) *and* at least `MIN_EXCESS` errors moved across it, so one stray error on a
quiet service never starts a burst. A stretch is elevated when it is significantly above the
service's usual level (one-sided test, p < ALPHA) and clears the effect floors; a run of
elevated stretches is an episode. The onset of the latest episode is a posterior over minutes:
a ramp from the level before to the level the episode settles at, the ramp's start profiled
minute by minute (a step is a ramp of one minute). A slow leak gets a wide, early posterior; a
step a sharp one; 50 requests an hour a wide one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from cockpit.core.deploys.stats import (
    binomial_loglik,
    excess_p_value,
    median,
    normal_sf,
    segment_loglik,
    smoothed_ratio,
)

MIN_EXCESS = 5.0
"""Errors beyond the usual level that a change must move (a minimum count): below this, no
test is trusted whatever its p-value."""
ALPHA = 1e-3
"""One-sided significance a stretch must reach to be elevated."""
MIN_EPISODE = 3
"""Minutes (with traffic) an episode lasts at least: one or two noisy minutes are a blip."""
BLOCK = 10
"""Minutes per block when estimating overdispersion."""
RATIO_AUTOCORRELATION = 5.0
"""A ratio series (Prometheus `rate()` over 5m) has about one independent value per 5 min."""
MAX_PHI = 100.0
BLOCK_MINUTES = 5
"""Stretches are cut at 5-minute resolution (aligned to the end of the series); the onset of
the latest episode is then found minute by minute."""
RAMP_PENALTY = 1.0
ONSET_REACH = 150
"""Minutes before the episode reaches its level that its onset is looked for, at most."""


@dataclass
class Minutes:
    """A dense per-minute series: index 0 is `start`; ratio series carry requests of 1."""

    requests: list[float]
    errors: list[float]
    ratios: bool = False
    """True for a ratio series (no request counts): Gaussian, not binomial."""

    def __post_init__(self) -> None:
        self.cum_n = [0.0]
        self.cum_e = [0.0]
        self.cum_e2 = [0.0]
        for n, e in zip(self.requests, self.errors, strict=True):
            self.cum_n.append(self.cum_n[-1] + n)
            self.cum_e.append(self.cum_e[-1] + e)
            self.cum_e2.append(self.cum_e2[-1] + e * e)

    def __len__(self) -> int:
        return len(self.requests)

    def n(self, a: int, b: int) -> float:
        return self.cum_n[b] - self.cum_n[a]

    def e(self, a: int, b: int) -> float:
        return self.cum_e[b] - self.cum_e[a]

    def rate(self, a: int, b: int) -> float | None:
        n = self.n(a, b)
        return self.e(a, b) / n if n > 0 else None


@dataclass
class Noise:
    """How noisy the series is: the overdispersion of counts, or the spread of ratios."""

    phi: float = 1.0
    sigma: float = 0.0
    """Standard deviation of one minute's ratio (ratio series only)."""


@dataclass
class Stretch:
    start: int
    end: int
    errors: float
    requests: float

    @property
    def rate(self) -> float:
        return self.errors / self.requests if self.requests > 0 else 0.0


@dataclass
class Episode:
    """A run of elevated stretches: `[start, end)` in minutes of the series."""

    start: int
    end: int
    errors: float
    requests: float
    expected: float
    """Errors the usual level predicts over the episode (for a ratio series, its mean level)."""
    p_value: float
    level: float
    """The episode's error ratio."""
    ongoing: bool
    stretches: list[Stretch] = field(default_factory=list)

    @property
    def minutes(self) -> int:
        return self.end - self.start

    @property
    def excess_ratio(self) -> float:
        return self.level - (self.expected / self.requests if self.requests else 0.0)


@dataclass
class Onset:
    """Where the latest episode began: a posterior over minutes, its best guess and shape."""

    best: int
    weights: dict[int, float]
    """Minute index -> posterior weight (sums to 1)."""
    reached: int
    """Where the episode reaches most of its level: the end of its ramp (the onset itself
    when a step explains the data better)."""
    before: float
    """The error ratio before the onset."""


def blocks_of(
    series: Minutes, width: int = BLOCK_MINUTES, shift: int = 0
) -> tuple[Minutes, list[int]]:
    """The series in `width`-minute blocks whose boundaries fall `shift` minutes before its
    end (the blocks at either end may be partial), and the minute each block starts at."""
    size = len(series)
    cuts = [b for b in range((size - shift) % width, size, width) if b >= width]
    # A short first block would be noisier than the rest: it joins the next one. (The last
    # may stay short: it is the freshest news.)
    bounds = sorted({0, size, *cuts})
    requests, errors, starts = [], [], []
    for lo, hi in itertools.pairwise(bounds):
        starts.append(lo)
        if series.ratios:
            values = [series.errors[t] for t in range(lo, hi) if series.requests[t] > 0]
            requests.append(1.0 if values else 0.0)
            errors.append(sum(values) / len(values) if values else 0.0)
        else:
            requests.append(series.n(lo, hi))
            errors.append(series.e(lo, hi))
    return Minutes(requests, errors, ratios=series.ratios), starts


def noise_of(
    series: Minutes, blocks: Minutes, known: Noise | None = None
) -> tuple[Noise, list[Stretch]]:
    """How noisy the series is, and its stretches (block indices) cut with that noise.

    Counts: the overdispersion is the Pearson statistic of the blocks around their own
    stretch's ratio, over the degrees of freedom left (the textbook quasi-likelihood
    estimate), found by cutting at phi = 1, estimating, and cutting again. Flaps and old
    incidents get stretches of their own and so do not inflate it. Ratios: the spread of
    neighbouring blocks (median absolute change). With `known`, that noise is used as is."""
    if series.ratios:
        changes = [
            abs(blocks.errors[i] - blocks.errors[i - 1])
            for i in range(1, len(blocks))
            if blocks.requests[i] > 0 and blocks.requests[i - 1] > 0
        ]
        spread = median(changes) / 0.6745 / math.sqrt(2) if changes else 0.0
        noise = Noise(sigma=max(spread, 1e-4))
        return noise, segment(blocks, noise)
    if known is not None:
        # The noise is the series' own, whatever the alignment of its blocks.
        return known, segment(blocks, known)
    noise = Noise()
    stretches = segment(blocks, noise)
    for _ in range(2):
        phi = _dispersion(blocks, stretches)
        if abs(phi - noise.phi) < 0.25 * noise.phi:
            break
        noise = Noise(phi=phi)
        stretches = segment(blocks, noise)
    return noise, stretches


TRIM = 0.9
"""The overdispersion ignores the noisiest tenth of blocks (a flap too short to get a stretch
of its own is an outlier, not the service's noise)..."""
TRIMMED_MEAN = 0.56
"""...and divides by the mean of the lower 90% of a chi-square with one degree of freedom."""


def _dispersion(blocks: Minutes, stretches: list[Stretch]) -> float:
    residuals = []
    for stretch in stretches:
        q = smoothed_ratio(stretch.errors, stretch.requests)
        for i in range(stretch.start, stretch.end):
            n = blocks.requests[i]
            if n > 0:
                residuals.append((blocks.errors[i] - n * q) ** 2 / (n * q * (1 - q)))
    if len(residuals) - len(stretches) < 8:
        return 1.0
    residuals.sort()
    kept = residuals[: max(1, int(len(residuals) * TRIM))]
    scale = len(residuals) / max(len(residuals) - len(stretches), 1)
    return min(MAX_PHI, max(1.0, sum(kept) / len(kept) / TRIMMED_MEAN * scale))


def _cost(series: Minutes, a: int, b: int, noise: Noise) -> float:
    """-2 log-likelihood of blocks [a, b) at their own level, in the penalty's units."""
    if series.ratios:
        n = series.n(a, b)
        if n <= 0:
            return 0.0
        s = series.e(a, b)
        ss = series.cum_e2[b] - series.cum_e2[a] - s * s / n
        return ss / noise.sigma**2
    return -2 * segment_loglik(series.e(a, b), series.n(a, b)) / noise.phi


def _cost_function(series: Minutes, noise: Noise) -> Callable[[int, int], float]:
    """`_cost` with the arrays bound to locals: PELT calls it thousands of times."""
    cum_n, cum_e, cum_e2 = series.cum_n, series.cum_e, series.cum_e2
    log = math.log
    if series.ratios:
        scale = 1.0 / noise.sigma**2

        def ratio_cost(a: int, b: int) -> float:
            n = cum_n[b] - cum_n[a]
            if n <= 0:
                return 0.0
            total = cum_e[b] - cum_e[a]
            return (cum_e2[b] - cum_e2[a] - total * total / n) * scale

        return ratio_cost
    factor = -2.0 / noise.phi

    def count_cost(a: int, b: int) -> float:
        n = cum_n[b] - cum_n[a]
        if n <= 0:
            return 0.0
        e = cum_e[b] - cum_e[a]
        ll = 0.0
        if e > 0:
            ll += e * log(e / n)
        if n - e > 0:
            ll += (n - e) * log((n - e) / n)
        return factor * ll

    return count_cost


def _moves_enough(left: Stretch, right: Stretch, noise: Noise, ratios: bool) -> bool:
    """A cut between two stretches is kept only if the higher one holds MIN_EXCESS errors
    more than the lower one's level predicts (a ratio series: half a point)."""
    if ratios:
        return abs(left.rate - right.rate) >= 0.005
    if left.requests <= 0 or right.requests <= 0:
        return False
    q_left = smoothed_ratio(left.errors, left.requests)
    q_right = smoothed_ratio(right.errors, right.requests)
    moved = max(right.errors - right.requests * q_left, left.errors - left.requests * q_right)
    return moved >= MIN_EXCESS * math.sqrt(noise.phi)


def segment(blocks: Minutes, noise: Noise) -> list[Stretch]:
    """Stretches of constant error ratio over blocks (PELT, BIC-like penalty), then cuts that
    move too few errors merged away. Indices are block indices."""
    size = len(blocks)
    if size == 0:
        return []
    with_data = sum(1 for n in blocks.requests if n > 0)
    penalty = 3.0 * math.log(max(with_data * BLOCK_MINUTES, 10))
    best = [0.0] * (size + 1)
    last = [0] * (size + 1)
    best[0] = -penalty
    candidates = [0]
    cost = _cost_function(blocks, noise)
    for t in range(1, size + 1):
        scored = [(best[c] + cost(c, t), c) for c in candidates]
        value, choice = min(scored)
        value += penalty
        best[t], last[t] = value, choice
        # Pruning: a start that cannot beat the best even without the penalty never will.
        candidates = [c for v, c in scored if v <= value]
        candidates.append(t)
    bounds = []
    t = size
    while t > 0:
        bounds.append(t)
        t = last[t]
    bounds = [0, *reversed(bounds)]
    stretches = [
        Stretch(a, b, blocks.e(a, b), blocks.n(a, b)) for a, b in itertools.pairwise(bounds)
    ]
    changed = True
    while changed and len(stretches) > 1:
        changed = False
        for i in range(len(stretches) - 1):
            left, right = stretches[i], stretches[i + 1]
            if not _moves_enough(left, right, noise, blocks.ratios):
                stretches[i : i + 2] = [
                    Stretch(
                        left.start,
                        right.end,
                        left.errors + right.errors,
                        left.requests + right.requests,
                    )
                ]
                changed = True
                break
    return stretches


def in_minutes(
    stretches: list[Stretch], starts: list[int], size: int, series: Minutes
) -> list[Stretch]:
    """Block stretches as minute stretches of `series`."""
    out = []
    for s in stretches:
        a = starts[s.start]
        b = starts[s.end] if s.end < len(starts) else size
        if series.ratios:
            out.append(Stretch(a, b, series.e(a, b), series.n(a, b)))
        else:
            out.append(Stretch(a, b, s.errors, s.requests))
    return out


def usual_level(stretches: list[Stretch], ratios: bool) -> float:
    """The service's usual error ratio: the request-weighted median of its stretches (an old
    incident, flaps or a ramp are a minority of the traffic and do not move it)."""
    weighted = sorted(
        (
            (s.rate, s.requests if not ratios else s.end - s.start, s)
            for s in stretches
            if s.requests > 0
        ),
        key=lambda item: item[0],
    )
    total = sum(w for _r, w, _s in weighted)
    if total <= 0:
        return 0.0
    acc = 0.0
    for rate, weight, stretch in weighted:
        acc += weight
        if acc >= total / 2:
            # Counts: the usual stretch's smoothed ratio, never exactly 0.
            return rate if ratios else smoothed_ratio(stretch.errors, stretch.requests)
    return weighted[-1][0]


def test_above(
    series: Minutes, a: int, b: int, level: float, noise: Noise
) -> tuple[float, float, float, float]:
    """(p-value, errors, requests, expected) of minutes [a, b) being above `level`; for a
    ratio series (mean ratio, 1, level)."""
    n, e = series.n(a, b), series.e(a, b)
    if series.ratios:
        minutes = sum(1 for t in range(a, b) if series.requests[t] > 0)
        if minutes == 0:
            return 1.0, 0.0, 0.0, 0.0
        mean = e / n
        independent = max(1.0, minutes / BLOCK_MINUTES)
        spread = noise.sigma / math.sqrt(independent)
        return normal_sf((mean - level) / max(spread, 1e-9)), mean, 1.0, level
    expected = n * level
    return excess_p_value(e, expected, noise.phi), e, n, expected


def elevated(
    series: Minutes, stretch: Stretch, level: float, noise: Noise, floor: float, jump: float
) -> bool:
    """Significantly above the usual level, by enough errors, and past the effect floors."""
    if stretch.requests <= 0:
        return False
    if stretch.rate < max(floor, jump * level):
        return False
    p, e, _n, expected = test_above(series, stretch.start, stretch.end, level, noise)
    if not series.ratios and e - expected < MIN_EXCESS * math.sqrt(noise.phi):
        return False
    return p < ALPHA


def find_episodes(
    series: Minutes,
    stretches: list[Stretch],
    level: float,
    noise: Noise,
    floor: float,
    jump: float,
) -> list[Episode]:
    """Runs of elevated stretches (minute indices), oldest first."""
    found: list[Episode] = []
    run: list[Stretch] = []

    def close() -> None:
        while run and run[-1].requests <= 0:
            run.pop()
        if not run:
            return
        a, b = run[0].start, run[-1].end
        if sum(1 for t in range(a, b) if series.requests[t] > 0) < MIN_EPISODE:
            run.clear()  # a blip, not yet a burst
            return
        p, e, n, expected = test_above(series, a, b, level, noise)
        rate = series.rate(a, b) or 0.0
        found.append(Episode(a, b, e, n, expected, p, rate, b >= len(series), list(run)))
        run.clear()

    for index, stretch in enumerate(stretches):
        if elevated(series, stretch, level, noise, floor, jump):
            run.append(stretch)
        elif stretch.requests <= 0 and run and index == len(stretches) - 1:
            # No traffic since: nothing says it is over.
            a = run[0].start
            if sum(1 for t in range(a, stretch.end) if series.requests[t] > 0) >= MIN_EPISODE:
                p, e, n, expected = test_above(series, a, stretch.end, level, noise)
                found.append(
                    Episode(a, stretch.end, e, n, expected, p,
                            series.rate(a, stretch.end) or 0.0, True, list(run))
                )  # fmt: skip
            run.clear()
        else:
            close()
    close()
    return found


def onset_of(series: Minutes, episode: Episode, floor_index: int, noise: Noise) -> Onset:
    """The posterior over where `episode` began, no earlier than `floor_index` (the end of the
    episode before it: an old incident is never part of the new one).

    Model: the level before the onset (`q0`, from `floor_index`), a linear ramp from the onset
    to the minute `reached` where the episode has most of its level, then that level (`q1`,
    the 15 minutes from `reached`). The onset is profiled minute by minute; onset == reached
    is a step. Minute weights are the normalised profile likelihood.
    """
    reached, typical = _reached(series, episode)
    lo = max(floor_index, reached - ONSET_REACH, 0)
    tail = min(len(series), max(reached + 15, reached + 1))
    q1 = series.rate(reached, tail)
    if q1 is None or q1 <= 0:
        q1 = max(typical, 1e-6)
    ratio_sigma = noise.sigma * math.sqrt(BLOCK_MINUTES)
    scale = 1.0 if series.ratios else noise.phi
    after = _loglik(series, reached, tail, q1, ratio_sigma)
    profile: dict[int, float] = {}
    first_tau = lo + 1 if reached > lo else reached
    # `reached` comes from 5-minute windows, which reach the level a little before a step
    # does: a step may start up to a window later.
    latest = min(reached + BLOCK_MINUTES, tail - 1)
    ramps: dict[int, bool] = {}
    for tau in range(first_tau, max(latest, first_tau) + 1):
        q0 = _before(series, lo, tau) if tau > lo else 0.0
        head = _loglik(series, lo, tau, q0, ratio_sigma)
        # A step at tau: the level before, then the level from tau on.
        level = series.rate(tau, tail)
        best_ll, ramp = None, False
        if level is not None and q0 < level:
            best_ll = head + _loglik(series, tau, tail, level, ratio_sigma)
        # A ramp from tau up to `reached`, then the episode's level.
        if tau < reached - 1 and q0 < q1:
            ll = head + _ramp_loglik(series, tau, reached, q0, q1, ratio_sigma) + after
            # A ramp must beat the step by one log-likelihood unit per extra parameter (its
            # end point): on sparse data a step is the simpler story.
            if best_ll is None or ll - RAMP_PENALTY * scale > best_ll:
                best_ll, ramp = ll, True
        if best_ll is not None:
            profile[tau] = best_ll / scale
            ramps[tau] = ramp
    if not profile:
        before = series.rate(lo, episode.start) or 0.0
        return Onset(episode.start, {episode.start: 1.0}, episode.start, before)
    top = max(profile.values())
    weights = {t: math.exp(v - top) for t, v in profile.items() if v - top > -12}
    total = sum(weights.values())
    weights = {t: w / total for t, w in weights.items()}
    # The posterior median: for a sharp step the mode, for a slow ramp its middle.
    acc, best = 0.0, min(weights)
    for t in sorted(weights):
        acc += weights[t]
        if acc >= 0.5:
            best = t
            break
    level_before = series.rate(lo, best) if best > lo else None
    ramp_share = sum(w for t, w in weights.items() if ramps.get(t))
    return Onset(
        best,
        weights,
        reached if ramp_share > 0.5 else best,
        level_before if level_before is not None else 0.0,
    )


def _reached(series: Minutes, episode: Episode) -> tuple[int, float]:
    """Where the episode reaches two thirds of its typical level (the median of its 5-minute
    windows), minute by minute and independent of where its stretches were cut; and that
    level. A step gets there at once, a ramp minutes later."""
    width = BLOCK_MINUTES
    start = max(0, episode.start - width)
    windows: list[tuple[int, float]] = []
    for t in range(start, max(episode.end - width, start) + 1):
        rate = series.rate(t, min(t + width, len(series)))
        if rate is not None:
            windows.append((t, rate))
    inside = [r for t, r in windows if t >= episode.start]
    if not inside:
        return episode.start, episode.level
    typical = median(inside)
    for t, rate in windows:
        if rate >= typical * 2 / 3:
            return max(t, start), typical
    return episode.start, typical


def _ramp_loglik(
    series: Minutes, tau: int, reached: int, q0: float, q1: float, ratio_sigma: float
) -> float:
    """Log-likelihood of minutes [tau, reached) on a straight ramp from q0 to q1."""
    span = reached - tau + 1
    step = (q1 - q0) / span
    requests, errors = series.requests, series.errors
    log = math.log
    total = 0.0
    if series.ratios:
        for i, t in enumerate(range(tau, reached), start=1):
            if requests[t] > 0:
                total -= (errors[t] - (q0 + step * i)) ** 2
        return total / (2 * ratio_sigma**2)
    for i, t in enumerate(range(tau, reached), start=1):
        n = requests[t]
        if n <= 0:
            continue
        p = min(max(q0 + step * i, 1e-12), 1 - 1e-12)
        e = errors[t]
        total += e * log(p) + (n - e) * log(1 - p)
    return total


def _before(series: Minutes, a: int, b: int) -> float:
    if b <= a:
        return 0.0
    if series.ratios:
        return series.rate(a, b) or 0.0
    return smoothed_ratio(series.e(a, b), series.n(a, b))


def _loglik(series: Minutes, a: int, b: int, p: float, ratio_sigma: float) -> float:
    if a >= b:
        return 0.0
    if series.ratios:
        total = 0.0
        for t in range(a, b):
            if series.requests[t] > 0:
                total -= (series.errors[t] - p) ** 2
        return total / (2 * ratio_sigma**2)
    return binomial_loglik(series.e(a, b), series.n(a, b), p)
