"""The root-cause cross-check in the Comms pane: Supports, Contradicts, Missing, live, inert."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from cockpit.core.ai.hypotheses import Hypothesis, judgement_payload
from cockpit.core.config import load_config_file
from cockpit.core.incident import Kind
from cockpit.core.review.events import ROOT_CAUSE_STATED, root_cause_payload
from cockpit.tui.panes.comms import CommsPane
from cockpit.tui.panes.comms.root_cause import RootCauseCheckScreen
from tests.test_comms_pane import PaneApp, make_app
from tests.tui_support import settle

STATEMENT = "Upstream timeout calling payments: the checkout client timeout is too low"
SIGNATURE = "error checkout: upstream timeout calling payments after <n>ms"
HEADING = "Root cause cross-check (UNVERIFIED, heuristic)"


def block(app: PaneApp) -> Text:
    content = app.query_one("#comms-root-cause", Static).content
    assert isinstance(content, Text), "outside text must be shown as rich Text, never markup"
    return content


def sections(app: PaneApp) -> dict[str, list[str]]:
    """The block's lines under each heading ("Supports", "Contradicts", "Missing")."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in block(app).plain.splitlines():
        heading = line.split(" (", 1)[0]
        if heading in ("Supports", "Contradicts", "Missing") and line.endswith(")"):
            current = found.setdefault(heading, [])
        elif line.startswith((" + ", " - ", " ? ")):
            current.append(line[3:])
    return found


def append(app: PaneApp, kind: str, payload: dict[str, Any], author: str) -> None:
    """An event from anyone (a pairing partner included) lands in the store; the state follows."""
    app.store.append(app.incident_id, kind, payload, author)
    app.push_state()


def propose(app: PaneApp, hypothesis_id: str, claim: str) -> None:
    hypothesis = Hypothesis(id=hypothesis_id, origin="heuristic", claim=claim)
    append(app, "hypothesis.proposed", hypothesis.payload(), "cockpit")


def judge(app: PaneApp, hypothesis_id: str, by: str, note: str, *, verified: bool) -> None:
    payload = judgement_payload(hypothesis_id, note, ["pinned log"], by, verified=verified)
    kind = "hypothesis.verified" if verified else "hypothesis.refuted"
    append(app, kind, payload, by)


def pin_signature(app: PaneApp) -> None:
    detail = {"kind": "log signature", "count": 412, "new": True}
    append(app, Kind.PIN_ADDED, {"source": "logs", "text": SIGNATURE, "detail": detail}, "alice")


async def test_stating_the_root_cause_shows_supports_and_contradicts(tmp_path: Path) -> None:
    app = make_app(tmp_path, until="14:36:00")  # declared, no pins yet
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one("#comms-root-cause", Static)
        assert not view.display, "nothing to cross-check before a root cause is stated"
        pin_signature(app)
        propose(app, "h-1", "The checkout client timeout is below the payments latency upstream")
        judge(app, "h-1", "bob", "p99 of payments is 1.2s", verified=True)
        propose(app, "h-2", "Payments itself is slow: upstream timeout calling payments")
        judge(app, "h-2", "dave", "payments latency normal", verified=False)
        await settle(pilot)

        await pilot.press("s")
        await settle(pilot)
        await pilot.press(*STATEMENT, "enter")
        await settle(pilot)

        assert [record.kind for record in app.records] == [ROOT_CAUSE_STATED]
        assert view.display
        assert block(app).plain.startswith(HEADING)
        found = sections(app)
        assert (
            f"pin (logs, log signature) by alice 14:42Z: {SIGNATURE} [shares 'calling',"
            " 'checkout', 'payments', 'timeout', 'upstream']" in found["Supports"]
        )
        assert any(
            line.startswith("hypothesis verified by bob: The checkout client timeout")
            for line in found["Supports"]
        )
        assert any(
            line.startswith("hypothesis refuted by dave: Payments itself is slow")
            for line in found["Contradicts"]
        )
        assert not any("no pinned evidence" in line for line in found["Missing"])
        # At 80x24 the pane scrolled to the block that just appeared.
        body = app.query_one("#comms-body", VerticalScroll)
        assert body.scroll_y > 0
        assert view.region.y < body.region.bottom and view.region.bottom > body.region.y


