"""The sandbox's week of change: service source files, commits and deploys.

`plan_deploy_times` decides when each service deployed (the bad deploy placed by the scenario),
`write_history` then writes a linear `main` branch of a few hundred commits through
`RepoWriter`, tags every deploy `deploy/<service>/<YYYYMMDD-HHMM>` on the commit that was HEAD
shortly before it, and returns the deploys with their real SHAs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.core.demo.gitwrite import Person, RepoWriter
from cockpit.core.demo.scenario import Deploy, Scenario
from cockpit.core.timefmt import floor_minute

TOTAL_COMMITS = 300

AUTHORS = (
    Person("Dana Kim", "dana.kim@acme.example"),
    Person("Luis Ortega", "luis.ortega@acme.example"),
    Person("Priya Raman", "priya.raman@acme.example"),
    Person("Tomasz Nowak", "tomasz.nowak@acme.example"),
    Person("Amara Okafor", "amara.okafor@acme.example"),
    Person("Jonas Berg", "jonas.berg@acme.example"),
    Person("Mei Lin", "mei.lin@acme.example"),
    Person("Sam Carter", "sam.carter@acme.example"),
)
DEPLOY_BOT = Person("deploy-bot", "deploy-bot@acme.example")
DEPLOY_ACTORS = ("deploy-bot", "deploy-bot", "deploy-bot", "dana.kim", "luis.ortega", "priya.raman")

# What each service calls downstream: its client settings are what the bad commit changes.
UPSTREAMS = {
    "gateway": "checkout",
    "checkout": "payments",
    "payments": "acquirer",
    "inventory": "postgres",
}


def upstream_of(service: str) -> str:
    """What a service calls downstream (its client settings live under `<upstream>_client`)."""
    return UPSTREAMS.get(service, "database")


ROUTES: dict[str, list[tuple[str, str, str]]] = {
    "gateway": [
        ("GET", "/api/cart", "proxy_cart"),
        ("POST", "/api/checkout", "proxy_checkout"),
        ("GET", "/api/stock/{sku}", "proxy_stock"),
        ("GET", "/healthz", "healthz"),
        ("POST", "/api/payments/webhook", "proxy_payment_webhook"),
        ("GET", "/api/orders/{id}", "proxy_order"),
        ("GET", "/api/search", "proxy_search"),
    ],
    "checkout": [
        ("GET", "/api/cart", "get_cart"),
        ("POST", "/api/cart/items", "add_cart_item"),
        ("POST", "/api/checkout", "create_checkout"),
        ("GET", "/api/orders/{id}", "get_order"),
        ("POST", "/api/coupons/apply", "apply_coupon"),
        ("DELETE", "/api/cart/items/{id}", "remove_cart_item"),
        ("POST", "/api/checkout/{id}/confirm", "confirm_checkout"),
    ],
    "payments": [
        ("POST", "/v1/authorize", "authorize"),
        ("POST", "/v1/capture", "capture"),
        ("POST", "/v1/refunds", "refund"),
        ("GET", "/v1/payments/{id}", "get_payment"),
        ("POST", "/v1/webhooks/acquirer", "acquirer_webhook"),
        ("POST", "/v1/voids", "void_authorization"),
    ],
    "inventory": [
        ("GET", "/api/stock/{sku}", "get_stock"),
        ("POST", "/api/reservations", "reserve"),
        ("DELETE", "/api/reservations/{id}", "release"),
        ("GET", "/api/skus", "list_skus"),
        ("POST", "/api/stock/import", "import_stock"),
        ("GET", "/api/warehouses", "list_warehouses"),
    ],
}
GENERIC_ROUTES = [
    ("GET", "/api/items", "list_items"),
    ("POST", "/api/items", "create_item"),
    ("GET", "/api/items/{id}", "get_item"),
    ("DELETE", "/api/items/{id}", "delete_item"),
]

REQUIREMENTS = {
    "httpx": (0, 27, 0),
    "pydantic": (2, 8, 2),
    "structlog": (24, 2, 0),
    "prometheus-client": (0, 20, 0),
    "sqlalchemy": (2, 0, 31),
    "tenacity": (8, 4, 2),
    "orjson": (3, 10, 6),
    "uvicorn": (0, 30, 1),
}

GUARDS = [
    ("missing currency", 'if not body.get("currency"):', 'raise BadRequest("missing currency")'),
    ("empty cart", 'if not body.get("items"):', 'raise BadRequest("empty cart")'),
    (
        "negative quantity",
        'if any(i.get("qty", 0) < 0 for i in body.get("items", [])):',
        'raise BadRequest("negative quantity")',
    ),
    (
        "unknown sku",
        'if body.get("sku") and not catalog.exists(body["sku"]):',
        'raise NotFound(body["sku"])',
    ),
    (
        "duplicate idempotency key",
        'if idempotency.seen(request.headers.get("Idempotency-Key")):',
        "return idempotency.replay(request)",
    ),
    ("expired session", "if request.session.expired:", 'raise Unauthorized("session expired")'),
    (
        "oversized payload",
        "if len(request.body) > settings.max_body_bytes:",
        "raise PayloadTooLarge()",
    ),
    ("null address", 'if body.get("address") is None:', 'raise BadRequest("missing address")'),
]
LOG_FIELDS = [
    "order_id",
    "cart_size",
    "currency",
    "sku",
    "customer_tier",
    "region",
    "attempt",
    "coupon",
]
DOC_TOPICS = [
    "local development setup",
    "on-call escalation path",
    "config reload behaviour",
    "feature flag lifecycle",
    "how to run the load test",
    "retry and timeout defaults",
    "dashboards and alerts",
    "rollback procedure",
]
TEST_CASES = [
    "happy path",
    "empty input",
    "timeout from upstream",
    "retry exhaustion",
    "invalid currency",
    "concurrent requests",
    "large payload",
    "unicode names",
]


@dataclass
class ServiceFiles:
    """One service's source files, as mutable state that commits change."""

    name: str
    upstream: str
    config: dict[str, object]
    handlers: list[dict[str, Any]]
    future_routes: list[tuple[str, str, str]]
    requirements: dict[str, tuple[int, int, int]]
    tests: list[str] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)

    @classmethod
    def initial(cls, name: str, rng: random.Random) -> ServiceFiles:
        upstream = upstream_of(name)
        routes = list(ROUTES.get(name, GENERIC_ROUTES))
        client = f"{upstream}_client"
        config: dict[str, object] = {
            "service": name,
            "port": 8080,
            "log_level": "info",
            "workers": rng.choice((4, 8, 16)),
            f"{client}.base_url": f"http://{upstream}.prod.svc.cluster.local:8443",
            f"{client}.timeout_ms": 3000,
            f"{client}.max_retries": 2,
            f"{client}.pool.max": 50,
            f"{client}.pool.idle_timeout_s": 30,
            "cache.ttl_seconds": rng.choice((60, 120, 300)),
            "cache.max_entries": rng.choice((10000, 50000)),
            "rate_limit_rps": rng.choice((200, 400, 800)),
            "feature_flags.new_pricing_engine": False,
            "feature_flags.async_receipts": False,
            "feature_flags.regional_failover": False,
        }
        handlers = [
            {"method": m, "route": r, "func": f, "guards": [], "fields": []}
            for m, r, f in routes[:4]
        ]
        requirements = {pkg: version for pkg, version in REQUIREMENTS.items() if rng.random() < 0.8}
        return cls(name, upstream, config, handlers, routes[4:], requirements)

    @property
    def client(self) -> str:
        return f"{self.upstream}_client"

    def render(self) -> dict[str, bytes]:
        base = f"services/{self.name}"
        return {
            f"{base}/README.md": self._readme().encode(),
            f"{base}/app.py": self._app().encode(),
            f"{base}/config.yaml": self._config_yaml().encode(),
            f"{base}/requirements.txt": "".join(
                f"{pkg}=={'.'.join(map(str, v))}\n" for pkg, v in sorted(self.requirements.items())
            ).encode(),
            f"{base}/tests/test_app.py": self._tests().encode(),
        }

    def _readme(self) -> str:
        lines = [
            f"# {self.name}",
            "",
            f"The {self.name} service. Calls `{self.upstream}` downstream.",
            "",
            "Run locally with `make run SERVICE=" + self.name + "`.",
            "",
        ]
        for topic in self.docs:
            lines += [
                f"## {topic[0].upper()}{topic[1:]}",
                "",
                f"See the team wiki page on {topic}.",
                "",
            ]
        return "\n".join(lines)

    def _config_yaml(self) -> str:
        lines: list[str] = [f"# {self.name} runtime configuration (reloaded on deploy)"]
        opened: list[str] = []
        sections: dict[str, int] = {}
        for key in self.config:
            sections.setdefault(key.split(".")[0], len(sections))
        # Keys added later join their section (stable sort keeps the order within it).
        ordered = sorted(self.config.items(), key=lambda item: sections[item[0].split(".")[0]])
        for key, value in ordered:
            *parents, leaf = key.split(".")
            common = 0
            while common < min(len(parents), len(opened)) and parents[common] == opened[common]:
                common += 1
            opened = opened[:common]
            for depth in range(common, len(parents)):
                lines.append("  " * depth + parents[depth] + ":")
                opened.append(parents[depth])
            text = str(value).lower() if isinstance(value, bool) else str(value)
            lines.append("  " * len(parents) + f"{leaf}: {text}")
        return "\n".join(lines) + "\n"

    def _app(self) -> str:
        out = [
            f'"""{self.name} service: HTTP handlers."""',
            "",
            "from __future__ import annotations",
            "",
            "import logging",
            "",
            f"from {self.name}.clients import {self.upstream}",
            f"from {self.name}.http import BadRequest, NotFound, PayloadTooLarge, route",
            f"from {self.name}.http import Unauthorized",
            f"from {self.name}.settings import settings",
            "",
            f'log = logging.getLogger("{self.name}")',
        ]
        for handler in self.handlers:
            func, method, path = handler["func"], handler["method"], handler["route"]
            out += [
                "",
                "",
                f'@route("{method}", "{path}")',
                f"def {func}(request):",
                f'    """Handle {method} {path}."""',
                "    body = request.json() or {}",
            ]
            for condition, action in handler["guards"]:
                out += [f"    {condition}", f"        {action}"]
            out.append(
                f'    result = {self.upstream}.call("{func}", body, '
                f"timeout_ms=settings.{self.client}.timeout_ms)"
            )
            extra = ", ".join(f'"{f}": body.get("{f}")' for f in handler["fields"])
            out.append(
                f'    log.info("request completed", extra={{"route": "{path}"'
                + (f", {extra}" if extra else "")
                + "})"
            )
            out.append("    return result")
        return "\n".join(out) + "\n"

    def _tests(self) -> str:
        out = [f'"""Tests for the {self.name} handlers."""', "", f"from {self.name} import app", ""]
        for name in self.tests or ["smoke"]:
            ident = name.replace(" ", "_").replace("-", "_")
            out += [
                "",
                f"def test_{ident}(client):",
                f'    """{name}."""',
                '    response = client.get("/healthz")',
                "    assert response.status_code == 200",
                "",
            ]
        return "\n".join(out)


