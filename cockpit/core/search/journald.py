"""The systemd journal as a log source, read with `journalctl --output=json` (read-only).

journalctl selects by time (`--since`/`--until` as `@epoch`) and unit (`--unit`); the
pattern is matched here with RE2 (linear time), not with `--grep`, whose PCRE2 support is a
build option. Output is streamed: the deadline and the cancel event are checked while
journalctl runs, and it is killed when either fires.

In the JSON output, a field that is not valid UTF-8 or holds control characters (an ESC
sequence, say) arrives as an array of byte values; it is decoded with invalid bytes replaced.
A field present several times arrives as an array of values.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.core.config import JournaldSource
from cockpit.core.readers import ReaderRefused, start_reader
from cockpit.core.sanitize import decode_lossy
from cockpit.core.search._remote import EPOCH, Deadline, line_matcher, one_line, to_utc
from cockpit.core.search.model import Hit, HitSink, Query, SourceError

OUTPUT_FIELDS = ("MESSAGE", "_SYSTEMD_UNIT", "SYSLOG_IDENTIFIER")
"""Fields asked for; journalctl adds __REALTIME_TIMESTAMP and the cursor fields itself."""

MAX_STDERR_WARNINGS = 5
_READ_SIZE = 1 << 20
_POLL_SECONDS = 0.1


def decode_field(value: Any) -> str | None:
    """A journal JSON field as text: byte arrays decoded, repeated fields joined by newlines."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if all(isinstance(item, int) for item in value):
            try:
                return decode_lossy(bytes(value))
            except ValueError:  # a number outside 0..255: not bytes after all
                return " ".join(str(item) for item in value)
        parts = [decode_field(item) for item in value]
        return "\n".join(part for part in parts if part is not None)
    return str(value)


def _epoch_arg(moment: datetime) -> str:
    """journalctl's `@SECONDS.MICROS` form, exact and free of time zone questions."""
    micros = (to_utc(moment) - EPOCH) // timedelta(microseconds=1)
    return f"@{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _unit_service(unit: str | None) -> str | None:
    if not unit:
        return None
    return unit.removesuffix(".service")


