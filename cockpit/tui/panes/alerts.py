"""Firing alerts where Assess is worked, and what became of the incident's alerts in Verify.

The panel sits in the Phases pane. It reads the Alertmanagers it is given (`alertmanagers`,
set from above) in a worker every `POLL_SECONDS`, lists what fires (severity, name, service,
since when, summary; all outside text made visible), and marks the incident's own alerts:
resolved at, or RE-FIRED after the fix, loudly. `o` asks to open an incident from the
highlighted alert, `y` copies its generator URL (through the app's clipboard service, which
records the copy), `enter` shows it whole. Keeping the incident's alerts up to date (later
alerts attached, resolutions, re-fires) is asked of the app as events to record.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cockpit.core.alerts.incident import IncidentAlerts, TrackedAlert, incident_alerts, reconcile
from cockpit.core.alerts.model import Alert
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.sanitize import safe_text, visible
from cockpit.tui.messages import CopyRequested, RecordRequested

if TYPE_CHECKING:
    from cockpit.core.alerts.alertmanager import AlertsReport
    from cockpit.core.config import AlertmanagerConfig

MAX_ROWS = 50
"""Rows listed in the panel: the incident's alerts, then the rest (firing first, by severity).
A storm of thousands is counted on one more line, never laid out: that would stall the UI."""
POLL_SECONDS = 15.0
"""How often the Alertmanagers are read again (Prometheus evaluates rules about as often)."""
ASK_AGAIN_SECONDS = 30.0

SEVERITY_STYLE = {
    "critical": "bold red",
    "page": "bold red",
    "error": "red",
    "high": "red",
    "warning": "yellow",
    "warn": "yellow",
}


def since(started: datetime | None, now: datetime) -> str:
    """`14:06 (12m)`, compact for 80 columns."""
    if started is None:
        return "?"
    minutes = max(0, int((now - started).total_seconds() // 60))
    ago = f"{minutes}m" if minutes < 120 else f"{minutes // 60}h"
    return f"{started:%H:%M} ({ago})"


@dataclass(frozen=True)
class AlertRow:
    """One row: a live alert, an alert of the incident, or both."""

    alert: Alert
    tracked: TrackedAlert | None
    live: bool


def build_rows(live: tuple[Alert, ...], mine: IncidentAlerts) -> list[AlertRow]:
    """The incident's own alerts first (the ones the human works), then the rest, firing first."""
    live_by_fp = {a.fingerprint: a for a in live}
    rows: list[AlertRow] = []
    for tracked in mine.tracked:
        if tracked.alert.fingerprint.startswith("event-"):
            continue  # an old summary-only event: on the timeline, nothing to follow
        current = live_by_fp.get(tracked.alert.fingerprint)
        rows.append(AlertRow(current or tracked.alert, tracked, current is not None))
    mine_fps = {r.alert.fingerprint for r in rows}
    rows += [AlertRow(a, None, True) for a in live if a.fingerprint not in mine_fps]
    return rows


def row_text(row: AlertRow, now: datetime, width: int = 76, *, reading: bool = False) -> Text:
    """`CRIT HighErrorRate checkout 14:06 (12m) 5xx above 5%`, every outside part visible."""
    alert = row.alert
    severity = (alert.severity or "-")[:4].upper()
    text = Text()
    if row.tracked is not None:
        text.append("● ", style="bold")
    text.append(f"{severity:<4} ", style=SEVERITY_STYLE.get(alert.severity.lower(), "dim"))
    text.append_text(safe_text(alert.alertname, 32, style="bold"))
    if alert.service:
        text.append(" ")
        text.append_text(safe_text(alert.service, 20))
    tracked = row.tracked
    if tracked is not None and tracked.refired_at is not None and not tracked.resolved:
        text.append(" RE-FIRED after the fix ", style="bold reverse red")
    elif tracked is not None and tracked.resolved and tracked.resolved_at is not None:
        fired = f" (fired {alert.starts_at:%H:%M})" if alert.starts_at else ""
        text.append(f" resolved {tracked.resolved_at:%H:%M}{fired}", style="green")
    elif not row.live and tracked is not None and reading:
        text.append(" not in Alertmanager", style="dim")
    elif not alert.firing:
        text.append(f" {alert.state_text}", style="dim")
    if not (tracked is not None and tracked.resolved):
        text.append(f" {since(alert.starts_at, now)}", style="dim")
    room = width - len(text.plain) - 1
    if alert.summary and room >= 12:
        summary = visible(alert.summary, None)
        text.append(" " + (summary if len(summary) <= room else summary[: room - 1] + "…"))
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


