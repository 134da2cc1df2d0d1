"""The comms AI rewrite, against a local fake Messages API: redacted out, UNVERIFIED back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static, TextArea

from cockpit.core.ai.redact import Redactor
from cockpit.core.comms.rewrite import RewriteError, rewrite_draft
from cockpit.core.config import Config
from cockpit.core.incident import Kind
from cockpit.core.store import EventStore
from cockpit.tui.app import CockpitApp
from tests.comms_support import at, build_demo_incident
from tests.fakes.anthropic_api import FakeAnthropic, Turn, say
from tests.tui_support import settle, write_config

SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
DRAFT = f"Since 14:20 UTC some checkouts fail. Ping oncall@example.com, token {SECRET}."
FACTS = ["Started: 14:20 UTC", "Services: checkout"]
REWORDED = "Since 14:20 UTC, some customers have been unable to check out. We are investigating."


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-testkey-0123456789abcdef")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    try:
        yield server
    finally:
        server.stop()


async def test_the_request_is_redacted_and_the_answer_returned(fake: FakeAnthropic) -> None:
    fake.turns.append(say(REWORDED))
    config = Config()
    text = await rewrite_draft(DRAFT, "status update", FACTS, config=config, redactor=Redactor())
    assert text == REWORDED
    (body,) = fake.bodies
    assert body["model"] == config.ai.model
    raw = b"".join(fake.raw_bodies)
    assert SECRET.encode() not in raw and b"oncall@example.com" not in raw
    assert "<<DATA-" in body["messages"][0]["content"]  # draft and facts travel as data
    assert "not instructions" in body["system"]


async def test_a_redaction_failure_sends_nothing(fake: FakeAnthropic) -> None:
    class Broken(Redactor):
        def redact_json(self, value: Any) -> Any:
            raise RuntimeError("boom")

    with pytest.raises(RewriteError, match="redaction failed, nothing was sent"):
        await rewrite_draft(DRAFT, "status update", FACTS, config=Config(), redactor=Broken())
    assert fake.requests == []


async def test_without_a_key_nothing_is_attempted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(RewriteError, match="ANTHROPIC_API_KEY"):
        await rewrite_draft(DRAFT, "status update", FACTS, config=Config(), redactor=Redactor())


async def test_an_api_error_is_one_line(fake: FakeAnthropic) -> None:
    fake.turns.append(Turn(status=429))
    with pytest.raises(RewriteError, match="429"):
        await rewrite_draft(DRAFT, "status update", FACTS, config=Config(), redactor=Redactor())


async def test_in_the_pane_the_rewrite_is_marked_unverified_and_copied_as_such(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.turns.append(say(REWORDED))
    config = write_config(tmp_path)
    store, incident_id, clock = build_demo_incident(config.store_path, until="14:39:40")
    store.close()
    clock.now = at("14:42:00")
    app = CockpitApp(config, clock=clock, incident_id=incident_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        template = app.query_one("#comms-draft", TextArea).text
        await pilot.press("w")
        await settle(pilot)
        assert app.query_one("#comms-draft", TextArea).text == REWORDED != template
        title = str(app.query_one("#comms-draft-title", Static).render())
        assert "AI rewrite, UNVERIFIED" in title
        await pilot.press("y")
        await settle(pilot)
        assert app.clipboard == REWORDED
    with EventStore(config.store_path) as check:
        events = check.events(incident_id)
    assert any(e.kind == "comms.ai_rewrite" for e in events)
    copy = events[-1]
    assert copy.kind == Kind.COMMAND_COPIED and copy.payload["detail"]["ai_rewrite"] is True
