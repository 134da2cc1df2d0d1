"""Log files on this host: /var/log by log family, Docker json-file logs, Kubernetes pod logs,
and the systemd journal. Read-only: directories are listed, files are opened only to learn
whether they can be read, and journalctl is asked for the units it knows.

Every probe returns reports (used, or skipped with the reason) and the sources to search.
An unreadable file is a reason with a fix ("add yourself to group adm"), never an error.
"""

from __future__ import annotations

import glob
import grp
import json
import os
import re
import stat
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cockpit.core.config import FileSource, JournaldSource
from cockpit.core.discovery.model import Origin, SourceReport, State, resolve_program

MAX_FILES = 5000
"""Files looked at under /var/log before the walk stops (a host with a runaway log dir)."""
MAX_DEPTH = 3
"""Folder levels below /var/log that are walked (`/var/log/nginx/site/access.log`)."""

# Not logs, or logs of our own sources: the journal and the container folders are read
# through their own probes; `private` is systemd's DynamicUser folder.
_SKIP_DIRS = frozenset({"journal", "pods", "containers", "private", "lost+found"})
# Binary accounting files that live in /var/log but are not text.
_BINARY = frozenset({"wtmp", "btmp", "lastlog", "faillog", "utmp", "tallylog"})
_PLAIN_NAMES = frozenset(
    {
        "syslog",
        "messages",
        "kern",
        "auth",
        "daemon",
        "user",
        "debug",
        "mail",
        "maillog",
        "cron",
        "secure",
        "boot",
        "dmesg",
        "localmessages",
    }
)
_UNSUPPORTED_COMPRESSION = (".xz", ".bz2", ".zst", ".lz4", ".Z")
# `app.log.1`, `app.log.2.gz`, `syslog-20261127`, `app.log.2026-11-27`, `access.log-20261127.gz`
_ROTATION = re.compile(r"(?:[.-](?:\d{1,4}|\d{8}(?:-\d+)?|\d{4}-\d\d-\d\d))+$")
_LOG_NAME = re.compile(r"(?:\.log|_log|\.err|\.out)$")


def hint_for(path: Path, info: os.stat_result | None) -> str:
    """Why a file cannot be read, and the usual fix, in a few words."""
    if info is None:
        return f"no read permission on {path}"
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    if info.st_mode & stat.S_IRGRP and group not in ("root", "0"):
        return f"no read permission on {path} (add yourself to group {group})"
    return f"no read permission on {path} (readable by its owner only; try sudo)"


def can_read(path: Path) -> str | None:
    """None when the file opens for reading, else the reason with a fix."""
    try:
        with open(path, "rb"):
            return None
    except PermissionError:
        try:
            info: os.stat_result | None = path.stat()
        except OSError:
            info = None
        return hint_for(path, info)
    except OSError as exc:
        return f"cannot read {path} ({exc.strerror or exc})"


def split_name(name: str) -> tuple[str, str] | None:
    """(base, compression) of a log file name: `auth.log.2.gz` -> (`auth.log`, `gz`).

    None for names that are not log files (binary accounting files, journals, READMEs)."""
    compression = ""
    for suffix in (".gz", *_UNSUPPORTED_COMPRESSION):
        if name.endswith(suffix):
            compression = suffix[1:]
            name = name[: -len(suffix)]
            break
    base = _ROTATION.sub("", name) or name
    if base in _BINARY or base.endswith(".journal") or base.endswith(".journal~"):
        return None
    return base, compression


def _is_log(base: str, in_subdir: bool) -> bool:
    if base in _PLAIN_NAMES or _LOG_NAME.search(base):
        return True
    # Web servers name their logs without an extension (`access_log`, `error`) in their folder.
    return in_subdir and base.split(".")[0].split("_")[0] in ("access", "error", "current")


@dataclass
class _Family:
    name: str
    service: str | None
    readable: dict[Path, list[Path]] = field(default_factory=lambda: defaultdict(list))
    """(folder / base) -> readable files of that log."""
    unreadable: list[str] = field(default_factory=list)
    unsupported: list[Path] = field(default_factory=list)


