"""Reading damaged .gz files: every byte before the damage, and where the damage was."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def _read_block(handle: IO[bytes], block_size: int) -> tuple[bytes, BaseException | None]:
    """About `block_size` bytes, read in pieces so damage late in a .gz loses little."""
    pieces: list[bytes] = []
    size = 0
    try:
        while size < block_size:
            piece = handle.read1(min(1 << 20, block_size - size))  # type: ignore[attr-defined]
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
    except Exception as exc:  # EOFError, OSError, isal's own error type for bad data
        return b"".join(pieces), exc
    return b"".join(pieces), None


class _GzipSalvage:
    """Decompresses a damaged .gz again with zlib, keeping every byte before the damage.

    Iterating yields the decompressed bytes after the first `skip` (which the fast reader
    already gave), member after member, until the damage; then `problem` says what it was and
    `inside_member` whether the data stops inside a member (its last line is cut). Input goes
    in pieces; the piece where zlib fails is fed again byte by byte from a copy of the
    decompressor, since zlib drops the output of a call that fails.
    """

    PIECE = 64 << 10
    OUT = 1 << 20

    def __init__(
        self, path: Path, *, skip: int, fallback: BaseException, cancel: threading.Event
    ) -> None:
        self.path = path
        self.cancel = cancel
        self.skip = skip
        self.problem = f"corrupt gzip data ({fallback})"
        self.inside_member = True
        self._out: list[bytes] = []
        self._out_size = 0
        self._members = 0

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            decompressor: Any = None  # None between members
            data = b""
            while not self.cancel.is_set():  # re-reading what was searched yields nothing
                if decompressor is None:
                    data = data.lstrip(b"\0")  # zero padding between members, as gzip allows
                    if len(data) < 2:
                        more = handle.read(self.PIECE)
                        if more:
                            data += more
                            continue
                    if not data:  # the fast reader failed where zlib sees no damage: say its error
                        self.inside_member = False
                        break
                    if not data.startswith(b"\x1f\x8b"):
                        where = "after gzip data" if self._members else "instead of gzip data"
                        self._damage(f"not gzip: garbage {where}", inside=False)
                        break
                    decompressor = zlib.decompressobj(wbits=31)
                    self._members += 1
                if not data:
                    data = handle.read(self.PIECE)
                    if not data:
                        self._damage("truncated gzip data (the file ends inside a member)")
                        break
                backup = decompressor.copy()
                try:
                    data = self._feed(decompressor, data)
                except zlib.error:
                    decompressor = backup
                    try:
                        for index in range(len(data)):
                            self._feed(decompressor, data[index : index + 1])
                            if decompressor.eof:
                                data = data[index + 1 :]
                                break
                        else:
                            data = b""
                    except zlib.error as exc:
                        self._damage(f"corrupt gzip data ({exc})")
                        break
                if decompressor.eof:
                    data = decompressor.unused_data + data
                    decompressor = None
                if self._out_size >= self.OUT:
                    yield from self._flush()
        yield from self._flush()

    def _feed(self, decompressor: Any, data: bytes) -> bytes:
        """Feeds `data` in full unless the member ends first; returns what follows that end."""
        while data and not decompressor.eof:
            output = decompressor.decompress(data, self.OUT)
            data = decompressor.unconsumed_tail
            if output:
                self._keep(output)
        return data if decompressor.eof else b""

    def _keep(self, output: bytes) -> None:
        if self.skip:
            dropped = min(self.skip, len(output))
            self.skip -= dropped
            output = output[dropped:]
        if output:
            self._out.append(output)
            self._out_size += len(output)

    def _flush(self) -> Iterator[bytes]:
        if self._out:
            out = b"".join(self._out)
            self._out, self._out_size = [], 0
            yield out

    def _damage(self, problem: str, *, inside: bool = True) -> None:
        self.problem = problem
        self.inside_member = inside
