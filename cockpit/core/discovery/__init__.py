"""Discovery: what this host and this folder offer, when no config file was found.

`discover()` looks, read-only and in parallel, for the systemd journal, log families under
/var/log, Docker json-file and Kubernetes pod logs, the git repository of the current folder
(deploy tags, else first-parent commits labelled as such), and Prometheus, Alertmanager and
Loki on localhost or at `PROMETHEUS_URL`, `ALERTMANAGER_URL` and `LOKI_ADDR`. The whole of it
takes under a second (each HTTP probe 300 ms, everything in parallel, one overall deadline)
and is cached for the session. It returns a report per source (used, or skipped and why) and
a `Config` built from what was found, so every pane and command works unchanged.

`COCKPIT_DISCOVERY_ROOT` (or the hidden `--root DIR`) makes it look under a folder instead of
`/`: tests build a fake host there.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cockpit.core.config import (
    AlertmanagerConfig,
    Config,
    ElasticsearchSource,
    FileSource,
    JournaldSource,
    LokiSource,
    PrometheusConfig,
    find_config_file,
    load_config,
)
from cockpit.core.discovery.model import (
    Discovery,
    Origin,
    SourceReport,
    State,
    resolve_program,
)
from cockpit.core.sanitize import hide_url_password

__all__ = [
    "ROOT_ENV",
    "Discovery",
    "Origin",
    "SourceReport",
    "State",
    "config_or_discovery",
    "configured_reports",
    "discover",
    "resolve_program",
]

ROOT_ENV = "COCKPIT_DISCOVERY_ROOT"
"""Look under this folder instead of `/` (tests build a fake host there)."""
DEADLINE_ENV = "COCKPIT_DISCOVERY_DEADLINE"
"""Seconds for the whole discovery instead of `DEADLINE` (a slow host; tests under load)."""
DEADLINE = 0.9
"""Seconds the whole discovery may take; a probe still running then is reported as slow."""
_ENV_KEYS = ("PROMETHEUS_URL", "ALERTMANAGER_URL", "LOKI_ADDR", ROOT_ENV, DEADLINE_ENV, "PATH")

_cache: dict[tuple[Any, ...], Discovery] = {}
_cache_lock = threading.Lock()


def discovery_root(env: Mapping[str, str] | None = None) -> Path:
    """`$COCKPIT_DISCOVERY_ROOT`, else `/`."""
    env = os.environ if env is None else env
    value = env.get(ROOT_ENV)
    return Path(value).resolve() if value else Path("/")


def discover(
    *,
    root: Path | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    refresh: bool = False,
    deadline: float | None = None,
    probe_timeout: float | None = None,
) -> Discovery:
    """Look at the host (`root`, default `/`) and the folder (`cwd`), once per session.

    `deadline` bounds the whole; `probe_timeout` each HTTP probe (300 ms by default)."""
    env = dict(os.environ if env is None else env)
    root = (root or discovery_root(env)).resolve()
    cwd = (cwd or Path.cwd()).resolve()
    key = (root, cwd, tuple(env.get(k) for k in _ENV_KEYS))
    with _cache_lock:
        if not refresh and key in _cache:
            return _cache[key]
    if deadline is None:
        try:
            deadline = float(env.get(DEADLINE_ENV) or DEADLINE)
        except ValueError:
            deadline = DEADLINE
    found = _discover(root, cwd, env, deadline, probe_timeout)
    with _cache_lock:
        _cache[key] = found
    return found


def _discover(
    root: Path, cwd: Path, env: Mapping[str, str], deadline: float, probe_timeout: float | None
) -> Discovery:
    from cockpit.core.discovery import host, repo, servers

    timeout = servers.PROBE_TIMEOUT if probe_timeout is None else probe_timeout
    started = time.monotonic()
    budget = max(0.1, deadline - 0.05)
    jobs: dict[str, Callable[[], Any]] = {
        "journald": lambda: host.journald(root, budget),
        "files": lambda: host.var_log(root),
        "docker": lambda: host.docker(root),
        "cri": lambda: host.pods(root),
        "git": lambda: repo.git_history(cwd, budget),
    }
    # A test root is another host: this machine's localhost is not probed for it.
    localhost = root == Path("/")
    for kind in servers.SERVERS:
        for index, (url, where, named) in enumerate(
            servers.candidates(kind, env, localhost=localhost)
        ):
            jobs[f"{kind.kind}:{index}"] = functools.partial(
                servers.probe, kind, url, origin_name=where, named=named, timeout=timeout
            )
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def run(name: str, job: Callable[[], Any]) -> None:
        try:
            results[name] = job()
        except Exception as exc:  # one broken probe says so; the others carry on
            errors[name] = f"{type(exc).__name__}: {exc}"

    threads = [
        threading.Thread(target=run, args=(name, job), name=f"discover-{name}", daemon=True)
        for name, job in jobs.items()
    ]
    for thread in threads:
        thread.start()
    end = started + deadline
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))

    reports: list[SourceReport] = []
    sources: list[Any] = []
    services: list[Any] = []

    def late(name: str, kind: str) -> None:
        why = errors.get(name) or f"did not finish within {deadline:.1f} s"
        reports.append(SourceReport(kind, kind, Origin.DISCOVERED, State.SKIPPED, why))

    for name in ("journald", "files", "docker", "cri"):
        if name in results:
            found_reports, found_sources = results[name]
            reports += found_reports
            sources += found_sources
        else:
            late(name, name)
    if "git" in results:
        git_reports, services = results["git"]
        reports += git_reports
    else:
        late("git", "git")
    prometheus: PrometheusConfig | None = None
    alertmanagers: list[AlertmanagerConfig] = []
    for kind in servers.SERVERS:
        chosen = None
        tried = servers.candidates(kind, env, localhost=localhost)
        if not tried:
            reports.append(
                SourceReport(
                    kind.kind,
                    kind.kind,
                    Origin.DISCOVERED,
                    State.SKIPPED,
                    f"not probed: {root} is a test root, so localhost is not its host "
                    f"(set ${kind.env})",
                )
            )
        for index, _candidate in enumerate(tried):
            name = f"{kind.kind}:{index}"
            if name not in results:
                late(name, kind.kind)
                continue
            result = results[name]
            report = result.report
            if result.url is not None and chosen is None:
                chosen = result
            elif result.url is not None:
                report = SourceReport(
                    report.kind,
                    report.name,
                    report.origin,
                    State.SKIPPED,
                    f"also answering at {report.location}; {chosen.report.location} is used",  # type: ignore[union-attr]
                    location=report.location,
                )
            reports.append(report)
        if chosen is None or chosen.url is None:
            continue
        if kind is servers.PROMETHEUS:
            prometheus = PrometheusConfig(url=chosen.url)
        elif kind is servers.ALERTMANAGER:
            alertmanagers = [AlertmanagerConfig(url=chosen.url)]
        else:
            sources.append(
                LokiSource(kind="loki", name="loki", url=chosen.url, selector=chosen.selector or "")
            )
    config = Config(
        sources=_unique_names(sources),
        services=services,
        prometheus=prometheus,
        alertmanagers=alertmanagers,
    )
    return Discovery(
        config=config,
        reports=tuple(reports),
        root=root,
        cwd=cwd,
        elapsed=time.monotonic() - started,
    )


def _unique_names(sources: list[Any]) -> list[Any]:
    seen: set[str] = set()
    unique = []
    for source in sources:
        name = source.name
        number = 2
        while name in seen:
            name = f"{source.name}-{number}"
            number += 1
        seen.add(name)
        unique.append(source if name == source.name else source.model_copy(update={"name": name}))
    return unique


def configured_reports(config: Config) -> Discovery:
    """The config's own sources as rows (origin `config`), with a quick local check: files
    that match and can be read, the programs readers run, the deploy repositories."""
    from cockpit.core.discovery.host import can_read
    from cockpit.core.search.files import expand_paths

    started = time.monotonic()
    reports: list[SourceReport] = []
    for source in config.sources:
        if isinstance(source, FileSource):
            listing = expand_paths(source.paths, config.base_dir)
            reasons = [r for r in (can_read(p) for p in listing.files) if r]
            readable = len(listing.files) - len(reasons)
            kind = "files" if source.format == "text" else source.format
            if readable:
                state, detail = State.USED, f"{readable} file{'s' if readable != 1 else ''}"
            elif reasons:
                state, detail = State.ERROR, reasons[0]
            else:
                state = State.SKIPPED
                detail = (listing.errors or listing.warnings or ["no file matches"])[0]
            reports.append(
                SourceReport(
                    kind,
                    source.name,
                    Origin.CONFIG,
                    state,
                    detail,
                    location=", ".join(source.paths),
                    program=resolve_program("rg") if source.format == "text" else None,
                    service=source.service,
                    notes=tuple(reasons[1:] if not readable else reasons),
                )
            )
        elif isinstance(source, JournaldSource):
            program = resolve_program("journalctl")
            where = str(config.resolve(source.directory)) if source.directory else "system journal"
            units = ", ".join(source.units) or "all units"
            reports.append(
                SourceReport(
                    "journald",
                    source.name,
                    Origin.CONFIG,
                    State.USED if program else State.ERROR,
                    units if program else "journalctl not found on PATH",
                    location=where,
                    program=program,
                    service=source.service,
                )
            )
        elif isinstance(source, LokiSource | ElasticsearchSource):
            reports.append(
                SourceReport(
                    source.kind,
                    source.name,
                    Origin.CONFIG,
                    State.USED,
                    "configured (its deadline and errors show when it is searched)",
                    location=hide_url_password(source.url),
                    service=source.service,
                )
            )
    for service in config.services:
        deploys = service.deploys
        if deploys.repo is not None:
            path = config.resolve(deploys.repo)
            what = (
                f"deploy tags {deploys.tag_pattern}"
                if deploys.tag_pattern
                else f"first-parent commits of {deploys.branch}"
                if deploys.branch
                else "first-parent commits of HEAD: commits, not deploys"
            )
            ok = (path / ".git").exists() or (path / "HEAD").is_file()
            reports.append(
                SourceReport(
                    "git",
                    service.name,
                    Origin.CONFIG,
                    State.USED if ok else State.ERROR,
                    what if ok else f"{path} is not a git repository",
                    location=str(path),
                    program=resolve_program("git"),
                    service=service.name,
                )
            )
        if deploys.deploy_log is not None:
            path = config.resolve(deploys.deploy_log)
            reason = can_read(path) if path.exists() else f"{path} not found"
            reports.append(
                SourceReport(
                    "deploy-log",
                    service.name,
                    Origin.CONFIG,
                    State.USED if reason is None else State.ERROR,
                    "deploy log" if reason is None else reason,
                    location=str(path),
                    service=service.name,
                )
            )
        if deploys.history_command:
            from cockpit.core.readers import locate_program

            located = locate_program(deploys.history_command[0], config.cockpit.trusted_binaries)
            reports.append(
                SourceReport(
                    "history-command",
                    service.name,
                    Origin.CONFIG,
                    State.USED if located.path else State.ERROR,
                    f"{' '.join(deploys.history_command[:3])} (found through {located.how})"
                    if located.path
                    else located.how,
                    program=located.path,
                    service=service.name,
                )
            )
    if config.prometheus is not None:
        reports.append(
            SourceReport(
                "prometheus",
                "prometheus",
                Origin.CONFIG,
                State.USED,
                "configured",
                location=hide_url_password(config.prometheus.url),
            )
        )
    for am in config.alertmanagers:
        reports.append(
            SourceReport(
                "alertmanager",
                am.name or "alertmanager",
                Origin.CONFIG,
                State.USED,
                "configured (`cockpit alerts` reads it)",
                location=hide_url_password(am.url),
            )
        )
    return Discovery(
        config=config,
        reports=tuple(reports),
        root=Path("/"),
        cwd=Path.cwd(),
        elapsed=time.monotonic() - started,
        discovered=False,
        config_file=config.source_path,
    )


def config_or_discovery(explicit: Path | None = None) -> tuple[Config, Discovery | None]:
    """The config found in the search order, or (none found) what discovery found.

    Raises ConfigError for a config file that is there but wrong: a broken config is never
    silently replaced by discovery."""
    if find_config_file(explicit) is not None:
        return load_config(explicit), None
    found = discover()
    return found.config, found