class JournaldLogSource:
    """Searches the system journal, or a journal directory, for the configured units."""

    def __init__(self, cfg: JournaldSource, *, base_dir: Path) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.service = cfg.service
        directory = cfg.directory.expanduser() if cfg.directory is not None else None
        self.directory = (
            directory if directory is None or directory.is_absolute() else base_dir / directory
        )

    def argv(self, query: Query) -> list[str]:
        """The journalctl command line for `query` (read-only options only)."""
        argv = [
            "journalctl",
            "--output=json",
            "--no-pager",
            "--all",
            f"--output-fields={','.join(OUTPUT_FIELDS)}",
        ]
        if self.directory is not None:
            argv.append(f"--directory={self.directory}")
        argv += [f"--unit={unit}" for unit in self.cfg.units]
        if query.since is not None:
            argv.append(f"--since={_epoch_arg(query.since)}")
        if query.until is not None:
            # --until is inclusive; the exclusive bound is applied to each entry below.
            argv.append(f"--until={_epoch_arg(query.until)}")
        return argv

    def search(self, query: Query, sink: HitSink, cancel: threading.Event) -> None:
        """Report every journal entry whose MESSAGE matches; raise SourceError on failure."""
        matches = line_matcher(self.name, query)
        if self.directory is not None and not self.directory.is_dir():
            raise SourceError(f"{self.name}: journal directory {self.directory} does not exist")
        until = to_utc(query.until) if query.until is not None else None
        prefilter = _raw_prefilter(query)
        # With no service configured, each entry's service comes from its unit; filter on it.
        wanted_services = query.services if self.service is None else None
        deadline = Deadline(self.cfg.timeout)
        try:
            process = start_reader(self.argv(query))
        except ReaderRefused as exc:
            raise SourceError(f"{self.name}: {exc}") from None
        except OSError as exc:
            raise SourceError(
                f"{self.name}: cannot start journalctl: {one_line(str(exc))}"
            ) from None
        stderr = bytearray()
        unreadable = 0
        try:
            for raw in _stream_lines(process, stderr, deadline, cancel, self.name):
                if prefilter is not None and not prefilter(raw):
                    continue
                try:
                    entry = json.loads(raw)
                except ValueError:
                    unreadable += 1
                    continue
                hit = self._hit(entry, until)
                if hit is None or not matches(hit.text):
                    continue
                if wanted_services is None or hit.service in wanted_services:
                    sink.hit(hit)
            if cancel.is_set():
                return
            try:
                code = process.wait(timeout=max(deadline.remaining(), 0.1))
            except subprocess.TimeoutExpired:
                raise SourceError(f"{self.name}: timed out after {deadline.seconds:g} s") from None
        finally:
            _stop(process)
        messages = [
            one_line(line) for line in decode_lossy(bytes(stderr)).splitlines() if line.strip()
        ]
        if code != 0:
            detail = messages[-1] if messages else f"exit status {code}"
            raise SourceError(f"{self.name}: journalctl failed: {detail}")
        for message in messages[:MAX_STDERR_WARNINGS]:
            sink.warn(f"{self.name}: journalctl: {message}")
        if unreadable:
            sink.warn(f"{self.name}: skipped {unreadable} entries that were not valid JSON")

    def _hit(self, entry: Any, until: datetime | None) -> Hit | None:
        if not isinstance(entry, dict):
            return None
        text = decode_field(entry.get("MESSAGE"))
        if text is None:
            return None
        ts: datetime | None = None
        with contextlib.suppress(KeyError, TypeError, ValueError):
            ts = EPOCH + timedelta(microseconds=int(entry["__REALTIME_TIMESTAMP"]))
        if until is not None and ts is not None and ts >= until:
            return None
        service = self.service or _unit_service(decode_field(entry.get("_SYSTEMD_UNIT")))
        if service is None:
            service = decode_field(entry.get("SYSLOG_IDENTIFIER"))
        return Hit(source=self.name, service=service, text=text, ts=ts)


def _raw_prefilter(query: Query) -> Any:
    """A cheap test on the raw JSON line that every entry whose MESSAGE matches passes.

    Only for a plain ASCII literal, which journalctl writes unescaped; entries whose MESSAGE
    is a byte array always pass, since their text is not in the line as such, and so do
    non-ASCII lines when case is ignored (RE2 folds `k` to the Kelvin sign, for one).
    """
    pattern = query.pattern
    if query.regex or not pattern or not pattern.isascii():
        return None
    if not pattern.isprintable() or '"' in pattern or "\\" in pattern:
        return None
    needle = pattern.encode()
    byte_array = b'"MESSAGE":['
    if query.ignore_case:
        needle = needle.lower()
        return lambda raw: needle in raw.lower() or byte_array in raw or not raw.isascii()
    return lambda raw: needle in raw or byte_array in raw


def _stream_lines(
    process: subprocess.Popen[bytes],
    stderr: bytearray,
    deadline: Deadline,
    cancel: threading.Event,
    source: str,
) -> Any:
    """Yield stdout lines as they arrive, collecting stderr; stop on cancel, raise on deadline."""
    assert process.stdout is not None and process.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, "out")
    selector.register(process.stderr, selectors.EVENT_READ, "err")
    pending = b""
    open_streams = 2
    try:
        while open_streams:
            if cancel.is_set():
                return
            if deadline.expired():
                raise SourceError(f"{source}: timed out after {deadline.seconds:g} s")
            for key, _events in selector.select(timeout=min(_POLL_SECONDS, deadline.remaining())):
                chunk = os.read(key.fd, _READ_SIZE)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                elif key.data == "err":
                    if len(stderr) < 64 * 1024:
                        stderr.extend(chunk)
                else:
                    lines = (pending + chunk).split(b"\n")
                    pending = lines.pop()
                    for line in lines:
                        if cancel.is_set():
                            return
                        if line:
                            yield line
        if pending:
            yield pending
    finally:
        selector.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill journalctl if it still runs, reap it and close its pipes."""
    if process.poll() is None:
        process.kill()
    process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
