"""The comms drafter: facts with sources, a status update or email draft, lint, cadence, copy.

The cockpit drafts; a human edits and copies; nobody here publishes. Each copy goes up as a
`CopyRequested` with the lint findings in its detail, so the app records exactly one
`command.copied` event that carries them. Facts from logs are read in a thread worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from cockpit.core.ai.crosscheck import CrossCheck, crosscheck, local_deploys
from cockpit.core.comms.cadence import Cadence, cadence, diff_against_last, last_copy
from cockpit.core.comms.drafts import ai_rewrite_status, draft
from cockpit.core.comms.events import (
    ACTION_ITEM_ADDED,
    COMMS_KIND,
    CUSTOMER_EMAIL,
    DRAFT_PURPOSES,
    FACT_SET,
    ROOT_CAUSE_STATED,
    STATUS_UPDATE,
    RootCause,
    action_item_payload,
    fact_set_payload,
    parse_due,
    root_cause,
    root_cause_payload,
)
from cockpit.core.comms.facts import (
    CommsFacts,
    CommsStatus,
    LogFacts,
    log_window,
    read_log_facts,
    update_times,
)
from cockpit.core.comms.lint import Finding, LintContext, lint, people_names
from cockpit.core.config import Config
from cockpit.core.deploys.model import Deploy
from cockpit.core.incident import IncidentState
from cockpit.core.sanitize import visible
from cockpit.core.store import Event
from cockpit.tui.messages import CopyRequested, RecordRequested
from cockpit.tui.panes.base import Pane
from cockpit.tui.screens import TextPromptScreen

LABEL_WIDTH = 13
RESET_WORD = "auto"
"""Typed as a fact's new value, it drops the human edit and goes back to the derived value."""


@dataclass(frozen=True)
class ActionItemInput:
    """What the action item dialog returns."""

    text: str
    owner: str
    due: str


