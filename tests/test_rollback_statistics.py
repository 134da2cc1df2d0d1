"""The burst test on counts: significance, a minimum count, overdispersion, change points and
the onset posterior, from 50 requests an hour to 50,000 a minute."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from cockpit.core.config import Config, HealthConfig
from cockpit.core.deploys import changepoint as cp
from cockpit.core.deploys.health import (
    RECENT,
    HealthSeries,
    find_burst,
    series_from_counts,
    series_from_ratios,
)
from cockpit.core.deploys.stats import (
    excess_p_value,
    format_p,
    poisson_cdf,
    poisson_sf,
    smoothed_ratio,
)

NOW = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
HEALTH = HealthConfig()


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def simulate(
    rate: float,
    *,
    base: float = 0.003,
    step_back: int | None = None,
    level: float = 0.3,
    ramp: int = 0,
    seed: int = 1,
    minutes: int = 360,
    noise: float = 0.0,
    extra: dict[int, int] | None = None,
    spikes: list[tuple[int, int, float]] | None = None,
) -> HealthSeries:
    """Per-minute counts: `rate` requests a minute at error ratio `base`, then from
    `step_back` minutes before NOW a step (or a `ramp`-minute climb) to `level`."""
    rng = random.Random(seed)
    requests: dict[datetime, int] = {}
    errors: dict[datetime, int] = {}
    for back in range(minutes, 0, -1):
        minute = NOW - timedelta(minutes=back)
        ratio = base * rng.gammavariate(1 / noise**2, noise**2) if noise else base
        for start, length, spike in spikes or []:
            if start >= back > start - length:
                ratio = spike
        if step_back is not None and back <= step_back:
            climbed = (step_back - back + 1) / ramp if ramp else 1.0
            ratio = ratio + (level - ratio) * min(1.0, climbed)
        n = _poisson(rng, rate)
        if n * ratio > 30:
            e = round(rng.gauss(n * ratio, math.sqrt(n * ratio * (1 - ratio))))
        else:
            e = sum(1 for _ in range(n) if rng.random() < ratio)
        requests[minute] = n
        errors[minute] = max(0, min(n, e + (extra or {}).get(back, 0)))
    return series_from_counts("svc", requests, errors)


# -- the small exact statistics ------------------------------------------------------------


def test_poisson_tails_are_exact_against_the_sum():
    for k, mean in [(1, 0.1), (3, 0.1), (5, 2.0), (10, 10.0), (100, 80.0), (1, 5.0)]:
        brute = 1 - sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k))
        assert poisson_sf(k, mean) == pytest.approx(brute, rel=1e-9, abs=1e-15)
        assert poisson_cdf(k - 1, mean) == pytest.approx(1 - brute, rel=1e-9, abs=1e-15)
    assert poisson_sf(0, 3.0) == 1.0 and poisson_sf(2, 0.0) == 0.0


def test_excess_p_value_honours_overdispersion_and_is_said_plainly():
    assert excess_p_value(37, 3) < 1e-20
    # Ten times noisier counts: the same excess is far less surprising.
    assert excess_p_value(37, 3, phi=10) > 1e-4
    assert excess_p_value(3, 3) == 1.0
    assert format_p(1e-9) == "p < 0.001" and format_p(0.004) == "p = 0.004"
    assert format_p(0.2) == "p = 0.2"
    assert smoothed_ratio(0, 1000) > 0  # a calm stretch never has a ratio of exactly 0


# -- bursts at every traffic level -----------------------------------------------------------


@pytest.mark.parametrize(("rate", "back"), [(50 / 60, 60), (5, 20), (50, 20), (50_000, 20)])
def test_a_step_is_found_with_its_onset_from_50_an_hour_to_50000_a_minute(rate, back):
    burst = find_burst(simulate(rate, step_back=back, level=0.25), HEALTH, now=NOW)
    assert burst is not None and burst.ended_at is None
    # At 50 an hour a request comes every 72 s: the onset is known to a quarter of an hour.
    tolerance = timedelta(minutes=15 if rate < 1 else 2)
    assert abs(burst.onset - (NOW - timedelta(minutes=back))) <= tolerance
    assert not burst.slow_onset
    assert burst.p_value < 1e-3 and burst.errors - burst.expected >= cp.MIN_EXCESS
    assert burst.strength.startswith("p < 0.001 over ")
    assert burst.strength.endswith(" expected")


@pytest.mark.parametrize("rate", [50 / 60, 5, 50, 5000, 50_000])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_burst_in_a_steady_service_however_busy(rate, seed):
    assert find_burst(simulate(rate, seed=seed), HEALTH, now=NOW) is None
    # Chronic noise (the ratio itself wandering, three times binomial): still nothing.
    assert find_burst(simulate(rate, seed=seed, noise=0.5), HEALTH, now=NOW) is None


def test_a_tiny_but_significant_change_at_high_traffic_is_below_the_effect_floors():
    # 0.3% -> 0.4% at 50,000 a minute is thousands of errors: significant, and not a burst.
    series = simulate(50_000, step_back=30, level=0.004)
    assert find_burst(series, HEALTH, now=NOW) is None
    # Lower the floors and the same data is one.
    low = HEALTH.model_copy(update={"error_ratio_threshold": 0.001, "error_ratio_jump": 1.2})
    burst = find_burst(series, low, now=NOW)
    assert burst is not None and abs(burst.onset - (NOW - timedelta(minutes=30))) <= timedelta(
        minutes=2
    )


def test_a_few_errors_of_a_rolling_restart_are_below_the_minimum_count():
    # Three errors in three minutes at 4 requests a minute on a quiet service: 25% for a moment,
    # hugely "significant", and not a burst.
    series = simulate(4, base=0.0, extra={12: 1, 11: 1, 10: 1})
    assert find_burst(series, HEALTH, now=NOW) is None
    # Twelve in the same minutes, still going, are one.
    series = simulate(4, base=0.0, extra={back: 2 for back in range(12, 0, -1)})
    assert find_burst(series, HEALTH, now=NOW) is not None


def test_a_quiet_baseline_never_traces_an_onset_back_into_an_old_fixed_incident():
    # An incident three hours back (fixed), silence at 0%, then a new burst 15 minutes ago.
    series = simulate(20, base=0.0, step_back=15, level=0.3, spikes=[(200, 25, 0.3)], seed=4)
    burst = find_burst(series, HEALTH, now=NOW)
    assert burst is not None
    assert abs(burst.onset - (NOW - timedelta(minutes=15))) <= timedelta(minutes=2)
    assert burst.earlier == 1  # the old incident counts as an earlier burst as bad
    assert all(t >= NOW - timedelta(minutes=60) for t, _w in burst.onset_weights)


def test_an_old_incident_alone_is_history_not_a_burst():
    series = simulate(20, base=0.0, spikes=[(200, 25, 0.3)], seed=4)
    assert find_burst(series, HEALTH, now=NOW, recent=RECENT) is None
    # A postmortem still finds it (no `recent`): when it began and when it ended.
    burst = find_burst(series, HEALTH, now=NOW)
    assert burst is not None and burst.ended_at is not None
    assert abs(burst.onset - (NOW - timedelta(minutes=200))) <= timedelta(minutes=2)


def test_a_flapping_service_made_worse_is_found_and_its_flaps_are_not():
    flaps = [(back, 4, 0.18) for back in (330, 270, 200, 140, 80)]
    series = simulate(30, base=0.004, spikes=flaps, step_back=20, level=0.1, seed=5)
    burst = find_burst(series, HEALTH, now=NOW)
    assert burst is not None and burst.ended_at is None
    assert abs(burst.onset - (NOW - timedelta(minutes=20))) <= timedelta(minutes=2)
    # The flaps get stretches of their own: they do not make the service look noisy.
    assert burst.phi < 2
    # Four minutes of flap are no match for twenty of worse: no earlier burst "as bad".
    assert burst.earlier == 0


def test_overdispersion_is_estimated_from_the_service_itself():
    quiet = find_burst(simulate(5000, step_back=20, level=0.05, seed=6), HEALTH, now=NOW)
    noisy = find_burst(simulate(5000, step_back=20, level=0.05, seed=6, noise=0.6), HEALTH, now=NOW)
    assert quiet is not None and noisy is not None
    assert quiet.phi < 1.5 < noisy.phi


def test_a_slow_leak_at_low_traffic_is_traced_back_to_where_it_began():
    # 10 requests a minute, the ratio climbing from 0.3% to 30% over fifty minutes.
    for seed in (1, 2, 3):
        burst = find_burst(
            simulate(10, step_back=60, level=0.3, ramp=50, seed=seed), HEALTH, now=NOW
        )
        assert burst is not None and burst.slow_onset
        assert abs(burst.onset - (NOW - timedelta(minutes=60))) <= timedelta(minutes=12)
        # The posterior is wide, as it should be at 10 requests a minute.
        assert len([w for _t, w in burst.onset_weights if w > 0.01]) > 5


def test_a_recovered_burst_says_when_it_ended():
    series = simulate(40, spikes=[(40, 25, 0.3)], seed=7)
    burst = find_burst(series, HEALTH, now=NOW)
    assert burst is not None and burst.ended_at is not None
    assert abs(burst.ended_at - (NOW - timedelta(minutes=15))) <= timedelta(minutes=5)


def test_ratio_series_from_prometheus_use_their_own_spread():
    points = [
        (NOW - timedelta(minutes=m), 0.3 if m <= 25 else 0.002 + 0.0005 * (m % 3))
        for m in range(360, 0, -1)
    ]
    burst = find_burst(series_from_ratios("svc", points), HEALTH, now=NOW)
    assert burst is not None and burst.source == "prometheus"
    assert burst.onset == NOW - timedelta(minutes=25)
    assert burst.strength.endswith("usual") and "30.0% vs" in burst.strength
    flat = [(NOW - timedelta(minutes=m), 0.002 + 0.001 * (m % 4)) for m in range(360, 0, -1)]
    assert find_burst(series_from_ratios("svc", flat), HEALTH, now=NOW) is None


def test_segmentation_never_cuts_on_a_single_stray_error():
    blocks = cp.Minutes([100.0] * 60, [0.0] * 30 + [1.0] + [0.0] * 29)
    stretches = cp.segment(blocks, cp.Noise())
    assert len(stretches) == 1
    blocks = cp.Minutes([100.0] * 60, [0.0] * 30 + [20.0] * 30)
    assert [(s.start, s.end) for s in cp.segment(blocks, cp.Noise())] == [(0, 30), (30, 60)]


def test_the_config_floors_are_validated():
    with pytest.raises(ValueError, match="error_ratio_jump"):
        Config.model_validate({"health": {"error_ratio_jump": 0.5}})
    with pytest.raises(ValueError, match="error_ratio_threshold"):
        Config.model_validate({"health": {"error_ratio_threshold": 2}})
