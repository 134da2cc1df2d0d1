"""Timeline noise (issue 12, item 12): repeats fold into one row with a count in the Timeline
pane, `cockpit timeline` and the postmortem; a kind filter in the pane (`f`) and
`cockpit timeline --kind`; the postmortem keeps regexes readable in code spans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList

from cockpit.cli import main
from cockpit.core.comms.facts import CommsFacts
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.review.postmortem import render_postmortem
from cockpit.core.store import Event, EventStore
from cockpit.core.timeline import filter_kinds, fold_repeats, latest_rows, unknown_kinds
from cockpit.tui.panes.timeline import KindPickerScreen
from tests.tui_support import FROZEN_NOW, make_app, settle, write_config
from tests.ux_support import flowing_text, screen_text

T0 = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def event(seq: int, kind: str, payload: dict[str, Any], author: str = "alice") -> Event:
    return Event(seq, f"e{seq}", "i1", T0 + timedelta(minutes=seq), author, kind, payload)


def summary(query: str, hits: int) -> str:
    """What the Logs pane records as a search's summary."""
    return f"searched logs for {query!r}: {hits:,} lines"


def search(seq: int, query: str, hits: int, author: str = "alice") -> Event:
    payload = {"query": query, "regex": True, "hits": hits, "summary": summary(query, hits)}
    return event(seq, Kind.SEARCH_RUN, payload, author)


def test_neighbouring_repeats_fold_and_nothing_else_does() -> None:
    events = [
        event(1, Kind.NOTE_ADDED, {"text": "start"}),
        *[search(2 + n, "timeout", 100 + n) for n in range(10)],  # the count grows: one row
        search(12, "timeout", 200, author="bob"),  # another person: another row
        search(13, "status=5\\d\\d", 7),
        event(14, Kind.NOTE_ADDED, {"text": "x"}),
        event(15, Kind.NOTE_ADDED, {"text": "x"}),
        event(16, Kind.NOTE_ADDED, {"text": "y"}),
        search(17, "timeout", 300),  # not a neighbour of the first run: its own row
    ]
    rows = fold_repeats(events)
    assert [(row.first.seq, row.last.seq, row.count) for row in rows] == [
        (1, 1, 1),
        (2, 11, 10),
        (12, 12, 1),
        (13, 13, 1),
        (14, 15, 2),
        (16, 16, 1),
        (17, 17, 1),
    ]
    assert rows[1].repeats() == " (x10, 14:02-14:11Z)" and rows[0].repeats() == ""
    assert latest_rows(events, 3) == rows[-3:]
    assert latest_rows(events[:11], 1) == [rows[1]]  # a fold longer than the first read


def test_kinds_filter_by_full_kind_or_first_part() -> None:
    events = [
        event(1, Kind.OPENED, {"title": "t"}),
        event(2, Kind.DECLARED, {"severity": "SEV2"}),
        search(3, "x", 1),
        event(4, Kind.NOTE_ADDED, {"text": "n"}),
    ]
    assert [e.seq for e in filter_kinds(events, ["incident"])] == [1, 2]
    assert [e.seq for e in filter_kinds(events, ["note.added", "search"])] == [3, 4]
    assert [e.seq for e in filter_kinds(events, exclude=["search"])] == [1, 2, 4]
    assert unknown_kinds(["note", "incident.declared", "nots"], events) == ["nots"]
    assert unknown_kinds(["comms.fact_set"], events) == ["comms.fact_set"]


def seeded_store(config_path: Path, store_path: Path) -> str:
    store = EventStore(store_path, clock=lambda: FROZEN_NOW)
    incident = store.create_incident("Checkout 5xx", "alice")
    for hits in (1700, 1707, 1715, 1715):
        store.append(
            incident.id,
            Kind.SEARCH_RUN,
            {"query": "status=5\\d\\d", "regex": True, "hits": hits, "summary": summary("s", hits)},
            "alice",
        )
    store.append(incident.id, Kind.NOTE_ADDED, {"text": "rollback looks right"}, "bob")
    store.close()
    return incident.id


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cockpit_timeline_folds_and_filters_by_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    assert config.source_path is not None
    seeded_store(config.source_path, config.store_path)
    base = ("--config", str(config.source_path), "timeline")

    code, out, _ = run_cli(capsys, *base)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert lines[1].endswith("lines (x4, 14:45-14:45Z)")
    assert "1,715 lines" in lines[1]

    code, out, _ = run_cli(capsys, *base, "--kind", "note")
    assert code == 0 and out.splitlines()[-1].endswith("note: rollback looks right")
    assert len(out.splitlines()) == 1

    code, out, _ = run_cli(capsys, *base, "--kind=-search")
    assert code == 0 and "search.run" not in out and len(out.splitlines()) == 2

    code, out, _ = run_cli(capsys, *base, "--no-fold", "--kind", "search.run")
    assert code == 0 and len(out.splitlines()) == 4 and "(x" not in out

    code, out, _ = run_cli(capsys, *base, "--json", "--kind", "search")
    assert code == 0 and out.count('"kind": "search.run"') == 4

    code, out, err = run_cli(capsys, *base, "--kind", "nots")
    assert code == 2 and out == ""
    assert "--kind 'nots': no such event kind" in err and "note.added" in err


def test_the_postmortem_folds_repeats_and_puts_regexes_in_code_spans(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "s.db", clock=lambda: FROZEN_NOW)
    incident = store.create_incident("Checkout 5xx", "alice")
    for hits in range(10):
        store.append(
            incident.id,
            Kind.SEARCH_RUN,
            {"query": "status=5\\d\\d|timeout", "regex": True, "hits": hits, "summary": "x"},
            "alice",
        )
    store.append(incident.id, Kind.PHASE_CHANGED, {"phase": "contain"}, "alice")
    state = IncidentState.from_events(store.events(incident.id))
    store.close()
    text = render_postmortem(state, CommsFacts.from_state(state, now=FROZEN_NOW), now=FROZEN_NOW)
    rows = [line for line in text.splitlines() if line.startswith("| 2026-11-28")]
    searches = [row for row in rows if "searched logs" in row]
    assert len(searches) == 1
    assert "searched logs for the regex `status=5\\d\\d\\|timeout`: 9 lines" in searches[0]
    assert "(x10, 14:45-14:45Z)" in searches[0]
    assert any(row.endswith("| phase -> Contain |") for row in rows)  # not `-\>`


async def test_the_pane_folds_repeats_and_f_picks_the_kinds(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    seeded_store(config.source_path or tmp_path, config.store_path)
    app = make_app(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # The Phases pane's latest entries: a real count, and the repeats folded there too.
        words = flowing_text(app)
        assert "latest on the timeline (6 events" in words
        assert "(x4, 14:45-14:45Z)" in words
        await pilot.press("6")
        await settle(pilot)
        words = flowing_text(app)
        assert words.count("searched logs for") == 1 and "(x4, 14:45-14:45Z)" in words
        assert "all kinds · 3 rows (3 repeats folded)" in words

        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, KindPickerScreen)
        assert "all but searches (2)" in screen_text(app)
        options = app.screen.query_one(OptionList)
        options.highlighted = 1  # all but searches
        await pilot.press("enter")
        await settle(pilot)
        shown = screen_text(app)
        assert "searched logs" not in shown and "rollback looks right" in shown
        assert "all but search.run · 2 rows" in shown
