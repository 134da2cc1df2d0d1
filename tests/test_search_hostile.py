"""Hostile inputs: binary files, damaged .gz, FIFOs, devices, unreadable files, bad regexes."""

from __future__ import annotations

import gzip
import os
import random
import threading
import time
import zlib
from pathlib import Path

import pytest

from cockpit.core.search.engine import adhoc_sources, run_search
from cockpit.core.search.files import FileLogSource
from cockpit.core.search.matcher import LineMatcher, PatternError, validate
from cockpit.core.search.model import Query, SourceState

LINES = "".join(f"2026-11-28T13:{m:02d}:00Z level=error n={m}\n" for m in range(60)).encode()
ENGINES = ["auto", "inprocess"]


def search(paths: list[Path], query: Query, engine: str = "auto"):
    source = FileLogSource("src", [str(p) for p in paths], engine=engine)  # type: ignore[arg-type]
    return run_search([source], query, max_hits=1000)


@pytest.mark.parametrize("engine", ENGINES)
def test_binary_file_is_skipped_with_a_note(tmp_path: Path, engine: str) -> None:
    (tmp_path / "blob.log").write_bytes(b"level=error \x00\x01\x02" * 100)
    (tmp_path / "blob.log.gz").write_bytes(gzip.compress(b"level=error \x00\x01" * 100))
    (tmp_path / "ok.log").write_bytes(LINES)
    result = search(sorted(tmp_path.iterdir()), Query("level=error"), engine)
    status = result.statuses["src"]
    assert status.state == SourceState.DONE
    assert status.count == 60
    assert sum("binary file skipped" in w for w in status.warnings) == 2
    assert any("blob.log.gz" in w for w in status.warnings)


def varied_lines(count: int, seed: int) -> bytes:
    """Log lines that compress like real ones (random ids), about 40% of them errors."""
    rng = random.Random(seed)
    return "".join(
        f"2026-11-28T13:{(i // 400) % 60:02d}:00Z "
        f"level={'error' if rng.random() < 0.4 else 'info'} req={rng.getrandbits(48):012x} n={i}\n"
        for i in range(count)
    ).encode()


def readable_lines(data: bytes) -> list[bytes]:
    """The complete lines zlib gives before the damage: member after member, fed byte by byte
    (zlib drops the output of a call that fails), stopping at the first error, at trailing
    garbage or at the end of the file."""
    output = bytearray()
    rest = data
    while rest.startswith(b"\x1f\x8b"):
        decompressor = zlib.decompressobj(wbits=31)
        for index in range(len(rest)):
            try:
                output += decompressor.decompress(rest[index : index + 1])
            except zlib.error:
                return bytes(output).split(b"\n")[:-1]
            if decompressor.eof:
                rest = decompressor.unused_data + rest[index + 1 :]
                break
        else:
            break  # truncated inside this member
    return bytes(output).split(b"\n")[:-1]


def expected_count(data: bytes, needle: bytes) -> int:
    return sum(needle in line for line in readable_lines(data))