async def test_missing_says_no_pins_and_the_block_follows_new_evidence(tmp_path: Path) -> None:
    app = make_app(tmp_path, until="14:36:00")
    async with app.run_test(size=(80, 24)) as pilot:
        append(app, ROOT_CAUSE_STATED, root_cause_payload(STATEMENT), "alice")
        propose(app, "h-1", "The checkout client timeout is below the payments latency upstream")
        await settle(pilot)
        found = sections(app)
        assert found["Supports"] == []
        assert "no pinned evidence (log lines, deploys, diffs) on the timeline" in found["Missing"]
        assert "no hypothesis has been verified by a human" in found["Missing"]
        assert any("matching hypothesis is still UNVERIFIED" in m for m in found["Missing"])
        assert "UNVERIFIED" in block(app).plain.splitlines()[0]

        # A pairing partner pins the signature and verifies the hypothesis: no key pressed here.
        pin_signature(app)
        judge(app, "h-1", "bob", "p99 of payments is 1.2s", verified=True)
        await settle(pilot)
        found = sections(app)
        assert len(found["Supports"]) == 2
        assert not any("no pinned evidence" in m for m in found["Missing"])
        assert not any("still UNVERIFIED" in m for m in found["Missing"])
        assert not any("no hypothesis has been verified" in m for m in found["Missing"])


async def test_restating_the_root_cause_checks_the_new_words(tmp_path: Path) -> None:
    app = make_app(tmp_path, until="14:36:00")
    async with app.run_test(size=(80, 24)) as pilot:
        pin_signature(app)
        append(
            app, ROOT_CAUSE_STATED, root_cause_payload("Inventory database ran out of disk"), "a"
        )
        await settle(pilot)
        assert sections(app)["Supports"] == []
        assert any(
            line.startswith("no recorded evidence supports: Inventory database ran out of disk")
            for line in sections(app)["Missing"]
        )
        append(app, ROOT_CAUSE_STATED, root_cause_payload(STATEMENT), "alice")
        await settle(pilot)
        assert len(sections(app)["Supports"]) == 1
        assert STATEMENT in block(app).plain


async def test_named_deploys_are_looked_up_in_the_deploy_list(tmp_path: Path) -> None:
    records = [
        {"time": "2026-11-28T14:29:00Z", "service": "checkout", "sha": "3f9e2ab" + "0" * 33},
        {"time": "2026-11-27T10:00:00Z", "service": "checkout", "sha": "b9c1d4e" + "0" * 33},
    ]
    (tmp_path / "deploys.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "cockpit.toml").write_text(
        '[[services]]\nname = "checkout"\n\n[services.deploys]\ndeploy_log = "deploys.jsonl"\n'
    )
    config = load_config_file(tmp_path / "cockpit.toml")
    app = make_app(tmp_path, until="14:36:00", config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        statement = "Deploy 3f9e2ab of checkout, not 9d8c7b6, lowered the client timeout"
        append(app, ROOT_CAUSE_STATED, root_cause_payload(statement), "alice")
        await settle(pilot)  # the deploy list is read in a worker
        found = sections(app)
        assert any(line.startswith("deploy list: checkout 3f9e2ab") for line in found["Supports"])
        assert any(
            line.startswith("9d8c7b6 is not in the deploy list") for line in found["Missing"]
        )
        assert (
            "nothing on the timeline mentions 3f9e2ab: pin the deploy or its diff"
            in (found["Missing"])
        )
        assert "deploy list: 2 deploys read (local sources)" in block(app).plain


async def test_a_hostile_root_cause_is_shown_inert(tmp_path: Path) -> None:
    app = make_app(tmp_path, until="14:36:00")
    hostile = "\x1b[2J\x1b]52;c;aGk=\x07[@click=app.quit]quit[/] [b]loud[/b] pool"
    async with app.run_test(size=(80, 24)) as pilot:
        append(app, ROOT_CAUSE_STATED, root_cause_payload(hostile), "mallory\x1b[31m")
        await settle(pilot)
        shown = block(app)
        assert "\x1b" not in shown.plain and "\x07" not in shown.plain
        assert "\\x1b[2J" in shown.plain
        assert "[@click=app.quit]quit[/] [b]loud[/b]" in shown.plain
        assert "mallory\\x1b[31m" in shown.plain
        assert not any(span.style and "@click" in str(span.style) for span in shown.spans)
        await pilot.click("#comms-root-cause")
        await settle(pilot)
        assert app.is_running


async def test_x_opens_the_check_in_full_and_it_follows_new_evidence(tmp_path: Path) -> None:
    app = make_app(tmp_path, until="14:36:00")
    async with app.run_test(size=(80, 24)) as pilot:
        # Nothing stated yet: the cross-check is not offered (dimmed), not a "press r first".
        assert app.query_one(CommsPane).check_action("show_root_cause_check", ()) is None
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(app.screen, RootCauseCheckScreen)

        append(app, ROOT_CAUSE_STATED, root_cause_payload(STATEMENT), "alice")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RootCauseCheckScreen)
        assert screen.text.plain.startswith(HEADING)
        assert "Supports (0)" in screen.text.plain
        pin_signature(app)  # a partner pins while the full view is open
        await settle(pilot)
        assert "Supports (1)" in screen.text.plain
        shown = screen.query_one("#root-cause-check-text", Static).content
        assert isinstance(shown, Text) and "Supports (1)" in shown.plain
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, RootCauseCheckScreen)
