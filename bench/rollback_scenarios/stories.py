"""The incident stories: each builds a `World` with its own randomness and sets its truth.

Hard classes (from issue 18): a dependency's deploy breaking its caller, a slow leak at 5-30
requests a minute, a build that fails 8-12 minutes into a traffic peak, a 10% canary, a flapping
service made worse, a service with 50 requests an hour, a healthy rolling restart at low
traffic, and a quiet baseline of 0 with an old fixed incident hours back. Easy ones: a bad
latest deploy, an earlier culprit under a later good deploy, two deploys a minute apart, a
config-only change, a cascading failure. Traps: an external outage, a rollback already done, a
red herring, a quiet control.

The numbers are drawn from wide ranges per seed; the cockpit never sees them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from bench.rollback_scenarios.world import Deploy, Fault, Service, Truth, Version, World

NAMES = (
    "orders-api", "payments", "checkout", "inventory", "search", "auth", "cart", "shipping",
    "catalog", "notifications", "pricing", "ledger", "gateway", "recommendations", "accounts",
)  # fmt: skip
NAMING = ("nginx", "django", "spring", "zap-json", "zap-console", "ecs")
"""Formats whose failed calls name the dependency in the service's own lines."""
VERSIONED = ("nginx", "envoy", "haproxy", "alb", "zap-json", "zap-console", "ecs", "caddy")


def _names(w: World, count: int) -> list[str]:
    return w.rng.sample(NAMES, count)


def affected(w: World, bad: Deploy) -> Callable[[Deploy | None], bool]:
    """Whether a serving deploy carries `bad`'s change: `bad` itself and the deploys of the
    same service built on it, until a rollback puts an older version back."""
    cache: dict[int, bool] = {}

    def check(deploy: Deploy | None) -> bool:
        if deploy is None or deploy.service != bad.service:
            return False
        key = id(deploy)
        if key not in cache:
            if deploy is bad:
                cache[key] = True
            elif deploy.time < bad.time:
                cache[key] = False
            elif deploy.rollback_of is not None:
                # Back to an older version: carries the change only if that version did.
                origin = next(
                    d for d in w.services[bad.service].deploys if d.version is deploy.version
                )
                cache[key] = origin is not deploy and check(origin)
            else:
                # A new build carries it if the build it replaced did (a fix-forward or a
                # rollback in between clears it).
                before = [
                    d
                    for d in w.services[bad.service].deploys
                    if d.time < deploy.time and d.status == "succeeded"
                ]
                cache[key] = bool(before) and check(before[-1])
        return cache[key]

    return check


def own_message(svc: Service, callee: str | None) -> str:
    fmt = svc.fmt.name
    if fmt == "django":
        return "KeyError: 'currency_code'"
    if fmt == "spring":
        return 'java.lang.NullPointerException: Cannot invoke "Price.amount()" because "p" is null'
    return "price rules: nil pointer dereference in ApplyDiscount"


def call_message(svc: Service, callee: str | None) -> str:
    """A failed call to `callee`, in the words of `svc`'s stack."""
    target = callee or "upstream"
    fmt = svc.fmt.name
    if fmt == "django":
        return (
            "requests.exceptions.ReadTimeout: HTTPConnectionPool(host='"
            f"{target}.prod.svc.cluster.local', port=8080): Read timed out. (read timeout=2)"
        )
    if fmt == "spring":
        return (
            "org.springframework.web.client.ResourceAccessException: I/O error on POST request "
            f'for "http://{target}:8080/v1/submit": Read timed out'
        )
    if fmt == "ecs":
        return f"POST http://{target}.prod.svc:8080/v1/submit: 422 unexpected field 'amount_minor'"
    return f"call {target}: rpc error: code = DeadlineExceeded desc = context deadline exceeded"


def step_fault(
    w: World,
    bad: Deploy,
    p: float,
    *,
    delay: float = 0.0,
    statuses: tuple[int, ...] = (500, 502, 503),
    message: Callable[[Service, str | None], str] = own_message,
) -> None:
    carries = affected(w, bad)
    start = w.index(bad.time) + delay

    def chance(svc: Service, index: int, deploy: Deploy | None, callee: str | None, load: float):
        return p if index >= start and carries(deploy) else 0.0

    w.services[bad.service].faults.append(Fault(chance, statuses, message))


def _svc_rates(w: World, count: int, low: float = 8, high: float = 60) -> list[float]:
    return [w.rng.uniform(low, high) for _ in range(count)]


def _others(w: World, names: list[str], rates: list[float]) -> None:
    for name, rate in zip(names, rates, strict=True):
        w.add_service(name, rate=rate)


