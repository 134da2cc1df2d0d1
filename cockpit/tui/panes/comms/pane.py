"""The comms drafter: facts with sources, a status update or email draft, lint, cadence, copy.

The cockpit drafts; a human edits and copies; nobody here publishes. Each copy goes up as a
`CopyRequested` with the lint findings in its detail, so the app records exactly one
`command.copied` event that carries them. Facts from logs are read in a thread worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import OptionList, Static, TextArea
from textual.worker import Worker, WorkerState

from cockpit.core.comms.cadence import Cadence, cadence, last_copy
from cockpit.core.comms.drafts import ai_rewrite_status, draft
from cockpit.core.comms.events import (
    AI_REWRITE_SHOWN,
    COMMS_KIND,
    DRAFT_EDITED,
    DRAFT_PURPOSES,
    ai_rewrite_payload,
    draft_edited_payload,
    saved_drafts,
)
from cockpit.core.comms.facts import (
    CommsFacts,
    LogFacts,
    log_window,
    promise_moved,
    read_log_facts,
)
from cockpit.core.comms.lint import Finding, LintContext, lint, people_names
from cockpit.core.config import Config
from cockpit.core.incident import IncidentState
from cockpit.core.review.events import (
    ACTION_ITEM_ADDED,
    action_item_payload,
    action_items,
    root_cause,
)
from cockpit.core.sanitize import visible
from cockpit.tui.messages import CopyRequested, RecordRequested
from cockpit.tui.panes.base import Pane
from cockpit.tui.panes.comms.dialogs import ActionItemInput, ActionItemScreen, ActionItemsScreen
from cockpit.tui.panes.comms.draft_editor import DraftEditor
from cockpit.tui.panes.comms.facts_list import RESET_WORD, FactsList
from cockpit.tui.panes.comms.keys import BINDINGS
from cockpit.tui.panes.comms.root_cause import RootCauseCheck
from cockpit.tui.panes.comms.views import cadence_text, diff_text, draft_title, lint_text

DRAFT_SAVE_SECONDS = 2.0
"""A pause in typing this long saves the draft's edit as an event (leaving the editor too)."""