class ActionItemScreen(ModalScreen[ActionItemInput | None]):
    """Three fields: the action, its owner, its due date (checked before saving)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "cancel", "Cancel", id="action-item-cancel", tooltip="Close without saving"
        ),
    ]
    AUTO_FOCUS = "#action-item-text"

    def __init__(self, today: date) -> None:
        super().__init__()
        self.today = today
        """Relative due dates (`+3d`, `1w`) count from this day."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Add an action item to the postmortem")
            yield Input(placeholder="what will be done", id="action-item-text")
            yield Input(placeholder="owner (a person or team)", id="action-item-owner")
            yield Input(
                placeholder="due date: YYYY-MM-DD, or +3d / 1w from today", id="action-item-due"
            )
            yield Label("", id="action-item-error")
            yield Label(
                "Enter moves on; Enter on the due date saves. Esc cancels.", classes="dialog-hint"
            )

    @on(Input.Submitted, "#action-item-text")
    def _text_done(self) -> None:
        self.query_one("#action-item-owner", Input).focus()

    @on(Input.Submitted, "#action-item-owner")
    def _owner_done(self) -> None:
        self.query_one("#action-item-due", Input).focus()

    @on(Input.Submitted, "#action-item-due")
    def _save(self) -> None:
        text = self.query_one("#action-item-text", Input).value.strip()
        owner = self.query_one("#action-item-owner", Input).value.strip()
        if not text:
            self._refuse("action-item-text", "say what will be done")
            return
        if not owner:
            self._refuse("action-item-owner", "owner is required: a person or a team")
            return
        try:
            due = parse_due(self.query_one("#action-item-due", Input).value, self.today)
        except ValueError as exc:
            self._refuse("action-item-due", str(exc))
            return
        self.dismiss(ActionItemInput(text, owner, due.isoformat()))

    def _refuse(self, field: str, message: str) -> None:
        """One line under the fields says what is wrong; the cursor goes to that field."""
        error = self.query_one("#action-item-error", Label)
        error.update(Text(visible(message, max_len=120)))
        error.add_class("-shown")
        self.query_one(f"#{field}", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


class RootCauseCheckScreen(ModalScreen[None]):
    """The root-cause cross-check in full, scrollable; it follows new evidence while open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,x,q",
            "close",
            "Close",
            id="root-cause-check-close",
            tooltip="Close the cross-check",
        ),
    ]
    AUTO_FOCUS = "#root-cause-check-body"

    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="root-cause-check-body", classes="dialog help"):
            yield Static(self.text, id="root-cause-check-text")
            yield Label("↑ ↓ PgUp PgDn scroll · Esc closes", classes="dialog-hint")

    def show(self, text: Text) -> None:
        """Redraw with the latest cross-check (a pin or a verdict arrived)."""
        self.text = text
        self.query_one("#root-cause-check-text", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)


class CommsPane(Pane):
    """Facts, a draft, its lint findings, the update cadence, and copy-only output."""

    PANE_TITLE = "Comms"
    HELP = f"""\
# Comms

Drafts customer comms from the **facts**; a human edits, copies and sends them.
The cockpit never publishes anything.

- **Facts**: each shows where it came from (logs, the timeline, or who edited it).
  Select one and press `enter` to edit it (type `{RESET_WORD}` to go back to the derived value).
- **Draft**: a status-page update (2-3 sentences) or a customer email paragraph, from
  deterministic templates. The cause stays "under investigation" until Review.
  Edit it in place; `g` redrafts from the facts.
- **Lint**: speculation about the cause, promises and ETAs, internal hosts, IPs, SHAs,
  internals, blame, secrets, missing start or next-update time. Copying is still allowed;
  the findings are recorded with the copy.
- **Cadence**: next update due every `[comms] cadence_minutes` (30) after the last copied
  update, until Monitoring. The countdown, the Next-update fact and the draft name the same
  time; within half a cadence of it, the draft is that update and promises the one after.
- **Root cause** (`r`, in Review): in your words. Below the draft, a cross-check lists the
  recorded evidence that **supports** it (pins, verified hypotheses, the deploy list), what
  **contradicts** it (refuted hypotheses, notes that say otherwise) and what is **missing**.
  It is a keyword match, the same one the postmortem's evidence table uses: heuristic and
  UNVERIFIED. It follows new pins and verdicts as they arrive.
- **AI rewrite** (`w`, with `ANTHROPIC_API_KEY`): the model rewords the draft from the facts.
  The request is redacted first (nothing is sent if that fails); the result is marked
  UNVERIFIED, linted like any draft, and only ever copied by a human.

| Key | Action |
| --- | --- |
| `enter` / `e` | edit the highlighted fact |
| `t` | switch between status update and customer email |
| `c` | copy the draft (recorded with its lint findings; never sent) |
| `w` | AI rewrite of the draft (needs `ANTHROPIC_API_KEY`; redacted; UNVERIFIED) |
| `g` | redraft from the facts, dropping your edits |
| `D` | show / hide the diff against the last copied update |
| `r` | state the root cause (Review); the cross-check appears under the draft |
| `x` | open the root-cause cross-check in full (scrollable; follows new evidence) |
| `a` | add an action item (text, owner, due date as YYYY-MM-DD or +3d / 1w) |
| `p` | write the postmortem draft to `postmortem-<incident>.md` in the current folder |
| `L` | read the logs again for the start time and share of requests |
| `escape` | leave the draft editor |
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "e",
            "edit_fact",
            "Edit fact",
            id="comms-edit-fact",
            show=False,
            tooltip="Edit the highlighted fact (recorded with your name)",
        ),
        Binding(
            "t",
            "toggle_draft",
            "Update/email",
            id="comms-toggle-draft",
            tooltip="Switch between the status update and the customer email",
        ),
        Binding(
            "c",
            "copy_draft",
            "Copy draft",
            id="comms-copy",
            tooltip="Copy the draft to the clipboard; recorded with its lint findings",
        ),
        Binding(
            "w",
            "ai_rewrite",
            "AI rewrite",
            id="comms-ai-rewrite",
            show=False,
            tooltip="Ask the model to reword the draft (redacted; the result is UNVERIFIED)",
        ),
        Binding(
            "g",
            "regenerate",
            "Redraft",
            id="comms-regenerate",
            show=False,
            tooltip="Redraft from the facts, dropping edits to the draft",
        ),
        Binding(
            "D",
            "toggle_diff",
            "Diff",
            id="comms-diff",
            show=False,
            tooltip="Show the diff against the last copied status update",
        ),
        Binding(
            "r",
            "state_root_cause",
            "Root cause",
            id="comms-root-cause",
            show=False,
            tooltip="State the root cause in your words; cross-checked (UNVERIFIED, heuristic)",
        ),
        Binding(
            "x",
            "show_root_cause_check",
            "Cross-check",
            id="comms-root-cause-check",
            show=False,
            tooltip="Open the root-cause cross-check in full (UNVERIFIED, heuristic)",
        ),
        Binding(
            "a",
            "add_action_item",
            "Action item",
            id="comms-action-item",
            show=False,
            tooltip="Add an action item with owner and due date",
        ),
        Binding(
            "p",
            "write_postmortem",
            "Postmortem",
            id="comms-postmortem",
            tooltip="Write the postmortem draft to a Markdown file",
        ),
        Binding(
            "L",
            "read_logs",
            "Read logs",
            id="comms-read-logs",
            show=False,
            tooltip="Read the logs again for the start time and share of requests",
        ),
        Binding(
            "escape",
            "leave_editor",
            "Leave editor",
            id="comms-leave-editor",
            show=False,
            tooltip="Move focus from the draft back to the facts",
        ),
    ]

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

    @dataclass
    class PostmortemWritten(Message):
        """The postmortem draft was written to `path` (or failed with `error`)."""

        path: Path
        error: str | None = None

    @dataclass
    class RootCauseChecked(Message):
        """The root cause `statement` was cross-checked (in a worker) from the inputs `key`."""

        key: tuple[str, int, int]
        statement: str
        text: Text

    @dataclass
    class RootCauseDeploysRead(Message):
        """The deploy list was read (in a worker) to cross-check the root cause `statement`."""

        statement: str
        deploys: list[Deploy]
        notes: list[str]

    def __init__(
        self, config: Config, clock: Callable[[], datetime], *, id: str | None = None
    ) -> None:
        super().__init__(config, clock, id=id)
        self.purpose = STATUS_UPDATE
        self.log_facts: LogFacts | None = None
        self.facts: CommsFacts | None = None
        self.findings: list[Finding] = []
        self.export_dir = Path.cwd()
        """Where `p` writes the postmortem (tests point it elsewhere)."""
        self._generated: dict[str, str] = {}
        self._edited: dict[str, str] = {}
        """Human edits of each draft, kept until `g` or a copy."""
        self._ai_rewritten: set[str] = set()
        """Drafts whose current text came from the AI rewrite (UNVERIFIED until copied)."""
        self._baseline: dict[str, str] = {}
        """The text last put into the editor per draft; anything else was typed by a human."""
        self._cadence: Cadence | None = None
        self._logs_requested = False
        self._logs_read_resolved = False
        self._show_diff = False
        self._deploys: list[Deploy] | None = None
        """The deploy list for the root-cause cross-check; None until read (in a worker)."""
        self._deploys_read_for: str | None = None
        """The root cause the deploys were last read for: a restatement reads them again."""
        self._deploy_notes: list[str] = []
        self._root_cause_wanted: tuple[str, int, int] | None = None
        """What the cross-check is drawn from (statement, last event, deploys read)."""
        self._root_cause_shown: str | None = None
        """The statement whose cross-check is on screen."""
        self._root_cause_drawn = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="comms-body"):
            yield Static(id="comms-cadence")
            yield OptionList(id="comms-facts")
            yield Static(id="comms-draft-title")
            yield TextArea(
                id="comms-draft",
                soft_wrap=True,
                tab_behavior="focus",
                show_line_numbers=False,
                compact=True,
            )
            yield Static(id="comms-lint")
            yield Static(id="comms-diff")
            yield Static(id="comms-root-cause")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self._refresh()

    # -- state --------------------------------------------------------------------------------

    def watch_incident(self) -> None:
        state = self.incident
        if state is not None and self.config.sources:
            # Read the logs once, and again once resolved: the window then has its end.
            resolved = state.resolved is not None
            if not self._logs_requested or (resolved and not self._logs_read_resolved):
                self._logs_requested = True
                self._logs_read_resolved = resolved
                self._read_logs()
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
        self._show_facts()
        for purpose in DRAFT_PURPOSES:
            self._generated[purpose] = draft(self.facts, purpose)
        area = self.query_one("#comms-draft", TextArea)
        baseline = self._baseline.get(self.purpose)
        if baseline is not None and area.text != baseline:
            # Typed but not yet seen by `_draft_changed`: never overwrite a human's words.
            self._edited[self.purpose] = area.text
        generated = self._generated[self.purpose]
        if self.purpose not in self._edited and area.text != generated:
            self._load(generated)
        self._show_title()
        self._lint()
        self._show_root_cause()
        self._tick()

    def _load(self, text: str, baseline: str | None = None) -> None:
        """Show `text` in the editor; differing from `baseline` later means a human edited it."""
        self._baseline[self.purpose] = text if baseline is None else baseline
        self.query_one("#comms-draft", TextArea).load_text(text)

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
        if not self.findings:
            lint_view.update(Text("lint: clean"))
        else:
            shown = Text(f"lint: {len(self.findings)} finding(s); copy is allowed and records them")
            for finding in self.findings:
                shown.append("\n ! ")
                shown.append(visible(finding.message, max_len=300))
            lint_view.update(shown)
        self._show_diff_text()

    def _show_facts(self) -> None:
        assert self.facts is not None
        facts_list = self.query_one("#comms-facts", OptionList)
        highlighted = facts_list.highlighted
        facts_list.clear_options()
        for fact in self.facts:
            row = Text(f"{fact.label:<{LABEL_WIDTH}} ", style="bold")
            row.append(
                visible(fact.value, max_len=120) if fact.known else "?",
                style="" if fact.known else "dim italic",
            )
            row.append(f"  {visible(fact.source, max_len=200)}", style="dim")
            facts_list.add_option(Option(row, id=f"fact-{fact.name}"))
        facts_list.highlighted = highlighted if highlighted is not None else 0

    def _show_title(self) -> None:
        other = "email" if self.purpose == STATUS_UPDATE else "status update"
        edited = " (edited)" if self.purpose in self._edited else ""
        if self.purpose in self._ai_rewritten:
            edited = " (AI rewrite, UNVERIFIED: read every word)"
        title = Text(f"{self.purpose.capitalize()}{edited}", style="bold")
        title.append(f" · t: {other} · {ai_rewrite_status(os.environ)}", style="dim")
        self.query_one("#comms-draft-title", Static).update(title)

    def _tick(self) -> None:
        if not self.is_mounted or self._cadence is None or self.facts is None:
            return
        now = self.clock()
        if self._promise_moved(now):
            self._refresh()  # the draft, the fact and the header move on together
            return
        line = Text(f"{self.facts.status.value}", style="bold")
        line.append(" · ")
        line.append(
            self._cadence.countdown(now), style="bold" if self._cadence.overdue(now) else ""
        )
        view = self.query_one("#comms-cadence", Static)
        view.set_class(self._cadence.overdue(now), "-overdue")
        view.update(line)

    def _promise_moved(self, now: datetime) -> bool:
        """True when a draft written now would promise another next-update time (the due
        time came within half a cadence), unless a human set that time."""
        if self.incident is None or self.facts is None or self.facts["next_update"].edited:
            return False
        times = update_times(
            self.incident, self.facts.status, now, self.config.comms.cadence_minutes
        )
        return times.promise != self.facts["next_update"].at

    def _show_diff_text(self) -> None:
        view = self.query_one("#comms-diff", Static)
        view.set_class(self._show_diff, "-shown")
        if not self._show_diff:
            return
        last = last_copy(self.incident, self.purpose) if self.incident else None
        text = self.query_one("#comms-draft", TextArea).text
        lines = diff_against_last(last.text if last else None, text, self.purpose).splitlines()
        view.update(Text("\n".join(visible(line, max_len=500) for line in lines)))

    @on(TextArea.Changed, "#comms-draft")
    def _draft_changed(self) -> None:
        text = self.query_one("#comms-draft", TextArea).text
        if text == self._baseline.get(self.purpose):
            self._edited.pop(self.purpose, None)
        else:
            self._edited[self.purpose] = text
        self._show_title()
        self._lint()

    # -- logs ---------------------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="comms-logs",
        exit_on_error=False,
        description="Reading the logs for the comms facts",
    )
    def _read_logs(self) -> None:
        state = self.incident
        if state is None:
            return
        since, until = log_window(state, self.clock())
        self.post_message(self.LogFactsRead(read_log_facts(self.config, since, until)))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group.startswith("comms-"):
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
        if not self.config.sources:
            self.notify("no log sources configured: facts come from the timeline and your edits")
            return
        self.notify("reading the logs for the comms facts…", timeout=3)
        self._read_logs()

    # -- actions ------------------------------------------------------------------------------

    def _highlighted_fact(self) -> str | None:
        facts_list = self.query_one("#comms-facts", OptionList)
        index = facts_list.highlighted
        if index is None or self.facts is None:
            return None
        option_id = facts_list.get_option_at_index(index).id or ""
        return option_id.removeprefix("fact-") or None

    @on(OptionList.OptionSelected, "#comms-facts")
    def _fact_selected(self) -> None:
        self.action_edit_fact()

    def action_edit_fact(self) -> None:
        name = self._highlighted_fact()
        if name is None or self.facts is None:
            return
        fact = self.facts[name]
        hint = f"now: {fact.value or 'unknown'}; '{RESET_WORD}' resets"
        if name == "status":
            hint = " / ".join(status.value for status in CommsStatus) + f"; '{RESET_WORD}' resets"

        def save(value: str | None) -> None:
            if value is not None:
                self.set_fact(name, value)

        self.app.push_screen(TextPromptScreen(f"Edit the fact '{fact.label}'", hint), save)

    def set_fact(self, name: str, value: str) -> None:
        """Record a human edit of fact `name` (`auto` resets it)."""
        if self.facts is None:
            return
        value = value.strip()
        if value.lower() == RESET_WORD:
            value = ""
        if (
            name == "status"
            and value
            and value.lower() not in {status.value.lower() for status in CommsStatus}
        ):
            self.notify(
                f"not a status: {visible(value, 40)} (Investigating, Identified,"
                " Monitoring or Resolved)",
                severity="error",
            )
            return
        self.post_message(
            RecordRequested(
                FACT_SET,
                fact_set_payload(name, self.facts[name].label, value),
                saved_message=f"saved: fact '{self.facts[name].label}'",
            )
        )

    def action_toggle_draft(self) -> None:
        self.purpose = CUSTOMER_EMAIL if self.purpose == STATUS_UPDATE else STATUS_UPDATE
        generated = self._generated.get(self.purpose, "")
        self._load(self._edited.get(self.purpose, generated), generated)
        self._refresh()

    def action_regenerate(self) -> None:
        self._edited.pop(self.purpose, None)
        self._ai_rewritten.discard(self.purpose)
        self._load(self._generated.get(self.purpose, ""))
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
            "ai_rewrite": self.purpose in self._ai_rewritten,
        }
        self.post_message(CopyRequested(text=text, purpose=self.purpose, detail=detail))
        # The edits were for this copy: the next facts redraft it.
        self._edited.pop(self.purpose, None)
        self._ai_rewritten.discard(self.purpose)
        self._baseline[self.purpose] = self.query_one("#comms-draft", TextArea).text

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
        import asyncio

        from cockpit.core.ai.redact import RedactionError, incident_redactor
        from cockpit.core.comms.rewrite import RewriteError, rewrite_draft

        incident_id = self.incident.incident_id if self.incident else ""
        try:
            # Salted from the store, so the read happens off the event loop.
            redactor = await asyncio.to_thread(incident_redactor, self.config, incident_id)
        except RedactionError as exc:
            self.post_message(self.RewriteDone(purpose, error=str(exc)))
            return
        try:
            rewritten = await rewrite_draft(
                text, purpose, facts, config=self.config, redactor=redactor
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
        self._ai_rewritten.add(message.purpose)
        self._edited[message.purpose] = message.text
        self._load(message.text, self._generated.get(message.purpose, ""))
        self._show_title()
        self.post_message(
            RecordRequested(
                "comms.ai_rewrite",
                {
                    "summary": f"AI rewrite of the {message.purpose} shown (UNVERIFIED)",
                    "purpose": message.purpose,
                },
                saved_message=None,
            )
        )

    def action_state_root_cause(self) -> None:
        current = root_cause(self.incident.events) if self.incident else None
        hint = "in your words; checked against the evidence (UNVERIFIED)"
        if current is not None:
            hint = f"now: {visible(current.text, 60)}"

        def save(text: str | None) -> None:
            if text:
                self.post_message(
                    RecordRequested(
                        ROOT_CAUSE_STATED, root_cause_payload(text), "saved: root cause"
                    )
                )

        self.app.push_screen(TextPromptScreen("State the root cause", hint), save)

    def _show_root_cause(self) -> None:
        """Ask for the stated root cause's cross-check (UNVERIFIED, heuristic) when its inputs
        changed: the statement, the events (a pin, a verdict, from anyone) or the deploy list.

        The check itself runs in a thread worker (it reads every piece of evidence); the deploy
        list is read in another and joins when it arrives.
        """
        state = self.incident
        view = self.query_one("#comms-root-cause", Static)
        stated = root_cause(state.events) if state is not None else None
        view.set_class(stated is not None, "-shown")
        if state is None or stated is None:
            self._root_cause_wanted = self._root_cause_shown = None
            self._root_cause_drawn = state is not None
            return
        if self.config.services and self._deploys_read_for != stated.text:
            self._deploys_read_for = stated.text
            self._read_deploys(stated.text, state.opened_at or stated.at)
        key = (stated.text, state.last_seq, -1 if self._deploys is None else len(self._deploys))
        if key == self._root_cause_wanted:
            return
        self._root_cause_wanted = key
        if self._root_cause_shown is None:
            view.update(Text("Root cause cross-check: checking the evidence…", style="dim"))
        self._check_root_cause(key, state.events[:], self._deploys, self._deploys_status())

    @work(
        thread=True,
        exclusive=True,
        group="comms-root-cause-check",
        exit_on_error=False,
        description="Cross-checking the root cause against the evidence",
    )
    def _check_root_cause(
        self,
        key: tuple[str, int, int],
        events: list[Event],
        deploys: list[Deploy] | None,
        deploys_status: str,
    ) -> None:
        # A state of its own: the app keeps applying new events to the shared one.
        state = IncidentState.from_events(events)
        stated = root_cause(events)
        if stated is None:
            return
        check = crosscheck(stated.text, state, deploys=deploys)
        self.post_message(
            self.RootCauseChecked(key, stated.text, root_cause_text(stated, check, deploys_status))
        )

    @on(RootCauseChecked)
    def _root_cause_checked(self, message: RootCauseChecked) -> None:
        if message.key != self._root_cause_wanted:
            return  # older than the evidence on screen's inputs: a newer check is coming
        view = self.query_one("#comms-root-cause", Static)
        view.update(message.text)
        if isinstance(self.app.screen, RootCauseCheckScreen):
            self.app.screen.show(message.text)
        restated = message.statement != self._root_cause_shown
        self._root_cause_shown = message.statement
        if restated and self._root_cause_drawn:
            # Just stated here or by a partner: bring the check into view.
            self.call_after_refresh(view.scroll_visible, animate=False)
        self._root_cause_drawn = True

    def action_show_root_cause_check(self) -> None:
        view = self.query_one("#comms-root-cause", Static)
        if self._root_cause_wanted is None or not isinstance(view.content, Text):
            self.notify("no root cause stated yet: press r to state it (Review)", timeout=5)
            return
        self.app.push_screen(RootCauseCheckScreen(view.content))

    def _deploys_status(self) -> str:
        if not self.config.services:
            return "deploy list: no services configured, so named deploys are not looked up"
        if self._deploys is None:
            return "deploy list: reading (local sources)…"
        notes = "; ".join(self._deploy_notes)
        return f"deploy list: {len(self._deploys)} deploys read (local sources)" + (
            f"; {notes}" if notes else ""
        )

    @work(
        thread=True,
        exclusive=True,
        group="comms-root-cause",
        exit_on_error=False,
        description="Reading the deploy list for the root-cause cross-check",
    )
    def _read_deploys(self, statement: str, since: datetime) -> None:
        from cockpit.core.deploys import DEPLOY_HISTORY

        deploys, notes = local_deploys(self.config, since - DEPLOY_HISTORY)
        self.post_message(self.RootCauseDeploysRead(statement, deploys, notes))

    @on(RootCauseDeploysRead)
    def _deploys_read(self, message: RootCauseDeploysRead) -> None:
        self._deploys = message.deploys
        self._deploy_notes = message.notes
        self._show_root_cause()

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
        self._write_postmortem(self.incident.events[:], self.facts, self.clock())

    @work(
        thread=True,
        group="comms-postmortem",
        exit_on_error=False,
        description="Writing the postmortem draft",
    )
    def _write_postmortem(self, events: list[Event], facts: CommsFacts, now: datetime) -> None:
        from cockpit.core.postmortem import render_postmortem
        from cockpit.core.safe_files import UnsafeFileError, write_private_new

        state = IncidentState.from_events(events)
        stem = f"postmortem-{state.incident_id or 'incident'}"
        path = self.export_dir / f"{stem}.md"
        try:
            # 0600, never through a symlink, and never over an earlier draft a human may have
            # edited: a second export goes to postmortem-ID-2.md.
            path = write_private_new(
                self.export_dir, stem, ".md", render_postmortem(state, facts, now=now)
            )
        except UnsafeFileError as exc:
            self.post_message(self.PostmortemWritten(path, str(exc)))
            return
        except OSError as exc:
            self.post_message(self.PostmortemWritten(path, exc.strerror or str(exc)))
            return
        self.post_message(self.PostmortemWritten(path))

    @on(PostmortemWritten)
    def _postmortem_written(self, message: PostmortemWritten) -> None:
        if message.error:
            self.notify(
                f"postmortem NOT written: {message.path}: {message.error}",
                severity="error",
                timeout=10,
            )
        else:
            self.notify(f"postmortem draft written to {message.path}", timeout=8)


def root_cause_text(stated: RootCause, check: CrossCheck, deploys_status: str) -> Text:
    """The cross-check block: the statement, Supports, Contradicts, Missing, all outside text
    made visible and inert (rich Text, never markup)."""
    shown = Text("Root cause cross-check (UNVERIFIED, heuristic)", style="bold")
    shown.append(" · x: in full", style="dim")
    shown.append(f"\nstated by {visible(stated.by, max_len=40)} at ")
    shown.append(stated.at.astimezone(UTC).strftime("%H:%M UTC"))
    shown.append(": ")
    shown.append(visible(stated.text, max_len=500), style="italic")
    sections: list[tuple[str, str, list[tuple[str, str]]]] = [
        ("Supports", "+", [(item.source, item.text) for item in check.supporting]),
        ("Contradicts", "-", [(item.source, item.text) for item in check.contradicting]),
        ("Missing", "?", [("", gap) for gap in check.missing]),
    ]
    for heading, mark, items in sections:
        shown.append(f"\n{heading} ({len(items)})", style="bold")
        if not items:
            shown.append("\n  none", style="dim")
        for source, text in items:
            shown.append(f"\n {mark} ")
            if source:
                shown.append(visible(source, max_len=120), style="bold")
                shown.append(": ")
            shown.append(visible(text, max_len=240))
    shown.append(f"\n{visible(check.note, max_len=300)}; a human decides.", style="dim")
    shown.append(f"\n{visible(deploys_status, max_len=300)}", style="dim")
    return shown
