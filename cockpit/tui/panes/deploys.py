"""Deploys: recent deploys with health, ranked rollback candidates, the suspect diff.

Every read (git, deploy logs, Prometheus, log search) runs in a thread worker and comes back
as a message. Commit messages, file names, versions and actors are outside text: they are
sanitized and shown as `Text`, never as markup. Rollback commands are copied (through the
app's clipboard service, which records them), never executed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import ContentSwitcher, DataTable, Label, OptionList, RichLog, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from cockpit.core.deploys.git_source import SuspectDiff
from cockpit.core.deploys.model import Deploy, DeployListing, hhmm, iso_utc
from cockpit.core.deploys.rollback import Candidate, FilledCommand, RollbackReport, pct
from cockpit.core.sanitize import safe_text, visible
from cockpit.core.search.patterns import sparkline
from cockpit.tui.messages import CopyRequested, PinRequested
from cockpit.tui.panes.base import Pane

HEALTH_STYLES = {"healthy": "green", "unhealthy": "bold red", "unknown": "dim"}
EVIDENCE_STYLES = {
    "strength": "bold",
    "versions": "bold",
    "calls": "bold",
    "cascade": "bold",
    "done": "bold green",
}
"""What a human checks first in a candidate's line: the test's strength, the version split,
the dependency link."""


def _evidence_line(candidate: Candidate) -> Text:
    """The explanation, its checkable parts emphasised; outside text made visible-safe."""
    parts = candidate.evidence or (("timing", candidate.explanation),)
    line = Text()
    for index, (kind, phrase) in enumerate(parts):
        if index:
            line.append(" " if kind == "strength" else "; ")
        line.append(safe_text(phrase, 300, style=EVIDENCE_STYLES.get(kind, "")))
    return line


@dataclass(frozen=True)
class CandidateRow:
    """One row of the candidates table: the failing service and the candidate for it."""

    failing: str
    candidate: Candidate


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

| Key | Action |
| --- | --- |
| `y` | copy the selected candidate's rollback command (**prod-changing**; never executed) |
| `Y` | copy its dry-run variant |
| `v` | copy its git revert command |
| `c` | pick any of its commands (custom ones included) and copy it with `enter` |
| `s` | suspect diff: commits, files and shortstat between the target and the current deploy |
| `enter` | (in the suspect diff) show the diff of the selected file |
| `escape` | back from the suspect diff |
| `p` | pin the selected candidate's explanation; in the suspect diff, pin the diff |
| `r` | read everything again |

Copied commands are shown in full and recorded on the timeline. You run them.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "y",
            "copy_command('rollback')",
            "Copy rollback",
            id="deploys-copy-rollback",
            tooltip="Copy the selected candidate's rollback command (not executed)",
        ),
        Binding(
            "Y",
            "copy_command('dry run')",
            "Copy dry run",
            id="deploys-copy-dry-run",
            tooltip="Copy the dry-run variant of the rollback command (not executed)",
        ),
        Binding(
            "v",
            "copy_command('git revert')",
            "Copy revert",
            id="deploys-copy-revert",
            show=False,
            tooltip="Copy the git revert command (not executed)",
        ),
        Binding(
            "c",
            "pick_command",
            "Copy…",
            id="deploys-copy-pick",
            tooltip="Pick any filled command of the selected candidate, custom ones "
            "included, and copy it (not executed)",
        ),
        Binding(
            "s",
            "suspect_diff",
            "Suspect diff",
            id="deploys-suspect-diff",
            tooltip="Commits and files between the rollback target and the current deploy",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            id="deploys-back",
            show=False,
            tooltip="Back from the suspect diff to the deploy list",
        ),
        Binding(
            "p",
            "pin",
            "Pin",
            id="deploys-pin",
            show=False,
            tooltip="Pin the selected candidate's explanation, or in the suspect diff the diff",
        ),
        Binding(
            "r", "refresh", "Refresh", id="deploys-refresh", tooltip="Read deploys and health again"
        ),
    ]

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

    @dataclass
    class DiffLoaded(Message):
        """The suspect diff of one candidate is read."""

        candidate: Candidate
        diff: SuspectDiff

    @dataclass
    class FileDiffLoaded(Message):
        """The diff of one file in the suspect range is read."""

        path: str
        lines: list[str]
        note: str | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listing: DeployListing | None = None
        self.report: RollbackReport | None = None
        self.rows: list[CandidateRow] = []
        self.diff: SuspectDiff | None = None
        self._diff_candidate: Candidate | None = None
        self._generation = 0
        self._shown_deploys: list[Deploy] = []
        self._viewed_file: tuple[str, str, str] | None = None
        """(base, head, path) of the file the diff view shows; `p` pins it with the diff."""

    def compose(self) -> ComposeResult:
        yield Static(Text("reading deploys…"), id="deploys-status")
        with ContentSwitcher(initial="deploys-overview", id="deploys-views"):
            with Vertical(id="deploys-overview"):
                yield DataTable(id="deploys-table", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="deploys-candidates", cursor_type="row")
                yield Static(Text(""), id="deploys-detail")
            with Vertical(id="deploys-diff"):
                yield Static(Text(""), id="deploys-diff-summary")
                yield DataTable(id="deploys-diff-files", cursor_type="row")
                yield RichLog(
                    id="deploys-diff-view",
                    markup=False,
                    highlight=False,
                    wrap=False,
                    auto_scroll=False,
                )

    def on_mount(self) -> None:
        deploys = self.query_one("#deploys-table", DataTable)
        deploys.add_columns("Time (UTC)", "Service", "SHA", "Actor", "Health", "Version")
        candidates = self.query_one("#deploys-candidates", DataTable)
        candidates.add_columns("#", "Failing", "Roll back", "To", "Undoes", "Score")
        self.query_one("#deploys-diff-files", DataTable).add_columns("", "File")
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
        if not quiet:
            self.post_message(self.DeploysListed(listing, generation))
        report = rank_listing(self.config, listing, now=now)
        self.post_message(self.CandidatesRanked(report, generation, listing if quiet else None))

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="deploys-diff",
        description="Reading the suspect diff",
    )
    def load_diff(self, candidate: Candidate, repo_path: str, base: str, head: str) -> None:
        from cockpit.core.deploys.git_source import GitRepo, suspect_diff

        repo = GitRepo(repo_path, what=f"service {candidate.service}")
        self.post_message(self.DiffLoaded(candidate, suspect_diff(repo, base, head)))

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="deploys-diff",
        description="Reading a file's diff",
    )
    def load_file_diff(self, repo_path: str, base: str, head: str, path: str) -> None:
        from cockpit.core.deploys.git_source import GitRepo, file_diff

        lines, note = file_diff(GitRepo(repo_path), base, head, path)
        self.post_message(self.FileDiffLoaded(path, lines, note))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or not str(event.worker.group).startswith("deploys"):
            return
        error = event.worker.error
        self._status(f"error: {error}" if error else "error", style="bold red")

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
        # A caller failing because of the same deploy adds no new choice: one row per target.
        seen: set[tuple[str, str | None]] = set()
        self.rows = []
        for analysis in report.analyses:
            for candidate in analysis.candidates:
                key = (candidate.service, candidate.target.sha if candidate.target else None)
                if key not in seen:
                    seen.add(key)
                    self.rows.append(CandidateRow(analysis.service, candidate))
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
                self._health_cell(deploy),
                safe_text(deploy.version or deploy.revision or "-", 24),
            )

        # A refresh keeps the human's place: the same deploy stays under the cursor.
        if kept is not None and kept in self._shown_deploys:
            table.move_cursor(row=self._shown_deploys.index(kept))

    def _health_cell(self, deploy: Deploy) -> Text:
        health = self.report.health_of(deploy) if self.report else None
        if health is None:
            return Text("…" if self.report is None else "?", style="dim")
        word = health.verdict.value
        return Text(word if word != "unknown" else "?", style=HEALTH_STYLES[word])

    @on(DataTable.RowHighlighted, "#deploys-candidates")
    def _candidate_highlighted(self) -> None:
        self._show_detail()

    def selected(self) -> CandidateRow | None:
        """The candidate under the cursor (the first one if the table has no focus yet)."""
        if not self.rows:
            return None
        row = self.query_one("#deploys-candidates", DataTable).cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else self.rows[0]

    def _show_detail(self) -> None:
        detail = self.query_one("#deploys-detail", Static)
        report = self.report
        if report is None:
            return
        text = Text()
        for analysis in report.analyses:
            if not analysis.correlated:
                text.append(safe_text(analysis.summary, 400, style="bold yellow"))
                text.append("\n")
        chosen = self.selected()
        if chosen is not None:
            candidate = chosen.candidate
            text.append("why: ", style="bold")
            text.append(_evidence_line(candidate))
            text.append("\nscore: ", style="bold")
            text.append(candidate.parts.describe())
            if not candidate.correlated:
                text.append("  (weak: not correlated)", style="dim")
            for command in candidate.commands:
                text.append("\n")
                text.append(_command_line(command))
            if candidate.target is not None and not candidate.commands:
                text.append(
                    f"\nno rollback template for {visible(candidate.service)}: "
                    "set [services.rollback] command in the config",
                    style="dim",
                )
        elif not report.analyses:
            text.append(
                "nothing to roll back: no error burst found"
                if report.healthy_services
                else "no health data: configure log sources or Prometheus",
                style="dim",
            )
        detail.update(text)

    # -- actions ------------------------------------------------------------------------------

    def action_copy_command(self, label: str) -> None:
        chosen = self.selected()
        if chosen is None:
            self.notify("no rollback candidate selected", severity="warning")
            return
        candidate = chosen.candidate
        # Built-in templates only: a custom command is picked by its label with `c`.
        command = next(
            (c for c in candidate.commands if c.label == label and c.filled and not c.custom),
            None,
        )
        if command is None:
            self.notify(
                f"no {label} command for {visible(candidate.service)} "
                "(set it in [services.rollback])",
                severity="warning",
            )
            return
        self._copy(chosen, command)

    def action_pick_command(self) -> None:
        """`c`: a picker listing every command of the selected candidate; `enter` copies one."""
        chosen = self.selected()
        if chosen is None:
            self.notify("no rollback candidate selected", severity="warning")
            return
        candidate = chosen.candidate
        if not any(c.filled for c in candidate.commands):
            self.notify(
                f"no command to copy for {visible(candidate.service)} "
                "(set [services.rollback] in the config)",
                severity="warning",
            )
            return

        def copy(command: FilledCommand | None) -> None:
            if command is not None:
                self._copy(chosen, command)

        self.app.push_screen(CommandPickerScreen(candidate), copy)

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
        diff, candidate = self.diff, self._diff_candidate
        target = candidate.target if candidate else None
        if diff is None or candidate is None or target is None or diff.base != target.sha:
            self.notify("no suspect diff to pin yet: it is still being read", severity="warning")
            return
        viewed = self._viewed_file
        path = viewed[2] if viewed and viewed[:2] == (diff.base, diff.head) else None
        # Range and file first: the verdict dialog shows only the start of a pin.
        text = (
            f"{candidate.service} {diff.base[:7]}..{diff.head[:7]}"
            + (f" file {path}" if path else "")
            + f" ({diff.commit_count} commits, {diff.shortstat or 'no changes'}; "
            f"rolling back to {target.label})"
        )
        self.post_message(
            PinRequested(
                source="diff",
                text=text,
                detail={
                    "service": candidate.service,
                    "base": diff.base,
                    "head": diff.head,
                    "commit_count": diff.commit_count,
                    "shortstat": diff.shortstat,
                    "file_count": diff.file_count,
                    "file": path,
                    "suspect_sha": candidate.suspect.sha,
                },
            )
        )

    @on(FileDiffLoaded)
    def _remember_viewed_file(self, message: FileDiffLoaded) -> None:
        """Which file the diff view shows, in which range: `p` pins it with the diff."""
        if self.diff is not None:
            self._viewed_file = (self.diff.base, self.diff.head, message.path)

    def action_refresh(self) -> None:
        if not self.config.services:
            self._status(
                "no services configured: add [[services]] with a [services.deploys] source "
                "(see config/cockpit.example.toml)",
                style="dim",
            )
            return
        self._generation += 1
        self._status("reading deploys…")
        self.load(self._generation)

    def action_suspect_diff(self) -> None:
        chosen = self.selected()
        if chosen is None:
            self.notify("no rollback candidate selected", severity="warning")
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
        self._diff_candidate = candidate
        self.query_one("#deploys-diff-summary", Static).update(Text("reading the diff…"))
        self.query_one("#deploys-diff-files", DataTable).clear()
        self.query_one("#deploys-diff-view", RichLog).clear()
        self.query_one("#deploys-views", ContentSwitcher).current = "deploys-diff"
        self.load_diff(candidate, str(self.config.resolve(repo)), candidate.target.sha, current.sha)

    def action_back(self) -> None:
        self.query_one("#deploys-views", ContentSwitcher).current = "deploys-overview"
        self.query_one("#deploys-candidates", DataTable).focus()

    @on(DiffLoaded)
    def _diff_loaded(self, message: DiffLoaded) -> None:
        diff = self.diff = message.diff
        # In a monorepo, the failing service's own files are the likeliest suspects: first.
        service = message.candidate.service
        diff.files.sort(key=lambda item: service not in item[1])
        target = message.candidate.target
        summary = Text()
        summary.append(f"{diff.base[:7]}..{diff.head[:7]}", style="bold")
        summary.append(
            f" (rolling back to {target.label if target else '?'}) · "
            f"{diff.commit_count} commits · {diff.shortstat or 'no changes'}"
        )
        for note in diff.notes:
            summary.append(f" · {note}", style="dim")
        self.query_one("#deploys-diff-summary", Static).update(summary)
        files = self.query_one("#deploys-diff-files", DataTable)
        files.clear()
        for status, path in diff.files:
            files.add_row(Text(status), safe_text(path, 200))
        log = self.query_one("#deploys-diff-view", RichLog)
        log.clear()
        for commit in diff.commits:
            line = Text(f"{commit.sha[:7]} {hhmm(commit.time)} ", style="dim")
            line.append(safe_text(commit.author, 24, style="cyan"))
            line.append(" ")
            line.append(safe_text(commit.subject, 300))
            log.write(line)
        files.focus()

    @on(DataTable.RowSelected, "#deploys-diff-files")
    def _file_chosen(self, event: DataTable.RowSelected) -> None:
        diff, candidate = self.diff, self._diff_candidate
        if diff is None or candidate is None or not 0 <= event.cursor_row < len(diff.files):
            return
        service = next((s for s in self.config.services if s.name == candidate.service), None)
        if service is None or service.deploys.repo is None:
            return
        path = diff.files[event.cursor_row][1]
        self.load_file_diff(
            str(self.config.resolve(service.deploys.repo)), diff.base, diff.head, path
        )

    @on(FileDiffLoaded)
    def _file_diff_loaded(self, message: FileDiffLoaded) -> None:
        log = self.query_one("#deploys-diff-view", RichLog)
        log.clear()
        log.write(safe_text(message.path, 300, style="bold"))
        for line in message.lines:
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
            log.write(safe_text(line, 400, style=style))
        if message.note:
            log.write(Text(message.note, style="dim italic"))


def _command_tag(command: FilledCommand) -> tuple[str, str]:
    """The flag shown before a command, and its style."""
    if not command.filled:
        return " not filled ", "reverse yellow"
    if command.prod_changing:
        return " PROD-CHANGING ", "bold reverse red"
    return (" dry run " if command.dry_run else " no prod change "), "reverse"


def _command_line(command: FilledCommand) -> Text:
    line = Text()
    line.append(*_command_tag(command))
    line.append(safe_text(f" {command.label}: ", 110, style="bold"))
    line.append(safe_text(command.text, 600))
    if command.filled:
        line.append("  (copy only, never executed)", style="dim")
    if command.missing:
        line.append(f"  fill in: {', '.join(command.missing)}", style="bold yellow")
    if command.note and command.prod_changing:
        line.append(f"  {command.note}", style="dim")
    return line


class CommandPickerScreen(ModalScreen[FilledCommand | None]):
    """Every command of one candidate, in full; `enter` returns the one to copy (never run).

    A template that could not be filled is listed disabled, as a note: it is never offered.
    """

    AUTO_FOCUS = "#deploys-picker-commands"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="deploys-picker-cancel",
            tooltip="Close; nothing is copied",
        ),
    ]

    def __init__(self, candidate: Candidate) -> None:
        super().__init__()
        self.candidate = candidate

    def compose(self) -> ComposeResult:
        candidate = self.candidate
        target = candidate.target
        title = Text("Copy a command: ", style="bold")
        title.append(safe_text(candidate.service, 30))
        if target is not None:
            title.append(" back to ")
            title.append(safe_text(target.label, 30))
        with Vertical():
            yield Label(title)
            yield OptionList(
                *[
                    Option(
                        _command_line(command), id=f"command-{index}", disabled=not command.filled
                    )
                    for index, command in enumerate(candidate.commands)
                ],
                id="deploys-picker-commands",
            )
            yield Label(
                Text("enter copies (recorded, never executed) · esc closes"),
                classes="dialog-hint",
            )

    @on(OptionList.OptionSelected, "#deploys-picker-commands")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        command = self.candidate.commands[event.option_index]
        if command.filled:
            self.dismiss(command)

    def action_cancel(self) -> None:
        self.dismiss(None)
