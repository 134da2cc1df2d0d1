"""The hypothesis panel: AI and heuristic hypotheses, every one UNVERIFIED until a human acts.

`t` runs the triage (heuristics at once, then the model when a key is set), `h` the offline
heuristics alone. Hypotheses arrive as `hypothesis.proposed` events and are shown from the
event log, so a pairing partner sees them too. Only `v` / `x` here, with a note and pinned
evidence, mark one verified or refuted. Commands are inert text: `[` / `]` mark one of a
card's checks or its containment command, `y` copies the marked one and `c` the containment,
through the app's clipboard service, which checks and records them; nothing is ever executed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import ListView, Static
from textual.worker import Worker, WorkerState

from cockpit.core.ai.boundary import Boundary
from cockpit.core.ai.hypotheses import (
    PROPOSED,
    HypothesisView,
    judgement_payload,
    project,
)
from cockpit.core.sanitize import visible, visible_lines
from cockpit.tui.keys import key_for
from cockpit.tui.messages import CopyRequested, RecordRequested
from cockpit.tui.panes.base import Pane
from cockpit.tui.panes.hypothesis_cards import (
    HypothesisCard,
    card_commands,
    pin_reference,
    verdict_counts,
)
from cockpit.tui.panes.hypothesis_dialogs import DetailScreen, JudgeScreen, PreviewScreen

AI_PURPOSE = "AI-suggested command"
SAVED_MESSAGES: dict[str, str | None] = {
    PROPOSED: None,  # the cards show them; a toast per hypothesis would bury the screen
    "ai.tool_called": None,  # one per tool call: recorded quietly, the timeline shows them
    "ai.tool_refused": "saved: AI asked for an unknown tool; refused and recorded",
    "ai.run_finished": "saved: AI run recorded",
}
STREAM_KEEP = 4000
"""Characters of streamed model text kept on screen."""


class HypothesesPane(Pane):
    """Hypotheses from the model and the heuristics, each UNVERIFIED until a human says so."""

    PANE_TITLE = "Hypotheses"
    HELP = """\
# Hypotheses

Hypotheses about the cause, from the AI (read-only tools) or, offline, from labelled
heuristics. Every one is **UNVERIFIED** until a named human verifies or refutes it with a note
and pinned evidence. The AI cannot run anything and cannot mark anything verified.

**Triage** runs the heuristics at once, then the model if `ANTHROPIC_API_KEY` is set; the
preview shows exactly what would be sent (redacted). A card's commands (its checks, then its
containment) are inert text: mark one and copy it, or copy the containment directly. Copies
are recorded; nothing is ever executed. The details show a card in full: every piece of
evidence, every command, every human judgement.