def _walk_files(top: Path, depth: int, budget: list[int]) -> Iterator[tuple[Path, int]]:
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if budget[0] <= 0:
            return
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                if depth < MAX_DEPTH and entry.name not in _SKIP_DIRS:
                    yield from _walk_files(Path(entry.path), depth + 1, budget)
                continue
            if not entry.is_file(follow_symlinks=True):
                continue  # a FIFO, a socket, a dangling link: not a log file
        except OSError:
            continue
        budget[0] -= 1
        yield Path(entry.path), depth


def _glob_paths(folder_base: Path, files: list[Path]) -> list[str]:
    """`folder/base*` when that glob matches exactly these files, else the files by name, each
    escaped: a source's paths are globs, and `app[1].log` must match only itself."""
    pattern = glob.escape(str(folder_base)) + "*"
    if set(map(Path, glob.glob(pattern))) == set(files):
        return [pattern]
    return sorted(glob.escape(str(f)) for f in files)


def var_log(root: Path) -> tuple[list[SourceReport], list[FileSource]]:
    """Files under ROOT/var/log, one source per log family (a folder, or a top-level log and
    its rotations), readable files only; unreadable ones are reported with the fix."""
    top = root / "var" / "log"
    if not top.is_dir():
        report = SourceReport(
            "files",
            "var-log",
            Origin.DISCOVERED,
            State.SKIPPED,
            f"{top} does not exist",
            location=str(top),
        )
        return [report], []
    budget = [MAX_FILES]
    families: dict[str, _Family] = {}
    unreadable_dirs: list[str] = []
    try:
        for entry in os.scandir(top):
            if (
                entry.is_dir(follow_symlinks=False)
                and entry.name not in _SKIP_DIRS
                and not os.access(entry.path, os.R_OK | os.X_OK)
            ):
                unreadable_dirs.append(entry.path)
    except OSError:
        pass
    for path, depth in _walk_files(top, 0, budget):
        parts = split_name(path.name)
        if parts is None:
            continue
        base, compression = parts
        in_subdir = depth > 0
        if not _is_log(base, in_subdir):
            continue
        first = path.relative_to(top).parts[0]
        family_name = first if in_subdir else re.sub(r"\.log$", "", base)
        family = families.setdefault(
            family_name, _Family(family_name, first if in_subdir else None)
        )
        if compression and compression != "gz":
            family.unsupported.append(path)
            continue
        reason = can_read(path)
        if reason is not None:
            family.unreadable.append(reason)
        else:
            family.readable[path.parent / base].append(path)
    reports: list[SourceReport] = []
    sources: list[FileSource] = []
    rg = resolve_program("rg")  # plain files are searched through ripgrep
    for name in sorted(families):
        family = families[name]
        files = sorted(f for group in family.readable.values() for f in group)
        notes = list(family.unreadable[1:] if not files else family.unreadable)
        if family.unsupported:
            kinds = sorted({p.suffix for p in family.unsupported})
            notes.append(
                f"{len(family.unsupported)} {'/'.join(kinds)}-compressed file(s) not searched"
            )
        location = str(top / name) if family.service else str(files[0] if files else top / name)
        if not files:
            detail = family.unreadable[0] if family.unreadable else "only compressed files the "
            if not family.unreadable:
                detail += "search cannot read"
            reports.append(
                SourceReport(
                    "files",
                    name,
                    Origin.DISCOVERED,
                    State.SKIPPED,
                    detail,
                    location=location,
                    service=family.service,
                    notes=tuple(notes),
                )
            )
            continue
        paths = [
            p for key, group in sorted(family.readable.items()) for p in _glob_paths(key, group)
        ]
        shown = ", ".join(f.name for f in files[:4]) + (
            f", … (+{len(files) - 4})" if len(files) > 4 else ""
        )
        reports.append(
            SourceReport(
                "files",
                name,
                Origin.DISCOVERED,
                State.USED,
                f"{len(files)} file{'s' if len(files) != 1 else ''}: {shown}",
                location=location,
                program=rg,
                service=family.service,
                notes=tuple(notes),
            )
        )
        sources.append(FileSource(name=name, service=family.service, paths=paths))
    for folder in sorted(unreadable_dirs):
        reports.append(
            SourceReport(
                "files",
                Path(folder).name,
                Origin.DISCOVERED,
                State.SKIPPED,
                hint_for(Path(folder), _stat(Path(folder))).replace(
                    "no read permission on", "no permission to list"
                ),
                location=folder,
            )
        )
    if budget[0] <= 0:
        reports.append(
            SourceReport(
                "files",
                "var-log",
                Origin.DISCOVERED,
                State.SKIPPED,
                f"stopped after {MAX_FILES} files under {top}; configure the rest",
                location=str(top),
            )
        )
    if not reports:
        reports.append(
            SourceReport(
                "files",
                "var-log",
                Origin.DISCOVERED,
                State.SKIPPED,
                f"no log files under {top}",
                location=str(top),
            )
        )
    return reports, sources


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _container_name(folder: Path) -> tuple[str, str | None]:
    """(name, service) of a Docker container from its config.v2.json (compose service first)."""
    try:
        with open(folder / "config.v2.json", "rb") as handle:
            data = json.loads(handle.read(1 << 20))
    except (OSError, ValueError):
        return folder.name[:12], None
    if not isinstance(data, dict):
        return folder.name[:12], None
    name = str(data.get("Name") or folder.name[:12]).lstrip("/")[:100] or folder.name[:12]
    config = data.get("Config") if isinstance(data.get("Config"), dict) else {}
    labels = config.get("Labels") if isinstance(config, dict) else None
    service = None
    if isinstance(labels, dict):
        for key in ("com.docker.compose.service", "io.kubernetes.container.name", "app"):
            value = labels.get(key)
            if isinstance(value, str) and value:
                service = value[:100]
                break
    return name, service or name