# -- easy --------------------------------------------------------------------------------------


def bad_latest(w: World) -> None:
    a, *rest = _names(w, w.rng.randint(2, 4))
    w.add_service(a, rate=w.rng.uniform(8, 60))
    _others(w, rest, _svc_rates(w, len(rest)))
    back = w.rng.uniform(10, 40)
    w.decoy_deploys(w.rng.randint(1, 4), within=(back + 20, 380))
    bad = w.deploy(a, w.minute(back))
    step_fault(w, bad, w.rng.uniform(0.1, 0.5), delay=w.rng.uniform(0.5, 3))
    if rest and w.rng.random() < 0.6:
        # Another service deployed near it: a harmless coincidence.
        w.deploy(w.rng.choice(rest), bad.time + timedelta(minutes=w.rng.uniform(-12, 8)))
    w.truth = Truth(w.story, "rollback", a, bad, w.previous(bad))


def earlier_culprit(w: World) -> None:
    a, *rest = _names(w, w.rng.randint(2, 3))
    w.add_service(a, rate=w.rng.uniform(8, 60))
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(1, 3), within=(60, 380))
    back = w.rng.uniform(25, 50)
    bad = w.deploy(a, w.minute(back))
    step_fault(w, bad, w.rng.uniform(0.1, 0.45), delay=w.rng.uniform(0.5, 3))
    w.deploy(a, w.minute(back - w.rng.uniform(7, 15)))  # a harmless deploy on top of it
    w.truth = Truth(w.story, "rollback", a, bad, w.previous(bad))


def two_deploys_apart(w: World) -> None:
    a, b, *rest = _names(w, w.rng.randint(2, 4))
    w.add_service(a, rate=w.rng.uniform(8, 60))
    w.add_service(b, rate=w.rng.uniform(8, 60))
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(0, 2), within=(60, 380))
    when = w.rng.uniform(12, 40)
    if w.rng.random() < 0.5:
        # Two services a minute apart; only one of them breaks.
        bad = w.deploy(a, w.minute(when))
        w.deploy(b, w.minute(when + w.rng.choice((-1, 1))))
        target = w.previous(bad)
    else:
        # The same service twice in a minute; the first one carries the bug.
        bad = w.deploy(a, w.minute(when + 1))
        target = w.previous(bad)
        w.deploy(a, w.minute(when))
    step_fault(w, bad, w.rng.uniform(0.1, 0.45), delay=w.rng.uniform(1.5, 3.5))
    w.truth = Truth(w.story, "rollback", a, bad, target)


def config_only(w: World) -> None:
    a, *rest = _names(w, w.rng.randint(2, 3))
    w.add_service(a, rate=w.rng.uniform(8, 60))
    _others(w, rest, _svc_rates(w, len(rest)))
    back = w.rng.uniform(10, 35)
    w.decoy_deploys(w.rng.randint(1, 3), within=(back + 20, 380))
    bad = w.deploy(a, w.minute(back), config_only=True)
    step_fault(
        w,
        bad,
        w.rng.uniform(0.08, 0.4),
        delay=w.rng.uniform(0.5, 4),
        statuses=(503,),
        message=lambda svc, callee: "could not get a connection from the pool within 2000ms",
    )
    w.truth = Truth(w.story, "rollback", a, bad, w.previous(bad))


def cascading(w: World) -> None:
    """A callee's bad deploy breaks the callee and, through it, its caller."""
    caller, callee, *rest = _names(w, w.rng.randint(2, 3))
    share = w.rng.uniform(0.4, 0.9)
    w.add_service(caller, rate=w.rng.uniform(15, 60), formats=NAMING, calls=[(callee, share)])
    w.services[caller].depends_on_declared = w.rng.random() < 0.5
    w.add_service(callee, rate=w.rng.uniform(10, 50))
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(1, 3), within=(60, 380))
    bad = w.deploy(callee, w.minute(w.rng.uniform(12, 35)))
    p = w.rng.uniform(0.2, 0.6)
    step_fault(w, bad, p, delay=w.rng.uniform(0.5, 3))
    carries = affected(w, bad)
    start = w.index(bad.time) + 1

    def chance(svc: Service, index: int, deploy: Deploy | None, target: str | None, load: float):
        if target != callee or index < start:
            return 0.0
        serving = w._serving(w.services[callee], w.start + index * timedelta(minutes=1))
        bad_share = sum(s for d, s in serving if carries(d))
        return p * bad_share

    w.services[caller].faults.append(Fault(chance, (502, 503), call_message))
    w.truth = Truth(w.story, "rollback", callee, bad, w.previous(bad))


