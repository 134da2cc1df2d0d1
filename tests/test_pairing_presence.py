"""Presence (who is in the incident, in which pane) and the driver hand-off.

Presence lives in its own table, never in the event log; the hand-off is an event.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult

from cockpit.core.incident import IncidentState, describe
from cockpit.core.presence import (
    HANDOFF_KIND,
    HEARTBEAT_SECONDS,
    PRESENCE_TTL_SECONDS,
    PresenceBoard,
    PresenceError,
    current_driver,
    handoff_payload,
)
from cockpit.core.store import EventStore
from cockpit.tui.app import CockpitApp
from cockpit.tui.presence import HandoffScreen, PresenceBar
from tests.tui_support import workers_done, write_config

START = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store_with_incident(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "incidents.db"
    with EventStore(path) as store:
        incident = store.create_incident("checkout 500s", "alice")
    return path, incident.id


def test_presence_rows_upsert_expire_and_never_touch_the_event_log(
    store_with_incident: tuple[Path, str],
) -> None:
    path, incident = store_with_incident
    clock = FakeClock()
    alice = PresenceBoard(path, clock=clock, host="bastion", pid=100)
    bob = PresenceBoard(path, clock=clock, host="bastion", pid=200)
    for _ in range(5):  # heartbeats upsert one row per process, never append
        alice.beat(incident, "alice", "Logs")
    bob.beat(incident, "bob@laptop", "Deploys")
    assert [p.label() for p in alice.present(incident)] == [
        "alice@bastion (Logs)",
        "bob@laptop (Deploys)",
    ]
    alice.beat(incident, "alice", "Timeline")  # a pane change replaces the row
    assert [p.pane for p in bob.present(incident)] == ["Timeline", "Deploys"]

    assert PRESENCE_TTL_SECONDS <= 5 and HEARTBEAT_SECONDS * 3 <= PRESENCE_TTL_SECONDS
    clock.now += timedelta(seconds=4)  # two missed beats: still there, no flicker
    alice.beat(incident, "alice", "Timeline")
    assert [p.author for p in alice.present(incident)] == ["alice", "bob@laptop"]
    clock.now += timedelta(seconds=1.5)  # bob stopped beating: gone within the 5 s TTL
    alice.beat(incident, "alice", "Timeline")
    assert [p.author for p in alice.present(incident)] == ["alice"]
    alice.leave()
    assert bob.present(incident) == []

    with EventStore(path) as store:  # presence wrote nothing to the append-only log
        assert [e.kind for e in store.events(incident)] == ["incident.opened"]
        assert store.integrity_check() == "ok"
    alice.close()
    bob.close()


def test_presence_is_per_incident(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    with EventStore(path) as store:
        first = store.create_incident("one", "alice").id
        second = store.create_incident("two", "alice").id
    with PresenceBoard(path, host="h", pid=1) as board:
        board.beat(first, "alice", "Logs")
        assert [p.incident_id for p in board.present(first)] == [first]
        assert board.present(second) == []


def test_presence_never_creates_the_store(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(PresenceError, match=r"nope\.db: no incident store here"):
        PresenceBoard(missing)
    assert not missing.exists()


def test_handoff_is_an_attributed_event_on_the_timeline(
    store_with_incident: tuple[Path, str],
) -> None:
    path, incident = store_with_incident
    with EventStore(path) as store:
        assert current_driver(store.events(incident)) is None
        store.append(incident, HANDOFF_KIND, handoff_payload("alice", "bob"), "alice")
        store.append(incident, HANDOFF_KIND, handoff_payload("bob", "carol"), "bob")
        events = store.events(incident)
    assert current_driver(events) == "carol"
    handoffs = [e for e in events if e.kind == HANDOFF_KIND]
    assert [(e.author, describe(e)) for e in handoffs] == [
        ("alice", "pairing.handoff: driver hand-off: alice -> bob"),
        ("bob", "pairing.handoff: driver hand-off: bob -> carol"),
    ]
    assert IncidentState.from_events(events).events[-1].kind == HANDOFF_KIND
    with PresenceBoard(path) as board:
        assert board.driver(incident) == "carol"


PARTNER_BEAT = """
import sys
from pathlib import Path
from cockpit.core.presence import PresenceBoard
board = PresenceBoard(Path(sys.argv[1]), host="laptop")
board.beat(sys.argv[2], "bob", "Deploys")
board.close()
"""


class BarApp(App[None]):
    def __init__(self, path: Path, incident: str) -> None:
        super().__init__()
        self.path = path
        self.incident = incident

    def compose(self) -> ComposeResult:
        yield PresenceBar(heartbeat_seconds=0.1, host="bastion", id="presence-bar")

    def on_mount(self) -> None:
        bar = self.query_one(PresenceBar)
        bar.pane_changed("Logs")
        bar.join(self.path, self.incident, "alice")


async def wait_for(pilot: Any, condition: Any, bound: float = 5.0) -> float:
    """Poll `condition` every 50 ms; fail after `bound` seconds (room for a loaded CI machine)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > bound:
            raise AssertionError(f"not seen within {bound} s")
        await pilot.pause(0.05)
    return time.monotonic() - start


