"""The Deploys pane's suspect diff: commits, files and shortstat between a rollback target and
the current deploy; `enter` on a file shows its diff. Read by git in thread workers.

Commit subjects, authors, paths and diff lines are outside text: sanitized, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from cockpit.tui.panes.diff_screen import FileDiffScreen

MAX_PINNED_FILES = 200
"""Changed files a pinned diff lists in its detail (a huge range is cut here)."""


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
        self._range: tuple[str, str] = ("", "")
        self.paths: tuple[str, ...] = ()
        """The service's paths (config `paths`); the range is narrowed to them unless `whole`."""
        self.whole = False
        """`f` shows the whole range even when the service has paths."""
        self._file_screen: FileDiffScreen | None = None
        self._file_index = 0

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="deploys-diff-summary")
        yield DataTable(id="deploys-diff-files", cursor_type="row")
        yield RichLog(
            id="deploys-diff-view", markup=False, highlight=False, wrap=False, auto_scroll=False
        )

    def on_mount(self) -> None:
        self.query_one("#deploys-diff-files", DataTable).add_columns("", "File")

    def open(
        self, candidate: Candidate, repo: str, base: str, head: str, paths: Sequence[str] = ()
    ) -> None:
        """Read and show the diff from `base` (the target) to `head` (the current deploy),
        narrowed to the service's `paths` when it has some."""
        self.candidate = candidate
        self._repo = repo
        self._range = (base, head)
        self.paths = tuple(paths)
        self.whole = False
        self._read()

    def _read(self) -> None:
        if self.candidate is None:
            return
        base, head = self._range
        self.query_one("#deploys-diff-summary", Static).update(Text("reading the diff…"))
        self.query_one("#deploys-diff-files", DataTable).clear()
        self.query_one("#deploys-diff-view", RichLog).clear()
        paths = () if self.whole else self.paths
        self.load_diff(self.candidate, self._repo, base, head, paths)

    def toggle_whole(self) -> bool:
        """`f`: the whole range, or only what touches the service's paths. False when the
        service has no paths configured (nothing to narrow to)."""
        if not self.paths or self.candidate is None:
            return False
        self.whole = not self.whole
        self._read()
        return True

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
            "kind": "diff",
            "service": candidate.service,
            "base": diff.base,
            "head": diff.head,
            "commit_count": diff.commit_count,
            "shortstat": diff.shortstat,
            "file_count": diff.file_count,
            "file": path,
            # The files the range changes: the root-cause cross-check matches the ones named.
            "files": [changed for _status, changed in diff.files[:MAX_PINNED_FILES]],
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
    def load_diff(
        self, candidate: Candidate, repo_path: str, base: str, head: str, paths: Sequence[str]
    ) -> None:
        from cockpit.core.deploys.git_source import GitRepo, suspect_diff

        repo = GitRepo(repo_path, what=f"service {candidate.service}")
        diff = suspect_diff(repo, base, head, paths=paths)
        self.post_message(self.DiffLoaded(candidate, diff))

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
        summary.append(f" (rolling back to {target.label if target else '?'}) · ")
        if diff.paths:
            summary.append(
                f"{service}'s paths: {diff.commit_count} of {diff.all_commit_count} commits,"
                f" {diff.file_count} of {diff.all_file_count} files",
                style="bold",
            )
            summary.append(f" · {diff.shortstat or 'no changes'} · f: whole range")
        else:
            summary.append(f"{diff.commit_count} commits · {diff.shortstat or 'no changes'}")
            if self.paths:
                summary.append(f" · f: only {service}'s paths", style="bold")
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
        self.open_file(event.cursor_row)

    def open_file(self, index: int) -> None:
        """Show file `index` of the range on the whole screen (and in the view below)."""
        diff = self.diff
        if diff is None or not self._repo or not 0 <= index < len(diff.files):
            return
        self._file_index = index
        path = diff.files[index][1]
        if self._file_screen is None or not self._file_screen.is_attached:
            self._file_screen = FileDiffScreen(self._file_heading(index), self._step, self.evidence)
            self.app.push_screen(self._file_screen)
        self.load_file_diff(self._repo, diff.base, diff.head, path)

    def _file_heading(self, index: int) -> str:
        diff = self.diff
        if diff is None:
            return ""
        return (
            f"{diff.files[index][1]} · {diff.base[:7]}..{diff.head[:7]}"
            f" · file {index + 1} of {len(diff.files)}"
        )

    def _step(self, delta: int) -> None:
        diff = self.diff
        if diff is not None and diff.files:
            index = self._file_index + delta
            if 0 <= index < len(diff.files):
                self.query_one("#deploys-diff-files", DataTable).move_cursor(row=index)
                self.open_file(index)

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
        screen = self._file_screen
        if screen is not None and screen.is_attached:
            screen.show(self._file_heading(self._file_index), message.lines, message.note)