Secrets are redacted before anything leaves the machine; if redaction fails, nothing is sent.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "t", "triage", "Triage", id="hypotheses-triage", tooltip="Run the read-only triage"
        ),
        Binding(
            "h",
            "heuristics",
            "Heuristics",
            id="hypotheses-heuristics",
            tooltip="Propose hypotheses from the data, offline",
            show=False,
        ),
        Binding(
            "r",
            "retry",
            "Retry",
            id="hypotheses-retry",
            tooltip="Retry the last AI run",
            show=False,
        ),
        Binding(
            "i",
            "preview",
            "Inspect request",
            id="hypotheses-preview",
            tooltip="Show exactly what would be sent to the API, redacted",
            show=False,
        ),
        Binding(
            "v",
            "verify",
            "Verify",
            id="hypotheses-verify",
            tooltip="Mark the selected hypothesis verified (note + evidence)",
        ),
        Binding(
            "x",
            "refute",
            "Refute",
            id="hypotheses-refute",
            tooltip="Mark the selected hypothesis refuted (note + evidence)",
        ),
        Binding(
            "c",
            "copy_containment",
            "Copy cmd",
            id="hypotheses-copy-containment",
            tooltip="Copy the containment command (never executed)",
        ),
        Binding(
            "y",
            "copy_marked",
            "Copy marked",
            id="hypotheses-copy-marked",
            tooltip="Copy the card's marked check or containment command (never executed)",
            show=False,
        ),
        Binding(
            "left_square_bracket",
            "mark_command(-1)",
            "Prev cmd",
            id="hypotheses-mark-previous",
            tooltip="Mark the card's previous command (Copy marked copies it)",
            key_display="[",
            show=False,
        ),
        Binding(
            "right_square_bracket",
            "mark_command(1)",
            "Next cmd",
            id="hypotheses-mark-next",
            tooltip="Mark the card's next command (Copy marked copies it)",
            key_display="]",
            show=False,
        ),
        Binding(
            "e,enter",
            "details",
            "Details",
            id="hypotheses-details",
            tooltip="Show the selected hypothesis in full: all evidence, commands, judgements",
            show=False,
        ),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._views: list[HypothesisView] = []
        self._shown: list[tuple[str, str]] = []
        self._marked: dict[str, int] = {}
        """The marked command of each card, by hypothesis id: kept when the cards are rebuilt."""
        self._stream = ""
        self._last_run: str | None = None
        self._boundary = Boundary()
        self._counts_prefix: str | None = None
        """What the status line counts hypotheses after (a run's end), or None."""
        """One boundary per pane session, so the preview shows the very markers a run uses."""

    def compose(self) -> ComposeResult:
        yield Static(Text(self._idle_status()), id="ai-status")
        with VerticalScroll(id="ai-output-scroll", can_focus=False):
            yield Static(Text(""), id="ai-output")
        yield ListView(id="hypothesis-cards")

    def _idle_status(self) -> str:
        from cockpit.core.ai.loop import api_key

        key = key_for(self.BINDINGS, "hypotheses-triage", self.config.keymap)
        if api_key() is None:
            return f"offline (no ANTHROPIC_API_KEY): {key} runs triage with heuristics"
        return f"AI ready ({self.config.ai.model}): {key} runs triage"

    # -- state -------------------------------------------------------------------------------

    def watch_incident(self) -> None:
        if self.incident is None or not self.is_mounted:
            return
        self._views = project(self.incident.events)
        shown = [(v.hypothesis.id, v.status.value) for v in self._views]
        if shown == self._shown:
            return
        self._shown = shown
        if self._counts_prefix is not None:
            self._show_counts(self._counts_prefix)
        elif self._last_run is None and self._views and self._status_is_idle():
            # Hypotheses from before a restart (or a partner's): say they are there.
            key = key_for(self.BINDINGS, "hypotheses-triage", self.config.keymap)
            self._show_counts(f"on record ({key} runs triage again)")
        self.refresh_bindings()
        cards = self.query_one("#hypothesis-cards", ListView)
        index = min(cards.index or 0, len(self._views) - 1)
        cards.clear()
        # The card keeping the cursor shows its mark at once: the index may not change, and
        # then no Highlighted message comes.
        cards.extend(
            HypothesisCard(view, self._marked.get(view.hypothesis.id, 0), active=n == index)
            for n, view in enumerate(self._views)
        )
        if self._views:
            cards.index = index

    @on(ListView.Highlighted, "#hypothesis-cards")
    def _card_highlighted(self) -> None:
        # By id, not by the event's item: during a rebuild that may be a card on its way out.
        view = self.selected()
        chosen = view.hypothesis.id if view else None
        for card in self.query(HypothesisCard):
            card.mark(card.marked, active=card.view.hypothesis.id == chosen)
        self.refresh_bindings()

    def selected(self) -> HypothesisView | None:
        cards = self.query_one("#hypothesis-cards", ListView)
        if cards.index is None or not 0 <= cards.index < len(self._views):
            return None
        return self._views[cards.index]

    def _status_is_idle(self) -> bool:
        return str(self.query_one("#ai-status", Static).render()) == self._idle_status()

    def _show_counts(self, prefix: str) -> None:
        """`heuristics only: 3 hypotheses: 1 verified, 2 UNVERIFIED`; kept up to date as
        verdicts arrive, so it never says "all UNVERIFIED" after a verification."""
        self.set_status(f"{prefix}: {verdict_counts(self._views)}")
        self._counts_prefix = prefix

    def set_status(self, text: str, *, error: bool = False) -> None:
        self._counts_prefix = None
        status = self.query_one("#ai-status", Static)
        status.update(Text(visible(text, 300)))
        status.set_class(error, "-error")

    def _append_stream(self, text: str) -> None:
        self._stream = (self._stream + text)[-STREAM_KEEP:]
        lines = visible_lines(self._stream, 400)
        self.query_one("#ai-output", Static).update(Text("\n".join(lines)))
        self.query_one("#ai-output-scroll", VerticalScroll).scroll_end(animate=False)

    # -- recording ---------------------------------------------------------------------------

    def _record(self, kind: str, payload: dict[str, Any]) -> None:
        """Where the AI side writes: the app records it (the core's sink has checked the kind)."""
        known = {v.hypothesis.id for v in self._views}
        if kind == PROPOSED and payload.get("id") in known:
            return
        said = SAVED_MESSAGES.get(kind, "saved")
        self.post_message(RecordRequested(kind, payload, said))

    def _events(self) -> list[Any]:
        return list(self.incident.events) if self.incident else []

    def _redactor(self) -> Any:
        """The incident's redactor, salted from the store: reads it, so call it in a thread."""
        from cockpit.core.ai.redact import incident_redactor

        return incident_redactor(self.config, self.incident.incident_id if self.incident else "")

    # -- actions -----------------------------------------------------------------------------

    def action_triage(self) -> None:
        self._last_run = "triage"
        self.refresh_bindings()
        self._run(ai=True)

    def action_heuristics(self) -> None:
        self._run(ai=False)

    def action_retry(self) -> None:
        self._run(ai=True)

    def _key(self, binding_id: str) -> str:
        """The key of one of this pane's bindings now (a `[keymap]` remap shows)."""
        return key_for(self.BINDINGS, binding_id, self.config.keymap, self.app.get_key_display)

    @work(exclusive=True, group="ai", exit_on_error=False, description="AI triage")
    async def _run(self, ai: bool) -> None:
        from cockpit.core.ai.heuristics import MAX_HYPOTHESES
        from cockpit.core.ai.loop import GuardedSink, api_key
        from cockpit.core.ai.triage import gather, run_ai

        self._stream = ""
        self._append_stream("")
        self.set_status("reading deploys and error patterns…")
        now = self.clock()
        report = await asyncio.to_thread(gather, self.config, now=now)
        sink = GuardedSink(self._record)
        for hypothesis in report.hypotheses[:MAX_HYPOTHESES]:
            sink(PROPOSED, hypothesis.payload())
        summary = report.lines()
        # The hypotheses themselves are the cards below; the log keeps the facts above them.
        cut = next((i for i, line in enumerate(summary) if line.startswith("Hypotheses")), 40)
        self._append_stream("\n".join(summary[:cut]).rstrip() + "\n")
        if not ai or api_key() is None:
            why = "heuristics only" if not ai else "offline (no ANTHROPIC_API_KEY): heuristics only"
            self._show_counts(why)
            return
        self.set_status(f"asking {self.config.ai.model} (read-only tools)…")
        outcome = await run_ai(
            report,
            self.config,
            record=self._record,
            store_reader=self._events,
            on_text=self._append_stream,
            redactor=await asyncio.to_thread(self._redactor),
            boundary=self._boundary,
            extra_context=self._incident_context(),
        )
        if outcome.status == "done":
            self._show_counts(
                f"model proposed {len(outcome.hypotheses)} after {outcome.tool_calls} tool calls"
            )
        else:
            suffix = (
                "" if "retry" in outcome.message else f" ({self._key('hypotheses-retry')} retries)"
            )
            self.set_status(outcome.message + suffix, error=outcome.status == "error")

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group in ("ai", "ai-preview") and event.state == WorkerState.ERROR:
            error = event.worker.error
            retry = self._key("hypotheses-retry")
            self.set_status(
                f"AI run failed: {type(error).__name__}: {error} ({retry} retries)", error=True
            )

    def action_preview(self) -> None:
        self._preview()

    @work(exclusive=True, group="ai-preview", exit_on_error=False, description="AI preview")
    async def _preview(self) -> None:
        """Build the first request exactly as `t` would send it, redacted, and show it."""
        from cockpit.core.ai.redact import RedactionError
        from cockpit.core.ai.triage import TRIAGE_PROMPT, ai_context, gather, triage_session

        self.set_status("building the request preview…")
        report = await asyncio.to_thread(gather, self.config, now=self.clock())
        try:
            session = triage_session(
                report,
                self.config,
                record=lambda kind, payload: None,
                redactor=await asyncio.to_thread(self._redactor),
                boundary=self._boundary,
            )
            text = session.preview(TRIAGE_PROMPT, ai_context(report, self._incident_context()))
        except RedactionError as exc:
            self.set_status(f"{exc}", error=True)
            return
        self.set_status("preview: this is what the first request would send (redacted)")
        header = "Exactly what the first request sends (redacted). Tool results follow later.\n\n"
        self.app.push_screen(PreviewScreen(header + text))

    def _incident_context(self) -> str:
        """The incident's own record for the model: title, phase and the pinned evidence."""
        if self.incident is None:
            return ""
        data = {
            "title": self.incident.title,
            "phase": str(self.incident.phase),
            "pins": [pin_reference(p) for p in self.incident.pins],
        }
        return "Incident record:\n" + json.dumps(data, indent=1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Card actions apply to the selected card and what it holds: no card, no verdict; no
        command on it, nothing to mark or copy. Retry needs an earlier run."""
        if action == "retry":
            return True if self._last_run is not None else None
        if action in ("verify", "refute", "details"):
            return True if self.selected() else None
        view = self.selected()
        commands = card_commands(view.hypothesis) if view else []
        if action == "copy_containment":
            return True if view and view.hypothesis.containment else None
        if action == "copy_marked":
            return True if commands else None
        if action == "mark_command" and parameters:
            marked = self._marked.get(view.hypothesis.id, 0) if view else 0
            step = int(str(parameters[0]))
            return True if commands and 0 <= marked + step < len(commands) else None
        return True

    def _judge(self, verified: bool) -> None:
        view = self.selected()
        if view is None:
            return
        pins = list(self.incident.pins) if self.incident else []
        verb = "verify" if verified else "refute"

        def save(result: tuple[str, list[str]] | None) -> None:
            if result is None:
                return
            note, evidence = result
            payload = judgement_payload(
                view.hypothesis.id, note, evidence, self.config.author, verified=verified
            )
            kind = "hypothesis.verified" if verified else "hypothesis.refuted"
            said = "verified" if verified else "refuted"
            self.post_message(RecordRequested(kind, payload, f"saved: hypothesis {said}"))

        self.app.push_screen(JudgeScreen(verb, view.hypothesis.claim, pins), save)

    def action_verify(self) -> None:
        self._judge(True)

    def action_refute(self) -> None:
        self._judge(False)

    def _copy(self, view: HypothesisView, index: int) -> None:
        """Hand command `index` of the card to the app's clipboard service; nothing runs it."""
        h = view.hypothesis
        kind, text = card_commands(h)[index]
        detail = {"hypothesis": h.id, "origin": h.origin, "kind": kind, "index": index}
        self.post_message(CopyRequested(text, AI_PURPOSE, detail))

    def action_copy_containment(self) -> None:
        view = self.selected()
        if view is not None and view.hypothesis.containment:
            self._copy(view, len(card_commands(view.hypothesis)) - 1)

    def action_copy_marked(self) -> None:
        view = self.selected()
        commands = card_commands(view.hypothesis) if view else []
        if view is not None and commands:
            marked = min(self._marked.get(view.hypothesis.id, 0), len(commands) - 1)
            self._copy(view, marked)

    def action_mark_command(self, step: int) -> None:
        """Move the card's command mark by `step` (stops at the first and the last)."""
        view = self.selected()
        commands = card_commands(view.hypothesis) if view else []
        if view is None or not commands:
            return
        hypothesis_id = view.hypothesis.id
        marked = max(0, min(self._marked.get(hypothesis_id, 0) + step, len(commands) - 1))
        self._marked[hypothesis_id] = marked
        card = self.query_one("#hypothesis-cards", ListView).highlighted_child
        if isinstance(card, HypothesisCard) and card.view.hypothesis.id == hypothesis_id:
            card.mark(marked)
        kind = commands[marked][0]
        self.set_status(f"marked {kind} ({marked + 1} of {len(commands)}) to copy")
        self.refresh_bindings()

    def action_details(self) -> None:
        view = self.selected()
        if view is not None:
            self.app.push_screen(DetailScreen(view, self._marked.get(view.hypothesis.id, 0)))

    @on(ListView.Selected, "#hypothesis-cards")
    def _card_selected(self) -> None:
        self.action_details()  # Enter opens the card in full