ROOT_FILES_INITIAL = {
    "README.md": "# shop\n\nThe shop monorepo: one folder per service under `services/`.\n",
    "Makefile": "SERVICE ?= checkout\n\nrun:\n\tpython -m $(SERVICE)\n\n"
    "test:\n\tpytest services/$(SERVICE)\n",
    "CODEOWNERS": "services/gateway/ @acme/edge\nservices/checkout/ @acme/checkout\n"
    "services/payments/ @acme/payments\nservices/inventory/ @acme/supply\n",
}


@dataclass
class RootFiles:
    ci_timeout: int = 20
    python_versions: list[str] = field(default_factory=lambda: ["3.11", "3.12"])
    lint_strict: bool = False

    def render(self) -> dict[str, bytes]:
        files = {name: text.encode() for name, text in ROOT_FILES_INITIAL.items()}
        versions = ", ".join(f'"{v}"' for v in self.python_versions)
        files[".github/workflows/ci.yml"] = (
            "name: ci\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
            f"    timeout-minutes: {self.ci_timeout}\n    strategy:\n      matrix:\n"
            f"        python: [{versions}]\n    steps:\n      - uses: actions/checkout@v4\n"
            "      - uses: actions/setup-python@v5\n        with:\n"
            "          python-version: ${{ matrix.python }}\n"
            f"      - run: make lint{' STRICT=1' if self.lint_strict else ''} test\n"
        ).encode()
        return files


