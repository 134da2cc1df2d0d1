"""Deploy history from files and read-only tool output: deploy logs, helm, kubectl, Argo CD.

Each parser takes text and returns deploys plus notes about lines it skipped, naming the
file (or command) and line. Nothing here starts a process except `read_history_command`, which
goes through `cockpit.core.readers.run_reader` and its allowlist (`helm history`, `kubectl
rollout history`, `argocd app history`); a rollback command is refused there.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from cockpit.core.deploys.model import Deploy, DeployError
from cockpit.core.readers import ReaderRefused, run_reader
from cockpit.core.sanitize import decode_lossy
from cockpit.core.timefmt import as_utc, parse_time

HistoryFormat = Literal["helm", "kubectl", "argocd"]

_SHA = re.compile(r"\b[0-9a-f]{7,40}\b")
MAX_NOTES = 3

_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "ts", "deployed_at", "date", "@timestamp"),
    "service": ("service", "app", "application"),
    "sha": ("sha", "commit", "git_sha", "revision_sha"),
    "version": ("version", "tag", "image_tag", "app_version"),
    "revision": ("revision", "rev"),
    "actor": ("actor", "user", "author", "deployer", "by"),
    "status": ("status", "result", "state"),
}


def _pick(record: dict[str, Any], name: str) -> Any:
    for key in _FIELD_ALIASES[name]:
        value = record.get(key)
        if value not in (None, ""):
            return value
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _record_to_deploy(record: dict[str, Any], source: str) -> Deploy:
    when = _pick(record, "time")
    if when is None:
        raise ValueError("no time")
    service = _pick(record, "service")
    if service is None:
        raise ValueError("no service")
    sha = _text(_pick(record, "sha"))
    if sha is not None and not re.fullmatch(r"[0-9a-fA-F]{4,64}", sha):
        raise ValueError(f"sha {sha[:20]!r} is not hexadecimal")
    return Deploy(
        service=str(service),
        time=parse_time(when),
        sha=sha.lower() if sha else None,
        version=_text(_pick(record, "version")),
        revision=_text(_pick(record, "revision")),
        actor=_text(_pick(record, "actor")),
        status=_text(_pick(record, "status")),
        source=source,
    )


def parse_deploy_log(text: str, origin: str) -> tuple[list[Deploy], list[str]]:
    """A deploy log in JSON lines or CSV (with a header). Returns (deploys, notes)."""
    deploys: list[Deploy] = []
    problems: list[str] = []
    stripped = text.lstrip()
    rows: list[tuple[int, dict[str, Any] | None, str]] = []
    if stripped.startswith("{"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                rows.append((number, None, f"not JSON ({exc.msg})"))
                continue
            rows.append((number, value if isinstance(value, dict) else None, "not an object"))
    else:
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            rows.append((reader.line_num, clean, ""))
    for number, record, why in rows:
        if record is None:
            problems.append(f"line {number}: {why}")
            continue
        try:
            deploys.append(_record_to_deploy(record, "deploy-log"))
        except (ValueError, TypeError, OverflowError) as exc:
            problems.append(f"line {number}: {exc}")
    return deploys, _summarise(origin, problems)


def _summarise(origin: str, problems: list[str]) -> list[str]:
    if not problems:
        return []
    shown = "; ".join(problems[:MAX_NOTES])
    more = f" (+{len(problems) - MAX_NOTES} more)" if len(problems) > MAX_NOTES else ""
    return [f"{origin}: skipped {len(problems)} line(s): {shown}{more}"]


def _sha_in(text: str | None) -> str | None:
    if not text:
        return None
    match = _SHA.search(text)
    return match.group() if match else None


def parse_helm_history(text: str, service: str, origin: str) -> tuple[list[Deploy], list[str]]:
    """`helm history RELEASE -o json`: a JSON array of revisions."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DeployError(
            f"{origin}: not helm history JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    if not isinstance(data, list):
        raise DeployError(f"{origin}: expected a JSON array from `helm history -o json`")
    deploys: list[Deploy] = []
    problems: list[str] = []
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict) or "revision" not in item or "updated" not in item:
            problems.append(f"entry {index}: no revision/updated")
            continue
        try:
            when = parse_time(item["updated"])
        except ValueError:
            problems.append(f"entry {index}: bad time {str(item['updated'])[:40]!r}")
            continue
        app_version = _text(item.get("app_version"))
        deploys.append(
            Deploy(
                service=service,
                time=when,
                sha=_sha_in(app_version) or _sha_in(_text(item.get("description"))),
                version=app_version or _text(item.get("chart")),
                revision=str(item["revision"]),
                status=_text(item.get("status")),
                source="helm",
                subject=_text(item.get("description")),
            )
        )
    return deploys, _summarise(origin, problems)


