"""The Deploys pane's suspect diff: commits, files and shortstat between a rollback target and
the current deploy; `enter` on a file shows its diff. Read by git in thread workers.

Commit subjects, authors, paths and diff lines are outside text: sanitized, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, RichLog, Static
from textual.worker import Worker, WorkerState

from cockpit.core.deploys.git_source import SuspectDiff
from cockpit.core.deploys.rollback import Candidate
from cockpit.core.sanitize import safe_text
from cockpit.core.timefmt import hhmm


class SuspectDiffView(Vertical):
    """Summary, changed files (the failing service's first) and a log of commits or a diff."""

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

    @dataclass
    class ReadFailed(Message):
        """Reading a diff failed: one line for the pane's status."""

        error: str

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.diff: SuspectDiff | None = None
        self.candidate: Candidate | None = None
        self._repo: str = ""
        self._viewed_file: tuple[str, str, str] | None = None
        """(base, head, path) of the file the diff view shows; `p` pins it with the diff."""

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="deploys-diff-summary")
        yield DataTable(id="deploys-diff-files", cursor_type="row")
        yield RichLog(
            id="deploys-diff-view", markup=False, highlight=False, wrap=False, auto_scroll=False
        )

    def on_mount(self) -> None:
        self.query_one("#deploys-diff-files", DataTable).add_columns("", "File")

    def open(self, candidate: Candidate, repo: str, base: str, head: str) -> None:
        """Read and show the diff from `base` (the target) to `head` (the current deploy)."""
        self.candidate = candidate
        self._repo = repo
        self.query_one("#deploys-diff-summary", Static).update(Text("reading the diff…"))
        self.query_one("#deploys-diff-files", DataTable).clear()
        self.query_one("#deploys-diff-view", RichLog).clear()
        self.load_diff(candidate, repo, base, head)

    def evidence(self) -> tuple[str, dict[str, Any]] | None:
        """The diff as a pin (text, detail): range, size and the file on screen; None while the
        diff of the candidate's target is not read yet."""
        diff, candidate = self.diff, self.candidate
        target = candidate.target if candidate else None
        if diff is None or candidate is None or target is None or diff.base != target.sha:
            return None
        viewed = self._viewed_file
        path = viewed[2] if viewed and viewed[:2] == (diff.base, diff.head) else None
        # Range and file first: the verdict dialog shows only the start of a pin.
        text = (
            f"{candidate.service} {diff.base[:7]}..{diff.head[:7]}"
            + (f" file {path}" if path else "")
            + f" ({diff.commit_count} commits, {diff.shortstat or 'no changes'}; "
            f"rolling back to {target.label})"
        )
        detail = {
            "service": candidate.service,
            "base": diff.base,
            "head": diff.head,
            "commit_count": diff.commit_count,
            "shortstat": diff.shortstat,
            "file_count": diff.file_count,
            "file": path,
            "suspect_sha": candidate.suspect.sha,
        }
        return text, detail

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
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.post_message(self.ReadFailed(f"error: {error}" if error else "error"))

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
        diff = self.diff
        if diff is None or not self._repo or not 0 <= event.cursor_row < len(diff.files):
            return
        self.load_file_diff(self._repo, diff.base, diff.head, diff.files[event.cursor_row][1])

    @on(FileDiffLoaded)
    def _file_diff_loaded(self, message: FileDiffLoaded) -> None:
        if self.diff is not None:
            # Which file the diff view shows, in which range: `p` pins it with the diff.
            self._viewed_file = (self.diff.base, self.diff.head, message.path)
        log = self.query_one("#deploys-diff-view", RichLog)
        log.clear()
        log.write(safe_text(message.path, 300, style="bold"))
        for line in message.lines:
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
            log.write(safe_text(line, 400, style=style))
        if message.note:
            log.write(Text(message.note, style="dim italic"))