# -- hard --------------------------------------------------------------------------------------


def dependency(w: World) -> None:
    """The callee's deploy returns 200s its callers cannot use (or times out only for them):
    the callee's own logs stay healthy, the caller fails."""
    caller, callee, *rest = _names(w, w.rng.randint(2, 4))
    share = w.rng.uniform(0.5, 0.95)
    w.add_service(
        caller,
        rate=w.rng.uniform(10, 60),
        formats=NAMING if w.rng.random() < 0.75 else None,
        calls=[(callee, share)],
    )
    w.services[caller].depends_on_declared = w.rng.random() < 0.6
    w.add_service(callee, rate=w.rng.uniform(10, 60))
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(1, 3), within=(60, 380))
    if w.rng.random() < 0.5:
        w.deploy(caller, w.minute(w.rng.uniform(60, 200)))  # the caller's own, long healthy
    bad = w.deploy(callee, w.minute(w.rng.uniform(10, 35)))
    p = w.rng.uniform(0.3, 0.8)
    carries = affected(w, bad)
    start = w.index(bad.time) + w.rng.uniform(0.5, 2.5)
    minute = timedelta(minutes=1)

    def chance(svc: Service, index: int, deploy: Deploy | None, target: str | None, load: float):
        if target != callee or index < start:
            return 0.0
        serving = w._serving(w.services[callee], w.start + index * minute)
        return p * sum(s for d, s in serving if carries(d))

    w.services[caller].faults.append(Fault(chance, (500, 502, 504), call_message))
    w.truth = Truth(w.story, "rollback", callee, bad, w.previous(bad))


def slow_leak(w: World) -> None:
    a, *rest = _names(w, w.rng.randint(2, 3))
    w.add_service(a, rate=w.rng.uniform(5, 30))
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(1, 3), within=(120, 380))
    back = w.rng.uniform(50, 110)
    bad = w.deploy(a, w.minute(back))
    carries = affected(w, bad)
    begin = w.index(bad.time) + w.rng.uniform(4, 20)
    climb = w.rng.uniform(0.003, 0.008)  # per minute
    ceiling = w.rng.uniform(0.2, 0.45)

    def chance(svc: Service, index: int, deploy: Deploy | None, callee: str | None, load: float):
        if not carries(deploy) or index < begin:
            return 0.0
        return min(ceiling, climb * (index - begin))

    w.services[a].faults.append(
        Fault(
            chance,
            (500, 503),
            lambda svc, callee: (
                "java.lang.OutOfMemoryError: Java heap space"
                if svc.fmt.name == "spring"
                else "runtime: out of memory: cannot allocate 1048576-byte block"
            ),
        )
    )
    if rest and w.rng.random() < 0.5:
        w.deploy(w.rng.choice(rest), w.minute(w.rng.uniform(10, back - 10)))
    w.truth = Truth(w.story, "rollback", a, bad, w.previous(bad))


def peak_failure(w: World) -> None:
    """Deployed before the peak at low traffic, clean; fails 8-12 minutes into the peak."""
    a, *rest = _names(w, w.rng.randint(2, 3))
    svc = w.add_service(a, rate=w.rng.uniform(8, 25))
    _others(w, rest, _svc_rates(w, len(rest)))
    factor = w.rng.uniform(4, 6)
    peak_back = w.rng.uniform(20, 30)
    peak_start = w.index(w.minute(peak_back))
    svc.peaks.append((peak_start, 200, factor))
    # An earlier peak that the previous build (deployed before it) handled well.
    earlier_back = w.rng.uniform(220, 300)
    svc.peaks.append((w.index(w.minute(earlier_back)), 40, factor))
    w.deploy(a, w.minute(earlier_back + w.rng.uniform(20, 60)))
    if rest:
        for _ in range(w.rng.randint(0, 2)):
            w.deploy(w.rng.choice(rest), w.minute(w.rng.uniform(60, 380)))
    bad = w.deploy(a, w.minute(peak_back + w.rng.uniform(12, 35)))
    carries = affected(w, bad)
    onset = peak_start + w.rng.uniform(8, 12)
    p = w.rng.uniform(0.15, 0.4)

    def chance(svc: Service, index: int, deploy: Deploy | None, callee: str | None, load: float):
        return p if carries(deploy) and index >= onset else 0.0

    svc.faults.append(Fault(chance, (503,), lambda s, c: "worker pool exhausted (max=16)"))
    w.truth = Truth(w.story, "rollback", a, bad, w.previous(bad))