async def test_presence_bar_shows_a_partner_process_and_its_pane(
    store_with_incident: tuple[Path, str],
) -> None:
    path, incident = store_with_incident
    app = BarApp(path, incident)
    async with app.run_test(size=(100, 5)) as pilot:
        bar = app.query_one(PresenceBar)
        await wait_for(pilot, lambda: bar.people)
        assert str(bar.presence_text()) == "here: alice@bastion (Logs) (you)"

        partner = await asyncio.create_subprocess_exec(
            sys.executable, "-c", PARTNER_BEAT, str(path), incident
        )
        assert await partner.wait() == 0
        await wait_for(pilot, lambda: len(bar.people) == 2)
        assert str(bar.presence_text()) == (
            "here: alice@bastion (Logs) (you) · bob@laptop (Deploys)"
        )
        assert [p.who for p in bar.others()] == ["bob@laptop"]

        bar.pane_changed("Timeline")
        await wait_for(pilot, lambda: "alice@bastion (Timeline)" in str(bar.presence_text()))

        with EventStore(path) as store:
            store.append(incident, HANDOFF_KIND, handoff_payload("alice", "bob@laptop"), "alice")
        await wait_for(pilot, lambda: bar.driver == "bob@laptop")
        assert str(bar.presence_text()).startswith("driver: bob@laptop · here: ")
    with PresenceBoard(path) as board:  # quitting removed our row at once
        assert [p.author for p in board.present(incident)] == ["bob"]


async def test_presence_bar_shows_hostile_author_names_inert(
    store_with_incident: tuple[Path, str],
) -> None:
    path, incident = store_with_incident
    with PresenceBoard(path, host="h", pid=4242) as board:
        board.beat(incident, "mallory\x1b]52;c;ZXZpbA==\x07@h", "[b]Logs[/b]")
    app = BarApp(path, incident)
    async with app.run_test(size=(200, 5)) as pilot:
        bar = app.query_one(PresenceBar)
        await wait_for(pilot, lambda: len(bar.people) == 2)
        line = str(bar.presence_text())
        assert "\x1b" not in line and "\x07" not in line
        assert "mallory\\x1b]52;c;ZXZpbA==\\x07@h ([b]Logs[/b])" in line


async def test_presence_bar_reports_an_unusable_store_without_crashing(tmp_path: Path) -> None:
    app = BarApp(tmp_path / "missing.db", "abc")
    async with app.run_test(size=(100, 5)) as pilot:
        bar = app.query_one(PresenceBar)
        await workers_done(app)
        await pilot.pause()
        assert "pairing: " in str(bar.render()) and "no incident store here" in str(bar.render())


class HandoffApp(App[None]):
    def __init__(self, screen: HandoffScreen) -> None:
        super().__init__()
        self.dialog = screen
        self.results: list[dict[str, Any] | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


async def test_handoff_screen_returns_the_payload_for_the_chosen_partner() -> None:
    app = HandoffApp(HandoffScreen("alice@bastion", ["bob@laptop", "carol@desk"]))
    async with app.run_test() as pilot:
        await pilot.press("enter")  # the input is prefilled with the first partner
        await pilot.pause()
    assert app.results == [
        {
            "from": "alice@bastion",
            "to": "bob@laptop",
            "summary": "driver hand-off: alice@bastion -> bob@laptop",
        }
    ]


async def test_handoff_screen_refuses_the_current_driver_and_can_be_cancelled() -> None:
    app = HandoffApp(HandoffScreen("alice", ["bob"], driver="bob"))
    async with app.run_test() as pilot:
        field = app.screen.query_one("#handoff-to")
        assert getattr(field, "value", None) == ""  # bob drives already: no candidate
        await pilot.press(*"bob", "enter")
        await pilot.pause()
        assert app.results == []  # still open, with the hint
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_wired_into_the_real_app_presence_follows_the_tabs(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = CockpitApp(config, new_incident_title="checkout 500s")
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.query_one(PresenceBar)
        await wait_for(pilot, lambda: bool(bar.people), bound=5.0)
        await pilot.press("3")
        await wait_for(pilot, lambda: "alice@" in str(bar.presence_text()))
        await wait_for(pilot, lambda: "(Deploys) (you)" in str(bar.presence_text()))
        assert bar.people[0].pane == "Deploys"
        assert not bar.display  # alone: no bar, the screen is the engineer's
        with PresenceBoard(config.store_path, host="laptop", pid=4242) as board:
            board.beat(app.state.incident_id, "bob", "Logs")  # type: ignore[union-attr]
        await wait_for(pilot, lambda: len(bar.people) == 2)
        await wait_for(pilot, lambda: bar.display)  # a partner: the bar is on screen
        assert bar.region.height == 1
        assert "bob@laptop (Logs)" in str(bar.presence_text())
