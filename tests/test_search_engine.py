"""The local-file search engine: same counts as ripgrep, both engines agree, time windows."""

from __future__ import annotations

import functools
import gzip
import re
import subprocess
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.core.config import Config, FileSource
from cockpit.core.search.corpus import build_corpus
from cockpit.core.search.engine import (
    HitsFound,
    SearchFinished,
    StatusChanged,
    adhoc_sources,
    make_sources,
    minute_counts,
    run_search,
)
from cockpit.core.search.files import FileLogSource
from cockpit.core.search.model import Query, SourceState
from cockpit.core.search.paths import find_rg
from cockpit.core.search.timestamps import TimestampTracker
from cockpit.core.timefmt import floor_minute

NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
RG = find_rg()
needs_rg = pytest.mark.skipif(RG is None, reason="ripgrep not installed")

QUERIES = [
    Query(r"status=5\d\d", regex=True),
    Query("error", ignore_case=True),
    Query("Traceback"),
    Query(r"^\s+raise", regex=True),
    Query("request_id=0"),
    Query(r"(a+)+$", regex=True),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return build_corpus(tmp_path_factory.mktemp("corpus"), now=NOW)


def rg_count(files: list[Path], query: Query) -> int:
    assert RG is not None
    argv = [RG, "--no-config", "-c", "--no-filename", "-z"]
    argv += ["-i"] if query.ignore_case else []
    argv += [] if query.regex else ["-F"]
    argv += ["-e", query.pattern, "--", *map(str, files)]
    out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    return sum(int(n) for n in out.split())


@functools.cache
def reference_lines(path: Path) -> list[tuple[int, str, datetime | None]]:
    """(line number, text, inherited timestamp) of every line, computed the slow obvious way."""
    data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    tracker = TimestampTracker(datetime.fromtimestamp(path.stat().st_mtime, tz=UTC))
    return [
        (number, line, tracker.feed(line))
        for number, line in enumerate(data.decode().split("\n")[:-1], start=1)
    ]


def python_matches(query: Query, text: str) -> bool:
    flags = re.IGNORECASE if query.ignore_case else 0
    pattern = query.pattern if query.regex else re.escape(query.pattern)
    return re.search(pattern, text, flags) is not None


def hit_keys(result_hits: list, *, gz_ts: bool = True) -> list[tuple]:
    return sorted(
        (h.file, h.line_no, h.text, h.ts if gz_ts or not h.file.endswith(".gz") else None)
        for h in result_hits
    )


@needs_rg
@pytest.mark.parametrize("engine", ["auto", "inprocess", "rg"])
@pytest.mark.parametrize("count_only", [False, True])
def test_counts_match_ripgrep_plain_and_gz(corpus: list[Path], engine: str, count_only: bool):
    plain = [p for p in corpus if not p.name.endswith(".gz")]
    gz = [p for p in corpus if p.name.endswith(".gz")]
    for query in QUERIES[:5]:
        for files in (plain, gz):
            sources = adhoc_sources([str(p) for p in files], engine=engine)  # type: ignore[arg-type]
            result = run_search(sources, query, count_only=count_only, max_hits=10)
            assert result.errors == []
            assert result.total == rg_count(files, query), (query, engine, files[0].name)


@needs_rg
def test_rg_and_inprocess_engines_return_identical_hits(corpus: list[Path]) -> None:
    for query in QUERIES:
        results = {}
        for engine in ("rg", "inprocess"):
            source = FileLogSource("all", [str(p) for p in corpus], engine=engine)
            results[engine] = run_search([source], query, max_hits=100_000)
        # rg cannot seek in .gz for the timestamps of continuation lines: compare those without.
        assert hit_keys(results["rg"].hits, gz_ts=False) == hit_keys(
            results["inprocess"].hits, gz_ts=False
        ), query
    since = NOW - timedelta(minutes=90)
    query = Query("raise", since=since, until=NOW - timedelta(minutes=30))
    auto = run_search([FileLogSource("a", [str(p) for p in corpus])], query, max_hits=100_000)
    inproc = run_search(
        [FileLogSource("a", [str(p) for p in corpus], engine="inprocess")], query, max_hits=100_000
    )
    assert auto.total == inproc.total > 0
    assert hit_keys(auto.hits) == hit_keys(inproc.hits)


def test_hits_carry_line_numbers_text_and_inherited_timestamps(corpus: list[Path]) -> None:
    path = next(p for p in corpus if p.name == "checkout.log")
    expected = [
        (str(path), n, text, ts)
        for n, text, ts in reference_lines(path)
        if python_matches(Query("raise UpstreamError"), text)
    ]
    assert expected and all(ts is not None for *_, ts in expected)
    for engine in ("auto", "inprocess"):
        source = FileLogSource("c", [str(path)], engine=engine)
        result = run_search([source], Query("raise UpstreamError"), max_hits=100_000)
        assert hit_keys(result.hits) == sorted(expected)


@pytest.mark.parametrize("engine", ["auto", "inprocess"])
def test_time_window_filters_lines_and_their_continuations(corpus: list[Path], engine: str):
    since, until = NOW - timedelta(minutes=150), NOW - timedelta(minutes=20)
    for query in (
        Query("raise"),
        Query("error", ignore_case=True),
        Query(r"status=5\d\d", regex=True),
    ):
        windowed = Query(
            query.pattern,
            regex=query.regex,
            ignore_case=query.ignore_case,
            since=since,
            until=until,
        )
        expected = sorted(
            (str(path), n, text, ts)
            for path in corpus
            for n, text, ts in reference_lines(path)
            if ts is not None and since <= ts < until and python_matches(query, text)
        )
        source = FileLogSource("all", [str(p) for p in corpus], engine=engine)  # type: ignore[arg-type]
        result = run_search([source], windowed, max_hits=1_000_000)
        assert hit_keys(result.hits) == expected
        counted = run_search([source], windowed, count_only=True)
        assert counted.total == len(expected)


def test_files_entirely_outside_the_window_are_skipped(corpus: list[Path]) -> None:
    query = Query("level", since=NOW + timedelta(hours=1))
    assert run_search(adhoc_sources([str(p) for p in corpus]), query).total == 0
    query = Query("level", until=NOW - timedelta(hours=10))
    assert run_search(adhoc_sources([str(p) for p in corpus]), query).total == 0


def test_newest_hits_are_kept_and_total_stays_exact(corpus: list[Path]) -> None:
    source = FileLogSource("all", [str(p) for p in corpus])
    full = run_search([source], Query("status=200"), max_hits=1_000_000)
    capped = run_search([source], Query("status=200"), max_hits=25)
    assert capped.total == full.total > 1000
    assert len(capped.hits) == 25
    newest = sorted(h.ts for h in full.hits if h.ts)[-25:]
    assert [h.ts for h in capped.hits] == newest


def test_results_stream_in_batches_before_the_search_ends(corpus: list[Path]) -> None:
    events: list = []
    result = run_search(
        adhoc_sources([str(p) for p in corpus]),
        Query("status=200"),
        events.append,
        max_hits=10,
        lossless=True,
    )
    batches = [e for e in events if isinstance(e, HitsFound)]
    assert isinstance(events[-1], SearchFinished)
    assert sum(len(b.hits) for b in batches) == result.total
    assert len(batches) < result.total / 100  # coalesced, never one event per line
    states = [s.state for e in events if isinstance(e, StatusChanged) for s in e.statuses]
    assert SourceState.RUNNING in states and states[-1] == SourceState.DONE


def test_service_filter_and_config_globs(tmp_path: Path, corpus: list[Path]) -> None:
    logs = corpus[0].parent
    config = Config(
        sources=[
            FileSource(name="checkout-logs", service="checkout", paths=[f"{logs}/checkout.log*"]),
            FileSource(name="payments-logs", service="payments", paths=[f"{logs}/payments.log*"]),
        ],
    )
    sources = make_sources(config)
    both = run_search(sources, Query("level=error"))
    only = run_search(sources, Query("level=error", services=frozenset({"payments"})))
    assert set(only.statuses) == {"payments-logs"}
    assert 0 < only.total < both.total
    assert only.total == both.statuses["payments-logs"].count


def test_relative_globs_resolve_against_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "app.log").write_text("2026-11-28T13:00:00Z boom\n")
    config = Config(
        sources=[FileSource(name="app", paths=["logs/*.log"])],
        source_path=tmp_path / "cockpit.toml",
    )
    assert run_search(make_sources(config), Query("boom")).total == 1