def canary(w: World) -> None:
    a, *rest = _names(w, w.rng.randint(2, 3))
    w.add_service(
        a, rate=w.rng.uniform(25, 60), formats=VERSIONED if w.rng.random() < 0.8 else None
    )
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(1, 3), within=(60, 380))
    bad = w.deploy(a, w.minute(w.rng.uniform(10, 30)), canary=0.1)
    step_fault(w, bad, w.rng.uniform(0.2, 0.6), delay=w.rng.uniform(0.3, 2))
    w.truth = Truth(w.story, "rollback", a, bad, w.previous(bad))


def flapping(w: World) -> None:
    a, *rest = _names(w, w.rng.randint(2, 3))
    svc = w.add_service(a, rate=w.rng.uniform(15, 50))
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(1, 3), within=(60, 380))
    flaps: list[tuple[float, float, float]] = []
    t = w.rng.uniform(5, 50)
    while t < 400 - 45:
        flaps.append((t, w.rng.uniform(2, 6), w.rng.uniform(0.08, 0.25)))
        t += w.rng.uniform(35, 90)

    def chronic(svc: Service, index: int, deploy: Deploy | None, callee: str | None, load: float):
        for start, length, p in flaps:
            if start <= index < start + length:
                return p
        return 0.0

    svc.faults.append(
        Fault(
            chronic,
            (502, 503),
            lambda s, c: "upstream connect error or disconnect/reset before headers",
        )
    )
    bad = w.deploy(a, w.minute(w.rng.uniform(15, 35)))
    worse = w.rng.uniform(0.06, 0.2)
    step_fault(w, bad, worse, delay=w.rng.uniform(1, 4), statuses=(502, 503))
    w.truth = Truth(w.story, "rollback", a, bad, w.previous(bad))


def low_traffic(w: World) -> None:
    a, *rest = _names(w, w.rng.randint(2, 3))
    w.add_service(a, rate=50 / 60, base_error=w.rng.uniform(0.0, 0.01))
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(1, 3), within=(90, 380))
    bad = w.deploy(a, w.minute(w.rng.uniform(30, 60)))
    step_fault(w, bad, w.rng.uniform(0.4, 0.8), delay=w.rng.uniform(0.5, 4))
    w.truth = Truth(w.story, "rollback", a, bad, w.previous(bad))


def rolling_restart(w: World) -> None:
    """Trap: a healthy deploy at low traffic; two or three errors while pods restart."""
    a, *rest = _names(w, w.rng.randint(2, 3))
    w.add_service(a, rate=w.rng.uniform(2, 8), base_error=w.rng.uniform(0.0, 0.003))
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(1, 3), within=(60, 380))
    deploy = w.deploy(a, w.minute(w.rng.uniform(6, 25)), rollout=w.rng.uniform(3, 5))
    start = w.index(deploy.time)
    blips = sorted(
        w.rng.uniform(start, start + deploy.rollout_minutes) for _ in range(w.rng.randint(2, 3))
    )
    used: list[float] = []

    def chance(svc: Service, index: int, d: Deploy | None, callee: str | None, load: float):
        # The terminating old pods drop a few connections: each blip fails one request.
        for at in blips:
            if at not in used and index >= at:
                used.append(at)
                return 1.0
        return 0.0

    w.services[a].faults.append(
        Fault(chance, (502, 503), lambda s, c: "connection reset by peer (pod terminating)")
    )
    w.truth = Truth(w.story, "none", note="healthy rolling restart")


def quiet_old_incident(w: World) -> None:
    a, *rest = _names(w, w.rng.randint(2, 3))
    w.add_service(a, rate=w.rng.uniform(5, 40), base_error=0.0)
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(1, 2), within=(60, 380))
    old_back = w.rng.uniform(170, 260)
    old = w.deploy(a, w.minute(old_back))
    step_fault(w, old, w.rng.uniform(0.2, 0.5), delay=w.rng.uniform(1, 3))
    fix = w.deploy(
        a,
        w.minute(old_back - w.rng.uniform(15, 30)),
        version=w.previous(old).version,
        rollback_of=old,
    )
    if w.rng.random() < 0.5:
        w.deploy(a, w.minute(w.rng.uniform(60, old_back - 40)))
    bad = w.deploy(a, w.minute(w.rng.uniform(10, 30)))
    step_fault(w, bad, w.rng.uniform(0.1, 0.4), delay=w.rng.uniform(0.5, 3))
    del fix
    w.truth = Truth(w.story, "rollback", a, bad, w.previous(bad))


# -- traps -------------------------------------------------------------------------------------


