"""Pilot tests of the Hypotheses pane on the demo incident: offline, with the fake API, and
the human-only verification with a note and pinned evidence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

import cockpit.tui.app as app_module
from cockpit.core.ai.hypotheses import Hypothesis
from cockpit.core.config import Config, load_config_file
from cockpit.core.demo import SandboxInfo, build_sandbox
from cockpit.core.store import EventStore
from cockpit.resources import data_dir
from cockpit.tui.messages import CopyRequested, PinRequested, RecordRequested
from cockpit.tui.panes.hypotheses import AI_PURPOSE
from cockpit.tui.panes.hypothesis_cards import HypothesisCard
from cockpit.tui.panes.hypothesis_dialogs import EvidencePicker, JudgeScreen
from tests.fakes.anthropic_api import FakeAnthropic, Turn, call, say
from tests.tui_support import FROZEN_NOW, make_app, settle


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> SandboxInfo:
    return build_sandbox(tmp_path_factory.mktemp("demo"), now=FROZEN_NOW, log_mb=2)


@pytest.fixture
def config(sandbox: SandboxInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    # Only the shell's and this pane's styles: other panes' sheets are being written right now.
    styles = data_dir("styles")
    monkeypatch.setattr(
        app_module.CockpitApp, "CSS_PATH", [styles / "cockpit.tcss", styles / "hypotheses.tcss"]
    )
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    loaded = load_config_file(sandbox.config_path)
    section = loaded.cockpit.model_copy(
        update={"store": tmp_path / "incidents.db", "author": "alice"}
    )
    return loaded.model_copy(update={"cockpit": section})


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-testkey-0123456789abcdef")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    try:
        yield server
    finally:
        server.stop()


def stored(config: Config) -> list[tuple[str, str, dict[str, Any]]]:
    store = EventStore(config.store_path)
    incident = store.current_incident()
    assert incident is not None
    return [(e.kind, e.author, e.payload) for e in store.events(incident.id)]


def cards(app: Any) -> list[HypothesisCard]:
    return list(app.query(HypothesisCard).results(HypothesisCard))


async def test_offline_triage_shows_heuristics_unverified(
    config: Config, sandbox: SandboxInfo
) -> None:
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4", "t")
        await settle(pilot, rounds=10)
        shown = cards(app)
        assert shown, "no hypothesis cards"
        bad = sandbox.truth.bad_deploy
        assert bad is not None and bad.short_sha in shown[0].view.hypothesis.claim
        for card in shown:
            assert len(card.query(".badge.-unverified")) == 1
            assert card.view.hypothesis.origin == "heuristic"
        status = str(app.query_one("#ai-status", Static).render())
        assert "offline" in status
        await pilot.press("h")  # again: the same suspicions are not proposed twice
        await settle(pilot, rounds=10)
        assert [c.view.hypothesis.id for c in cards(app)] == [c.view.hypothesis.id for c in shown]
    proposed = [p for kind, _a, p in stored(config) if kind == "hypothesis.proposed"]
    assert proposed and all(p["origin"] == "heuristic" for p in proposed)


async def test_triage_with_the_fake_api_streams_and_records(
    config: Config, fake: FakeAnthropic
) -> None:
    fake.turns = [
        call("list_deploys", {"since_hours": 6}, "Checking deploys."),
        call("run_command", {"command": "rm -rf /"}),
        call(
            "propose_hypotheses",
            {
                "hypotheses": [
                    {
                        "claim": "model: checkout deploy shrank the pool",
                        "evidence": ["deploy"],
                        "containment": "kubectl rollout undo deployment/checkout --to-revision=38",
                    }
                ]
            },
        ),
        say("Done."),
    ]
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4", "t")
        await settle(pilot, rounds=12)
        claims = [c.view.hypothesis.claim for c in cards(app)]
        assert "model: checkout deploy shrank the pool" in claims
        assert "Checking deploys." in str(app.query_one("#ai-output", Static).render())
        assert "model proposed 1" in str(app.query_one("#ai-status", Static).render())
    kinds = [kind for kind, _a, _p in stored(config)]
    assert kinds.count("ai.tool_called") == 1 and kinds.count("ai.tool_refused") == 1
    assert "hypothesis.verified" not in kinds


async def test_api_error_shows_retry_and_retry_works(config: Config, fake: FakeAnthropic) -> None:
    fake.turns = [Turn(status=429)]
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4", "t")
        await settle(pilot, rounds=10)
        status = app.query_one("#ai-status", Static)
        assert "rate limited" in str(status.render()) and status.has_class("-error")
        fake.turns = [
            call("propose_hypotheses", {"hypotheses": [{"claim": "retry worked here"}]}),
            say("ok"),
        ]
        await pilot.press("r")
        await settle(pilot, rounds=10)
        assert any(c.view.hypothesis.claim == "retry worked here" for c in cards(app))


async def test_verify_needs_note_and_pinned_evidence_and_copy_never_runs(config: Config) -> None:
    messages: list[Any] = []
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("4", "h")
        await settle(pilot, rounds=10)
        assert cards(app)
        assert "all UNVERIFIED" in str(app.query_one("#ai-status", Static).render())
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, JudgeScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "needs" in str(app.screen.query_one(".dialog-error", Static).render())
        await pilot.press("escape")
        app.post_message(
            PinRequested("logs", "connection pool exhausted (max=10) for payments-client")
        )
        await settle(pilot)
        await pilot.press("v")
        await pilot.pause()
        await pilot.press(*"pool errors match the deploy time", "enter")  # on to the evidence
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, JudgeScreen), "saved without evidence"
        evidence = app.screen.query_one(EvidencePicker)
        # Nothing chosen shows as [ ] even under the highlight: the mark, never the bar.
        assert str(evidence.get_option_at_index(0).prompt).startswith("[ ] logs: connection")
        await pilot.press("space")
        assert str(evidence.get_option_at_index(0).prompt).startswith("[x] logs: connection")
        assert "1 of 1 chosen" in str(app.screen.query_one("#judge-evidence-label").render())
        await pilot.press("tab", "enter")  # Enter on the "Verify it" button saves
        await settle(pilot, rounds=8)
        first = cards(app)[0]
        assert first.view.status.value == "verified"
        assert len(first.query(".badge.-verified")) == 1
        status = str(app.query_one("#ai-status", Static).render())
        assert "1 verified" in status and "all UNVERIFIED" not in status  # kept up to date
        said = [m.saved_message for m in messages if isinstance(m, RecordRequested)]
        assert "saved: hypothesis verified" in said and "saved: hypothesis verifed" not in said
        await pilot.press("c")
        await settle(pilot)
        copies = [m for m in messages if isinstance(m, CopyRequested)]
        assert copies and copies[0].purpose == AI_PURPOSE
        assert app.clipboard == first.view.hypothesis.containment
    events = stored(config)
    verified = [(a, p) for kind, a, p in events if kind == "hypothesis.verified"]
    assert len(verified) == 1
    author, payload = verified[0]
    assert author == "alice" and payload["by"] == "alice" and payload["note"]
    assert payload["evidence"][0].startswith("pin logs by alice")
    copied = [p for kind, _a, p in events if kind == "command.copied"]
    assert copied[-1]["purpose"] == AI_PURPOSE


async def test_hostile_hypothesis_text_is_shown_inert(config: Config) -> None:
    store = EventStore(config.store_path)
    incident = store.create_incident("Checkout 5xx", "alice")
    hostile = Hypothesis(
        id="h-hostile",
        origin="model",
        claim="\x1b]52;c;cm0gLXJmIC8=\x07[bold red]pwned[/] \x1b[2J\u202eevil",
        containment="rm -rf / \x1b[31m",
    )
    store.append(incident.id, "hypothesis.proposed", hostile.payload(), "cockpit")
    store.close()
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        body = cards(app)[0].query_one(".card-body", Static).render()
        text = str(body)
        assert "\x1b" not in text and "\u202e" not in text
        assert "\\x1b]52" in text and "[bold red]pwned[/]" in text
        assert len(cards(app)[0].query(".badge.-unverified")) == 1


async def test_preview_shows_exactly_the_redacted_request(config: Config) -> None:
    from cockpit.tui.panes.hypothesis_dialogs import PreviewScreen

    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.post_message(
            PinRequested("logs", "login failed password=hunter2pass for jane@corp.example")
        )
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)  # the pane loads (and refreshes its bindings) before `i` applies
        await pilot.press("i")
        await settle(pilot)  # the preview is built in a worker (gather + redaction)
        assert isinstance(app.screen, PreviewScreen)
        shown = str(app.screen.query_one("#ai-preview-text", Static).render())
        assert "hunter2pass" not in shown and "jane@corp.example" not in shown
        assert "[REDACTED:secret-value:" in shown and "propose_hypotheses" in shown


def seed_hypothesis(config: Config, **fields: Any) -> Hypothesis:
    """An incident with one model hypothesis built from `fields`, proposed before the app opens."""
    store = EventStore(config.store_path)
    incident = store.create_incident("Checkout 5xx", "alice")
    hypothesis = Hypothesis(id="h-seeded", origin="model", **fields)
    store.append(incident.id, "hypothesis.proposed", hypothesis.payload(), "cockpit")
    store.close()
    return hypothesis


def refuse_processes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """From now on, every attempt to start a process is refused and listed in the result."""
    import asyncio
    import os
    import subprocess

    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError(f"a process was started: {args!r}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(asyncio, "create_subprocess_exec", refuse)
    monkeypatch.setattr(asyncio, "create_subprocess_shell", refuse)
    return attempts


def card_text(app: Any, index: int = 0) -> str:
    return str(cards(app)[index].query_one(".card-body", Static).render())


async def test_every_check_and_the_containment_is_copyable_and_nothing_runs(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_hypothesis(
        config,
        claim="the checkout deploy shrank the connection pool",
        checks=["cockpit search 'pool exhausted'", "git show b9c1d4e -- pool.py", "df -h"],
        containment="kubectl rollout undo deployment/checkout --to-revision=38",
    )
    messages: list[Any] = []
    app = make_app(config)
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        spawned = refuse_processes(monkeypatch)  # startup's own `git version` is not at issue
        assert "▶ check: cockpit search 'pool exhausted'" in card_text(app)
        assert "[ ] mark one, y copies it" in card_text(app)
        await pilot.press("]")
        await pilot.pause()
        assert "▶ check: git show b9c1d4e -- pool.py" in card_text(app)
        assert "▶ check: cockpit search" not in card_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert app.clipboard == "git show b9c1d4e -- pool.py"
        await pilot.press("]", "]", "]")  # past the last command the mark stays on it
        await pilot.pause()
        assert "▶ containment: kubectl rollout undo" in card_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert app.clipboard == "kubectl rollout undo deployment/checkout --to-revision=38"
        await pilot.press("[")
        await pilot.pause()
        assert "▶ check: df -h" in card_text(app)
        later = Hypothesis(id="h-later", origin="model", claim="a second one", checks=["uptime"])
        app.post_message(RecordRequested("hypothesis.proposed", later.payload()))
        await settle(pilot)
        assert len(cards(app)) == 2, "the cards were not rebuilt"
        assert "▶ check: df -h" in card_text(app)  # the mark survived the rebuild
        assert "▶" not in card_text(app, 1)  # only the card under the cursor shows its mark
        await pilot.press("down")
        await pilot.pause()
        assert "▶ check: uptime" in card_text(app, 1) and "▶" not in card_text(app)
    # A message is seen once per hop as it bubbles up: count each one once.
    copies = list({id(m): m for m in messages if isinstance(m, CopyRequested)}.values())
    assert [(c.text, c.detail["kind"], c.detail["index"]) for c in copies] == [
        ("git show b9c1d4e -- pool.py", "check", 1),
        ("kubectl rollout undo deployment/checkout --to-revision=38", "containment", 3),
    ]
    assert all(c.purpose == AI_PURPOSE and c.detail["hypothesis"] == "h-seeded" for c in copies)
    recorded = [p["text"] for kind, _a, p in stored(config) if kind == "command.copied"]
    assert recorded == [c.text for c in copies]
    assert spawned == []


async def test_evidence_beyond_five_is_counted_and_listed_in_full(config: Config) -> None:
    from cockpit.tui.panes.hypothesis_dialogs import DetailScreen

    evidence = [f"log line {n}: pool exhausted" for n in range(1, 8)]
    evidence.append("log line 8: \x1b]52;c;cm0gLXJmIC8=\x07 [bold]run me[/]")
    seed_hypothesis(config, claim="pool exhausted since the deploy", evidence=evidence)
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        shown = card_text(app)
        assert shown.count("evidence: log line") == 5 and "log line 6" not in shown
        assert "+3 more evidence (e shows all)" in shown
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        full = str(app.screen.query_one("#hypothesis-detail-text", Static).render())
        assert all(f"log line {n}:" in full for n in range(1, 9)) and "more evidence" not in full
        assert "\x1b" not in full and "\\x1b]52" in full and "[bold]run me[/]" in full
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DetailScreen)


async def test_a_pinned_suspect_diff_is_evidence_for_a_verdict(
    config: Config, sandbox: SandboxInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import RichLog

    from cockpit.tui.panes.deploys import DeploysPane

    styles = data_dir("styles")
    sheets = ["cockpit.tcss", "deploys.tcss", "hypotheses.tcss"]
    monkeypatch.setattr(app_module.CockpitApp, "CSS_PATH", [styles / name for name in sheets])
    messages: list[Any] = []
    app = make_app(config, new_incident_title="Checkout 5xx")
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot, rounds=10)
        pane = app.query_one(DeploysPane)
        await pilot.press("s")
        await settle(pilot)
        assert pane.diff is not None and pane.diff.files
        await pilot.press("enter")  # the first file's diff on screen
        await settle(pilot)
        assert pane.query_one("#deploys-diff-view", RichLog).lines
        await pilot.press("p")
        await settle(pilot)
        pins = list({id(m): m for m in messages if isinstance(m, PinRequested)}.values())
        assert [p.source for p in pins] == ["diff"]
        diff = pane.diff
        assert f"{diff.base[:7]}..{diff.head[:7]}" in pins[0].text
        assert pins[0].detail["file"] == diff.files[0][1]
        await pilot.press("escape", "4", "h")  # back from the file's diff on the whole screen
        await settle(pilot, rounds=10)
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, JudgeScreen)
        evidence = app.screen.query_one(EvidencePicker)
        assert evidence.option_count == 1
        prompt = str(evidence.get_option_at_index(0).prompt)
        assert prompt.startswith(f"[ ] diff: {pins[0].text[:36]}") and diff.files[0][1] in prompt
        app.screen.query_one("#judge-note", Input).value = "the pool size change is in this diff"
        evidence.focus()
        await pilot.press("enter")  # Enter toggles the highlighted row too
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=8)
    verified = [p for kind, _a, p in stored(config) if kind == "hypothesis.verified"]
    assert len(verified) == 1
    (reference,) = verified[0]["evidence"]
    assert reference.startswith("pin diff by alice") and f"{diff.base[:7]}.." in reference


async def test_hypotheses_from_before_a_restart_are_counted_in_the_status(config: Config) -> None:
    """Opened on an incident that already has hypotheses, the status line says so (it used to
    say only "t runs triage", as if there were none)."""
    seed_hypothesis(config, claim="the checkout deploy shrank the connection pool")
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        status = str(app.query_one("#ai-status", Static).render())
        assert "on record (t runs triage again)" in status
        assert "1 hypothesis" in status and "UNVERIFIED" in status
