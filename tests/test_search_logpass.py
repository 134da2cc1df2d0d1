"""The log pass: one read of the local files answers what `minute_counts` and a search answer,
exactly, and rollback and triage read each file once through it."""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.core.config import Config, FileSource
from cockpit.core.search.corpus import build_corpus
from cockpit.core.search.engine import HitsFound, make_sources, minute_counts, run_search
from cockpit.core.search.files import FileLogSource
from cockpit.core.search.logpass import LogPass
from cockpit.core.search.model import Hit, Query
from cockpit.core.search.paths import find_rg

NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
pytestmark = pytest.mark.skipif(find_rg() is None, reason="ripgrep not installed")

REQUESTS = r'(?:\bstatus=|"status":)\d{3}\b|" \d{3} \d+ "'
ERRORS = r'(?:\bstatus=|"status":)5\d\d\b|" 5\d\d \d+ "'
PATTERNS = [REQUESTS, ERRORS, "Traceback", r"^\s+raise", r"(?i:\berror|timeout)"]
WINDOWS = [
    (NOW - timedelta(hours=6), NOW),
    (NOW - timedelta(hours=2), NOW - timedelta(hours=1)),
    (NOW - timedelta(hours=3, seconds=17), NOW - timedelta(minutes=41, seconds=30)),
    (NOW - timedelta(minutes=7), NOW + timedelta(minutes=1)),
]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The engine's test corpus (plain and .gz rotations, JSON, nginx, syslog, stack traces)
    plus hostile files: a BOM, a damaged .gz, a binary file, a glob that matches nothing."""
    logs = tmp_path_factory.mktemp("logpass")
    build_corpus(logs, now=NOW)
    bom = "\ufeff2026-11-28T13:59:00Z level=error status=503 first line after a BOM\n"
    (logs / "bom.log").write_text(bom + "2026-11-28T13:59:30Z status=200 ok\n")
    whole = gzip.compress(
        b"".join(
            f"2026-11-28T13:{m:02d}:00Z status={500 if m % 7 == 0 else 200} n={m}\n".encode()
            for m in range(60)
        )
        * 40
    )
    (logs / "damaged.log.gz").write_bytes(whole[: len(whole) // 2])
    (logs / "binary.log").write_bytes(b"\x00\x01\x02" * 4000)
    return Config(
        sources=[
            FileSource(name="checkout-logs", service="checkout", paths=[f"{logs}/checkout.log*"]),
            FileSource(name="payments-logs", service="payments", paths=[f"{logs}/payments.log*"]),
            FileSource(name="events", service="payments", paths=[f"{logs}/events.jsonl*"]),
            FileSource(name="edge", paths=[f"{logs}/access.log", f"{logs}/syslog"]),
            FileSource(name="odd", service="odd", paths=[f"{logs}/bom.log", f"{logs}/binary.log"]),
            FileSource(name="broken", service="broken", paths=[f"{logs}/damaged.log.gz"]),
            FileSource(name="later", service="later", paths=[f"{logs}/not-there-yet-*.log"]),
        ]
    )


def a_pass(config: Config, since: datetime, until: datetime) -> LogPass:
    made = LogPass.for_config(config, since=since, until=until)
    assert made is not None
    return made


def searched(config: Config, pattern: str, since: datetime, until: datetime, services=None):
    hits: list[Hit] = []

    def on_event(event: object) -> None:
        if isinstance(event, HitsFound):
            hits.extend(event.hits)

    query = Query(pattern, regex=True, since=since, until=until, services=services)
    result = run_search(make_sources(config), query, on_event, max_hits=0, lossless=True)
    return hits, result.errors


def keys(hits: list[Hit]) -> list[tuple]:
    return sorted((h.source, h.service, h.file, h.line_no, h.text, h.ts) for h in hits)


def test_counts_and_problems_equal_minute_counts_for_every_window(config: Config) -> None:
    logs = a_pass(config, NOW - timedelta(hours=6), NOW + timedelta(minutes=1))
    for since, until in WINDOWS:
        for pattern in PATTERNS:
            for services in (None, ["payments"], ["checkout", "broken", "later"]):
                expected_problems: list[str] = []
                query = Query(pattern, regex=True, since=since, until=until)
                expected = minute_counts(
                    config, query, services=services, problems=expected_problems
                )
                problems: list[str] = []
                found = logs.minute_counts(
                    pattern, since=since, until=until, services=services, problems=problems
                )
                assert found == expected, (pattern, since, services)
                assert sorted(problems) == sorted(expected_problems), (pattern, since, services)
    counted = logs.minute_counts(REQUESTS, since=WINDOWS[0][0], until=WINDOWS[0][1])
    assert sum(counted["checkout"].values()) > 1000 and sum(counted["odd"].values()) == 2


def test_lines_equal_a_lossless_search(config: Config) -> None:
    logs = a_pass(config, NOW - timedelta(hours=6), NOW + timedelta(minutes=1))
    for since, until in WINDOWS:
        for pattern in (ERRORS, "Traceback", r"^\s+raise"):
            errors: list[str] = []
            found = logs.lines([pattern], since=since, until=until, errors=errors)
            hits, expected_errors = searched(config, pattern, since, until)
            assert keys(found) == keys(hits), (pattern, since)
            assert sorted(errors) == sorted(expected_errors)
    # Several patterns: the lines matching their alternation, each line once.
    since, until = WINDOWS[1]
    parts = [ERRORS, r"(?i:\berror|timeout)", "Traceback"]
    found = logs.lines(parts, since=since, until=until, services=["checkout"])
    hits, _errors = searched(
        config, "|".join(f"(?:{p})" for p in parts), since, until, frozenset({"checkout"})
    )
    assert keys(found) == keys(hits) and len(found) > 10


def test_each_file_is_read_once_whatever_is_asked(config: Config, monkeypatch) -> None:
    read: Counter[str] = Counter()
    original = FileLogSource._blocks

    def counting(self, path, cancel, sink):
        read[str(path)] += 1
        return original(self, path, cancel, sink)

    monkeypatch.setattr(FileLogSource, "_blocks", counting)
    logs = a_pass(config, NOW - timedelta(hours=6), NOW + timedelta(minutes=1))
    for since, until in WINDOWS:
        logs.minute_counts_many([REQUESTS, ERRORS], since=since, until=until)
        logs.lines([ERRORS, "Traceback"], since=since, until=until)
    assert read and max(read.values()) == 1, read


def test_a_window_outside_the_pass_is_not_answered_from_it(config: Config) -> None:
    logs = a_pass(config, NOW - timedelta(hours=1), NOW)
    assert logs.covers(NOW - timedelta(minutes=30), NOW)
    assert not logs.covers(NOW - timedelta(hours=2), NOW)
    assert not logs.covers(NOW - timedelta(minutes=30), NOW + timedelta(minutes=1))
    assert not logs.covers(None, None)


def test_no_pass_where_a_source_is_not_local_text_files(config: Config) -> None:
    from cockpit.core.config import JournaldSource

    mixed = config.model_copy(
        update={
            "sources": [
                *config.sources,
                JournaldSource(kind="journald", name="journal", service="x"),
            ]
        }
    )
    assert LogPass.for_config(mixed, since=NOW - timedelta(hours=1), until=NOW) is None
    assert LogPass.for_config(Config(), since=NOW - timedelta(hours=1), until=NOW) is None


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Config:
    from cockpit.core.config import load_config_file
    from cockpit.core.demo.sandbox import build_sandbox

    info = build_sandbox(tmp_path_factory.mktemp("demo") / "demo", seed=5, now=NOW, log_mb=4)
    return load_config_file(info.config_path)


def test_triage_and_rollback_give_the_same_report_with_and_without_the_pass(
    demo: Config, monkeypatch
) -> None:
    """The whole triage (health, ranking, evidence, signatures) through the pass equals the
    one that asks the engine every question, and reads each log file once."""
    from cockpit.core.ai import triage

    read: Counter[str] = Counter()
    original = FileLogSource._blocks

    def counting(self, path, cancel, sink):
        read[str(path)] += 1
        return original(self, path, cancel, sink)

    monkeypatch.setattr(FileLogSource, "_blocks", counting)
    with_pass = triage.gather(demo, now=NOW, window=timedelta(hours=1)).to_json()
    assert read and max(read.values()) == 1, read
    assert with_pass["rollback_targets"] and with_pass["error_patterns"]
    monkeypatch.setattr(LogPass, "for_config", classmethod(lambda cls, *a, **k: None))
    read.clear()
    without = triage.gather(demo, now=NOW, window=timedelta(hours=1)).to_json()
    assert max(read.values()) > 1  # the engine reads files once per question
    assert json.dumps(with_pass, default=str) == json.dumps(without, default=str)


def test_a_fifo_among_the_logs_is_an_error_not_a_hang(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("2026-11-28T13:59:00Z status=500 boom\n")
    os.mkfifo(tmp_path / "app.log.fifo")
    config = Config(sources=[FileSource(name="app", service="app", paths=[f"{tmp_path}/app.log*"])])
    logs = a_pass(config, NOW - timedelta(hours=1), NOW)
    problems: list[str] = []
    counts = logs.minute_counts(
        ERRORS, since=NOW - timedelta(hours=1), until=NOW, problems=problems
    )
    expected_problems: list[str] = []
    query = Query(ERRORS, regex=True, since=NOW - timedelta(hours=1), until=NOW)
    assert counts == minute_counts(config, query, problems=expected_problems) == {}
    assert problems == expected_problems and "not a log file" in problems[0]


def test_logs_that_could_outgrow_the_memory_budget_are_asked_the_usual_way(
    config: Config, monkeypatch
) -> None:
    from cockpit.core.search import logpass

    assert a_pass(config, NOW - timedelta(hours=1), NOW).covers(NOW - timedelta(minutes=5), NOW)
    monkeypatch.setattr(logpass, "MAX_KEPT_BYTES", 100_000)  # the corpus is about 2 MB
    assert not a_pass(config, NOW - timedelta(hours=1), NOW).covers(NOW - timedelta(minutes=5), NOW)


def test_first_and_last_timestamps_are_those_of_the_obvious_reading() -> None:
    """Found line by line without splitting the whole head: the same answers as splitting."""
    import random

    from cockpit.core.search.blocks import _first_timestamp, _last_timestamp
    from cockpit.core.search.timestamps import parse_timestamp_bytes

    def first(data: bytes) -> datetime | None:
        parsed = (parse_timestamp_bytes(line, NOW) for line in data.split(b"\n")[:-1] or [data])
        return next((ts for ts in parsed if ts is not None), None)

    def last(data: bytes) -> datetime | None:
        parsed = (parse_timestamp_bytes(line, NOW) for line in reversed(data.split(b"\n")[1:]))
        return next((ts for ts in parsed if ts is not None), None)

    parts = [b"", b"x", b"  at frame", b"2026-11-28T10:00:00Z a", b"Nov 28 10:00:01 host b"]
    rng = random.Random(4)
    for _ in range(5000):
        data = b"".join(
            rng.choice(parts) + rng.choice([b"", b"\n", b"\n\n"]) for _ in range(rng.randint(0, 6))
        )
        assert _first_timestamp(data, NOW) == first(data), data
        assert _last_timestamp(data, NOW) == last(data), data


def test_rollback_reads_each_file_once_and_ranks_as_before(demo: Config, monkeypatch) -> None:
    from cockpit.core.deploys import analyse_rollback

    read: Counter[str] = Counter()
    original = FileLogSource._blocks

    def counting(self, path, cancel, sink):
        read[str(path)] += 1
        return original(self, path, cancel, sink)

    monkeypatch.setattr(FileLogSource, "_blocks", counting)
    _listing, with_pass = analyse_rollback(demo, now=NOW)
    assert read and max(read.values()) == 1, read
    assert with_pass.analyses and with_pass.analyses[0].candidates
    monkeypatch.setattr(LogPass, "for_config", classmethod(lambda cls, *a, **k: None))
    _listing, without = analyse_rollback(demo, now=NOW)
    assert json.dumps(with_pass.to_json(), default=str) == json.dumps(
        without.to_json(), default=str
    )


def test_lines_without_timestamps_are_walked_back_once_per_block(monkeypatch) -> None:
    """A block of lines without timestamps (a CSV beside the logs, a long stack trace) takes
    its timestamp from the line before them: every counted line is walked back to it once at
    most, not once per question (which made 5 MB of loghub CSVs take 7 s to count)."""
    from cockpit.core.search import blocks
    from cockpit.core.search.blocks import _count_run, _Window

    rows = 20_000
    data = (
        b"2026-11-28T13:59:00Z status=500 header\n"
        + b"".join(f"{n},status=500,row\n".encode() for n in range(rows))
        + b"2026-11-28T14:00:00Z status=500 the next minute\n"
    )
    starts = [0] + [i + 1 for i, byte in enumerate(data[:-1]) if byte == 0x0A]
    parsed = 0
    parse = blocks.parse_timestamp_bytes

    def counting(line: bytes, reference: datetime | None = None) -> datetime | None:
        nonlocal parsed
        parsed += 1
        return parse(line, reference)

    monkeypatch.setattr(blocks, "parse_timestamp_bytes", counting)
    counts: Counter[datetime] = Counter()
    window = _Window(Query("x", since=NOW - timedelta(hours=1), until=NOW + timedelta(hours=1)))
    _count_run(data, starts, None, NOW, window, counts)
    assert counts == Counter({NOW - timedelta(minutes=1): rows + 1, NOW: 1})
    # Halving probes ~15 lines, each of which walked back to the header: ~15 x 10,000 parses.
    assert parsed <= 2 * (rows + 2), parsed


def test_a_gz_that_inflates_past_the_budget_is_let_go_and_asked_the_usual_way(
    tmp_path: Path, monkeypatch
) -> None:
    """A .gz is budgeted at 10x its size before it is read, but repetitive logs compress 250x:
    the budget holds while reading too. The pass that would keep more lets go of what it
    kept, answers as the engine does, and is not asked again."""
    from cockpit.core.search import logpass

    lines = b"".join(
        f"2026-11-28T13:{m:02d}:{s:02d}Z status={503 if s == 7 else 200} path=/health ok\n".encode()
        * 20
        for m in range(60)
        for s in range(60)
    )
    (tmp_path / "app.log.gz").write_bytes(gzip.compress(lines))
    (tmp_path / "other.log").write_bytes(lines)
    config = Config(
        sources=[
            FileSource(name="app", service="app", paths=[f"{tmp_path}/app.log.gz"]),
            FileSource(name="other", service="other", paths=[f"{tmp_path}/other.log"]),
        ]
    )
    estimate = len(lines) + 10 * (tmp_path / "app.log.gz").stat().st_size
    budget = 3 * len(lines) // 2  # above the estimate, below both files inflated
    assert estimate < budget < 2 * len(lines)
    monkeypatch.setattr(logpass, "MAX_KEPT_BYTES", budget)
    since, until = NOW - timedelta(hours=1), NOW
    logs = a_pass(config, since, until)
    assert logs.covers(since, until)  # the estimate (10x on disk) fits
    problems: list[str] = []
    counts = logs.minute_counts_many(
        [REQUESTS, ERRORS], since=since, until=until, problems=problems
    )
    expected = [
        minute_counts(config, Query(p, regex=True, since=since, until=until))
        for p in (REQUESTS, ERRORS)
    ]
    assert counts == expected and sum(counts[1]["app"].values()) == 60 * 20
    assert problems == []
    assert not logs.covers(since, until)  # let go: callers ask the engine from now on
    assert sum(len(b) for f in logs._files.values() for b in f.blocks) == 0
    errors: list[str] = []
    found = logs.lines([ERRORS], since=since, until=until, errors=errors)
    hits, expected_errors = searched(config, ERRORS, since, until)
    assert keys(found) == keys(hits) and len(found) == 2 * 60 * 20 and errors == expected_errors


def test_a_file_rotated_or_truncated_between_questions_is_read_again(tmp_path: Path) -> None:
    """The pass keeps what it read by file, not by name: a log rotated (renamed, a new one
    started) or truncated between two questions of one command is read again, so its old
    lines are not counted twice (once under each name) or kept after they are gone."""

    def minute(m: int, status: int) -> bytes:
        return "".join(
            f"2026-11-28T13:{m:02d}:{s:02d}Z status={status} n={s}\n" for s in range(0, 60, 5)
        ).encode()

    log = tmp_path / "app.log"
    log.write_bytes(minute(40, 500) + minute(41, 200))
    config = Config(sources=[FileSource(name="app", service="app", paths=[f"{log}*"])])
    since, until = NOW - timedelta(hours=1), NOW
    logs = a_pass(config, since, until)

    def same_as_the_engine() -> int:
        found = logs.lines([ERRORS], since=since, until=until)
        hits, _errors = searched(config, ERRORS, since, until)
        assert keys(found) == keys(hits)
        counted = logs.minute_counts(ERRORS, since=since, until=until)
        assert counted == minute_counts(config, Query(ERRORS, regex=True, since=since, until=until))
        return len(found)

    assert same_as_the_engine() == 12
    log.rename(tmp_path / "app.log.1")  # rotated: a new app.log starts
    log.write_bytes(minute(50, 503))
    assert same_as_the_engine() == 24
    log.write_bytes(b"")  # copytruncate
    (tmp_path / "app.log.1").write_bytes(minute(55, 200))  # and the rotation rewritten
    assert same_as_the_engine() == 0


def test_ripgrep_dying_is_each_source_s_error_not_the_command_s(
    config: Config, monkeypatch
) -> None:
    """rg killed (the OOM killer) or failing under the pass is one line per source it was to
    read, as a search says it, and those sources count nothing; a later question asks again."""
    from cockpit.core.search import logpass
    from cockpit.core.search.matcher import MatchFailure

    real = logpass._stream_matches

    def killed(matcher, blocks, lines):
        for _block in blocks:
            raise MatchFailure("ripgrep was stopped by signal 9")
        yield None

    since, until = WINDOWS[0]
    logs = a_pass(config, since, until)
    monkeypatch.setattr(logpass, "_stream_matches", killed)
    problems: list[str] = []
    counts = logs.minute_counts(ERRORS, since=since, until=until, problems=problems)
    assert counts == {}
    assert "checkout-logs: ripgrep was stopped by signal 9" in problems
    assert "payments-logs: ripgrep was stopped by signal 9" in problems
    errors: list[str] = []
    assert logs.lines(["Traceback"], since=since, until=until, errors=errors) == []
    assert "checkout-logs: ripgrep was stopped by signal 9" in errors
    monkeypatch.setattr(logpass, "_stream_matches", real)
    expected = minute_counts(config, Query(ERRORS, regex=True, since=since, until=until))
    assert logs.minute_counts(ERRORS, since=since, until=until) == expected
    hits, _errors = searched(config, "Traceback", since, until)
    assert keys(logs.lines(["Traceback"], since=since, until=until)) == keys(hits) != []


def test_the_matching_lines_a_pass_keeps_count_in_its_memory_budget(
    tmp_path: Path, monkeypatch
) -> None:
    """A request pattern matches nearly every line, and the pass keeps where each match is:
    for short lines that weighs more than the text. Text and matches together stay within the
    budget; past it the pass lets go and answers the usual way."""
    from cockpit.core.search import logpass

    lines = b"".join(
        f"2026-11-28T13:{m:02d}:{s:02d}Z status=200\n".encode()
        for m in range(60)
        for s in range(60)
    )
    (tmp_path / "app.log").write_bytes(lines)
    config = Config(sources=[FileSource(name="app", service="app", paths=[f"{tmp_path}/app.log"])])
    monkeypatch.setattr(logpass, "MAX_KEPT_BYTES", 2 * len(lines))  # the text fits, twice
    since, until = NOW - timedelta(hours=1), NOW
    logs = a_pass(config, since, until)
    assert logs.covers(since, until)
    counts = logs.minute_counts_many(["status", "200"], since=since, until=until)
    assert counts == [
        minute_counts(config, Query(p, regex=True, since=since, until=until))
        for p in ("status", "200")
    ]
    assert sum(counts[1]["app"].values()) == 3600
    assert not logs.covers(since, until)  # 3600 matches x 2 patterns outweigh the text


def test_two_threads_asking_one_pass_at_once_get_whole_answers(tmp_path: Path, monkeypatch) -> None:
    """A question asked while another thread's question is still reading a file waits for
    it, rather than taking the blocks read so far (or lines half found) for the whole file."""
    import threading

    lines = b"".join(
        f"2026-11-28T13:{m:02d}:{s:02d}Z status={503 if s == 7 else 200} {'x' * 60}\n".encode()
        for m in range(60)
        for s in range(60)
    )
    (tmp_path / "app.log").write_bytes(lines * 2)  # more than one block
    config = Config(sources=[FileSource(name="app", service="app", paths=[f"{tmp_path}/app.log"])])
    since, until = NOW - timedelta(hours=1), NOW
    logs = a_pass(config, since, until)
    paused, go, waiting = threading.Event(), threading.Event(), threading.Event()
    original = FileLogSource._blocks

    def slow(self, path, cancel, sink):
        for index, block in enumerate(original(self, path, cancel, sink)):
            if index == 1:
                paused.set()  # the first question has read one block of two
                assert go.wait(30)
            yield block

    monkeypatch.setattr(FileLogSource, "_blocks", slow)

    class Watched:
        """The pass's question lock, saying when a second question is about to wait on it."""

        def __init__(self, lock) -> None:
            self.lock, self.inside = lock, 0

        def __enter__(self):
            self.inside += 1
            if self.inside > 1:
                waiting.set()
            return self.lock.__enter__()

        def __exit__(self, *exc):
            self.inside -= 1
            return self.lock.__exit__(*exc)

    lock = getattr(logs, "_asking", threading.RLock())
    monkeypatch.setattr(logs, "_asking", Watched(lock), raising=False)
    results: dict[str, list] = {}

    def count() -> None:
        results["counts"] = [logs.minute_counts(REQUESTS, since=since, until=until)]

    def ask() -> None:
        results["lines"] = logs.lines(["status=503"], since=since, until=until)
        waiting.set()  # answered without waiting (what an unguarded pass does)

    first, asker = threading.Thread(target=count), threading.Thread(target=ask)
    first.start()
    assert paused.wait(30)
    asker.start()
    assert waiting.wait(30)  # on the lock, or answered already
    go.set()
    first.join(30)
    asker.join(30)
    hits, _errors = searched(config, "status=503", since, until)
    assert keys(results["lines"]) == keys(hits) and len(hits) == 120
    expected = minute_counts(config, Query(REQUESTS, regex=True, since=since, until=until))
    assert results["counts"] == [expected]