def docker(root: Path) -> tuple[list[SourceReport], list[FileSource]]:
    """Docker json-file logs (`/var/lib/docker/containers/ID/ID-json.log*`), one per container."""
    top = root / "var" / "lib" / "docker" / "containers"
    try:
        folders = sorted(p for p in top.iterdir() if p.is_dir())
    except FileNotFoundError:
        return [
            SourceReport(
                "docker",
                "docker",
                Origin.DISCOVERED,
                State.SKIPPED,
                f"no Docker containers ({top} does not exist)",
                location=str(top),
            )
        ], []
    except PermissionError:
        return [
            SourceReport(
                "docker",
                "docker",
                Origin.DISCOVERED,
                State.SKIPPED,
                f"no read permission on {top} (Docker keeps its logs for root: run as root, "
                "or use `docker logs`)",
                location=str(top),
            )
        ], []
    except OSError as exc:
        return [
            SourceReport(
                "docker",
                "docker",
                Origin.DISCOVERED,
                State.SKIPPED,
                f"cannot list {top} ({exc.strerror or exc})",
                location=str(top),
            )
        ], []
    reports: list[SourceReport] = []
    sources: list[FileSource] = []
    used_names: set[str] = set()
    for folder in folders[:500]:
        name, service = _container_name(folder)
        logs = sorted(folder.glob(glob.escape(folder.name) + "-json.log*"))
        source_name = f"docker-{name}"
        while source_name in used_names:
            source_name += "-" + folder.name[:6]
        if not logs:
            reports.append(
                SourceReport(
                    "docker",
                    source_name,
                    Origin.DISCOVERED,
                    State.SKIPPED,
                    "no json-file log (the container uses another log driver)",
                    location=str(folder),
                    service=service,
                )
            )
            continue
        reasons = [r for r in (can_read(p) for p in logs) if r]
        readable = [p for p in logs if can_read(p) is None]
        if not readable:
            reports.append(
                SourceReport(
                    "docker",
                    source_name,
                    Origin.DISCOVERED,
                    State.SKIPPED,
                    reasons[0],
                    location=str(logs[0]),
                    service=service,
                )
            )
            continue
        used_names.add(source_name)
        reports.append(
            SourceReport(
                "docker",
                source_name,
                Origin.DISCOVERED,
                State.USED,
                f"{len(readable)} json-file log{'s' if len(readable) != 1 else ''} of container "
                f"{name}",
                location=str(readable[0]),
                service=service,
                notes=tuple(reasons),
            )
        )
        sources.append(
            FileSource(
                name=source_name,
                service=service,
                paths=[glob.escape(str(folder / folder.name)) + "-json.log*"],
                format="docker",
            )
        )
    if not folders:
        reports.append(
            SourceReport(
                "docker",
                "docker",
                Origin.DISCOVERED,
                State.SKIPPED,
                f"no containers under {top}",
                location=str(top),
            )
        )
    return reports, sources


