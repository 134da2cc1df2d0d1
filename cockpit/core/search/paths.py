"""Which local files a file source covers: globs, folders, rotated files, and `rg` itself."""

from __future__ import annotations

import fnmatch
import glob
import itertools
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from cockpit.core.records import Record

TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from datetime import datetime


def find_rg() -> str | None:
    """Path of ripgrep: the wheel's binary next to this Python first, then `rg` on PATH
    (absolute PATH entries only, as every reader is found)."""
    from cockpit.core.readers import find_on_path

    beside = Path(sys.executable).parent / "rg"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return find_on_path("rg")


def is_gzip(path: Path | str) -> bool:
    """Whether the file is handled as gzip (by name, like `rg -z`)."""
    return str(path).endswith(".gz")


_GLOB_CHARS = frozenset("*?[")


def _describe_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


class FileList(Record):
    """The files a source will search, and what was wrong with the rest."""

    _fields = ("files", "errors", "warnings")
    _mutable = True

    files: list[Path]
    errors: list[str]
    warnings: list[str]

    def __init__(
        self,
        files: list[Path],
        errors: list[str],
        warnings: list[str],
    ) -> None:
        self.__dict__.update(
            files=files,
            errors=errors,
            warnings=warnings,
        )


def expand_paths(patterns: Iterable[str], base_dir: Path, *, explicit: bool = False) -> FileList:
    """Resolve globs (relative to `base_dir`) into regular files, oldest first.

    `explicit` (ad hoc command-line paths): a named path that does not exist is an error and a
    directory is searched recursively, like rg. Otherwise (config globs) a glob that matches
    nothing is only a warning: logs may not exist yet.
    """
    result = FileList([], [], [])
    seen: set[tuple[int, int]] = set()
    loops: dict[str, str] = {}
    for pattern in patterns:
        raw = Path(pattern).expanduser()
        full = raw if raw.is_absolute() else base_dir / raw
        if _GLOB_CHARS & set(str(pattern)):
            candidates = sorted(_glob(full, loops))
            if not candidates:
                result.warnings.append(f"no file matches {pattern}")
        else:
            candidates = [full]
        for candidate in candidates:
            for path in _walk(candidate, explicit=explicit, result=result):
                # Each file once, whatever the path to it (a symlink, two overlapping globs).
                try:
                    info = path.stat()
                except OSError:
                    continue
                if (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    result.files.append(path)
    for link, target in loops.items():
        result.warnings.append(
            f"{link}: symlink loop (leads back to {target}); not followed, each file read once"
        )
    result.files.sort(key=_age_key)
    return result


def _dir_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a directory, following symlinks; None for anything else."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


def _glob(pattern: Path, loops: dict[str, str]) -> list[Path]:
    """`glob.glob(pattern, recursive=True)`, but a `**` never walks into a directory it is
    already inside (a symlink loop): each loop goes into `loops` once (link -> the ancestor it
    leads back to), and no directory is expanded twice for the same part of the pattern, so two
    symlinks at each level cannot make the walk exponential. Hidden names match only a pattern
    that starts with a dot, as in glob."""
    parts = pattern.parts
    first_magic = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    base = Path(*parts[:first_magic]) if first_magic else Path(".")
    found: list[Path] = []
    expanded: set[tuple[tuple[int, int], int]] = set()

    def entries(folder: Path) -> list[str]:
        try:
            return sorted(os.listdir(folder))
        except OSError:
            return []

    def visible_match(name: str, part: str) -> bool:
        return (part.startswith(".") or not name.startswith(".")) and fnmatch.fnmatchcase(
            name, part
        )

    def walk(path: Path, index: int, ancestors: frozenset[tuple[int, int]]) -> None:
        if index == len(parts):
            found.append(path)
            return
        part = parts[index]
        if part == "**":
            walk(path, index + 1, ancestors)  # `**` matches no folder at all, too
            for name in entries(path):
                if name.startswith("."):
                    continue
                child = path / name
                ident = _dir_id(child)
                if ident is None:
                    continue
                if ident in ancestors:
                    loops.setdefault(str(child), os.path.realpath(child))
                    continue
                if (ident, index) in expanded:
                    continue
                expanded.add((ident, index))
                walk(child, index, ancestors | {ident})
        elif glob.has_magic(part):
            for name in entries(path):
                if visible_match(name, part):
                    child = path / name
                    ident = _dir_id(child)
                    walk(child, index + 1, ancestors | {ident} if ident else ancestors)
        else:
            child = path / part
            if index + 1 == len(parts):
                if os.path.lexists(child):
                    found.append(child)
            elif _dir_id(child) is not None:
                walk(child, index + 1, ancestors | {_dir_id(child) or (0, 0)})

    start = _dir_id(base)
    if start is not None:
        walk(base, first_magic, frozenset({start}))
    return found


def _walk(path: Path, *, explicit: bool, result: FileList) -> Iterator[Path]:
    try:
        info = path.stat()  # stat never opens: a FIFO cannot block here
    except FileNotFoundError:
        result.errors.append(f"{path}: no such file")
        return
    except OSError as exc:
        result.errors.append(f"{path}: {exc.strerror or exc}")
        return
    if stat.S_ISREG(info.st_mode):
        yield path
    elif stat.S_ISDIR(info.st_mode):
        if not explicit:
            return
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith("."):
                    continue
                child = Path(root) / name
                try:
                    child_mode = child.stat().st_mode
                except OSError:
                    continue
                if stat.S_ISREG(child_mode):
                    yield child
    else:
        result.errors.append(f"{path}: is {_describe_type(info.st_mode)}, not a log file")


def _age_key(path: Path) -> tuple[float, str]:
    try:
        return (path.stat().st_mtime, str(path))
    except OSError:
        return (0.0, str(path))


def _file_reference(path: Path) -> datetime:
    """The syslog year reference for a file: when it was last written."""
    from datetime import UTC, datetime  # timestamps only: counting plain files needs none

    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError:
        return datetime.now(UTC)


_ROTATION = re.compile(r"^(?P<base>.+?)(?:[.-]\d+)?(?:\.gz)?$")


def _head_timestamp(path: Path) -> datetime | None:
    """The first timestamp in a file (decompressing only its start for .gz), or None."""
    # Timestamp parsing loads only for a time window: `search --count PATH` never needs it.
    from cockpit.core.search.blocks import _first_timestamp

    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None  # never open a FIFO or a device
        if is_gzip(path):
            from isal import igzip

            with igzip.open(path, "rb") as handle:
                head = handle.read(64 << 10)
        else:
            with open(path, "rb") as handle:
                head = handle.read(64 << 10)
    except Exception:  # unreadable or damaged: the search itself will say so
        return None
    return _first_timestamp(head, _file_reference(path))


def rotated_before(files: list[Path], since: datetime | None) -> set[Path]:
    """Rotated files that end before `since`, so a time-windowed search can skip them unread.

    Rotations of one log (`app.log`, `app.log.1`, `app.log.2.gz`, `app.log-20261127.gz`) follow
    each other: each ends where the next newer one begins. A file is skipped when the file
    after it began before `since`; this costs one small read (or decompression) per file
    instead of decompressing every old .gz file in full.
    """
    if since is None or len(files) < 2:
        return set()
    groups: dict[str, list[tuple[datetime, str, Path]]] = {}
    for path in files:
        match = _ROTATION.match(path.name)
        if match is None:
            continue
        first = _head_timestamp(path)
        if first is not None:
            groups.setdefault(str(path.parent / match["base"]), []).append((first, str(path), path))
    skipped: set[Path] = set()
    for entries in groups.values():
        entries.sort()
        for (_first, _name, path), (next_first, _n, _p) in itertools.pairwise(entries):
            if next_first < since:
                skipped.add(path)
    return skipped