# -- change kinds: each mutates state and returns the commit message --------------------------

SENSITIVE_SUFFIXES = (".timeout_ms", ".pool.max", ".max_retries", ".base_url")


def _tweak_config(svc: ServiceFiles, rng: random.Random) -> str:
    keys = [
        k
        for k, v in svc.config.items()
        if isinstance(v, int)
        and not isinstance(v, bool)
        and not k.endswith(SENSITIVE_SUFFIXES)
        and k != "port"
    ]
    key = rng.choice(keys)
    old = svc.config[key]
    assert isinstance(old, int)
    new = max(1, int(old * rng.choice((0.5, 0.75, 1.5, 2.0))))
    if new == old:
        new = old + 1
    svc.config[key] = new
    leaf, unit = key.rsplit(".", 1)[-1], ""
    for suffix, text in (("_seconds", "s"), ("_ms", "ms"), ("_s", "s")):
        if leaf.endswith(suffix):
            leaf, unit = leaf.removesuffix(suffix), text
            break
    words = leaf.replace("_", " ")
    if key.startswith(svc.client):
        words = f"{svc.upstream} client {words}"
    verb = "raise" if new > old else "lower"
    return rng.choice(
        (f"{svc.name}: {verb} {words} to {new}{unit}", f"{svc.name}: tune {key} ({old} -> {new})")
    )


