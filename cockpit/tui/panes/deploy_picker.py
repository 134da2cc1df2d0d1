"""Pick a recent deploy (newest first), for the Logs pane's "new since" mark."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from cockpit.core.config import Config
from cockpit.core.deploys.model import Deploy
from cockpit.core.sanitize import visible

RECENT_DEPLOYS = timedelta(hours=24)
"""How far back the deploy picker lists deploys."""


def deploy_label(deploy: Deploy) -> str:
    """`checkout b9c1d4e` (service and short sha, else version), sanitized."""
    what = deploy.short_sha or deploy.version or ""
    return visible(f"{deploy.service} {what}".strip(), max_len=60)


def deploy_choice(deploy: Deploy, now: datetime) -> str:
    """One picker line: `HH:MM service sha version`, sanitized; deploys of another (UTC) day
    than `now` start with their date, so the newest-first order reads right."""
    when = f"{deploy.time:%H:%M}"
    if deploy.time.date() != now.date():
        when = f"{deploy.time:%m-%d} {when}"
    fields = [when, deploy.service, deploy.short_sha or "-"]
    if deploy.version:
        fields.append(deploy.version)
    return visible(" ".join(fields), max_len=100)


class DeployPickerScreen(ModalScreen[Deploy | None]):
    """Pick one of the recent deploys (newest first); returns it, or None on Esc."""

    AUTO_FOCUS = "#log-search-deploy-list"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="log-search-deploy-cancel",
            tooltip="Close; the NEW mark stays as it was",
        ),
    ]

    @dataclass
    class Read(Message):
        """The deploys since `since`, newest first, and the first problem reading them."""

        deploys: tuple[Deploy, ...]
        problem: str | None

    def __init__(self, config: Config, now: datetime) -> None:
        super().__init__()
        self.config = config
        self.now = now
        self.since = now - RECENT_DEPLOYS
        self.deploys: tuple[Deploy, ...] = ()

    def compose(self) -> ComposeResult:
        with Vertical(id="log-search-deploy-box"):
            yield Label("Mark signatures new since which deploy?")
            yield OptionList(id="log-search-deploy-list")
            yield Label(Text("reading deploys…"), id="log-search-deploy-hint")

    def on_mount(self) -> None:
        self._read()

    @work(
        thread=True,
        exclusive=True,
        group="log-search-deploys",
        exit_on_error=False,
        description="Reading deploys",
    )
    def _read(self) -> None:
        from cockpit.core.deploys import list_deploys

        listing = list_deploys(self.config, since=self.since)
        problem = listing.errors[0] if listing.errors else None
        self.post_message(self.Read(tuple(listing.deploys), problem))

    @on(Read)
    def _deploys_read(self, message: Read) -> None:
        self.deploys = message.deploys
        options = self.query_one("#log-search-deploy-list", OptionList)
        options.add_options(Option(Text(deploy_choice(d, self.now))) for d in self.deploys)
        if self.deploys:
            options.highlighted = 0
            hint = "Enter: what first shows after it is NEW · Esc: cancel"
        else:
            hint = f"no deploys since {self.since:%Y-%m-%d %H:%M} UTC · Esc closes"
        if message.problem:
            hint = f"{visible(message.problem, max_len=100)} · {hint}"
        self.query_one("#log-search-deploy-hint", Label).update(Text(hint))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "log-search-deploys" and event.state == WorkerState.ERROR:
            error = visible(f"could not read deploys: {event.worker.error}", max_len=120)
            self.query_one("#log-search-deploy-hint", Label).update(Text(error, style="red"))

    @on(OptionList.OptionSelected, "#log-search-deploy-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.deploys[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
