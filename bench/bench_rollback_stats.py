"""The burst test alone, from 50 requests an hour to 50,000 a minute, against chronic noise.

Usage:
    python bench/bench_rollback_stats.py               # 20 seeds per cell
    python bench/bench_rollback_stats.py --seeds 50

Six hours of per-minute counts are simulated directly (no log files: 50,000 requests a minute
for six hours would be 18 million lines) and handed to `find_burst`, the function every
rollback analysis starts from. For each traffic level and each background:

- quiet: a steady 0.3% error ratio, Poisson traffic;
- noisy: the error ratio itself wanders from minute to minute (overdispersion, as retries and
  one bad client make real services: about three times binomial noise);
- diurnal: traffic triples over the six hours and the error ratio drifts up by half with it;
- peaks: two traffic peaks at four times the base, 40 minutes each;
- flaps: short bursts (2-6 minutes at 10-25%) every 35-90 minutes, as a flapping service has;

the table gives how often a burst is reported where there is none (false alarms: the cockpit
would then look for a deploy to blame), and, with a step 20 minutes before now (an hour at
50 requests an hour, where 20 minutes hold 17 requests), how often it is found with its
onset within 3 minutes (10 at 50 an hour), for a large step (to 25%) and a small one (two
percentage points). A burst needs five errors beyond the usual level: a two-point rise is
two errors in 20 minutes at 5 a minute, below that minimum by design. The time is per
six-hour series, in CPU (the machine it was measured on is shared).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.core.config import HealthConfig  # noqa: E402
from cockpit.core.deploys.health import find_burst, series_from_counts  # noqa: E402

NOW = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
MINUTES = 360
ONSET_BACK = 20
LEVELS = (("50/hour", 50 / 60), ("5/min", 5), ("50/min", 50), ("500/min", 500),
          ("5,000/min", 5000), ("50,000/min", 50_000))  # fmt: skip
BASE = 0.003


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def binomial(rng: random.Random, n: int, p: float) -> int:
    if n <= 0 or p <= 0:
        return 0
    if n * p > 30 and n * (1 - p) > 30:
        return max(0, min(n, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))
    if n > 200:
        return min(n, poisson(rng, n * p))
    return sum(1 for _ in range(n) if rng.random() < p)


Background = Callable[[random.Random, int, float], tuple[float, float]]
"""(rng, minute index, base rate) -> (expected requests, error ratio)."""


def quiet(rng: random.Random, index: int, rate: float) -> tuple[float, float]:
    return rate, BASE


def noisy(rng: random.Random, index: int, rate: float) -> tuple[float, float]:
    # A gamma-distributed ratio: its spread is a share of the ratio itself, whatever the traffic.
    return rate, BASE * rng.gammavariate(4.0, 0.25)


def diurnal(rng: random.Random, index: int, rate: float) -> tuple[float, float]:
    share = index / MINUTES
    return rate * (1 + 2 * share), BASE * (1 + 0.5 * share)


def peaks(rng: random.Random, index: int, rate: float) -> tuple[float, float]:
    inside = 100 <= index < 140 or 250 <= index < 290
    return rate * (4 if inside else 1), BASE


def flaps_for(seed: int) -> Background:
    rng = random.Random(f"flaps:{seed}")
    spans = []
    at = rng.uniform(5, 50)
    while at < MINUTES - ONSET_BACK - 30:
        spans.append((at, rng.uniform(2, 6), rng.uniform(0.1, 0.25)))
        at += rng.uniform(35, 90)

    def flaps(rng: random.Random, index: int, rate: float) -> tuple[float, float]:
        for start, length, level in spans:
            if start <= index < start + length:
                return rate, level
        return rate, BASE

    return flaps


def onset_back(rate: float) -> int:
    return 60 if rate < 1 else ONSET_BACK


def simulate(
    seed: int, rate: float, background: Background, step: float | None
) -> tuple[dict[datetime, int], dict[datetime, int]]:
    rng = random.Random(seed)
    requests: dict[datetime, int] = {}
    errors: dict[datetime, int] = {}
    for index in range(MINUTES):
        minute = NOW - timedelta(minutes=MINUTES - index)
        expected, ratio = background(rng, index, rate)
        if step is not None and index >= MINUTES - onset_back(rate):
            ratio = step if step > 0.1 else ratio + step
        n = poisson(rng, expected)
        requests[minute] = n
        errors[minute] = binomial(rng, n, min(ratio, 1.0))
    return requests, errors


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    health = HealthConfig()
    backgrounds: dict[str, Callable[[int], Background]] = {
        "quiet": lambda seed: quiet,
        "noisy": lambda seed: noisy,
        "diurnal": lambda seed: diurnal,
        "peaks": lambda seed: peaks,
        "flaps": flaps_for,
    }
    header = (
        f"{'traffic':>11} {'background':>10} {'false alarms':>13} "
        f"{'found (to 25%)':>15} {'found (+2 pts)':>15} {'onset err':>9} {'cpu ms':>6}"
    )
    print(header)
    print("-" * len(header))
    all_false = all_runs = 0
    times: list[float] = []
    for name, rate in LEVELS:
        tolerance = timedelta(minutes=10 if rate < 1 else 3)
        onset = NOW - timedelta(minutes=onset_back(rate))
        for label, make in backgrounds.items():
            false = found_large = found_small = 0
            errors_min: list[float] = []
            for seed in range(args.seeds):
                background = make(seed)
                req, err = simulate(seed, rate, background, None)
                series = series_from_counts("svc", req, err)
                started = time.process_time()
                burst = find_burst(series, health, now=NOW)
                times.append(time.process_time() - started)
                # A false alarm: a burst still going now (an ended flap is history).
                false += burst is not None and burst.ended_at is None
                for step, counter in ((0.25, "large"), (0.02, "small")):
                    req, err = simulate(seed + 10_000, rate, background, step)
                    burst = find_burst(series_from_counts("svc", req, err), health, now=NOW)
                    hit = (
                        burst is not None
                        and burst.ended_at is None
                        and abs(burst.onset - onset) <= tolerance
                    )
                    if counter == "large":
                        found_large += hit
                        if burst is not None:
                            errors_min.append(abs((burst.onset - onset).total_seconds()) / 60)
                    else:
                        found_small += hit
            all_false += false
            all_runs += args.seeds
            onset_error = f"{statistics.median(errors_min):.0f} min" if errors_min else "-"
            print(
                f"{name:>11} {label:>10} {false:>6}/{args.seeds:<6} "
                f"{found_large:>8}/{args.seeds:<6} {found_small:>8}/{args.seeds:<6} "
                f"{onset_error:>9} {1000 * statistics.median(times[-args.seeds :]):5.1f}"
            )
    print(
        f"\nfalse alarms {all_false}/{all_runs}; median CPU time per six-hour series "
        f"{1000 * statistics.median(times):.1f} ms"
    )
    print(f"rerun: python bench/bench_rollback_stats.py --seeds {args.seeds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