class AlertList(OptionList):
    """The alerts; the panel's keys act on the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="alerts-down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="alerts-up"),
    ]


class AlertsPanel(Vertical):
    """Firing alerts and the incident's alerts, read from Alertmanager in a worker."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "o",
            "open_incident",
            "Open incident",
            id="alerts-open-incident",
            tooltip="Open an incident from the highlighted alert (you decide; recorded)",
        ),
        Binding(
            "y",
            "copy_url",
            "Copy URL",
            id="alerts-copy-url",
            tooltip="Copy the alert's generator URL (recorded on the timeline)",
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            id="alerts-refresh",
            show=False,
            tooltip="Read the Alertmanagers again now",
        ),
    ]

    alertmanagers: reactive[tuple[AlertmanagerConfig, ...]] = reactive(())
    incident: reactive[IncidentState | None] = reactive(None)
    note: reactive[str] = reactive("")
    """Shown when there is nothing to read (no Alertmanager was found, and why)."""

    @dataclass
    class Fetched(Message):
        """One read of every Alertmanager finished."""

        report: AlertsReport

    @dataclass
    class OpenRequested(Message):
        """The human chose to open an incident from `alert` (the app confirms and records)."""

        alert: Alert

    def __init__(self, clock: object, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.report: AlertsReport | None = None
        self.rows: list[AlertRow] = []
        self._seen: dict[str, datetime] = {}
        self._requested: dict[tuple[str, str], float] = {}
        """(kind, fingerprint) asked of the app, and when: a slow write is not asked twice,
        and one that failed is asked again after `ASK_AGAIN_SECONDS`."""
        self._timer: object | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="alerts-title")
        yield AlertList(id="alerts-list")
        yield Static(id="alerts-detail")

    def on_mount(self) -> None:
        self._timer = self.set_interval(POLL_SECONDS, self.action_refresh)
        self._render_rows()

    def on_resize(self) -> None:
        self._render_rows()  # rows are cut to the width

    def _now(self) -> datetime:
        clock = self.clock
        assert callable(clock)
        moment = clock()
        assert isinstance(moment, datetime)
        return moment

    def watch_alertmanagers(self) -> None:
        self.action_refresh()
        self._render_rows()

    def watch_incident(self) -> None:
        self._render_rows()

    def watch_note(self) -> None:
        self._render_rows()

    def action_refresh(self) -> None:
        if self.alertmanagers and self.is_mounted:
            self._fetch(self.alertmanagers)

    @work(thread=True, exclusive=True, group="alerts", exit_on_error=False, description="Alerts")
    def _fetch(self, configs: tuple[AlertmanagerConfig, ...]) -> None:
        from textual.worker import get_current_worker

        from cockpit.core.alerts.alertmanager import fetch_alerts

        cancel = threading.Event()
        worker = get_current_worker()
        report = fetch_alerts(list(configs), cancel=cancel, now=self._now())
        if not worker.is_cancelled:
            self.post_message(self.Fetched(report))

    @on(Fetched)
    def _fetched(self, message: Fetched) -> None:
        message.stop()
        self.report = message.report
        for alert in message.report.alerts:
            if alert.firing:
                self._seen[alert.fingerprint] = message.report.fetched_at
        self._reconcile()
        self._render_rows()

    def _reconcile(self) -> None:
        """Ask the app to record what changed for the incident's alerts."""
        state, report = self.incident, self.report
        if state is None or report is None:
            return
        events = reconcile(
            state,
            report.alerts,
            complete=report.complete,
            now=report.fetched_at,
            seen=self._seen,
        )
        moment = time.monotonic()
        for kind, payload in events:
            fingerprint = str(payload.get("fingerprint") or payload["alert"]["fingerprint"])
            key = (str(kind), fingerprint)
            if moment - self._requested.get(key, -ASK_AGAIN_SECONDS) < ASK_AGAIN_SECONDS:
                continue
            self._requested[key] = moment
            loud = kind == Kind.ALERT_REFIRED
            self.post_message(RecordRequested(kind, payload, saved_message=None))
            if loud:
                # The fix did not hold: as loud as the terminal allows, and on the timeline.
                self.notify(
                    str(payload.get("summary", "an alert fired again after the fix")),
                    title="ALERT RE-FIRED",
                    severity="error",
                    timeout=120,
                )
                self.app.bell()

    # -- display ---------------------------------------------------------------------------

    def _render_rows(self) -> None:
        if not self.is_mounted:
            return
        mine = incident_alerts(self.incident.events) if self.incident else IncidentAlerts()
        live = self.report.alerts if self.report else ()
        rows = build_rows(live, mine)
        self.rows = rows[:MAX_ROWS]
        left_out = len(rows) - len(self.rows)
        visible_panel = bool(self.alertmanagers or self.rows or self.note)
        self.set_class(visible_panel, "-shown")
        self.set_class(
            any(r.tracked and r.tracked.refired_at and not r.tracked.resolved for r in self.rows),
            "-refired",
        )
        self.query_one("#alerts-title", Static).update(self._title(mine))
        option_list = self.query_one(AlertList)
        highlighted = option_list.highlighted
        now = self._now()
        width = max(40, (option_list.content_size.width or self.size.width or 78) - 1)
        reading = bool(self.alertmanagers and self.report and self.report.complete)
        options = [Option(row_text(row, now, width, reading=reading)) for row in self.rows]
        if left_out:
            more = f"… {left_out} more alerts not listed here (`cockpit alerts` lists them all)"
            options.append(Option(Text(more, style="dim"), disabled=True))
        option_list.set_options(options)  # one layout pass, not one per row
        if self.rows:
            option_list.highlighted = min(highlighted or 0, len(self.rows) - 1)
        option_list.display = bool(self.rows)
        self._show_detail()
        self.refresh_bindings()  # the Phases pane's `o` applies only while alerts are listed

    def _title(self, mine: IncidentAlerts) -> Text:
        title = Text("Alerts", style="bold")
        report = self.report
        if not self.alertmanagers:
            if self.note:
                title.append(" · ")
                title.append_text(safe_text(self.note, 200, style="dim"))
            return title
        if report is None:
            title.append(" · reading Alertmanager…", style="dim")
            return title
        firing = sum(1 for a in report.alerts if a.firing)
        title.append(f" · {firing} firing", style="bold red" if firing else "green")
        quiet = len(report.alerts) - firing
        if quiet:
            title.append(f", {quiet} silenced/inhibited", style="dim")
        for status in report.statuses:
            title.append(" · ")
            if status.ok:
                title.append_text(safe_text(status.name, 30, style="dim"))
            else:
                title.append_text(safe_text(status.error or status.name, 120, style="bold red"))
        if mine.refired:
            title.append(" · RE-FIRED after the fix", style="bold reverse red")
        return title

    def selected(self) -> AlertRow | None:
        index = self.query_one(AlertList).highlighted
        if index is None or index >= len(self.rows):
            return None
        return self.rows[index]

    @on(OptionList.OptionHighlighted, "#alerts-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_detail()

    def _show_detail(self) -> None:
        row = self.selected()
        detail = self.query_one("#alerts-detail", Static)
        if row is None:
            detail.update("")
            return
        alert = row.alert
        text = Text()
        words = alert.description or alert.summary
        if words:
            text.append_text(safe_text(words, 300))
        url = alert.copyable_url
        if url:
            text.append("\ny ", style="bold")
            text.append_text(safe_text(url, 200, style="dim"))
        elif alert.generator_url:
            text.append("\nURL not offered for copy: ", style="dim")
            text.append_text(safe_text(alert.generator_url, 120, style="dim"))
        detail.update(text)

    # -- actions ---------------------------------------------------------------------------

    def action_open_incident(self) -> None:
        row = self.selected()
        if row is None:
            self.notify("no alert to open an incident from")
            return
        self.post_message(self.OpenRequested(row.alert))

    def action_copy_url(self) -> None:
        row = self.selected()
        if row is None:
            return
        url = row.alert.copyable_url
        if url is None:
            self.notify(
                "this alert has no plain http(s) generator URL to copy"
                if not row.alert.generator_url
                else "the generator URL is not a plain http(s) URL: not copied (see it with enter)",
                severity="warning",
            )
            return
        self.post_message(
            CopyRequested(
                url,
                f"generator URL of alert {visible(row.alert.alertname, 60)}",
                {"kind": "alert-url", "fingerprint": row.alert.fingerprint},
            )
        )

    @on(OptionList.OptionSelected, "#alerts-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        row = self.selected()
        if row is not None:
            self.app.push_screen(AlertDetailScreen(row.alert, row.tracked, self._now()))


class AlertDetailScreen(ModalScreen[None]):
    """One alert whole: labels, annotations, state, where it came from. All of it is text."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "close", "Close", id="alert-detail-close", tooltip="Close"),
    ]

    def __init__(self, alert: Alert, tracked: TrackedAlert | None, now: datetime) -> None:
        super().__init__()
        self.alert = alert
        self.tracked = tracked
        self.now = now

    def compose(self) -> ComposeResult:
        alert = self.alert
        with VerticalScroll(classes="dialog alert-detail"):
            head = Text()
            head.append_text(safe_text(alert.alertname, 80, style="bold"))
            head.append(f"  {alert.state_text}")
            if alert.severity:
                head.append("  ")
                head.append_text(safe_text(alert.severity, 20))
            yield Static(head)
            lines = Text()
            lines.append(f"since {since(alert.starts_at, self.now)} UTC", style="dim")
            if self.tracked is not None:
                how = "opened from it" if self.tracked.opened_from else "attached"
                lines.append(f" · on this incident ({how})", style="dim")
            yield Static(lines)
            for name, value in alert.annotations:
                yield Static(self._pair(name, value))
            yield Static(Text("labels", style="bold"))
            for name, value in alert.labels:
                yield Static(self._pair(name, value))
            if alert.silenced_by:
                yield Static(self._pair("silenced by", ", ".join(alert.silenced_by)))
            if alert.inhibited_by:
                yield Static(self._pair("inhibited by", ", ".join(alert.inhibited_by)))
            yield Static(self._pair("from", ", ".join(alert.origins)))
            url = alert.generator_url or "(none)"
            note = "" if alert.copyable_url or not alert.generator_url else " (not copyable)"
            yield Static(self._pair("generator URL" + note, url))
            yield Static(Text("y in the panel copies the URL; o opens an incident", style="dim"))

    @staticmethod
    def _pair(name: str, value: str) -> Text:
        text = safe_text(name, 60, style="bold")
        text.append(": ")
        text.append_text(safe_text(value, 2000))
        return text

    def action_close(self) -> None:
        self.dismiss(None)


class OpenFromAlertScreen(ModalScreen[str | None]):
    """The human's choice for an alert: open the incident from it, or attach it.

    Returns "adopt" (the current untitled, empty incident becomes the alert's incident),
    "new" (a new incident from the alert), "attach" (to the current incident) or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="open-alert-cancel", tooltip="Decide nothing"),
    ]

    def __init__(self, alert: Alert, *, current_title: str, fresh: bool, now: datetime) -> None:
        super().__init__()
        self.alert = alert
        self.current_title = current_title
        self.fresh = fresh
        self.now = now

    def compose(self) -> ComposeResult:
        alert = self.alert
        facts = Text()
        facts.append("Title: ", style="bold")
        facts.append_text(safe_text(alert.title(), 120))
        facts.append("\nImpact start: ", style="bold")
        facts.append(
            f"{alert.starts_at:%Y-%m-%d %H:%M:%S} UTC (the alert's startsAt)"
            if alert.starts_at
            else "unknown (the alert has no startsAt)"
        )
        facts.append("\nService: ", style="bold")
        facts.append_text(safe_text(alert.service or "(no service label)", 60))
        options = []
        if self.fresh:
            options.append(
                Option(
                    "Open the incident from this alert (the current untitled incident becomes it)",
                    id="adopt",
                )
            )
        else:
            options.append(Option("Open a new incident from this alert", id="new"))
            current = Text("Attach it to the current incident: ")
            current.append_text(safe_text(self.current_title, 60))
            options.append(Option(current, id="attach"))
        with Vertical(classes="dialog"):
            yield Static(Text("An alert is where this incident starts: you decide.", style="bold"))
            yield Static(facts)
            yield OptionList(*options, id="open-alert-choice")
            yield Static(Text("Enter chooses (recorded with your name). Esc cancels.", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#open-alert-choice", OptionList).focus()

    @on(OptionList.OptionSelected, "#open-alert-choice")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
