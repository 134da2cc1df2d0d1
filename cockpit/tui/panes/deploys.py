"""Deploys: recent deploys with health, ranked rollback candidates, the suspect diff.

Every read (git, deploy logs, Prometheus, log search) runs in a thread worker and comes back
as a message. Commit messages, file names, versions and actors are outside text: they are
sanitized and shown as `Text`, never as markup. Rollback commands are copied (through the
app's clipboard service, which records them), never executed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.events import DescendantFocus
from textual.message import Message
from textual.widgets import ContentSwitcher, DataTable, Static
from textual.worker import Worker, WorkerState

from cockpit.core.deploys.git_source import SuspectDiff
from cockpit.core.deploys.model import Deploy, DeployListing
from cockpit.core.deploys.rollback import FilledCommand, RollbackReport, pct
from cockpit.core.patterns import sparkline
from cockpit.core.sanitize import safe_text, visible
from cockpit.core.timefmt import hhmm, iso_utc
from cockpit.tui.messages import CopyRequested, ErrorsRead, PinRequested
from cockpit.tui.panes.base import Pane
from cockpit.tui.panes.command_picker import CommandPickerScreen
from cockpit.tui.panes.deploy_keys import BINDINGS
from cockpit.tui.panes.deploy_views import CandidateRow, candidate_rows, detail_text, health_cell
from cockpit.tui.panes.suspect_diff import SuspectDiffView

ERRORS_NOW_WINDOW = timedelta(minutes=5)
"""How far back "errors now" looks: long enough to have data, short enough to be now."""
OLDER_SHOWN = 20
"""Deploys listed when none is recent (an old checkout): the newest ones, labelled older."""


class DeploysPane(Pane):
    """Recent deploys, rollback candidates with their reasons, and the suspect diff."""

    PANE_TITLE = "Deploys"
    HELP = """\
# Deploys

Recent deploys of every configured service (time in **UTC**, sha, actor, health), and the
ranked **rollback candidates** for each failing service. Each candidate says why, in one line
you can check: the error ratio before and after, how soon after the deploy the errors began,
and the last healthy deploy, which is the rollback **target**. The score components are shown.

