"""A small simulated production: services, traffic, versions, pods, deploys and faults.

A story builds a `World`, then `World.write(sandbox)` renders each service's requests minute by
minute through its log format, writes the deploy history through the chosen deploy source
(real git repositories built with `git fast-import`, or JSON lines / CSV deploy logs), and a
`cockpit.toml` configured the way a team would configure it from the README. The truth stays
in the `World` (and in `truth.json`, written next to the sandbox, never inside it).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import random
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bench.rollback_scenarios.formats import FORMATS, USER_AGENTS, LogFormat, Req

MINUTE = timedelta(minutes=1)
LOG_MINUTES = 400
"""Minutes of logs written before `now` (the cockpit reads the last six hours)."""
PLAIN_MINUTES = 90
"""The newest minutes stay in the plain `.log`; older lines go to `.log.1.gz`."""
DEPLOY_SOURCES = ("monorepo-tags", "service-tags", "release-branch", "jsonl", "csv")
ACTORS = ("ci-bot", "alice", "bob", "argo-sync", "carol", "deploy-bot")
SUBJECTS = (
    "{svc}: bump client libraries",
    "{svc}: tune retry budget",
    "{svc}: refactor request validation",
    "{svc}: add metrics for cache hits",
    "{svc}: update base image",
    "{svc}: adjust connection pool settings",
    "{svc}: handle empty carts gracefully",
    "{svc}: new pricing rules behind a flag",
    "{svc}: move serializer to the new schema",
    "{svc}: config: raise worker count",
)


@dataclass
class Version:
    label: str
    """What the app logs as its version (`3.1.0`)."""
    tag: str
    """The deploy tag's last part (`v3.1.0`)."""
    pods: list[tuple[str, str]]
    """(pod name, pod IP)."""
    sha: str = ""
    """Filled in once the repository is written."""
    config_only: bool = False


@dataclass
class Deploy:
    service: str
    time: datetime
    """When it really went out (logs follow this)."""
    version: Version
    recorded: datetime
    """When the deploy source says it went out (clock skew within the README's tolerance)."""
    actor: str
    rollout_minutes: float = 2.0
    canary_share: float | None = None
    """A canary keeps this share of traffic on the new version."""
    rollback_of: Deploy | None = None
    """This deploy puts an earlier version back (a rollback)."""
    status: str = "succeeded"


@dataclass
class Fault:
    """Extra failure probability for one request, with the status and message it fails with."""

    chance: Callable[[Service, int, Deploy | None, str | None, float], float]
    """(service, minute index, the deploy whose version serves it, its callee, load) -> p."""
    statuses: tuple[int, ...] = (500,)
    message: Callable[[Service, str | None], str] = lambda svc, callee: "internal error"


@dataclass
class Service:
    name: str
    fmt: LogFormat
    base_rate: float
    """Requests per minute before the diurnal shape and peaks."""
    base_error: float = 0.002
    paths: tuple[str, ...] = ("/api/items/{n}", "/api/items", "/api/search")
    calls: list[tuple[str, float]] = field(default_factory=list)
    """(callee, share of requests that call it)."""
    diurnal: float = 0.25
    phase: float = 0.0
    peaks: list[tuple[int, int, float]] = field(default_factory=list)
    """(start minute index, length in minutes, traffic factor)."""
    faults: list[Fault] = field(default_factory=list)
    deploys: list[Deploy] = field(default_factory=list)
    depends_on_declared: bool = False
    noise_lines: Callable[[int, random.Random], list[tuple[float, str]]] | None = None
    """Extra app lines per minute (a red herring): (second offset, line)."""

    def load(self, index: int) -> float:
        """Expected requests in minute `index` (0 = LOG_MINUTES before now)."""
        rate = self.base_rate * (
            1 + self.diurnal * math.sin(2 * math.pi * (index / 1440 + self.phase))
        )
        for start, length, factor in self.peaks:
            ramp = 4
            if start - ramp <= index < start + length + ramp:
                if index < start:
                    level = (index - start + ramp) / ramp
                elif index >= start + length:
                    level = (start + length + ramp - index) / ramp
                else:
                    level = 1.0
                rate *= 1 + (factor - 1) * level
        return max(rate, 0.0)