def test_missing_remote_module_is_an_error_for_that_source_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cockpit.core.search import engine

    monkeypatch.setitem(engine.REMOTE_SOURCES, "loki", ("cockpit.core.search.nope", "Nope"))
    (tmp_path / "a.log").write_text("2026-11-28T13:00:00Z boom\n")
    config = Config.model_validate(
        {
            "sources": [
                {
                    "kind": "loki",
                    "name": "loki",
                    "url": "http://127.0.0.1:9",
                    "selector": '{a="b"}',
                },
                {"kind": "files", "name": "files", "paths": [str(tmp_path / "a.log")]},
            ]
        }
    )
    result = run_search(make_sources(config), Query("boom"))
    assert result.statuses["loki"].state == SourceState.ERROR
    assert "loki" in (result.statuses["loki"].error or "")
    assert result.statuses["files"].state == SourceState.DONE
    assert result.statuses["files"].count == 1


def test_a_stuck_source_does_not_stop_the_others(tmp_path: Path) -> None:
    log = str(tmp_path / "a.log")
    Path(log).write_text("2026-11-28T13:00:00Z boom\n")
    release = threading.Event()

    class Stuck:
        """Ignores cancel, as a hung remote call would."""

        name: str = "stuck"
        service: str | None = None

        def search(self, query, sink, cancel):
            release.wait(30)

    cancel = threading.Event()
    seen: dict = {}

    def on_event(event):
        for status in getattr(event, "statuses", ()):
            seen[status.source] = status
        if log in seen and seen[log].state == SourceState.DONE:
            cancel.set()

    try:
        result = run_search(
            [Stuck(), *adhoc_sources([log])], Query("boom"), on_event, cancel, cancel_grace=0.2
        )
    finally:
        release.set()
    assert result.cancelled
    assert result.statuses[log].count == 1 and result.statuses[log].state == SourceState.DONE
    assert result.statuses["stuck"].state == SourceState.RUNNING