def test_truncated_gz_gives_every_line_before_the_cut(tmp_path: Path) -> None:
    data = gzip.compress(varied_lines(20000, seed=7))
    path = tmp_path / "cut.log.gz"
    path.write_bytes(data[: len(data) // 2])
    expected = expected_count(path.read_bytes(), b"level=error")
    # The cut lies past the first two blocks the reader takes (256 KiB, then 2 MiB of output
    # pieces), where the lines of the failing read used to be lost.
    assert 3000 < expected < 8000
    result = search([path], Query("level=error"))
    status = result.statuses["src"]
    assert status.state == SourceState.DONE
    assert status.count == expected
    assert [w for w in status.warnings if "cut.log.gz" in w and "truncated" in w]


def test_corrupt_gz_gives_every_line_before_the_damage(tmp_path: Path) -> None:
    before, after = varied_lines(20000, seed=1), varied_lines(5000, seed=2)
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    data = bytearray(compressor.compress(before) + compressor.flush(zlib.Z_FULL_FLUSH))
    damage_at = len(data)
    data += compressor.compress(after) + compressor.flush()
    data[damage_at] = 0b111  # the next deflate block's header: final, invalid block type 3
    path = tmp_path / "bad.log.gz"
    path.write_bytes(bytes(data))
    expected = expected_count(bytes(data), b"level=error")
    assert expected == before.count(b"level=error")  # the reference stops at the damage
    result = search([path], Query("level=error"))
    status = result.statuses["src"]
    assert status.state == SourceState.DONE
    assert status.count == expected
    assert [w for w in status.warnings if "bad.log.gz" in w and "corrupt" in w]


@pytest.mark.parametrize("tail", ["junk", "truncated member"])
def test_multi_member_gz_with_damage_after_valid_members(tmp_path: Path, tail: str) -> None:
    members = gzip.compress(varied_lines(20000, seed=3)) + gzip.compress(varied_lines(9, seed=4))
    third = gzip.compress(varied_lines(20000, seed=5))
    damage = b"junk after the members\x00\x01" if tail == "junk" else third[: len(third) // 3]
    path = tmp_path / "multi.log.gz"
    path.write_bytes(members + damage)
    expected = expected_count(path.read_bytes(), b"level=error")
    assert expected > expected_count(members, b"level=error") or tail == "junk"
    result = search([path], Query("level=error"))
    status = result.statuses["src"]
    assert status.state == SourceState.DONE
    assert status.count == expected
    assert len([w for w in status.warnings if "multi.log.gz" in w]) == 1


def test_gz_that_is_not_gzip_gives_a_named_warning(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.log.gz"
    garbage.write_bytes(b"this is not gzip at all\n")
    (tmp_path / "ok.log").write_bytes(LINES)
    result = search([garbage, tmp_path / "ok.log"], Query("level=error"))
    status = result.statuses["src"]
    assert status.state == SourceState.DONE
    assert status.count == 60
    assert any("garbage.log.gz" in w for w in status.warnings)


@pytest.mark.parametrize("engine", ENGINES)
def test_fifo_matched_by_a_glob_is_an_error_and_never_blocks(tmp_path: Path, engine: str) -> None:
    os.mkfifo(tmp_path / "pipe.log")
    (tmp_path / "ok.log").write_bytes(LINES)
    source = FileLogSource("src", [str(tmp_path / "*.log")], engine=engine)  # type: ignore[arg-type]
    other = adhoc_sources([str(tmp_path / "ok.log")])
    started = time.monotonic()
    result = run_search([source, *other], Query("level=error"))
    assert time.monotonic() - started < 10
    status = result.statuses["src"]
    assert status.state == SourceState.ERROR
    assert "pipe.log" in (status.error or "") and "FIFO" in (status.error or "")
    assert status.count == 60  # the regular file in the same glob was still searched
    assert result.statuses[str(tmp_path / "ok.log")].state == SourceState.DONE


def test_dev_zero_is_an_error_for_that_source_only(tmp_path: Path) -> None:
    (tmp_path / "ok.log").write_bytes(LINES)
    result = run_search(adhoc_sources(["/dev/zero", str(tmp_path / "ok.log")]), Query("error"))
    assert result.statuses["/dev/zero"].state == SourceState.ERROR
    assert "character device" in (result.statuses["/dev/zero"].error or "")
    assert result.statuses[str(tmp_path / "ok.log")].count == 60


def test_unreadable_file_is_an_error_for_that_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The suite runs as root, which reads chmod-000 files: simulate the refusal at open()
    # (files are opened with os.open, the descriptor checked and, to count, handed to rg).
    secret = tmp_path / "secret.log"
    secret.write_bytes(LINES)
    (tmp_path / "ok.log").write_bytes(LINES)
    real_open = os.open

    def guarded_open(file, *args, **kwargs):
        if str(file) == str(secret):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    for count_only in (False, True):
        sources = adhoc_sources([str(secret), str(tmp_path / "ok.log")])
        result = run_search(sources, Query("error"), count_only=count_only)
        status = result.statuses[str(secret)]
        assert status.state == SourceState.ERROR
        assert "secret.log" in (status.error or "") and "Permission denied" in (status.error or "")
        assert result.statuses[str(tmp_path / "ok.log")].count == 60


def test_missing_path_and_directory(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.log").write_bytes(LINES)
    (tmp_path / "sub" / "b.log.gz").write_bytes(gzip.compress(LINES))
    result = run_search(
        adhoc_sources([str(tmp_path / "sub"), str(tmp_path / "nope.log")]), Query("error")
    )
    assert result.statuses[str(tmp_path / "sub")].count == 120
    assert "no such file" in (result.statuses[str(tmp_path / "nope.log")].error or "")


@pytest.mark.parametrize("engine", [*ENGINES, "rg"])
def test_pathological_regex_returns_at_once(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"a" * 100_000 + b"!\n" + b"a" * 100_000 + b"\n")
    started = time.monotonic()
    result = search([path], Query(r"(a+)+$", regex=True), engine)
    assert time.monotonic() - started < 10  # backtracking would take forever, not seconds
    assert result.statuses["src"].count == 1  # only the second line ends in `a`s


def test_long_lines_are_capped(tmp_path: Path) -> None:
    path = tmp_path / "long.log"
    path.write_bytes(b"2026-11-28T13:00:00Z error " + b"x" * 100_000 + b"\n")
    for engine in ("rg", "inprocess"):
        (hit,) = search([path], Query("error"), engine).hits
        assert len(hit.text) < 9000 and hit.text.endswith("omitted end of long line]")


def test_a_file_without_newlines_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cockpit.core.search import files

    monkeypatch.setattr(files, "MAX_LINE_BYTES", 1 << 20)
    path = tmp_path / "one.log.gz"
    path.write_bytes(gzip.compress(b"y" * (5 << 20)))
    result = search([path], Query("yyy"))
    assert result.statuses["src"].state == SourceState.DONE
    assert all(len(h.text) < 9000 for h in result.hits)


@pytest.mark.parametrize("pattern", ["a(", "[z-a]", "(?P<x", "x{2,1}", "*a"])
def test_invalid_regex_is_one_line_error(pattern: str) -> None:
    with pytest.raises(PatternError) as info:
        validate(Query(pattern, regex=True))
    message = str(info.value)
    assert "\n" not in message and message.startswith("invalid regex")
    with pytest.raises(PatternError):
        run_search(adhoc_sources(["/dev/null"]), Query(pattern, regex=True))
    validate(Query(pattern, regex=False))  # the same text as a literal is fine


def test_literal_patterns_escape_regex_syntax(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"cost $5.00 (a+b)*[c]\nother 5x00\n")
    for engine in ("rg", "inprocess"):
        assert search([path], Query("$5.00 (a+b)*[c]"), engine).statuses["src"].count == 1
        assert search([path], Query("5.00", regex=True), engine).statuses["src"].count == 2


def test_case_insensitive_and_empty_matching_patterns(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"ERROR one\nerror two\nfine\n\n")
    for engine in ("rg", "inprocess"):
        assert search([path], Query("error"), engine).statuses["src"].count == 1
        assert search([path], Query("error", ignore_case=True), engine).statuses["src"].count == 2
        assert search([path], Query("x*", regex=True), engine).statuses["src"].count == 4


def test_matches_never_span_lines() -> None:
    matcher = LineMatcher(Query(r"one\s+two", regex=True))
    block = b"one\ntwo\none  two\n"
    assert matcher.spans(block) == [(8, 16)]


def test_cancel_stops_a_search(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_bytes(LINES * 20000)
    cancel = threading.Event()
    cancel.set()
    result = run_search(adhoc_sources([str(path)]), Query("error"), cancel=cancel)
    assert result.cancelled