@dataclass
class Truth:
    """What the right answer is; never written inside the sandbox."""

    story: str
    expect: str
    """"rollback": roll `service` back to `target`; "none": rollback is not the answer;
    "done": a rollback already went out and the errors stopped (nothing more to roll back)."""
    service: str | None = None
    culprit: Deploy | None = None
    target: Deploy | None = None
    note: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "story": self.story,
            "expect": self.expect,
            "service": self.service,
            "culprit_sha": self.culprit.version.sha if self.culprit else None,
            "target_sha": self.target.version.sha if self.target else None,
            "target_version": self.target.version.tag if self.target else None,
            "note": self.note,
        }


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 60:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


class World:
    """Everything a story sets up; `write` renders it into a sandbox."""

    def __init__(self, story: str, seed: int, now: datetime) -> None:
        self.story = story
        self.seed = seed
        self.now = now.replace(second=0, microsecond=0)
        self.start = self.now - LOG_MINUTES * MINUTE
        self.rng = random.Random(f"{story}:{seed}")
        self.services: dict[str, Service] = {}
        self.deploy_source = DEPLOY_SOURCES[(seed + sum(map(ord, story))) % len(DEPLOY_SOURCES)]
        self.truth = Truth(story, "none")
        self._versions: dict[str, int] = {}

    # -- building ---------------------------------------------------------------------------

    def minute(self, back: float) -> datetime:
        """The time `back` minutes before now."""
        return self.now - timedelta(minutes=back)

    def index(self, when: datetime) -> int:
        return int((when - self.start) / MINUTE)

    def add_service(
        self,
        name: str,
        *,
        rate: float,
        formats: tuple[str, ...] | None = None,
        base_error: float | None = None,
        **kwargs: object,
    ) -> Service:
        choice = self.rng.choice(formats or tuple(FORMATS))
        svc = Service(
            name,
            FORMATS[choice],
            rate,
            base_error=self.rng.uniform(0.001, 0.006) if base_error is None else base_error,
            phase=self.rng.random(),
            diurnal=self.rng.uniform(0.1, 0.35),
            **kwargs,  # type: ignore[arg-type]
        )
        self.services[name] = svc
        # History: a few deploys over the past days, the last one long before the logs begin.
        back_days = sorted(self.rng.uniform(0.4, 6.5) for _ in range(self.rng.randint(2, 4)))
        for days in reversed(back_days):
            self.deploy(name, self.now - timedelta(days=days))
        return svc

    def new_version(self, service: str, config_only: bool = False) -> Version:
        count = self._versions.get(service, self.rng.randint(3, 40))
        self._versions[service] = count + 1
        major = 1 + len(service) % 4
        label = f"{major}.{count // 10}.{count % 10}"
        digest = hashlib.sha1(f"{self.seed}:{service}:{label}".encode()).hexdigest()
        pods = []
        for i in range(self.rng.randint(3, 6)):
            suffix = "".join(self.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
            ip = f"10.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{i + 2}"
            pods.append((f"{service}-{digest[:9]}-{suffix}", ip))
        return Version(label, f"v{label}", pods, config_only=config_only)

    def deploy(
        self,
        service: str,
        when: datetime,
        *,
        version: Version | None = None,
        canary: float | None = None,
        rollout: float | None = None,
        config_only: bool = False,
        rollback_of: Deploy | None = None,
        status: str = "succeeded",
    ) -> Deploy:
        svc = self.services[service]
        skew = timedelta(seconds=self.rng.uniform(-50, 50))
        made = Deploy(
            service,
            when,
            version or self.new_version(service, config_only),
            recorded=when + skew,
            actor=self.rng.choice(ACTORS),
            rollout_minutes=rollout if rollout is not None else self.rng.uniform(1.0, 3.0),
            canary_share=canary,
            rollback_of=rollback_of,
            status=status,
        )
        svc.deploys.append(made)
        svc.deploys.sort(key=lambda d: d.time)
        return made

    def previous(self, deploy: Deploy) -> Deploy:
        """The deploy of the same service just before `deploy` (the rollback target)."""
        history = self.services[deploy.service].deploys
        return [d for d in history if d.time < deploy.time and d.status == "succeeded"][-1]

    def decoy_deploys(self, count: int, *, within: tuple[float, float] = (5, 300)) -> None:
        """Harmless deploys of random services inside the log window."""
        names = list(self.services)
        for _ in range(count):
            self.deploy(self.rng.choice(names), self.minute(self.rng.uniform(*within)))

    # -- serving ----------------------------------------------------------------------------

    def _serving(self, svc: Service, when: datetime) -> list[tuple[Deploy, float]]:
        """Which deploys' versions serve traffic at `when`, with their shares."""
        live = [d for d in svc.deploys if d.time <= when and d.status == "succeeded"]
        if not live:
            return []
        shares: list[tuple[Deploy, float]] = [(live[0], 1.0)]
        for deploy in live[1:]:
            if deploy.canary_share is not None:
                share = deploy.canary_share
            else:
                elapsed = (when - deploy.time) / MINUTE
                share = min(1.0, max(0.0, elapsed / max(deploy.rollout_minutes, 0.01)))
            shares = [(d, s * (1 - share)) for d, s in shares if s * (1 - share) > 1e-6]
            shares.append((deploy, share))
        return shares

    def _requests(self, svc: Service, index: int, rng: random.Random) -> list[Req]:
        minute_start = self.start + index * MINUTE
        load = svc.load(index)
        count = poisson(rng, load)
        out = []
        for _ in range(count):
            when = minute_start + timedelta(seconds=rng.random() * 60)
            serving = self._serving(svc, when)
            if not serving:
                continue
            pick, acc = rng.random(), 0.0
            deploy = serving[-1][0]
            for candidate, share in serving:
                acc += share
                if pick <= acc:
                    deploy = candidate
                    break
            version = deploy.version
            pod, pod_ip = rng.choice(version.pods)
            callee = None
            roll = rng.random()
            for name, share in svc.calls:
                if roll < share:
                    callee = name
                    break
                roll -= share
            p_fail = svc.base_error
            status, message = 0, None
            for fault in svc.faults:
                chance = fault.chance(svc, index, deploy, callee, load)
                if chance > 0 and rng.random() < chance:
                    status = rng.choice(fault.statuses)
                    message = fault.message(svc, callee)
                    break
            if not status and rng.random() < p_fail:
                status = rng.choice((500, 502, 503))
                message = rng.choice(
                    (
                        "java.lang.NullPointerException: cart.items is null",
                        "KeyError: 'customer_id'",
                        "context canceled",
                        "database/sql: connection reset by peer",
                    )
                )
            if not status:
                status = rng.choice((200, 200, 200, 200, 200, 201, 204, 304, 404))
            template = rng.choice(svc.paths)
            path = template.replace("{n}", str(rng.randint(1, 99999)))
            ms = max(1, int(rng.lognormvariate(3.3, 0.6)))
            if status in (504,):
                ms = 2000 + rng.randint(0, 900)
            out.append(
                Req(
                    ts=when,
                    service=svc.name,
                    method=rng.choice(("GET", "GET", "GET", "POST", "PUT")),
                    path=path,
                    status=status,
                    ms=ms,
                    size=rng.randint(0, 4000) if status < 500 else rng.randint(0, 200),
                    ip=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                    rid=f"{rng.getrandbits(64):016x}",
                    ua=rng.choice(USER_AGENTS),
                    pod=pod,
                    pod_ip=pod_ip,
                    version=version.label,
                    host=f"{svc.name}.prod.example.internal",
                    callee=callee,
                    error=message,
                    level="error" if status >= 500 else "info",
                )
            )
        out.sort(key=lambda r: r.ts)
        return out

    # -- writing ----------------------------------------------------------------------------

    def write(self, sandbox: Path, *, config_level: str = "full") -> Path:
        """Render logs, deploy sources and cockpit.toml under `sandbox`; returns the config."""
        sandbox.mkdir(parents=True, exist_ok=True)
        self._write_repos(sandbox)
        for svc in self.services.values():
            self._write_logs(sandbox, svc)
        return self._write_config(sandbox, config_level)

    def _write_logs(self, sandbox: Path, svc: Service) -> None:
        rng = random.Random(f"{self.story}:{self.seed}:logs:{svc.name}")
        folder = sandbox / "logs" / svc.name
        folder.mkdir(parents=True, exist_ok=True)
        old, new = io.StringIO(), io.StringIO()
        for index in range(LOG_MINUTES):
            lines: list[tuple[datetime, str]] = []
            for req in self._requests(svc, index, rng):
                for line in svc.fmt.render(req):
                    lines.append((req.ts, line))
            if svc.noise_lines is not None:
                base = self.start + index * MINUTE
                for offset, line in svc.noise_lines(index, rng):
                    stamp = base + timedelta(seconds=offset)
                    lines.append((stamp, line.replace("{ts}", _stamp_for(svc.fmt, stamp))))
            lines.sort(key=lambda item: item[0])
            out = new if index >= LOG_MINUTES - PLAIN_MINUTES else old
            for _ts, line in lines:
                out.write(line)
                out.write("\n")
        (folder / f"{svc.name}.log").write_text(new.getvalue())
        with gzip.open(folder / f"{svc.name}.log.1.gz", "wt", compresslevel=3) as handle:
            handle.write(old.getvalue())

    def all_deploys(self) -> list[Deploy]:
        return sorted((d for s in self.services.values() for d in s.deploys), key=lambda d: d.time)

    def _write_repos(self, sandbox: Path) -> None:
        """Real git history: one monorepo, or one repo per service; tags or a release branch."""
        per_service = self.deploy_source in ("service-tags", "release-branch")
        repos: dict[str, list[Deploy]] = {}
        for deploy in self.all_deploys():
            repos.setdefault(deploy.service if per_service else "monorepo", []).append(deploy)
        for name, deploys in repos.items():
            root = sandbox / ("repos/" + name if per_service else "repo")
            _fast_import(root, deploys, self.deploy_source, self.rng)
        if self.deploy_source == "jsonl":
            lines = []
            for d in self.all_deploys():
                lines.append(
                    json.dumps(
                        {
                            "time": d.recorded.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "service": d.service,
                            "sha": d.version.sha,
                            "version": d.version.tag,
                            "actor": d.actor,
                            "status": d.status,
                        }
                    )
                )
            (sandbox / "ops").mkdir(exist_ok=True)
            (sandbox / "ops" / "deploys.jsonl").write_text("\n".join(lines) + "\n")
        elif self.deploy_source == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["deployed_at", "app", "commit", "image_tag", "user", "result"])
            for d in self.all_deploys():
                writer.writerow(
                    [
                        d.recorded.strftime("%Y-%m-%d %H:%M:%S+00:00"),
                        d.service,
                        d.version.sha,
                        d.version.label,
                        d.actor,
                        d.status,
                    ]
                )
            (sandbox / "deploys.csv").write_text(buffer.getvalue())

    def _deploy_config(self, name: str) -> list[str]:
        source = self.deploy_source
        if source == "monorepo-tags":
            return ['repo = "repo"', 'tag_pattern = "{service}/v*"']
        if source == "service-tags":
            return [f'repo = "repos/{name}"', 'tag_pattern = "v*"']
        if source == "release-branch":
            return [f'repo = "repos/{name}"', 'branch = "release"']
        if source == "jsonl":
            return ['deploy_log = "ops/deploys.jsonl"']
        return ['deploy_log = "deploys.csv"']

    def _write_config(self, sandbox: Path, level: str) -> Path:
        formats = {svc.fmt.name: svc.fmt for svc in self.services.values()}
        out = [
            "# Written the way a team would, from the README.",
            "[cockpit]",
            'store = "incidents.db"',
            "",
        ]
        if level == "basic" or len(formats) == 1:
            # One pattern for every service: an alternation of each format's pattern.
            request = "|".join(f"(?:{f.health.request_pattern})" for f in formats.values())
            error = "|".join(f"(?:{f.health.error_pattern})" for f in formats.values())
            out += [
                "[health]",
                f"request_pattern = {_toml(request)}",
                f"error_pattern = {_toml(error)}",
                "",
            ]
        for svc in self.services.values():
            out += [
                "[[sources]]",
                'kind = "files"',
                f'name = "{svc.name}"',
                f'service = "{svc.name}"',
                f'paths = ["logs/{svc.name}/{svc.name}.log*"]',
                "",
            ]
        for svc in self.services.values():
            out += ["[[services]]", f'name = "{svc.name}"']
            if level == "full" and svc.depends_on_declared and svc.calls:
                names = sorted({c for c, _ in svc.calls if c in self.services})
                if names:
                    out.append("depends_on = [" + ", ".join(f'"{n}"' for n in names) + "]")
            out += ["", "[services.deploys]", *self._deploy_config(svc.name), ""]
            if level == "full" and len(formats) > 1:
                team = svc.fmt.health
                out += [
                    "[services.health]",
                    f"request_pattern = {_toml(team.request_pattern)}",
                    f"error_pattern = {_toml(team.error_pattern)}",
                ]
                for key in (
                    "version_field",
                    "version_pattern",
                    "upstream_field",
                    "upstream_pattern",
                ):
                    value = getattr(team, key)
                    if value:
                        out.append(f"{key} = {_toml(value)}")
                out.append("")
            elif level == "full":
                team = svc.fmt.health
                extra = [
                    f"{key} = {_toml(getattr(team, key))}"
                    for key in (
                        "version_field",
                        "version_pattern",
                        "upstream_field",
                        "upstream_pattern",
                    )
                    if getattr(team, key)
                ]
                if extra:
                    out += ["[services.health]", *extra, ""]
            out += [
                "[services.rollback]",
                "command = "
                '"kubectl rollout undo deployment/{service} -n prod --to-revision={revision}"'
                if svc.name[0] < "n"
                else 'command = "argocd app rollback {service} {revision}"',
                "",
            ]
        path = sandbox / "cockpit.toml"
        path.write_text("\n".join(out))
        return path