Each line leads with what to check (in bold): how strong the rise is (`p < 0.001 over 14
min; 37 errors vs 3 expected`), the version split where lines carry one (`errors 28% on 3.1.0
vs 0.3% on the rest`), and the link to another service's deploy (`94% of the new errors are
calls to payments`). The score is a probability, its likelihood ratios shown beside it.

When no deploy lines up with the errors, the pane says so: *rollback may not be the answer*,
and what it checked.

Rollback commands are **prod-changing**: they are copied (the rollback, its dry run, a git
revert, or any custom command of the candidate from a picker), shown in full and recorded on
the timeline. You run them; the cockpit never does. The suspect diff lists the commits, files
and shortstat between the target and the current deploy; a file opens its diff on the whole
screen, where `[` / `]` go to the previous / next file of the range. Pin the explanation, or
in the diff view the diff, as evidence.

With `paths = [...]` under a service in the config, the suspect diff lists only the commits
and files touching them; the paths filter shows the whole range again.
"""

    BINDINGS: ClassVar[list[BindingType]] = BINDINGS
    VIEWS = (("a file's diff", "cockpit.tui.panes.diff_screen:FileDiffScreen"),)

    @dataclass
    class DeploysListed(Message):
        """The deploy list is read (health comes later)."""

        listing: DeployListing
        generation: int = 0
        """Which refresh this answers; a stale answer from an earlier one is dropped."""

    @dataclass
    class CandidatesRanked(Message):
        """Health is read and rollback candidates are ranked."""

        report: RollbackReport
        generation: int = 0
        listing: DeployListing | None = None
        """Set by a quiet refresh, which swaps list and candidates in one go (no flicker)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listing: DeployListing | None = None
        self.report: RollbackReport | None = None
        self.rows: list[CandidateRow] = []
        self._generation = 0
        self._shown_deploys: list[Deploy] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("reading deploys…"), id="deploys-status")
        with ContentSwitcher(initial="deploys-overview", id="deploys-views"):
            with Vertical(id="deploys-overview"):
                yield DataTable(id="deploys-table", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="deploys-candidates", cursor_type="row")
                yield Static(Text(""), id="deploys-detail")
            yield SuspectDiffView(id="deploys-diff")

    @property
    def diff(self) -> SuspectDiff | None:
        """The suspect diff read last (None before `s`)."""
        return self.query_one(SuspectDiffView).diff

    def on_mount(self) -> None:
        deploys = self.query_one("#deploys-table", DataTable)
        deploys.add_columns("Time (UTC)", "Service", "SHA", "Actor", "Health", "Version")
        candidates = self.query_one("#deploys-candidates", DataTable)
        candidates.add_columns("#", "Failing", "Roll back", "To", "Undoes", "Score")
        self.action_refresh()
        if self.config.cockpit.refresh_seconds > 0:
            # New deploys (a rollback, a drill's deploy) and moving health show up unasked.
            self.set_interval(self.config.cockpit.refresh_seconds, self.reread_quietly)

    def reread_quietly(self) -> None:
        """Read deploys and health again without clearing the screen; skipped mid-read."""
        if not self.config.services or self._reading():
            return
        self._generation += 1
        self.load(self._generation, quiet=True)

    def _reading(self) -> bool:
        return any(w.group == "deploys" and not w.is_finished for w in self.workers)

    # -- reading (thread workers; results come back as messages) ------------------------------

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="deploys",
        description="Reading deploys and health",
    )
    def load(self, generation: int, quiet: bool = False) -> None:
        from cockpit.core.deploys import DEPLOY_HISTORY, list_deploys, rank_listing

        now = self.clock()
        listing = list_deploys(self.config, since=now - DEPLOY_HISTORY)
        if not listing.deploys and not listing.errors:
            # A checkout whose last change is older than the window: show its newest
            # history, said to be older, rather than an empty list that reads as none.
            older = list_deploys(self.config, limit=OLDER_SHOWN)
            if older.deploys:
                older.notes.insert(0, f"none in the last {DEPLOY_HISTORY.days} days: older ones")
                listing = older
        if not quiet:
            self.post_message(self.DeploysListed(listing, generation))
        report = rank_listing(self.config, listing, now=now)
        self.post_message(self.CandidatesRanked(report, generation, listing if quiet else None))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or not str(event.worker.group).startswith("deploys"):
            return
        error = event.worker.error
        self._status(f"error: {error}" if error else "error", style="bold red")
        # The read is over: resolving no longer waits on it (the error is on screen here).
        self.post_message(ErrorsRead({}))

    # -- showing ------------------------------------------------------------------------------

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#deploys-status", Static).update(safe_text(text, 600, style=style))

    @on(DeploysListed)
    def _listed(self, message: DeploysListed) -> None:
        if message.generation != self._generation:
            return
        self.listing = message.listing
        self._fill_deploys()
        errors = message.listing.errors
        if errors:
            self._status("; ".join(errors), style="bold red")
        else:
            notes = "".join(f" · {note}" for note in message.listing.notes)
            self._status(f"{len(message.listing.deploys)} deploys · reading health…{notes}")

    @on(CandidatesRanked)
    def _ranked(self, message: CandidatesRanked) -> None:
        if message.generation != self._generation:
            return
        if message.listing is not None:
            self.listing = message.listing
        kept = self.selected()
        kept_key = (kept.candidate.service, kept.candidate.target) if kept else None
        report = self.report = message.report
        self._fill_deploys()
        self.rows = candidate_rows(report)
        table = self.query_one("#deploys-candidates", DataTable)
        table.clear()
        for rank, row in enumerate(self.rows, start=1):
            candidate = row.candidate
            target = candidate.target
            table.add_row(
                str(rank),
                safe_text(row.failing, 16),
                safe_text(candidate.service, 16),
                safe_text(target.label if target else "-", 16),
                Text(str(len(candidate.undoes))),
                Text("done", style="bold green")
                if candidate.applied is not None
                else Text(
                    f"{candidate.score:.2f}" + ("" if candidate.correlated else " weak"),
                    style="" if candidate.correlated else "dim",
                ),
            )
        # A refresh keeps the human's place: the same candidate stays under the cursor.
        for index, row in enumerate(self.rows):
            if kept_key == (row.candidate.service, row.candidate.target) and index:
                table.move_cursor(row=index)
                break
        parts = [f"{len(self.listing.deploys) if self.listing else 0} deploys"]
        for analysis in report.analyses:
            burst = analysis.burst
            parts.append(
                f"{analysis.service} {self._trend(report, analysis.service)} "
                f"errors {pct(burst.baseline)} -> {pct(burst.peak)} "
                f"from {hhmm(burst.onset)} UTC"
                + (f", recovered: {analysis.recovery}" if analysis.recovery else "")
            )
        if not report.analyses:
            parts.append("no error burst" if report.healthy_services else "no health data")
        problems = report.errors
        parts += report.notes
        self._status(
            " · ".join(parts) + ("; " + "; ".join(problems) if problems else ""),
            style="bold red" if problems else "",
        )
        self._show_detail()
        self.refresh_bindings()
        self._post_errors_now(report)

    def _post_errors_now(self, report: RollbackReport) -> None:
        """Each service's error ratio over the last minutes, up to the app (resolving says
        what is still failing)."""
        now = self.clock()
        errors = {}
        for service, series in report.series.items():
            ratio = series.ratio(now - ERRORS_NOW_WINDOW, now)
            if ratio is not None:
                errors[service] = ratio
        self.post_message(ErrorsRead(errors))

    def _trend(self, report: RollbackReport, service: str) -> str:
        """The last hour's error ratio as a sparkline: the failure's shape, and its recovery."""
        series = report.series.get(service)
        if series is None:
            return ""
        ratios = series.ratio_trend(self.clock())
        # No data is a blank; a quiet stretch (ratio 0) still gets the lowest block.
        return sparkline([0 if r is None else max(1, round(r * 10_000)) for r in ratios])

    def _fill_deploys(self) -> None:
        table = self.query_one("#deploys-table", DataTable)
        kept = self._shown_deploys[table.cursor_row] if table.row_count else None
        table.clear()
        if self.listing is None:
            return
        self._shown_deploys = list(self.listing.deploys)
        for deploy in self.listing.deploys:
            table.add_row(
                Text(iso_utc(deploy.time)[5:16].replace("T", " ")),
                safe_text(deploy.service, 16),
                Text(deploy.short_sha or "-"),
                safe_text(deploy.actor or "-", 20),
                health_cell(self.report, deploy),
                safe_text(deploy.version or deploy.revision or "-", 24),
            )

        # A refresh keeps the human's place: the same deploy stays under the cursor.
        if kept is not None and kept in self._shown_deploys:
            table.move_cursor(row=self._shown_deploys.index(kept))

    @on(DataTable.RowHighlighted, "#deploys-candidates")
    def _candidate_highlighted(self) -> None:
        self._show_detail()
        self.refresh_bindings()

    def selected(self) -> CandidateRow | None:
        """The candidate under the cursor (the first one if the table has no focus yet)."""
        if not self.rows:
            return None
        row = self.query_one("#deploys-candidates", DataTable).cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else self.rows[0]

    def _show_detail(self) -> None:
        if self.report is not None:
            detail = detail_text(self.report, self.selected())
            self.query_one("#deploys-detail", Static).update(detail)

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what the selection allows: a copy needs a candidate with that command,
        the diff view's keys apply in it, the overview's outside it."""
        in_diff = self.is_mounted and self._view() == "deploys-diff"
        if action == "back":
            return True if in_diff else None  # else Esc goes on to the app
        if action == "refresh":
            return True if self.config.services else None
        if action == "pin":
            if in_diff:
                return True if self.query_one(SuspectDiffView).evidence() else None
            return True if self.selected() else None
        if action == "copy_command" and parameters:
            return True if self._built_in(str(parameters[0])) else None
        if action == "pick_command":
            chosen = self.selected()
            return True if chosen and any(c.filled for c in chosen.candidate.commands) else None
        if action == "suspect_diff":
            return True if self.selected() and not in_diff else None
        if action == "filter_paths":  # only a service with `paths` has a range to narrow
            return True if in_diff and self.query_one(SuspectDiffView).paths else None
        return True

    def _view(self) -> str | None:
        return self.query_one("#deploys-views", ContentSwitcher).current

    def _built_in(self, label: str) -> FilledCommand | None:
        """The selected candidate's filled built-in command `label` (custom ones are picked)."""
        chosen = self.selected()
        if chosen is None:
            return None
        return next(
            (
                c
                for c in chosen.candidate.commands
                if c.label == label and c.filled and not c.custom
            ),
            None,
        )

    def action_copy_command(self, label: str) -> None:
        chosen, command = self.selected(), self._built_in(label)
        if chosen is not None and command is not None:
            self._copy(chosen, command)

    def action_pick_command(self) -> None:
        """A picker listing every command of the selected candidate; `enter` copies one."""
        chosen = self.selected()
        if chosen is None:
            return

        def copy(command: FilledCommand | None) -> None:
            if command is not None:
                self._copy(chosen, command)

        self.app.push_screen(CommandPickerScreen(chosen.candidate), copy)

    def _copy(self, chosen: CandidateRow, command: FilledCommand) -> None:
        """Hand one filled command to the app's clipboard service; it is never executed."""
        candidate = chosen.candidate
        if command.custom:
            purpose = f"custom rollback command: {command.label}"
        elif command.label == "rollback":
            purpose = "rollback command"
        else:
            purpose = f"rollback {command.label} command"
        target = candidate.target
        self.post_message(
            CopyRequested(
                text=command.text,
                purpose=purpose,
                detail={
                    "service": candidate.service,
                    "failing": chosen.failing,
                    "target_sha": target.sha if target else None,
                    "target_revision": target.revision if target else None,
                    "suspect_sha": candidate.suspect.sha,
                    "explanation": candidate.explanation,
                    "score": candidate.score,
                    "prod_changing": command.prod_changing,
                    "missing": list(command.missing),
                    "label": command.label,
                    "template": command.template,
                    "executed": False,
                },
            )
        )

    def action_pin_candidate(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        candidate = chosen.candidate
        self.post_message(
            PinRequested(
                source="deploys",
                text=candidate.explanation,
                detail={
                    "service": candidate.service,
                    "suspect_sha": candidate.suspect.sha,
                    "target_sha": candidate.target.sha if candidate.target else None,
                    "score": candidate.parts.to_json(),
                },
            )
        )

    def action_pin(self) -> None:
        """`p`: the suspect diff in the diff view, the selected candidate everywhere else."""
        if self.query_one("#deploys-views", ContentSwitcher).current == "deploys-diff":
            self.action_pin_diff()
        else:
            self.action_pin_candidate()

    def action_pin_diff(self) -> None:
        """Pin the suspect diff as evidence: its range, size and the file on screen, if any."""
        evidence = self.query_one(SuspectDiffView).evidence()
        if evidence is None:
            return
        text, detail = evidence
        self.post_message(PinRequested(source="diff", text=text, detail=detail))

    @on(SuspectDiffView.DiffLoaded)
    @on(SuspectDiffView.FileDiffLoaded)
    def _diff_loaded(self) -> None:
        self.refresh_bindings()  # the diff can be pinned now

    @on(SuspectDiffView.ReadFailed)
    def _diff_failed(self, message: SuspectDiffView.ReadFailed) -> None:
        self._status(message.error, style="bold red")

    def action_refresh(self) -> None:
        if not self.config.services:
            self._status(
                "no services configured: add [[services]] with a [services.deploys] source "
                "(see config/cockpit.example.toml)",
                style="dim",
            )
            self.post_message(ErrorsRead({}))  # nothing to read: resolving need not wait
            return
        self._generation += 1
        self._status("reading deploys…")
        self.load(self._generation)

    def action_suspect_diff(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        candidate = chosen.candidate
        service = next((s for s in self.config.services if s.name == candidate.service), None)
        repo = service.deploys.repo if service else None
        current = next(
            (
                d
                for d in (self.listing.deploys if self.listing else [])
                if d.service == candidate.service and d.sha
            ),
            None,
        )
        if repo is None or candidate.target is None or not candidate.target.sha or current is None:
            self.notify(
                f"no suspect diff for {visible(candidate.service)}: needs a git repo and "
                "shas for the target and the current deploy",
                severity="warning",
            )
            return
        assert current.sha is not None
        view = self.query_one(SuspectDiffView)
        paths = service.paths if service else []
        view.open(
            candidate, str(self.config.resolve(repo)), candidate.target.sha, current.sha, paths
        )
        self.query_one("#deploys-views", ContentSwitcher).current = "deploys-diff"
        self.refresh_bindings()

    def action_filter_paths(self) -> None:
        """In the suspect diff: the whole range, or only the service's own paths."""
        self.query_one(SuspectDiffView).toggle_whole()

    @on(DescendantFocus)
    def _focus_moved(self, event: DescendantFocus) -> None:
        # 80x24: while the deploy list has focus it takes the room the candidate detail had.
        self.set_class(event.widget.id == "deploys-table", "-list-focused")

    def action_back(self) -> None:
        self.query_one("#deploys-views", ContentSwitcher).current = "deploys-overview"
        self.query_one("#deploys-candidates", DataTable).focus()
        self.refresh_bindings()
