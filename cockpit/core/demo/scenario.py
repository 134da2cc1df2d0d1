"""Scenarios: what the demo sandbox simulates, and the truth that only scoring may see.

A `Scenario` is a frozen dataclass so drills can load it from TOML (`Scenario.from_mapping`)
and so two builds with the same scenario, seed and `now` are byte-identical. The `Truth` is
returned by `build_sandbox` in memory only: nothing in the sandbox directory reveals it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

DEFAULT_SERVICES = ("gateway", "checkout", "payments", "inventory")


BadChange = tuple[tuple[str, int | bool | str], ...]


@dataclass(frozen=True)
class FaultProfile:
    """How a fault shows up: the error signatures logged while it lasts, and its cause.

    Text fields may use `{service}` (the bad service) and `{upstream}` (what it calls).
    """

    name: str
    error_templates: tuple[str, ...]
    """Messages of the 5xx lines; `{n}` `{ip}` `{id}` `{ms}` `{port}` vary per line (so
    signature clustering has something to normalize)."""
    error_statuses: tuple[int, ...]
    """The 5xx status used with each template (same order)."""
    error_durations_ms: tuple[int, ...]
    """Typical duration of a request failing with each template (same order)."""
    correlated_deploy: bool
    """True when a deploy of the bad service causes the fault (rollback is right)."""
    containment: str
    """The right containment, for scoring: "rollback", "failover", "renew-certificate"..."""
    root_cause: str
    """One sentence on the cause, for scoring."""
    ramp_minutes: int = 3
    """Minutes from the first errors to the full error ratio (slow onset: larger)."""
    bad_change: BadChange = (("{client}.timeout_ms", 800), ("{client}.pool.max", 10))
    """Config keys (in the bad service's config.yaml) the culprit commit sets, when a deploy
    is the cause; `{client}` is the client section of the upstream, e.g. `payments_client`."""
    bad_commit_message: str = (
        "{service}: tighten {upstream} client timeout to 800ms\n\n"
        "Fail fast instead of holding request threads while {upstream} is slow.\n"
        "Also right-size the connection pool to match the new worker count."
    )
    """The culprit commit's message: plausible, never a confession."""


FAULTS: dict[str, FaultProfile] = {
    "bad_deploy": FaultProfile(
        name="bad_deploy",
        error_templates=(
            "upstream timeout calling {upstream} after {ms}ms (attempt {n}, peer {ip}:{port})",
            "connection pool exhausted (max=10, waiting={n}) for {upstream}-client",
            "circuit breaker open for {upstream} (failures={n} in 30s)",
            "call to {upstream} failed: read timeout on request {id}",
        ),
        error_statuses=(504, 503, 503, 502),
        error_durations_ms=(800, 4, 1, 800),
        correlated_deploy=True,
        containment="rollback",
        root_cause="the deploy lowered the {upstream} client timeout to 800ms and its pool to 10",
    ),
    "none": FaultProfile(
        name="none",
        error_templates=(
            "{upstream} api returned 503 Service Unavailable for request {id}",
            "TLS handshake timeout to {upstream} {ip}:{port} after {ms}ms",
            "circuit breaker open for {upstream} (failures={n} in 30s)",
            "dial tcp {ip}:{port}: connect: connection refused ({upstream}, attempt {n})",
        ),
        error_statuses=(503, 504, 503, 502),
        error_durations_ms=(140, 5000, 1, 3),
        correlated_deploy=False,
        containment="failover",
        root_cause="an outage of {upstream}, a dependency of {service}; no deploy is involved",
        bad_change=(),
    ),
    "db_pool": FaultProfile(
        name="db_pool",
        error_templates=(
            "could not get a connection from the {upstream} pool in {ms}ms (max=5, in use=5)",
            "HikariPool-1 - Connection is not available, request timed out after {ms}ms",
            "too many clients waiting for {upstream} connections (waiting={n})",
        ),
        error_statuses=(503, 500, 503),
        error_durations_ms=(2000, 2000, 3),
        correlated_deploy=True,
        containment="rollback",
        root_cause="the deploy cut the {upstream} connection pool of {service} to 5",
        bad_change=(("{client}.pool.max", 5),),
        bad_commit_message=(
            "{service}: lower {upstream} pool size to 5 per worker\n\n"
            "We are close to max_connections on the primary; with more workers this keeps\n"
            "the total the same."
        ),
    ),
    "memory_leak": FaultProfile(
        name="memory_leak",
        error_templates=(
            "upstream connect error or disconnect/reset before headers. reset reason: {n}",
            "java.lang.OutOfMemoryError: Java heap space (allocating {n} MB)",
            "GC overhead limit exceeded after {ms}ms pause",
        ),
        error_statuses=(503, 500, 500),
        error_durations_ms=(3, 400, 1500),
        correlated_deploy=True,
        containment="rollback",
        root_cause="the deploy made the {service} cache unbounded; memory grows until OOM kills",
        ramp_minutes=20,
        bad_change=(("cache.max_entries", 5_000_000), ("cache.ttl_seconds", 86_400)),
        bad_commit_message=(
            "{service}: keep cached entries for 24h to cut {upstream} load\n\n"
            "Hit ratio was 61%; a longer TTL and a larger cache should take it above 90%."
        ),
    ),
    "tls_expired": FaultProfile(
        name="tls_expired",
        error_templates=(
            "x509: certificate has expired or is not yet valid: calling {upstream} at {ip}:{port}",
            "TLS handshake with {upstream} failed: certificate expired (request {id})",
        ),
        error_statuses=(502, 503),
        error_durations_ms=(12, 9),
        correlated_deploy=False,
        containment="renew-certificate",
        root_cause="the client certificate {service} presents to {upstream} expired",
        ramp_minutes=1,
        bad_change=(),
    ),
}
"""Known faults by name; drills may register more (a FaultProfile is plain data)."""


@dataclass(frozen=True)
class Scenario:
    """One simulated incident. Every field has a default, so a TOML file names only changes."""

    name: str = "bad-deploy"
    """Short identifier (`cockpit demo --scenario NAME`)."""
    title: str = "Checkout: elevated 5xx errors"
    """The alert's title, used as the incident title."""
    services: tuple[str, ...] = DEFAULT_SERVICES
    """Services in the sandbox; the first four get distinct log formats, then they repeat."""
    bad_service: str = "checkout"
    """The service whose errors burst."""
    bad_deploy_back: int = 0
    """0: the latest deploy of `bad_service` is the bad one; 1: the one before it is, and a
    harmless deploy of the same service followed it."""
    fault: str = "bad_deploy"
    """A key of `FAULTS`: "bad_deploy", or "none" for a burst that no deploy explains."""
    burst_delay_minutes: int = 3
    """Minutes between the bad deploy and the start of the error burst."""
    burst_minutes_before_now: int = 25
    """How long before `now` the burst starts."""
    error_ratio_before: float = 0.002
    """5xx share of requests before the burst (steady background errors)."""
    error_ratio_after: float = 0.3
    """5xx share of the bad service's requests once the burst is in full swing."""
    companion_service: str | None = "inventory"
    """Another service deployed (harmlessly) close to the bad deploy; None for nobody."""
    companion_offset_minutes: int = -6
    """Minutes from the bad deploy to the companion deploy (negative: before it). Only used
    when a deploy causes the fault."""
    noisy_service: str | None = None
    """A red herring: this other service starts logging loud error lines (not 5xx responses)
    ten minutes before the burst."""
    log_hours: int = 6
    """Hours of logs before `now`."""
    history_days: int = 7
    """Days of git history and deploys before `now`."""

    def __post_init__(self) -> None:
        if self.bad_service not in self.services:
            raise ValueError(
                f"scenario {self.name!r}: bad_service {self.bad_service!r} is not in services"
            )
        if self.fault not in FAULTS:
            raise ValueError(
                f"scenario {self.name!r}: unknown fault {self.fault!r} (known: {', '.join(FAULTS)})"
            )
        if self.bad_deploy_back not in (0, 1):
            raise ValueError(f"scenario {self.name!r}: bad_deploy_back must be 0 or 1")
        if self.companion_service is not None and (
            self.companion_service not in self.services
            or self.companion_service == self.bad_service
        ):
            raise ValueError(
                f"scenario {self.name!r}: companion_service must be another service of the scenario"
            )
        if not (1 <= self.log_hours <= 48 and 3 <= self.history_days <= 60):
            raise ValueError(
                f"scenario {self.name!r}: need 1 <= log_hours <= 48 and 3 <= history_days <= 60"
            )
        if not 1 <= self.burst_delay_minutes <= 60:
            raise ValueError(f"scenario {self.name!r}: burst_delay_minutes must be 1..60")
        if self.noisy_service is not None and (
            self.noisy_service not in self.services or self.noisy_service == self.bad_service
        ):
            raise ValueError(
                f"scenario {self.name!r}: noisy_service must be another service of the scenario"
            )
        if not 0 <= self.error_ratio_before < self.error_ratio_after <= 1:
            raise ValueError(
                f"scenario {self.name!r}: need 0 <= error_ratio_before < error_ratio_after <= 1"
            )
        if (
            self.burst_minutes_before_now < 5
            or self.burst_minutes_before_now > self.log_hours * 60 - 30
        ):
            raise ValueError(f"scenario {self.name!r}: burst_minutes_before_now out of range")

    @property
    def fault_profile(self) -> FaultProfile:
        return FAULTS[self.fault]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Scenario:
        """Build from a TOML table. Raises ValueError naming the key for an unknown key or a
        value of the wrong type, and for inconsistent values (see `__post_init__`)."""
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"unknown scenario key {key!r}")
            values[key] = _checked(key, str(known[key]), value)
        return cls(**values)