def parse_kubectl_history(
    text: str, service: str, origin: str
) -> tuple[list[Deploy], list[str], list[tuple[str, str]]]:
    """`kubectl rollout history deploy/NAME`: (revision, change-cause) rows, which carry no time.

    Returns ([], notes, rows): the rows are attached to timed deploys by `merge_deploys`.
    """
    rows: list[tuple[str, str]] = []
    for line in text.splitlines():
        match = re.match(r"^\s*(\d+)\s+(.*?)\s*$", line)
        if match:
            rows.append((match.group(1), match.group(2)))
    if not rows:
        raise DeployError(f"{origin}: no REVISION rows in `kubectl rollout history` output")
    return [], [], rows


_ARGO_ROW = re.compile(
    r"^\s*(?P<id>\d+)\s+(?P<date>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)(?:\.\d+)?"
    r"\s*(?P<offset>[+-]\d{2}:?\d{2}|Z)?(?:\s+[A-Z]{2,5})?\s+(?P<rev>.*?)\s*$"
)


def parse_argocd_history(text: str, service: str, origin: str) -> tuple[list[Deploy], list[str]]:
    """`argocd app history APP`: `ID  DATE  REVISION` rows, e.g. `3  2026-01-25 10:30:00 +0000
    UTC  v1.2.0 (abc123d)`."""
    deploys: list[Deploy] = []
    for line in text.splitlines():
        match = _ARGO_ROW.match(line)
        if not match:
            continue
        offset = match.group("offset") or "+00:00"
        if offset == "Z":
            offset = "+00:00"
        elif ":" not in offset:
            offset = f"{offset[:3]}:{offset[3:]}"
        when = as_utc(datetime.fromisoformat(f"{match.group('date').replace(' ', 'T')}{offset}"))
        rev_text = match.group("rev")
        sha = _sha_in(rev_text)
        version = re.sub(r"\s*\([^)]*\)\s*", "", rev_text).strip() or None
        if version == sha:
            version = None
        deploys.append(
            Deploy(
                service=service,
                time=when,
                sha=sha,
                version=version,
                revision=match.group("id"),
                source="argocd",
            )
        )
    if not deploys:
        raise DeployError(f"{origin}: no `ID DATE REVISION` rows in `argocd app history` output")
    return deploys, []


def guess_format(argv: Sequence[str] | None, path: Path | None) -> HistoryFormat | None:
    """The history format from the command (`helm`, `kubectl`, `argocd`) or the file's name."""
    known: dict[str, HistoryFormat] = {"helm": "helm", "kubectl": "kubectl", "argocd": "argocd"}
    if argv:
        program = Path(argv[0]).name
        if program in known:
            return known[program]
    if path is not None:
        name = path.name.lower()
        for word, fmt in known.items():
            if word in name:
                return fmt
    return None


HISTORY_PROGRAMS = ("helm", "kubectl", "argocd")
"""The programs a `history_command` may name (their history subcommands only)."""


def read_history_command(
    argv: Sequence[str],
    *,
    timeout: float = 10.0,
    trusted_binaries: Sequence[str | Path] = (),
) -> str:
    """Run a configured, read-only history command through the reader allowlist.

    Only `helm history`, `kubectl rollout history` and `argocd app history` (and their other
    read-only subcommands) may run; the program is found on PATH unless its absolute path is
    in `trusted_binaries`.
    """
    shown = " ".join(argv)
    if not argv or Path(argv[0]).name not in HISTORY_PROGRAMS:
        raise DeployError(
            f"history_command {shown!r} refused: it may run only helm history, kubectl rollout "
            "history or argocd app history"
        )
    try:
        done = run_reader(argv, timeout=timeout, trusted_binaries=trusted_binaries)
    except ReaderRefused as exc:
        raise DeployError(f"history_command {shown!r} refused: {exc}") from None
    except OSError as exc:
        raise DeployError(f"history_command {shown!r} could not start: {exc}") from None
    except Exception as exc:  # subprocess.TimeoutExpired
        raise DeployError(f"history_command {shown!r} failed: {exc}") from None
    if done.returncode != 0:
        err = decode_lossy(done.stderr).strip().splitlines()
        raise DeployError(
            f"history_command {shown!r} exited {done.returncode}: {err[0] if err else ''}".rstrip()
        )
    return decode_lossy(done.stdout)


def parse_history(
    text: str, fmt: HistoryFormat, service: str, origin: str
) -> tuple[list[Deploy], list[str], list[tuple[str, str]]]:
    """Dispatch to the parser for `fmt`: (deploys, notes, untimed kubectl rows)."""
    if fmt == "helm":
        deploys, notes = parse_helm_history(text, service, origin)
        return deploys, notes, []
    if fmt == "argocd":
        deploys, notes = parse_argocd_history(text, service, origin)
        return deploys, notes, []
    return parse_kubectl_history(text, service, origin)