def _toggle_flag(svc: ServiceFiles, rng: random.Random) -> str:
    flags = [k for k in svc.config if k.startswith("feature_flags.")]
    key = rng.choice(flags)
    svc.config[key] = not svc.config[key]
    flag = key.split(".", 1)[1]
    return f"{svc.name}: {'enable' if svc.config[key] else 'disable'} {flag} flag"


def _add_endpoint(svc: ServiceFiles, rng: random.Random) -> str:
    if not svc.future_routes:
        return _add_guard(svc, rng)
    method, route, func = svc.future_routes.pop(0)
    svc.handlers.append(
        {"method": method, "route": route, "func": func, "guards": [], "fields": []}
    )
    return f"{svc.name}: add {method} {route} endpoint"


def _add_guard(svc: ServiceFiles, rng: random.Random) -> str:
    handler = rng.choice(svc.handlers)
    guards: list[tuple[str, str]] = handler["guards"]
    options = [g for g in GUARDS if (g[1], g[2]) not in guards]
    if not options:
        return _tweak_config(svc, rng)
    what, condition, action = rng.choice(options)
    guards.append((condition, action))
    return f"{svc.name}: handle {what} in {handler['func']}"


def _log_field(svc: ServiceFiles, rng: random.Random) -> str:
    handler = rng.choice(svc.handlers)
    fields: list[str] = handler["fields"]
    options = [f for f in LOG_FIELDS if f not in fields]
    if not options:
        return _add_guard(svc, rng)
    name = rng.choice(options)
    fields.append(name)
    return f"{svc.name}: log {name} on {handler['func']}"


def _bump_dependency(svc: ServiceFiles, rng: random.Random) -> str:
    pkg = rng.choice(sorted(svc.requirements))
    major, minor, patch = svc.requirements[pkg]
    new = (major, minor, patch + 1) if rng.random() < 0.6 else (major, minor + 1, 0)
    svc.requirements[pkg] = new
    old_text, new_text = ".".join(map(str, (major, minor, patch))), ".".join(map(str, new))
    return f"{svc.name}: bump {pkg} from {old_text} to {new_text}"


def _add_test(svc: ServiceFiles, rng: random.Random) -> str:
    handler = rng.choice(svc.handlers)
    case = rng.choice(TEST_CASES)
    svc.tests.append(f"{handler['func']} {case} {len(svc.tests)}")
    return f"{svc.name}: add test for {handler['func']} ({case})"


def _docs(svc: ServiceFiles, rng: random.Random) -> str:
    topic = rng.choice(DOC_TOPICS)
    svc.docs.append(topic)
    return f"docs({svc.name}): document {topic}"


def _retry_on(svc: ServiceFiles, rng: random.Random) -> str:
    status = rng.choice((502, 503, 429))
    key = f"{svc.client}.retry_on_{status}"
    if key in svc.config:
        return _tweak_config(svc, rng)
    svc.config[key] = True
    verb = {"payments": "payment authorization", "acquirer": "acquirer calls"}.get(
        svc.upstream, f"{svc.upstream} calls"
    )
    return f"{svc.name}: retry {verb} on {status}"


SERVICE_CHANGES: tuple[tuple[Callable[[ServiceFiles, random.Random], str], float], ...] = (
    (_tweak_config, 3),
    (_toggle_flag, 1.5),
    (_add_endpoint, 1),
    (_add_guard, 3),
    (_log_field, 2),
    (_bump_dependency, 2),
    (_add_test, 2.5),
    (_docs, 1),
    (_retry_on, 0.7),
)