def _checked(key: str, annotation: str, value: Any) -> Any:
    """`value` converted to the field's type, or ValueError naming the key."""
    optional = annotation.endswith("| None")
    if optional and (value is None or value == ""):
        return None  # TOML has no null: an empty string means "none"
    kind = annotation.removesuffix(" | None")
    if kind == "tuple[str, ...]":
        if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
            return tuple(value)
        expected = "a non-empty list of strings"
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        expected = "an integer"
    elif kind == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        expected = "a number"
    else:
        if isinstance(value, str):
            return value
        expected = "a string"
    raise ValueError(
        f"scenario key {key!r}: expected {expected}{' (or none)' if optional else ''}, "
        f"got {value!r}"
    )


DEFAULT = Scenario()

SCENARIOS: dict[str, Scenario] = {
    DEFAULT.name: DEFAULT,
    "earlier-deploy": Scenario(name="earlier-deploy", bad_deploy_back=1),
    "no-deploy": Scenario(
        name="no-deploy",
        title="Payments: elevated 5xx errors",
        bad_service="payments",
        fault="none",
        companion_service=None,
    ),
}
"""Built-in scenarios for `cockpit demo --scenario`."""


@dataclass(frozen=True)
class Deploy:
    """One deploy of one service, as every deploy source in the sandbox records it."""

    time: datetime
    service: str
    sha: str
    version: str
    revision: int
    actor: str
    tag: str
    status: str = "succeeded"

    @property
    def short_sha(self) -> str:
        return self.sha[:7]


@dataclass(frozen=True)
class Truth:
    """What really happened. For scoring and tests only: never written into the sandbox."""

    scenario: str
    fault: str
    bad_service: str
    burst_start: datetime
    bad_deploy: Deploy | None
    """The deploy that caused the burst; None when no deploy did."""
    rollback_target: Deploy | None
    """The last good deploy of the bad service (the bad deploy's predecessor), or None."""
    containment: str
    """"rollback" when rolling back to `rollback_target` is right, else e.g. "failover"."""
    root_cause: str
    error_signatures: tuple[str, ...] = field(default=())
    """The error message templates of the burst."""
