"""The Sources view (`I`, or "Sources" in the palette): every source, where it came from
(config or discovered), what became of it and why it was skipped, as `cockpit sources` says.

The rows are worked out in a worker: with a config, a quick local check of its sources;
without, the session's discovery (cached, so opening the view costs nothing). `r` discovers
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from cockpit.core.config import Config
from cockpit.core.discovery.model import Discovery, SourceReport, State
from cockpit.core.sanitize import safe_text

STATE_STYLE = {State.USED: "green", State.SKIPPED: "yellow", State.ERROR: "bold red"}


def report_text(report: SourceReport) -> Text:
    """One source: state, kind, name, origin, then what was found or why it was skipped."""
    text = Text()
    text.append(f"{report.state:<8}", style=STATE_STYLE.get(report.state, ""))
    text.append(f"{report.kind:<13}", style="bold")
    text.append_text(safe_text(report.name, 48, style="bold"))
    text.append(f"  ({report.origin})", style="dim")
    text.append("\n    ")
    text.append_text(safe_text(report.detail, 300))
    extra = []
    if report.location and report.location not in report.detail:
        extra.append(f"at {report.location}")
    if report.program:
        extra.append(f"program {report.program}")
    if report.service:
        extra.append(f"service {report.service}")
    if extra:
        text.append("\n    ")
        text.append_text(safe_text("; ".join(extra), 300, style="dim"))
    for note in report.notes:
        text.append("\n    note: ", style="dim")
        text.append_text(safe_text(note, 300, style="dim"))
    return text


class SourcesScreen(ModalScreen[None]):
    """Every source with its origin and state, and why skipped."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,I", "close", "Close", id="sources-close", tooltip="Close the view"),
        Binding(
            "r",
            "rediscover",
            "Discover again",
            id="sources-rediscover",
            tooltip="Look at the host again (only without a config file)",
        ),
    ]

    @dataclass
    class Found(Message):
        discovery: Discovery

    def __init__(
        self, config: Config, discovery: Discovery | None, *, discovering: bool = False
    ) -> None:
        super().__init__()
        self.config = config
        self.discovery = discovery
        self.discovering = discovering
        """No config file, and the app's discovery has not answered yet: this view waits for
        the same (cached) discovery instead of describing an empty config."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog sources"):
            yield Static(Text("Sources", style="bold"))
            yield Static(Text("checking…", style="dim"), id="sources-summary")
            yield VerticalScroll(id="sources-rows")
            yield Static(
                Text(
                    "r discovers again (no config) · `cockpit init` writes them as a "
                    "config · Esc closes",
                    style="dim",
                )
            )

    def on_mount(self) -> None:
        if self.discovering:
            self.query_one("#sources-summary", Static).update(
                Text("No config file: discovering this host's sources…", style="dim")
            )
        self._work_out(self.config, self.discovery, refresh=False)

    @work(thread=True, exclusive=True, group="sources", exit_on_error=False)
    def _work_out(self, config: Config, discovery: Discovery | None, refresh: bool) -> None:
        from cockpit.core.discovery import configured_reports, discover

        if discovery is None and self.discovering:
            found = discover()  # the app's own discovery: cached once either finishes
        elif discovery is None:
            found = configured_reports(config)
        elif refresh:
            found = discover(root=discovery.root, cwd=discovery.cwd, refresh=True)
        else:
            found = discovery
        self.post_message(self.Found(found))

    @on(Found)
    def _show(self, message: Found) -> None:
        found = message.discovery
        if found.discovered:
            self.discovery = found
        head = Text()
        if found.discovered:
            head.append(
                f"No config file: discovered on this host in {found.elapsed:.2f} s. ", style="dim"
            )
        else:
            head.append("From the config ", style="dim")
            head.append_text(safe_text(str(found.config_file), 200, style="dim"))
            head.append(" (no discovery with a config). ", style="dim")
        head.append_text(safe_text(found.summary(), 300))
        self.query_one("#sources-summary", Static).update(head)
        rows = self.query_one("#sources-rows", VerticalScroll)
        rows.remove_children()
        rows.mount_all(
            Static(report_text(report), classes=f"source-row -{report.state}")
            for report in found.reports
        )

    def action_rediscover(self) -> None:
        if self.discovery is None:
            if not self.discovering:
                self.notify("a config file is in use: discovery does not run", severity="warning")
            return
        self.query_one("#sources-summary", Static).update(Text("discovering…", style="dim"))
        self._work_out(self.config, self.discovery, refresh=True)

    def action_close(self) -> None:
        self.dismiss(None)