def external_outage(w: World) -> None:
    a, *rest = _names(w, w.rng.randint(2, 4))
    provider = w.rng.choice(("stripe", "adyen", "sendgrid", "twilio", "s3"))
    svc = w.add_service(a, rate=w.rng.uniform(10, 60), calls=[(provider, w.rng.uniform(0.4, 0.9))])
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(1, 3), within=(60, 380))
    w.deploy(a, w.minute(w.rng.uniform(50, 200)))  # its own deploy, long healthy
    if rest:
        w.deploy(w.rng.choice(rest), w.minute(w.rng.uniform(12, 45)))
    begin = w.index(w.minute(w.rng.uniform(8, 30)))
    p = w.rng.uniform(0.3, 0.9)

    def chance(svc: Service, index: int, deploy: Deploy | None, callee: str | None, load: float):
        return p if callee == provider and index >= begin else 0.0

    svc.faults.append(Fault(chance, (502, 503, 504), call_message))
    w.truth = Truth(w.story, "none", note=f"{provider} outage")


def already_rolled_back(w: World) -> None:
    a, *rest = _names(w, w.rng.randint(2, 3))
    w.add_service(a, rate=w.rng.uniform(10, 60))
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(1, 3), within=(60, 380))
    back = w.rng.uniform(35, 70)
    bad = w.deploy(a, w.minute(back))
    step_fault(w, bad, w.rng.uniform(0.15, 0.5), delay=w.rng.uniform(0.5, 3))
    target = w.previous(bad)
    w.deploy(a, w.minute(back - w.rng.uniform(8, 20)), version=target.version, rollback_of=bad)
    w.truth = Truth(w.story, "done", a, bad, target)


def red_herring(w: World) -> None:
    a, noisy, *rest = _names(w, w.rng.randint(2, 4))
    w.add_service(a, rate=w.rng.uniform(10, 50))
    loud = w.add_service(
        noisy, rate=w.rng.uniform(10, 50), formats=("zap-json", "ecs", "spring", "zap-console")
    )
    _others(w, rest, _svc_rates(w, len(rest)))
    w.decoy_deploys(w.rng.randint(0, 2), within=(60, 380))
    back = w.rng.uniform(12, 35)
    bad = w.deploy(a, w.minute(back))
    step_fault(w, bad, w.rng.uniform(0.1, 0.45), delay=w.rng.uniform(0.5, 3))
    decoy = w.deploy(noisy, w.minute(back + w.rng.uniform(-8, 15)))
    noise_from = w.index(decoy.time) + w.rng.uniform(1, 4)
    per_minute = w.rng.uniform(20, 60)

    def noise(index: int, rng: random.Random) -> list[tuple[float, str]]:
        if index < noise_from:
            return []
        out = []
        for _ in range(int(per_minute)):
            out.append(
                (
                    rng.random() * 60,
                    '{"level":"error","@timestamp":"{ts}","message":"cache refresh failed: '
                    "stale entry for key sku:" + str(rng.randint(1, 9999)) + '"}'
                    if loud.fmt.name in ("zap-json", "ecs")
                    else "{ts} ERROR 1 --- [" + noisy + "] [  scheduling-1] c.e.cache.Refresher"
                    "             : cache refresh failed: stale entry for key sku:"
                    + str(rng.randint(1, 9999)),
                )
            )
        return out

    loud.noise_lines = noise
    w.truth = Truth(w.story, "rollback", a, bad, w.previous(bad))


def quiet_control(w: World) -> None:
    names = _names(w, w.rng.randint(2, 4))
    _others(w, names, _svc_rates(w, len(names), 3, 60))
    w.decoy_deploys(w.rng.randint(2, 5), within=(3, 380))
    w.truth = Truth(w.story, "none", note="nothing is wrong")


STORIES: dict[str, Callable[[World], None]] = {
    "bad-latest": bad_latest,
    "earlier-culprit": earlier_culprit,
    "two-deploys-a-minute-apart": two_deploys_apart,
    "config-only": config_only,
    "cascading": cascading,
    "dependency": dependency,
    "slow-leak": slow_leak,
    "peak-failure": peak_failure,
    "canary-10pct": canary,
    "flapping-worse": flapping,
    "50-per-hour": low_traffic,
    "rolling-restart": rolling_restart,
    "quiet-old-incident": quiet_old_incident,
    "external-outage": external_outage,
    "already-rolled-back": already_rolled_back,
    "red-herring": red_herring,
    "quiet-control": quiet_control,
}


def build_world(story: str, seed: int, now: datetime) -> World:
    world = World(story, seed, now)
    STORIES[story](world)
    return world


__all__ = ["STORIES", "Deploy", "Truth", "Version", "World", "build_world"]