class CommsPane(Pane):
    """Facts, a draft, its lint findings, the update cadence, and copy-only output."""

    PANE_TITLE = "Comms"
    HELP = f"""\
# Comms

Drafts customer comms from the **facts**; a human edits, copies and sends them.
The cockpit never publishes anything.

- **Facts**: each shows where it came from (logs, the timeline, or who edited it).
  Edit one (type `{RESET_WORD}` to go back to the derived value); the edit is recorded.
- **Draft**: a status-page update (2-3 sentences) or a customer email paragraph, from
  deterministic templates. The cause stays "under investigation" until Review.
  Edit it in place, or redraft from the facts.
- **Lint**: speculation about the cause, promises and ETAs, internal hosts, IPs, SHAs,
  internals, blame, secrets, missing start or next-update time. Copying is still allowed;
  the findings are recorded with the copy.
- **Cadence**: next update due every `[comms] cadence_minutes` (30) after the last copied
  update, until Monitoring. The countdown, the Next-update fact and the draft name the same
  time; within half a cadence of it, the draft is that update and promises the one after.
- **Root cause** (Review): in your words. Below the draft, a cross-check lists the
  recorded evidence that **supports** it (pins, verified hypotheses, the deploy list), what
  **contradicts** it (refuted hypotheses, notes that say otherwise) and what is **missing**.
  It is a keyword match, the same one the postmortem's evidence table uses: heuristic and
  UNVERIFIED. It follows new pins and verdicts as they arrive.
- **AI rewrite** (with `ANTHROPIC_API_KEY`): the model rewords the draft from the facts.
  The request is redacted first (nothing is sent if that fails); the result is marked
  UNVERIFIED, linted like any draft, and only ever copied by a human.
- **Action items** (text, owner, due date as YYYY-MM-DD or +3d / 1w) and the **postmortem**
  draft, written to `postmortem-<incident>.md` in the current folder.
"""

    BINDINGS: ClassVar[list[BindingType]] = BINDINGS

    @dataclass
    class LogFactsRead(Message):
        """The logs were read (in a worker) for the facts."""

        log_facts: LogFacts

    @dataclass
    class RewriteDone(Message):
        """The AI rewrite of the `purpose` draft came back (or failed with `error`)."""

        purpose: str
        text: str = ""
        error: str | None = None

    def __init__(
        self, config: Config, clock: Callable[[], datetime], *, id: str | None = None
    ) -> None:
        super().__init__(config, clock, id=id)
        self.log_facts: LogFacts | None = None
        self.facts: CommsFacts | None = None
        self.findings: list[Finding] = []
        self.export_dir = Path.cwd()
        """Where `p` writes the postmortem (tests point it elsewhere)."""
        self._cadence: Cadence | None = None
        self._logs_requested = False
        self._restored = False
        self._saved_drafts: dict[str, str] = {}
        """The draft edits on the timeline (what a restart brings back), per draft."""
        self._save_timer: Timer | None = None
        self._logs_read_resolved = False
        self._show_diff = False

    def compose(self) -> ComposeResult:
        # Not focusable itself: `5` lands on the facts, and Tab goes on to the draft.
        with VerticalScroll(id="comms-body", can_focus=False):
            yield Static(id="comms-cadence")
            yield FactsList(id="comms-facts")
            yield Static(id="comms-draft-title")
            yield DraftEditor(id="comms-draft")
            yield Static(id="comms-lint")
            yield Static(id="comms-diff")
            yield RootCauseCheck(self.config, id="comms-root-cause")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        if self.config.cockpit.refresh_seconds > 0:
            self.set_interval(self.config.cockpit.refresh_seconds, self._watch_for_recovery)
        self._refresh()

    def _watch_for_recovery(self) -> None:
        """Once contained and until resolved, read the logs again now and then: recovery (and
        the impact window it closes) comes from the data."""
        state = self.incident
        if (
            state is not None
            and state.contained is not None
            and state.resolved is None
            and self.config.sources
            and not (self.facts is not None and self.facts["recovered"].known)
        ):
            self._read_logs(state)

    @property
    def purpose(self) -> str:
        """The draft on screen: status update or customer email."""
        return self.query_one(DraftEditor).purpose

    # -- state --------------------------------------------------------------------------------

    def watch_incident(self) -> None:
        state = self.incident
        if state is not None and self.config.sources:
            # Read the logs once, and again once resolved: the window then has its end.
            resolved = state.resolved is not None
            if not self._logs_requested or (resolved and not self._logs_read_resolved):
                self._logs_requested = True
                self._logs_read_resolved = resolved
                self._read_logs(state)
        self._refresh()

    def _refresh(self) -> None:
        if not self.is_mounted:
            return
        state = self.incident
        if state is None:
            self.query_one("#comms-cadence", Static).update(Text("waiting for the incident…"))
            return
        now = self.clock()
        self.facts = CommsFacts.from_state(
            state, now=now, comms=self.config.comms, log_facts=self.log_facts
        )
        # The header counts down to the same time the Next-update fact and the draft name.
        self._cadence = cadence(
            state,
            self.facts.status,
            self.config.comms.cadence_minutes,
            now=now,
            promise=self.facts["next_update"].at,
        )
        self.query_one(FactsList).show(self.facts)
        editor = self.query_one(DraftEditor)
        if not self._restored:
            # Edits saved before a restart (or a crash) come back before anything is redrafted.
            self._restored = True
            self._saved_drafts = saved_drafts(state.events)
            editor.restore(self._saved_drafts)
        editor.redraft({purpose: draft(self.facts, purpose) for purpose in DRAFT_PURPOSES})
        self._show_title()
        self._lint()
        self.query_one(RootCauseCheck).follow(state)
        self._tick()
        self.refresh_bindings()

    def _lint_context(self) -> LintContext:
        assert self.facts is not None
        authors = [event.author for event in self.incident.events] if self.incident else []
        return LintContext.from_facts(
            self.facts, self.config.comms, people_names([*authors, self.config.author])
        )

    def _lint(self) -> None:
        if self.facts is None:
            return
        text = self.query_one("#comms-draft", TextArea).text
        self.findings = lint(text, self._lint_context())
        lint_view = self.query_one("#comms-lint", Static)
        lint_view.set_class(bool(self.findings), "-flagged")
        lint_view.update(lint_text(self.findings))
        self._show_title()
        self._show_diff_text()

    def _show_title(self) -> None:
        editor = self.query_one(DraftEditor)
        title = draft_title(
            self.purpose,
            edited=self.purpose in editor.edited,
            ai_rewritten=self.purpose in editor.ai_rewritten,
            ai_status=ai_rewrite_status(os.environ),
            findings=self.findings,
        )
        self.query_one("#comms-draft-title", Static).update(title)

    def _tick(self) -> None:
        if not self.is_mounted or self._cadence is None or self.facts is None:
            return
        now = self.clock()
        if self.incident is not None and promise_moved(
            self.incident, self.facts, now, self.config.comms.cadence_minutes
        ):
            self._refresh()  # the draft, the fact and the header move on together
            return
        view = self.query_one("#comms-cadence", Static)
        view.set_class(self._cadence.overdue(now), "-overdue")
        view.update(cadence_text(self.facts.status, self._cadence, now))

    def _show_diff_text(self) -> None:
        view = self.query_one("#comms-diff", Static)
        view.set_class(self._show_diff, "-shown")
        if not self._show_diff:
            return
        last = last_copy(self.incident, self.purpose) if self.incident else None
        text = self.query_one("#comms-draft", TextArea).text
        view.update(diff_text(last.text if last else None, text, self.purpose))

    @on(TextArea.Changed, "#comms-draft")
    def _draft_changed(self) -> None:
        # The editor has already noted whether the text is now a human's edit.
        self._show_title()
        self._lint()
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(DRAFT_SAVE_SECONDS, self.save_draft)

    @on(DraftEditor.Blurred)
    def _editor_left(self) -> None:
        self.save_draft()

    def save_draft(self) -> None:
        """Record the draft on screen if a human's edit of it is not on the timeline yet (an
        empty text when it went back to the one from the facts)."""
        self._save_timer = None
        editor = self.query_one(DraftEditor)
        purpose = editor.purpose
        text = editor.edited.get(purpose, "")
        if text == self._saved_drafts.get(purpose, ""):
            return
        if text:
            self._saved_drafts[purpose] = text
        else:
            self._saved_drafts.pop(purpose, None)
        self.post_message(
            RecordRequested(DRAFT_EDITED, draft_edited_payload(purpose, text), saved_message=None)
        )

    # -- logs ---------------------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="comms-logs",
        exit_on_error=False,
        description="Reading the logs for the comms facts",
    )
    def _read_logs(self, state: IncidentState) -> None:
        since, until = log_window(state, self.clock())
        self.post_message(self.LogFactsRead(read_log_facts(self.config, since, until)))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "comms-postmortem" and event.state == WorkerState.SUCCESS:
            self.notify(f"postmortem draft written to {event.worker.result}", timeout=8)
        elif event.worker.group == "comms-postmortem" and event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"postmortem NOT written: {error}", severity="error", timeout=10)
        elif event.state == WorkerState.ERROR and event.worker.group.startswith("comms-"):
            self.notify(
                f"comms: {event.worker.description} failed: {event.worker.error!r}",
                severity="error",
                timeout=10,
            )

    @on(LogFactsRead)
    def _log_facts_read(self, message: LogFactsRead) -> None:
        self.log_facts = message.log_facts
        if message.log_facts.notes:
            self.notify("comms facts: " + "; ".join(message.log_facts.notes), timeout=5)
        self._refresh()

    def action_read_logs(self) -> None:
        self.notify("reading the logs for the comms facts…", timeout=3)
        if self.incident is not None:
            self._read_logs(self.incident)

    # -- actions ------------------------------------------------------------------------------

    def action_edit_fact(self) -> None:
        self.query_one(FactsList).edit_highlighted()

    def set_fact(self, name: str, value: str) -> None:
        """Record a human edit of fact `name` (`auto` resets it)."""
        self.query_one(FactsList).set_fact(name, value)

    def action_toggle_draft(self) -> None:
        self.save_draft()
        self.query_one(DraftEditor).switch()
        self._refresh()

    def action_regenerate(self) -> None:
        self.query_one(DraftEditor).regenerate()
        self.save_draft()
        self._refresh()

    def action_toggle_diff(self) -> None:
        self._show_diff = not self._show_diff
        self._show_diff_text()

    def action_leave_editor(self) -> None:
        self.query_one("#comms-facts", OptionList).focus()

    def action_copy_draft(self) -> None:
        """Copy the draft as it stands, findings and all: the human decides."""
        if self.facts is None:
            return
        text = self.query_one("#comms-draft", TextArea).text.strip()
        if not text:
            self.notify("the draft is empty: nothing to copy", severity="warning")
            return
        findings = lint(text, self._lint_context())
        next_update = self.facts["next_update"].at
        detail = {
            "kind": COMMS_KIND,
            "lint": [finding.message for finding in findings],
            "next_update": next_update.isoformat() if next_update else None,
            "ai_rewrite": self.purpose in self.query_one(DraftEditor).ai_rewritten,
        }
        self.post_message(CopyRequested(text=text, purpose=self.purpose, detail=detail))
        self.query_one(DraftEditor).copied()
        self._saved_drafts.pop(self.purpose, None)  # the copy consumes the edit

    def action_ai_rewrite(self) -> None:
        """Ask the model to reword the draft, in a worker; the template stays until it answers."""
        if self.facts is None:
            return
        text = self.query_one("#comms-draft", TextArea).text.strip()
        facts = [f"{fact.label}: {fact.value}" for fact in self.facts if fact.known]
        self.notify("asking the model to reword the draft (redacted first)…", timeout=3)
        self._rewrite(text, self.purpose, facts)

    @work(exclusive=True, group="comms-rewrite", exit_on_error=False)
    async def _rewrite(self, text: str, purpose: str, facts: list[str]) -> None:
        from cockpit.core.comms.rewrite import RewriteError, rewrite_for_incident

        incident_id = self.incident.incident_id if self.incident else ""
        try:
            rewritten = await rewrite_for_incident(
                text, purpose, facts, config=self.config, incident_id=incident_id
            )
        except RewriteError as exc:
            self.post_message(self.RewriteDone(purpose, error=str(exc)))
            return
        self.post_message(self.RewriteDone(purpose, rewritten))

    @on(RewriteDone)
    def _rewrite_done(self, message: RewriteDone) -> None:
        if message.error:
            self.notify(visible(message.error, max_len=300), severity="error", timeout=8)
            return
        if message.purpose != self.purpose:
            self.action_toggle_draft()
        self.query_one(DraftEditor).rewritten(message.text)
        self._show_title()
        payload = ai_rewrite_payload(message.purpose)
        self.post_message(RecordRequested(AI_REWRITE_SHOWN, payload, saved_message=None))

    def action_state_root_cause(self) -> None:
        self.query_one(RootCauseCheck).ask_statement(self.incident)

    def action_show_root_cause_check(self) -> None:
        self.query_one(RootCauseCheck).show_full()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer what applies: copying needs a draft, the cross-check a stated cause, the AI
        rewrite a key, re-reading logs a source, Esc the draft editor (else it goes on)."""
        if action in ("copy_draft", "ai_rewrite") and self.facts is None:
            return None
        if action == "ai_rewrite":
            return True if os.environ.get("ANTHROPIC_API_KEY") else None
        if action == "read_logs":
            return True if self.config.sources else None
        if action == "show_root_cause_check":
            return True if self.incident and root_cause(self.incident.events) else None
        if action == "list_action_items":
            return True if self.incident and action_items(self.incident.events) else None
        if action == "leave_editor":
            return True if self.query_one(DraftEditor).has_focus else None
        if action == "write_postmortem":
            return True if self.incident is not None and self.facts is not None else None
        return True

    def action_list_action_items(self) -> None:
        if self.incident is not None:
            self.app.push_screen(ActionItemsScreen(action_items(self.incident.events)))

    def action_add_action_item(self) -> None:
        def save(item: ActionItemInput | None) -> None:
            if item is not None:
                self.post_message(
                    RecordRequested(
                        ACTION_ITEM_ADDED,
                        action_item_payload(item.text, item.owner, item.due),
                        "saved: action item",
                    )
                )

        self.app.push_screen(ActionItemScreen(self.clock().date()), save)

    def action_write_postmortem(self) -> None:
        if self.incident is None or self.facts is None:
            return
        from cockpit.core.review.postmortem import write_postmortem

        # The snapshot is immutable and facts are replaced, never changed: a worker may hold them.
        job = partial(write_postmortem, self.export_dir, self.incident, self.facts, self.clock())
        self.run_worker(
            job,
            thread=True,
            group="comms-postmortem",
            exit_on_error=False,
            description="Writing the postmortem draft",
        )