_POD_HASH = re.compile(r"^(?P<name>.+?)(?:-[a-z0-9]{6,10})?-[a-z0-9]{5}$")
_STATEFUL = re.compile(r"^(?P<name>.+)-\d+$")


def service_of_pod(pod: str) -> str:
    """A Deployment's pod `checkout-7d9f8b6c5-x2x4z` (or a StatefulSet's `db-0`) -> its name."""
    for pattern in (_POD_HASH, _STATEFUL):
        match = pattern.match(pod)
        if match:
            return match["name"]
    return pod


def pods(root: Path) -> tuple[list[SourceReport], list[FileSource]]:
    """Kubernetes node logs (`/var/log/pods/NS_POD_UID/CONTAINER/N.log*`, CRI format), one
    source per pod container, the service from the pod's name."""
    top = root / "var" / "log" / "pods"
    try:
        pod_dirs = sorted(p for p in top.iterdir() if p.is_dir())
    except FileNotFoundError:
        return [
            SourceReport(
                "cri",
                "pods",
                Origin.DISCOVERED,
                State.SKIPPED,
                f"no Kubernetes pod logs ({top} does not exist)",
                location=str(top),
            )
        ], []
    except OSError as exc:
        reason = (
            hint_for(top, _stat(top))
            if isinstance(exc, PermissionError)
            else f"cannot list {top} ({exc.strerror or exc})"
        )
        return [SourceReport("cri", "pods", Origin.DISCOVERED, State.SKIPPED, reason, str(top))], []
    reports: list[SourceReport] = []
    sources: list[FileSource] = []
    for pod_dir in pod_dirs[:500]:
        parts = pod_dir.name.split("_")
        if len(parts) != 3:
            continue
        namespace, pod, _uid = parts
        try:
            containers = sorted(p for p in pod_dir.iterdir() if p.is_dir())
        except OSError as exc:
            reports.append(
                SourceReport(
                    "cri",
                    f"pod-{namespace}/{pod}",
                    Origin.DISCOVERED,
                    State.SKIPPED,
                    hint_for(pod_dir, _stat(pod_dir))
                    if isinstance(exc, PermissionError)
                    else f"cannot list {pod_dir}",
                    location=str(pod_dir),
                )
            )
            continue
        for container in containers:
            name = f"pod-{namespace}/{pod}/{container.name}"
            service = service_of_pod(pod)
            logs = sorted(container.glob("*.log*"))
            reasons = [r for r in (can_read(p) for p in logs) if r]
            readable = [p for p in logs if can_read(p) is None]
            if not readable:
                detail = reasons[0] if reasons else "no log files"
                reports.append(
                    SourceReport(
                        "cri",
                        name,
                        Origin.DISCOVERED,
                        State.SKIPPED,
                        detail,
                        location=str(container),
                        service=service,
                    )
                )
                continue
            reports.append(
                SourceReport(
                    "cri",
                    name,
                    Origin.DISCOVERED,
                    State.USED,
                    f"{len(readable)} CRI log{'s' if len(readable) != 1 else ''} of container "
                    f"{container.name} in pod {pod} ({namespace})",
                    location=str(container),
                    service=service,
                    notes=tuple(reasons),
                )
            )
            sources.append(
                FileSource(
                    name=name,
                    service=service,
                    paths=[glob.escape(str(container)) + "/*.log*"],
                    format="cri",
                )
            )
    if not reports:
        reports.append(
            SourceReport(
                "cri",
                "pods",
                Origin.DISCOVERED,
                State.SKIPPED,
                f"no pod logs under {top}",
                location=str(top),
            )
        )
    return reports, sources