def test_minute_counts_per_service(corpus: list[Path]) -> None:
    logs = corpus[0].parent
    config = Config(
        sources=[
            FileSource(name="checkout-logs", service="checkout", paths=[f"{logs}/checkout.log*"]),
            FileSource(name="payments-logs", service="payments", paths=[f"{logs}/payments.log*"]),
            FileSource(name="edge", paths=[f"{logs}/access.log"]),
        ]
    )
    since, until = NOW - timedelta(hours=2), NOW - timedelta(hours=1)
    query = Query(r"status=5\d\d", regex=True, since=since, until=until)
    counts = minute_counts(config, query)
    expected: Counter[datetime] = Counter()
    for path in logs.glob("checkout.log*"):
        for _n, text, ts in reference_lines(path):
            if ts is not None and since <= ts < until and re.search(r"status=5\d\d", text):
                expected[floor_minute(ts)] += 1
    assert counts["checkout"] == expected
    assert set(counts) == {"checkout", "payments"}
    assert all(since <= minute < until for minute in counts["payments"])
    only = minute_counts(config, query, services=["payments"])
    assert set(only) == {"payments"} and only["payments"] == counts["payments"]


@needs_rg
def test_demo_corpus_counts_match_rg_for_cli_and_engine(tmp_path: Path) -> None:
    """The demo sandbox (every format, plain and .gz): configured sources count like rg."""
    from cockpit.core.config import load_config_file
    from cockpit.core.demo.sandbox import build_sandbox

    info = build_sandbox(tmp_path / "demo", seed=3, now=NOW, log_mb=3)
    config = load_config_file(info.config_path)
    sources = make_sources(config)
    assert RG is not None
    for query in (
        Query(r"status=5\d\d", regex=True),
        Query("Traceback"),
        Query("error", ignore_case=True),
    ):
        result = run_search(sources, query, count_only=True)
        for cfg in config.sources:
            assert isinstance(cfg, FileSource)
            files = sorted(p for pattern in cfg.paths for p in config.base_dir.glob(pattern))
            for group in (
                [p for p in files if p.suffix != ".gz"],
                [p for p in files if p.suffix == ".gz"],
            ):
                engine_count = run_search(
                    [FileLogSource(cfg.name, [str(p) for p in group])], query, count_only=True
                ).total
                assert engine_count == rg_count(group, query), (cfg.name, query, group[:1])
            assert result.statuses[cfg.name].count == rg_count(files, query)