def _root_change(root: RootFiles, rng: random.Random) -> str:
    choice = rng.randrange(3)
    if choice == 0:
        root.ci_timeout += rng.choice((-5, 5, 10)) if root.ci_timeout > 10 else 5
        return f"ci: set job timeout to {root.ci_timeout} minutes"
    if choice == 1 and "3.13" not in root.python_versions:
        root.python_versions.append("3.13")
        return "ci: test on python 3.13"
    root.lint_strict = not root.lint_strict
    return f"ci: {'enable' if root.lint_strict else 'relax'} strict lint"


# -- planning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedCommit:
    time: datetime
    service: str | None
    """The service changed; None for a repository-wide change (CI)."""
    special: str = ""
    """"bad" (the culprit change) or "" for an ordinary change."""


def _working_slots(start: datetime, end: datetime) -> list[datetime]:
    """Candidate deploy times: every 7 minutes of 09:00-17:45 UTC between start and end."""
    slots = []
    moment = start.replace(hour=9, minute=0, second=0, microsecond=0)
    while moment < end:
        if moment >= start and 9 <= moment.hour < 18:
            slots.append(moment)
        moment += timedelta(minutes=7)
    return slots


def plan_deploy_times(
    scenario: Scenario, rng: random.Random, end: datetime, burst_start: datetime
) -> tuple[dict[str, list[datetime]], datetime | None]:
    """Deploy times per service, sorted, and the bad deploy's time (None when no deploy is bad)."""
    week_start = end - timedelta(days=scenario.history_days)
    quiet_from = burst_start - timedelta(minutes=120)
    fixed: dict[str, list[datetime]] = {svc: [] for svc in scenario.services}
    bad_time: datetime | None = None
    if scenario.fault_profile.correlated_deploy:
        bad_time = (
            burst_start
            - timedelta(minutes=scenario.burst_delay_minutes)
            + timedelta(seconds=rng.randrange(5, 50))
        )
        fixed[scenario.bad_service].append(bad_time)
        if scenario.bad_deploy_back == 1:
            later = burst_start + timedelta(minutes=10, seconds=rng.randrange(5, 50))
            fixed[scenario.bad_service].append(later)
        if scenario.companion_service:
            companion = bad_time + timedelta(minutes=scenario.companion_offset_minutes)
            fixed[scenario.companion_service].append(companion)
    slots = _working_slots(week_start + timedelta(hours=3), quiet_from)
    # One pair of services deploying within minutes of each other, whatever the scenario.
    pair_at = rng.choice(slots[len(slots) // 3 :] or slots)
    first, second = rng.sample(list(scenario.services), 2)
    fixed[first].append(pair_at + timedelta(seconds=rng.randrange(0, 50)))
    fixed[second].append(pair_at + timedelta(minutes=3, seconds=rng.randrange(0, 50)))

    result: dict[str, list[datetime]] = {}
    for svc in scenario.services:
        times = list(fixed[svc])
        wanted = rng.randint(6, 9) - len([t for t in times if t < quiet_from])
        candidates = list(slots)
        rng.shuffle(candidates)
        for slot in candidates:
            if wanted <= 0:
                break
            if all(abs((slot - t).total_seconds()) >= 45 * 60 for t in times):
                times.append(slot + timedelta(seconds=rng.randrange(0, 55)))
                wanted -= 1
        result[svc] = sorted(times)
    return result, bad_time


def _commit_times(rng: random.Random, start: datetime, end: datetime, count: int) -> list[datetime]:
    """Commit times weighted to working hours."""
    span = int((end - start).total_seconds())
    weights = {h: (1.0 if 9 <= h < 18 else 0.25 if 7 <= h < 21 else 0.04) for h in range(24)}
    times: list[datetime] = []
    while len(times) < count:
        moment = start + timedelta(seconds=rng.randrange(span))
        if rng.random() < weights[moment.hour]:
            times.append(moment)
    return times


@dataclass(frozen=True)
class History:
    """The written repository's deploys, in time order, and the bad one."""

    deploys: list[Deploy]
    bad_deploy: Deploy | None
    head: str


def write_history(
    repo_dir: Path, scenario: Scenario, seed: int, now: datetime, burst_start: datetime
) -> History:
    """Write the repository (objects, refs, work tree) and return its deploys."""
    rng = random.Random(f"cockpit-demo:{seed}:history")
    end = floor_minute(now)
    week_start = end - timedelta(days=scenario.history_days)
    deploy_times, bad_time = plan_deploy_times(scenario, rng, end, burst_start)

    planned: list[PlannedCommit] = []
    for svc, times in deploy_times.items():
        previous = week_start
        for moment in times:
            gap = max(5, min(100, int((moment - previous).total_seconds() // 60) - 5))
            if moment == bad_time:
                minutes = rng.randint(min(15, gap), min(30, gap))
                planned.append(PlannedCommit(moment - timedelta(minutes=minutes), svc, "bad"))
            else:
                minutes = rng.randint(min(12, gap), gap)
                planned.append(PlannedCommit(moment - timedelta(minutes=minutes, seconds=17), svc))
            previous = moment
    services = list(scenario.services)
    background = _commit_times(
        rng,
        week_start + timedelta(minutes=30),
        end - timedelta(minutes=5),
        TOTAL_COMMITS - 1 - len(planned),
    )
    for moment in background:
        # Keep the bad service's config quiet around the culprit, so the culprit stands out.
        service = rng.choice(services) if rng.random() < 0.96 else None
        planned.append(PlannedCommit(moment, service))
    planned.sort(key=lambda c: (c.time, c.service or "", c.special))

    state = {
        svc: ServiceFiles.initial(svc, random.Random(f"cockpit-demo:{seed}:files:{svc}"))
        for svc in services
    }
    root_state = RootFiles()
    repo = RepoWriter(repo_dir)

    rendered: dict[str, dict[str, bytes]] = {}

    def snapshot(changed: str | None = None) -> dict[str, bytes]:
        # Only the changed service is rendered again; the others keep their bytes objects.
        rendered.pop(changed or "", None)
        files = root_state.render()
        for svc in services:
            if svc not in rendered:
                rendered[svc] = state[svc].render()
            files.update(rendered[svc])
        return files

    change_funcs = [f for f, _ in SERVICE_CHANGES]
    change_weights = [w for _, w in SERVICE_CHANGES]
    author_of = {svc: AUTHORS[i % len(AUTHORS)] for i, svc in enumerate(services)}
    head = repo.commit(
        repo.tree(snapshot()),
        None,
        AUTHORS[0],
        AUTHORS[0],
        week_start,
        "Initial import of the shop services",
    )
    commits: list[tuple[datetime, str]] = [(week_start, head)]
    for plan in planned:
        if plan.service is None:
            message = _root_change(root_state, rng)
            author = rng.choice(AUTHORS)
        elif plan.special == "bad":
            svc_files = state[plan.service]
            profile = scenario.fault_profile
            for key, value in profile.bad_change:
                svc_files.config[key.format(client=svc_files.client)] = value
            message = profile.bad_commit_message.format(
                service=plan.service, upstream=svc_files.upstream
            )
            author = author_of[plan.service]
        else:
            func = rng.choices(change_funcs, change_weights)[0]
            message = func(state[plan.service], rng)
            # People mostly work on their own team's service.
            author = author_of[plan.service] if rng.random() < 0.6 else rng.choice(AUTHORS)
        head = repo.commit(
            repo.tree(snapshot(plan.service)), head, author, author, plan.time, message
        )
        commits.append((plan.time, head))
    repo.set_branch(head)

    final_files = snapshot()
    repo.write_index(final_files)
    for path, content in final_files.items():
        target = repo_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)

    deploys: list[Deploy] = []
    bad_deploy: Deploy | None = None
    for svc in services:
        revision = rng.randint(18, 40)
        minor = rng.randint(30, 45)
        patch = 0
        for moment in deploy_times[svc]:
            built_before = moment - timedelta(minutes=2)
            sha = next(sha for when, sha in reversed(commits) if when <= built_before)
            revision += 1
            if rng.random() < 0.7 or moment == bad_time:
                minor, patch = minor + 1, 0
            else:
                patch += 1
            actor = rng.choice(DEPLOY_ACTORS)
            if moment == bad_time:
                actor = author_of[svc].email.split("@")[0]
            tag = f"deploy/{svc}/{moment:%Y%m%d-%H%M}"
            deploy = Deploy(moment, svc, sha, f"v1.{minor}.{patch}", revision, actor, tag)
            repo.annotated_tag(
                tag,
                sha,
                DEPLOY_BOT,
                moment,
                f"deploy {svc} {deploy.version} (revision {revision}) by {actor}",
            )
            deploys.append(deploy)
            if moment == bad_time:
                bad_deploy = deploy
    repo.close()
    deploys.sort(key=lambda d: (d.time, d.service))
    return History(deploys, bad_deploy, head)