_NOT_SEEING = "not seeing messages from other users"


def journald(root: Path, timeout: float) -> tuple[list[SourceReport], list[JournaldSource]]:
    """The systemd journal, when journalctl exists and the journal is readable; its units.

    With a test root, the journal is ROOT/var/log/journal, read with `--directory`."""
    from cockpit.core.readers import ReaderRefused, run_reader

    program = resolve_program("journalctl")
    if program is None:
        return [
            SourceReport(
                "journald",
                "journal",
                Origin.DISCOVERED,
                State.SKIPPED,
                "journalctl not found on PATH",
            )
        ], []
    directory: Path | None = None
    argv = ["journalctl", "--field=_SYSTEMD_UNIT", "--no-pager"]
    if root != Path("/"):
        directory = root / "var" / "log" / "journal"
        if not directory.is_dir():
            return [
                SourceReport(
                    "journald",
                    "journal",
                    Origin.DISCOVERED,
                    State.SKIPPED,
                    f"no journal under {directory}",
                    location=str(directory),
                    program=program,
                )
            ], []
        argv.append(f"--directory={directory}")
    location = str(directory) if directory else "system journal"
    try:
        completed = run_reader(argv, timeout=timeout)
    except ReaderRefused as exc:
        return [
            SourceReport(
                "journald",
                "journal",
                Origin.DISCOVERED,
                State.SKIPPED,
                str(exc),
                location=location,
                program=program,
            )
        ], []
    except Exception as exc:  # subprocess.TimeoutExpired, OSError
        reason = (
            f"journalctl did not answer within {timeout:.1f} s"
            if type(exc).__name__ == "TimeoutExpired"
            else f"cannot run journalctl ({exc})"
        )
        return [
            SourceReport(
                "journald",
                "journal",
                Origin.DISCOVERED,
                State.SKIPPED,
                reason,
                location=location,
                program=program,
            )
        ], []
    units = sorted(
        {
            line.strip()
            for line in completed.stdout.decode("utf-8", "replace").splitlines()
            if line.strip()
        }
    )
    stderr = completed.stderr.decode("utf-8", "replace")
    if not units:
        if "No journal files were found" in stderr:
            reason = "no journal files were found (journald keeps no journal here)"
        elif _NOT_SEEING in stderr:
            reason = (
                "the journal shows only your own messages "
                "(add yourself to group systemd-journal or adm)"
            )
        elif completed.returncode != 0:
            first = stderr.strip().splitlines()[0] if stderr.strip() else "failed"
            reason = f"journalctl: {first}"
        else:
            reason = "the journal names no systemd units"
        return [
            SourceReport(
                "journald",
                "journal",
                Origin.DISCOVERED,
                State.SKIPPED,
                reason,
                location=location,
                program=program,
            )
        ], []
    notes = (
        ("only your own messages are visible (add yourself to group systemd-journal or adm)",)
        if _NOT_SEEING in stderr
        else ()
    )
    services = [u.removesuffix(".service") for u in units]
    shown = ", ".join(services[:6]) + (f", … (+{len(services) - 6})" if len(services) > 6 else "")
    report = SourceReport(
        "journald",
        "journal",
        Origin.DISCOVERED,
        State.USED,
        f"{len(units)} unit{'s' if len(units) != 1 else ''}: {shown}",
        location=location,
        program=program,
        notes=notes,
    )
    source = JournaldSource(kind="journald", name="journal", directory=directory)
    return [report], [source]
