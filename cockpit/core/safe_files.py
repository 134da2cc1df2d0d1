"""Reading files the cockpit is configured by, and writing files it creates, safely.

Reading (config, runbook, skills, scenarios, deploy histories): only a regular file is read,
opened non-blocking so a FIFO cannot hang the open, checked with `fstat` on the open file (no
race with a swap after a `stat`), and capped in size, so `/dev/zero` or a huge file cannot eat
memory. Every problem is one line naming the file.

Writing (exports, the postmortem draft, the drill debrief, sandbox configs): a new file is
created owner-only (0600, whatever the umask) unless the user asks for another mode, a symlink
is never followed, and an existing file is replaced only when the caller says the user asked
for that name, and then only if it is a regular file the user owns; the new content goes to a
temporary file beside it and is renamed over it, so a crash leaves the old file or the new one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

CONFIG_MAX_BYTES = 1 << 20
"""Largest config, runbook, skill or scenario file read (1 MB)."""
DATA_MAX_BYTES = 256 << 20
"""Largest deploy log or saved tool history read whole (256 MB)."""
PRIVATE_MODE = 0o600
"""Mode of every file the cockpit creates unless the user asks otherwise."""


class UnsafeFileError(Exception):
    """A file was not read or written: one line naming it and saying why."""


def describe_type(mode: int) -> str:
    """`a FIFO`, `a directory`, ... for a non-regular `st_mode`."""
    for check, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symlink"),
    ):
        if check(mode):
            return name
    return "not a regular file"


def _size_text(limit: int) -> str:
    return f"{limit >> 20} MB" if limit >= 1 << 20 and limit % (1 << 20) == 0 else f"{limit} bytes"


def read_regular_bytes(
    path: Path | str,
    *,
    what: str,
    max_bytes: int = CONFIG_MAX_BYTES,
    check: Callable[[os.stat_result], None] | None = None,
) -> bytes:
    """The bytes of a regular file of at most `max_bytes`.

    `check` is called with the open file's `fstat` (an owner check that no swap of the name
    can dodge) and may raise. Raises FileNotFoundError when there is none (callers say what
    was expected), UnsafeFileError for a directory, FIFO, device, socket or an oversized file,
    and OSError otherwise.
    """
    path = Path(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(
                f"{path}: is {describe_type(info.st_mode)}, expected a {what} file"
            )
        if check is not None:
            check(info)
        if info.st_size > max_bytes:
            raise UnsafeFileError(
                f"{path}: {what} file is larger than {_size_text(max_bytes)}; not read"
            )
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:  # it grew while we read it
            raise UnsafeFileError(
                f"{path}: {what} file is larger than {_size_text(max_bytes)}; not read"
            )
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_regular_text(
    path: Path | str,
    *,
    what: str,
    max_bytes: int = CONFIG_MAX_BYTES,
    check: Callable[[os.stat_result], None] | None = None,
) -> str:
    """`read_regular_bytes` decoded as UTF-8; bytes that are not UTF-8 are an UnsafeFileError."""
    data = read_regular_bytes(path, what=what, max_bytes=max_bytes, check=check)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsafeFileError(
            f"{path}: not UTF-8 text (byte {exc.start}); expected a {what} file"
        ) from None


def parse_mode(text: str) -> int:
    """An octal file mode from the user (`0640`, `644`); ValueError with the expected form."""
    try:
        mode = int(text, 8)
    except ValueError:
        raise ValueError(f"{text!r}: expected an octal file mode such as 0600 or 0640") from None
    if not 0 <= mode <= 0o777:
        raise ValueError(f"{text!r}: expected an octal file mode from 0000 to 0777")
    return mode


def _open_new(path: Path, mode: int) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, mode & 0o600 or PRIVATE_MODE)
    os.fchmod(fd, mode)  # exactly the mode asked for, whatever the umask
    return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fsync(fd)


def _check_replaceable(path: Path) -> bool:
    """True when `path` exists and may be replaced; raises UnsafeFileError when it may not."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeFileError(f"{path}: is a symlink; not followed, nothing written")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFileError(f"{path}: is {describe_type(info.st_mode)}; nothing written")
    if info.st_uid != os.geteuid():
        raise UnsafeFileError(
            f"{path}: belongs to uid {info.st_uid}, not you; not replaced, nothing written"
        )
    return True


def write_private(
    path: Path | str, data: str | bytes, *, mode: int = PRIVATE_MODE, replace: bool = False
) -> Path:
    """Write `data` to a new file at `path` with exactly `mode` (0600 by default).

    `replace=True` (the user named this file, or it is the cockpit's own regenerated file):
    an existing regular file the user owns is replaced atomically; a symlink, a special file or
    someone else's file is refused. `replace=False`: an existing file is never touched.
    Raises UnsafeFileError (one line) or OSError.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    exists = _check_replaceable(path) if replace else False
    if not exists:
        try:
            fd = _open_new(path, mode)
        except FileExistsError:
            if path.is_symlink():
                raise UnsafeFileError(
                    f"{path}: is a symlink; not followed, nothing written"
                ) from None
            raise UnsafeFileError(f"{path}: already exists; not overwritten") from None
        try:
            _write_all(fd, payload)
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        os.close(fd)
        return path
    temporary = path.with_name(f".{path.name}.cockpit-{os.getpid()}.tmp")
    fd = _open_new(temporary, mode)
    try:
        _write_all(fd, payload)
        os.close(fd)
        fd = -1
        _check_replaceable(path)  # still ours and still not a symlink
        os.replace(temporary, path)  # renames over the entry itself: never follows a link
    except BaseException:
        if fd >= 0:
            os.close(fd)
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_private_new(
    directory: Path | str, stem: str, suffix: str, data: str | bytes, *, mode: int = PRIVATE_MODE
) -> Path:
    """Write `data` to the first free name `stem.suffix`, `stem-2.suffix`, ... in `directory`
    (never replacing anything) and return the path written."""
    folder = Path(directory)
    for number in range(1, 1000):
        name = f"{stem}{suffix}" if number == 1 else f"{stem}-{number}{suffix}"
        try:
            return write_private(folder / name, data, mode=mode)
        except UnsafeFileError:
            if os.path.lexists(folder / name):
                continue
            raise
    raise UnsafeFileError(f"{folder}: no free name for {stem}{suffix}; nothing written")


def make_private_dir(path: Path | str) -> Path:
    """Create `path` and every missing parent owner-only (0700, as the XDG spec asks; a plain
    `mkdir -p` gives parents the umask's mode, 0777 under umask 000, so anyone could swap
    the folder below); an existing folder is kept as it is."""
    path = Path(path)
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile elsewhere: kept as it is
            folder.mkdir(mode=0o700)
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    return path