def _toml(text: str) -> str:
    """A TOML literal string (no escapes), or a basic string when it holds a quote."""
    if "'" not in text:
        return f"'{text}'"
    return json.dumps(text)


def _stamp_for(fmt: LogFormat, when: datetime) -> str:
    if fmt.name in ("nginx", "django"):
        from bench.rollback_scenarios.formats import _clf

        return _clf(when)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _fast_import(root: Path, deploys: list[Deploy], source: str, rng: random.Random) -> None:
    """Write `deploys` as commits (and tags, or a release branch) with one `git fast-import`."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    branch = "refs/heads/release" if source == "release-branch" else "refs/heads/main"
    stream = io.BytesIO()
    marks: dict[int, Deploy] = {}
    mark = 0
    last_commit: int | None = None
    tree: dict[str, str] = {"README.md": "# services\n"}
    for deploy in deploys:
        stamp = int(deploy.recorded.timestamp())
        if (
            deploy.rollback_of is not None
            and deploy.version.sha == ""
            and source != "release-branch"
        ):
            # A rollback re-deploys an earlier commit: a new tag on the old commit.
            old = next(m for m, d in marks.items() if d.version is deploy.version)
            marks_for_tag = old
        else:
            mark += 1
            svc = deploy.service
            if deploy.rollback_of is not None:
                tree[f"services/{svc}/VERSION"] = deploy.version.label + "\n"
                message = f'Revert "{svc}: release {deploy.rollback_of.version.label}"'
            else:
                key = "config.yaml" if deploy.version.config_only else "VERSION"
                tree[f"services/{svc}/{key}"] = (
                    f"workers: {rng.randint(2, 16)}\npool: {rng.randint(5, 50)}\n"
                    if key == "config.yaml"
                    else deploy.version.label + "\n"
                )
                message = rng.choice(SUBJECTS).format(svc=svc)
            author = rng.choice(ACTORS)
            commit_time = stamp - rng.randint(300, 3600) if source != "release-branch" else stamp
            body = message.encode()
            stream.write(f"commit {branch}\nmark :{mark}\n".encode())
            stream.write(f"author {author} <{author}@example.com> {commit_time} +0000\n".encode())
            stream.write(
                f"committer {author} <{author}@example.com> {commit_time} +0000\n".encode()
            )
            stream.write(f"data {len(body)}\n".encode() + body + b"\n")
            if last_commit is not None:
                stream.write(f"from :{last_commit}\n".encode())
            stream.write(b"deleteall\n")
            for path, content in sorted(tree.items()):
                data = content.encode()
                stream.write(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
            stream.write(b"\n")
            last_commit = mark
            marks[mark] = deploy
            marks_for_tag = mark
        if source in ("monorepo-tags", "service-tags"):
            tag = deploy.version.tag
            if deploy.rollback_of is not None:
                tag = f"{tag}-redeploy{rng.randint(1, 9)}"
            name = f"{deploy.service}/{tag}" if source == "monorepo-tags" else tag
            message = f"deploy {deploy.service} {tag}".encode()
            stream.write(f"tag {name}\nfrom :{marks_for_tag}\n".encode())
            stream.write(
                f"tagger {deploy.actor} <{deploy.actor}@example.com> {stamp} +0000\n".encode()
            )
            stream.write(f"data {len(message)}\n".encode() + message + b"\n")
    stream.write(b"done\n")
    marks_file = root / ".git" / "bench-marks"
    subprocess.run(
        ["git", "fast-import", "--quiet", "--done", f"--export-marks={marks_file}"],
        cwd=root,
        input=stream.getvalue(),
        check=True,
    )
    for line in marks_file.read_text().splitlines():
        number, sha = line.split()
        deploy = marks[int(number[1:])]
        if not deploy.version.sha or deploy.rollback_of is None:
            deploy.version.sha = sha
    marks_file.unlink()
    if source == "release-branch":
        subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/release"], cwd=root, check=True)
    subprocess.run(["git", "checkout", "-q", "-f"], cwd=root, check=False)
