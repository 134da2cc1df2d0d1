"""Benchmark the incident state: what a new immutable snapshot per batch of events costs.

Run from the project root: python bench/bench_snapshots.py [--events 5000] [--runs 7]
An incident of a few thousand events (notes, pins, checks, copies, hypotheses and their
verdicts, searches) is folded once; then batches of 1 and of 50 new events (a pairing partner's
note; a burst after a reconnect) are applied to it. The reference is what the panes' workers
did before snapshots: fold the whole event log again from a copy (`from_events(events[:])`),
once per worker run, to get a state of their own. Medians of `--runs` runs; peak RSS at the end.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from cockpit.core.incident import IncidentState, Kind
from cockpit.core.store import Event

START = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def make_events(count: int, first_seq: int = 1) -> list[Event]:
    """`count` events in the mix a long incident has (the first one opens it)."""
    kinds: list[tuple[str, dict[str, Any]]] = [
        (Kind.NOTE_ADDED, {"text": "payments p99 is 1.2 s since 14:29; checkout retries"}),
        (Kind.PIN_ADDED, {"source": "logs", "text": "upstream timeout", "detail": {"line": 9}}),
        (Kind.ITEM_CHECKED, {"phase": "assess", "item": "Check dashboards", "checked": True}),
        (Kind.COMMAND_COPIED, {"text": "kubectl rollout undo", "purpose": "rollback"}),
        ("hypothesis.proposed", {"id": "h-1", "claim": "the deploy lowered a timeout"}),
        (Kind.SEARCH_RUN, {"query": "status=5\\d\\d", "hits": 412, "summary": "searched"}),
    ]
    events = []
    for index in range(count):
        seq = first_seq + index
        kind, payload = (
            (Kind.OPENED, {"title": "checkout 5xx"}) if seq == 1 else kinds[seq % len(kinds)]
        )
        events.append(
            Event(seq, f"e{seq}", "inc", START + timedelta(seconds=seq), "alice", kind, payload)
        )
    return events


def median_seconds(work: Callable[[], object], runs: int, repeat: int = 1) -> float:
    """Median over `runs` of the time one call of `work` takes (averaged over `repeat`)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(repeat):
            work()
        times.append((time.perf_counter() - start) / repeat)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    log = make_events(args.events)
    one = make_events(1, args.events + 1)
    fifty = make_events(50, args.events + 1)

    fold = median_seconds(lambda: IncidentState.from_events(log[:]), args.runs)
    state = IncidentState.from_events(log)
    apply_one = median_seconds(lambda: state.apply(one), args.runs, repeat=200)
    apply_fifty = median_seconds(lambda: state.apply(fifty), args.runs, repeat=50)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"incident of {args.events:,} events, medians of {args.runs} runs")
    rows = [
        ("reference: fold the whole log again (a worker's own state)", f"{fold * 1e3:8.2f} ms"),
        ("new snapshot with 1 more event", f"{apply_one * 1e6:8.1f} us"),
        ("new snapshot with 50 more events", f"{apply_fifty * 1e6:8.1f} us"),
    ]
    for label, figure in rows:
        print(f"  {label:<60} {figure}")
    print(f"  ratio, snapshot of 1 event / re-fold: {apply_one / fold:.4f}")
    print(f"  peak RSS {rss_mb:.0f} MB")
    print("rerun: python bench/bench_snapshots.py --events 5000 --runs 7")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
