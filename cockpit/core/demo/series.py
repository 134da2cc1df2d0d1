"""Per-minute traffic series: requests and 5xx ratio per service, decided before any line.

Logs and metrics are both realised from these series (the logs line by line, the metrics from
the counts the log writer actually produced), so the burst is the same in both.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.core.demo.scenario import Scenario

# Average bytes per request line of each format, measured on generated logs; used to turn
# `log_mb` into a request rate.
AVERAGE_LINE_BYTES = {"nginx": 186, "logfmt": 173, "json": 201, "syslog": 140}
FORMAT_ORDER = ("nginx", "logfmt", "json", "syslog")
KNOWN_FORMATS = {
    "gateway": "nginx",
    "checkout": "logfmt",
    "payments": "json",
    "inventory": "syslog",
}


def log_format(service: str, index: int) -> str:
    """The log format of a service: the four defaults have their own, others take turns."""
    return KNOWN_FORMATS.get(service, FORMAT_ORDER[index % len(FORMAT_ORDER)])


@dataclass(frozen=True)
class ServiceSeries:
    """One service's plan for each minute of the log window."""

    service: str
    log_format: str
    requests: tuple[int, ...]
    error_ratio: tuple[float, ...]
    degraded: tuple[bool, ...]
    """Minutes in which the fault slows this service down."""


@dataclass(frozen=True)
class Series:
    """Every service's per-minute plan over [start, start + minutes)."""

    start: datetime
    minutes: int
    """Minutes planned: the log window, plus any planned beyond `now` for a live replay."""
    window: int
    """Minutes written at build time (the log files cover [start, start + window))."""
    burst_index: int
    """Index of the first minute of the burst."""
    services: dict[str, ServiceSeries]


def build_series(
    scenario: Scenario,
    seed: int,
    end: datetime,
    burst_start: datetime,
    log_mb: float,
    *,
    extra_minutes: int = 0,
    recovered_at: datetime | None = None,
) -> Series:
    """Decide requests and error ratio per service and minute; `end` is minute-aligned.

    `extra_minutes` plans minutes after `end` (a live replay); `recovered_at` ends the fault
    there (containment), for the minutes from then on. Neither changes earlier minutes.
    """
    window = scenario.log_hours * 60
    minutes = window + extra_minutes
    start = end - timedelta(minutes=window)
    burst_index = int((burst_start - start).total_seconds() // 60)
    recovered_index = (
        int((recovered_at - start).total_seconds() // 60) if recovered_at is not None else minutes
    )
    per_service_bytes = log_mb * 1_000_000 / len(scenario.services)
    result: dict[str, ServiceSeries] = {}
    for index, service in enumerate(scenario.services):
        rng = random.Random(f"cockpit-demo:{seed}:series:{service}")
        fmt = log_format(service, index)
        base = per_service_bytes / AVERAGE_LINE_BYTES[fmt] / window
        requests, ratios, degraded = [], [], []
        for i in range(minutes):
            moment = start + timedelta(minutes=i)
            hour = moment.hour + moment.minute / 60
            # Gentle daily curve peaking mid-afternoon UTC, plus minute-to-minute jitter.
            diurnal = 1 + 0.2 * math.sin((hour - 9) / 24 * 2 * math.pi)
            count = max(1, round(base * diurnal * rng.uniform(0.9, 1.1)))
            ratio = scenario.error_ratio_before * rng.uniform(0.5, 1.5)
            slow = False
            if service == scenario.bad_service and burst_index <= i < recovered_index:
                ramp = min(1.0, (i - burst_index + 1) / scenario.fault_profile.ramp_minutes)
                ratio = max(ratio, scenario.error_ratio_after * ramp * rng.uniform(0.85, 1.15))
                slow = True
            requests.append(count)
            ratios.append(min(ratio, 0.95))
            degraded.append(slow)
        result[service] = ServiceSeries(
            service, fmt, tuple(requests), tuple(ratios), tuple(degraded)
        )
    return Series(start, minutes, window, burst_index, result)