def exact_minute_counts(config: Config, query: Query) -> dict:
    """Per-minute counts the slow way: every hit through run_search."""
    from collections import defaultdict

    counts: dict = defaultdict(Counter)

    def on_event(event) -> None:
        if isinstance(event, HitsFound):
            for hit in event.hits:
                if hit.ts is not None:
                    counts[hit.service][floor_minute(hit.ts)] += 1

    run_search(make_sources(config), query, on_event, max_hits=0, lossless=True)
    return {service: counter for service, counter in counts.items() if counter}


def test_minute_counts_fast_path_equals_counting_every_hit(tmp_path: Path) -> None:
    from cockpit.core.config import load_config_file
    from cockpit.core.demo.logs import ERROR_PATTERN, REQUEST_PATTERN
    from cockpit.core.demo.sandbox import build_sandbox

    info = build_sandbox(tmp_path / "demo", seed=9, now=NOW, log_mb=3)
    config = load_config_file(info.config_path)
    windows = [
        (None, None),
        (NOW - timedelta(hours=1), NOW),
        (NOW - timedelta(hours=3, seconds=17), NOW - timedelta(minutes=41, seconds=30)),
    ]
    for since, until in windows:
        for pattern in (REQUEST_PATTERN, ERROR_PATTERN, "Traceback"):
            query = Query(pattern, regex=True, since=since, until=until)
            fast = minute_counts(config, query)
            assert fast == exact_minute_counts(config, query), (pattern, since)
            assert sum(sum(c.values()) for c in fast.values()) > 0


def test_rotations_wholly_before_the_window_are_skipped_unread(corpus: list[Path]) -> None:
    from cockpit.core.search.paths import rotated_before

    since = NOW - timedelta(minutes=90)
    skipped = {p.name for p in rotated_before(corpus, since)}
    assert {"checkout.log.3.gz", "checkout.log.2.gz", "events.jsonl.1.gz"} <= skipped
    assert "checkout.log.1" not in skipped and "checkout.log" not in skipped
    assert not any(name in skipped for name in ("access.log", "syslog", "events.jsonl"))
    assert rotated_before(corpus, None) == set()


@pytest.mark.parametrize("engine", ["rg", "inprocess"])
def test_memory_stays_bounded_while_counts_stay_exact(tmp_path: Path, engine: str) -> None:
    import tracemalloc

    line = "2026-11-28T13:00:00Z level=error " + "x" * 400 + "\n"
    (tmp_path / "big.log").write_text(line * 40_000)  # 17 MB of matching lines
    source = FileLogSource("big", [str(tmp_path / "big.log")], engine=engine)  # type: ignore[arg-type]
    received = 0

    def on_event(event) -> None:
        nonlocal received
        if isinstance(event, HitsFound):
            received += len(event.hits)

    tracemalloc.start()
    try:
        result = run_search([source], Query("level=error"), on_event, max_hits=100)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.total == 40_000
    assert len(result.hits) == 100
    # Holding every hit would take ~25 MB; the stream and the newest-hits heap are bounded.
    assert peak < 15 * 1024 * 1024, peak
