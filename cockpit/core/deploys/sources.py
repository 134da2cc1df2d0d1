"""Every configured deploy source of every service, read and merged into one deploy list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from cockpit.core.config import Config, ServiceConfig
from cockpit.core.deploys.git_source import DEFAULT_LIMIT, GitRepo, branch_deploys, tag_deploys
from cockpit.core.deploys.history import (
    guess_format,
    parse_deploy_log,
    parse_history,
    read_history_command,
)
from cockpit.core.deploys.model import Deploy, DeployError, DeployListing
from cockpit.core.safe_files import DATA_MAX_BYTES, UnsafeFileError, read_regular_bytes

# When two sources report the same deploy, the earlier entry here wins for its time and fields.
_PRIORITY = {"deploy-log": 0, "helm": 1, "argocd": 1, "kubectl": 1, "git-tag": 2, "git-branch": 3}
SAME_SHA_WINDOW = timedelta(minutes=30)
"""Two reports of one sha this close together are one deploy (a later one is a redeploy)."""


def _same_sha(a: str | None, b: str | None) -> bool:
    return bool(a and b and (a.startswith(b) or b.startswith(a)))


def merge_deploys(
    records: list[Deploy],
    *,
    skew: timedelta,
    kubectl_rows: Sequence[tuple[str, str, str]] = (),
) -> tuple[list[Deploy], list[str]]:
    """Merge reports of the same deploy from different sources; newest first.

    Two reports are one deploy when they name the same sha within SAME_SHA_WINDOW, or the same
    version, or (when either lacks a sha) come from different sources within the clock-skew
    tolerance `skew`. `kubectl_rows` are (service, revision, change-cause): kubectl records no
    time, so a row is attached to the deploy whose sha or version its change-cause names.
    """
    ordered = sorted(records, key=lambda d: (_PRIORITY.get(d.source, 9), d.time))
    merged: list[Deploy] = []
    for record in ordered:
        index = _find_match(merged, record, skew)
        if index is None:
            merged.append(record)
        else:
            merged[index] = merged[index].merged_with(record)
    notes: list[str] = []
    unmatched = 0
    for service, revision, cause in kubectl_rows:
        for i, deploy in enumerate(merged):
            if deploy.service != service:
                continue
            names = [n for n in (deploy.short_sha, deploy.version) if n]
            if any(name in cause for name in names):
                merged[i] = deploy.merged_with(
                    Deploy(service=service, time=deploy.time, revision=revision, source="kubectl")
                )
                break
        else:
            unmatched += 1
    if unmatched:
        notes.append(
            f"kubectl rollout history: {unmatched} revision(s) name no known sha or version "
            "in their CHANGE-CAUSE and have no time, so they are not listed"
        )
    merged.sort(key=lambda d: d.time, reverse=True)
    return merged, notes


def _find_match(merged: list[Deploy], record: Deploy, skew: timedelta) -> int | None:
    close: int | None = None
    for index, other in enumerate(merged):
        if other.service != record.service or record.source in other.all_sources:
            continue
        gap = abs(other.time - record.time)
        if _same_sha(other.sha, record.sha) and gap <= max(SAME_SHA_WINDOW, skew):
            return index
        if other.version and other.version == record.version and gap <= max(SAME_SHA_WINDOW, skew):
            return index
        conflict = bool(other.sha and record.sha and not _same_sha(other.sha, record.sha))
        if not conflict and gap <= skew and close is None:
            close = index
    return close


def service_deploys(
    config: Config,
    service: ServiceConfig,
    *,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
) -> DeployListing:
    """All deploys of one service from its configured sources; a failing source is an error line."""
    source = service.deploys
    listing = DeployListing()
    records: list[Deploy] = []
    kubectl_rows: list[tuple[str, str, str]] = []
    name = service.name
    if source.repo is not None:
        try:
            repo = GitRepo(config.resolve(source.repo), what=f"service {name}")
            if source.tag_pattern:
                records += tag_deploys(repo, source.tag_pattern, name, limit=limit, since=since)
            else:
                records += branch_deploys(repo, source.branch, name, limit=limit, since=since)
                if source.branch is None:
                    # Without deploy tags or a deploy branch, HEAD's history is all there is:
                    # a commit's time is not when it went out, so say what these are.
                    listing.notes.append(
                        f"service {name}: first-parent commits of HEAD (commits, not deploys)"
                    )
            depth = repo.shallow_depth()
            if depth is not None:
                listing.notes.append(
                    f"service {name}: history truncated at {depth} commits (shallow clone)"
                )
        except DeployError as exc:
            listing.errors.append(str(exc))
    if source.deploy_log is not None:
        path = config.resolve(source.deploy_log)
        try:
            text = _read_data(path, "deploy log")
        except FileNotFoundError:
            listing.errors.append(f"service {name}: deploy log {path} not found")
        except UnsafeFileError as exc:
            listing.errors.append(f"service {name}: {exc}")
        except OSError as exc:
            listing.errors.append(f"service {name}: cannot read deploy log {path} ({exc})")
        else:
            found, notes = parse_deploy_log(text, f"deploy log {path}")
            records += [d for d in found if d.service == name]
            listing.notes += notes
    if source.history_file is not None or source.history_command:
        try:
            records_, rows = _tool_history(config, service)
            records += records_
            kubectl_rows += [(name, rev, cause) for rev, cause in rows]
        except DeployError as exc:
            listing.errors.append(f"service {name}: {exc}")
    skew = timedelta(seconds=config.health.clock_skew_seconds)
    merged, notes = merge_deploys(records, skew=skew, kubectl_rows=kubectl_rows)
    if since is not None:
        merged = [d for d in merged if d.time >= since]
    listing.deploys = merged[:limit]
    listing.notes += notes
    return listing


def _read_data(path: Path, what: str) -> str:
    """A deploy log or saved history: a regular file only (a FIFO would hang the read), capped."""
    data = read_regular_bytes(path, what=what, max_bytes=DATA_MAX_BYTES)
    return data.decode("utf-8", errors="replace")


def _tool_history(
    config: Config, service: ServiceConfig
) -> tuple[list[Deploy], list[tuple[str, str]]]:
    source = service.deploys
    path = config.resolve(source.history_file) if source.history_file is not None else None
    fmt = source.history_format or guess_format(source.history_command, path)
    if fmt is None:
        raise DeployError("set deploys.history_format to helm, kubectl or argocd")
    if source.history_command:
        origin = f"history_command {' '.join(source.history_command)!r}"
        text = read_history_command(
            source.history_command, trusted_binaries=config.cockpit.trusted_binaries
        )
    else:
        assert path is not None
        origin = f"history file {path}"
        try:
            text = _read_data(path, "history")
        except FileNotFoundError:
            raise DeployError(f"{origin} not found") from None
        except UnsafeFileError as exc:
            raise DeployError(str(exc)) from None
        except OSError as exc:
            raise DeployError(f"cannot read {origin} ({exc})") from None
    deploys, _notes, rows = parse_history(text, fmt, service.name, origin)
    return deploys, rows


def unknown_service(config: Config, service: str | None) -> str | None:
    """One line naming `service` when the config has no such service, else None."""
    if service is None or any(s.name == service for s in config.services):
        return None
    known = ", ".join(s.name for s in config.services) or "none configured"
    return f"unknown service {service!r} (known: {known})"


def list_deploys(
    config: Config,
    *,
    service: str | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
) -> DeployListing:
    """Deploys of every configured service (or one), newest first, with notes and errors."""
    services = [s for s in config.services if service is None or s.name == service]
    listing = DeployListing()
    if (unknown := unknown_service(config, service)) is not None:
        listing.errors.append(unknown)
        return listing
    if not services:
        listing.errors.append(
            "no services configured: add [[services]] with a [services.deploys] source, "
            "or use `cockpit deploys --repo PATH`"
        )
        return listing
    for one in services:
        part = service_deploys(config, one, since=since, limit=limit)
        listing.deploys += part.deploys
        listing.notes += part.notes
        listing.errors += part.errors
    listing.deploys.sort(key=lambda d: d.time, reverse=True)
    return listing


DEFAULT_ADHOC_PATTERN = "deploy/*/*"


def list_repo_deploys(
    path: Path,
    *,
    tag_pattern: str | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
) -> DeployListing:
    """Deploys of any git repository, no config: tags matching the pattern (default
    `deploy/*/*`, service from the middle part), else the first-parent commits of HEAD."""
    listing = DeployListing()
    try:
        repo = GitRepo(path)
        pattern = tag_pattern or DEFAULT_ADHOC_PATTERN
        listing.deploys = tag_deploys(repo, pattern, "", limit=limit, since=since)
        if not listing.deploys and tag_pattern is None:
            listing.notes.append(
                f"no tags match {DEFAULT_ADHOC_PATTERN}; showing first-parent commits of HEAD"
            )
            name = Path(path).resolve().name
            listing.deploys = branch_deploys(repo, None, name, limit=limit, since=since)
        depth = repo.shallow_depth()
        if depth is not None:
            listing.notes.append(f"history truncated at {depth} commits (shallow clone)")
    except DeployError as exc:
        listing.errors.append(str(exc))
    listing.deploys = [
        d if d.service else replace(d, service=Path(path).resolve().name) for d in listing.deploys
    ]
    return listing
