"""`cockpit alerts`: what is firing in Alertmanager (read-only: `GET /api/v2/alerts`).

The config's `[[alertmanagers]]`; with none, `$ALERTMANAGER_URL` (as amtool) or
`http://localhost:9093`. Every instance is read in parallel with its own deadline; an HA pair
is merged by fingerprint; an instance that fails is one line on stderr while the others print.
Exit status: 0 when every Alertmanager answered, 2 when one failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--all",
        action="store_true",
        help="also list silenced and inhibited alerts (they are counted either way)",
    )


def since_text(started: datetime | None, now: datetime) -> str:
    """`14:31 UTC (12m ago)`."""
    if started is None:
        return "-"
    minutes = int((now - started).total_seconds() // 60)
    if minutes < 0:
        ago = "in the future"
    elif minutes < 60:
        ago = f"{minutes}m ago"
    elif minutes < 48 * 60:
        ago = f"{minutes // 60}h{minutes % 60:02d}m ago"
    else:
        ago = f"{minutes // 1440}d ago"
    day = "" if started.date() == now.date() else f"{started:%Y-%m-%d} "
    return f"{day}{started:%H:%M} UTC ({ago})"


def _alert_json(alert: Any) -> dict[str, Any]:
    data: dict[str, Any] = alert.to_payload()
    data["status"] = alert.state_text
    data["silencedBy"] = list(alert.silenced_by)
    data["inhibitedBy"] = list(alert.inhibited_by)
    data["copyableURL"] = alert.copyable_url
    return data


def run(args: argparse.Namespace) -> int:
    from cockpit.commands._common import fail
    from cockpit.core.alerts.alertmanager import default_alertmanagers, fetch_alerts
    from cockpit.core.config import ConfigError, find_config_file, load_config
    from cockpit.core.sanitize import hide_url_password, visible

    explicit = getattr(args, "config", None)
    configs = []
    if find_config_file(explicit) is not None:
        try:
            configs = list(load_config(explicit).alertmanagers)
        except ConfigError as exc:
            fail(str(exc))
    if not configs:
        configs = default_alertmanagers()
    now = datetime.now(UTC)
    report = fetch_alerts(configs, now=now)
    shown = [a for a in report.alerts if args.all or a.firing]
    if args.json:
        json.dump(
            {
                "alerts": [_alert_json(a) for a in shown],
                "alertmanagers": [
                    {
                        "name": s.name,
                        "url": hide_url_password(s.url),
                        "count": s.count,
                        "error": s.error,
                    }
                    for s in report.statuses
                ],
            },
            sys.stdout,
            indent=2,
        )
        print()
    else:
        rows = [("SEVERITY", "ALERT", "SERVICE", "STATE", "SINCE", "SUMMARY")]
        for alert in shown:
            rows.append(
                (
                    visible(alert.severity or "-", 12),
                    visible(alert.alertname, 40),
                    visible(alert.service or "-", 30),
                    alert.state_text,
                    since_text(alert.starts_at, now),
                    visible(alert.summary or alert.description or "", 100),
                )
            )
        if shown:
            widths = [max(len(r[i]) for r in rows) for i in range(5)]
            for row in rows:
                cells = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False))
                print(f"{cells}  {row[5]}".rstrip())
        hidden = len(report.alerts) - len(shown)
        firing = sum(1 for a in report.alerts if a.firing)
        answered = [s for s in report.statuses if s.ok]
        names = ", ".join(visible(s.name) for s in answered) or "no Alertmanager"
        more = f"; {hidden} silenced or inhibited (--all lists them)" if hidden else ""
        print(f"{firing} firing from {names}{more}")
        for status in report.statuses:
            if status.note:
                print(f"note: {visible(status.name)}: {visible(status.note)}")
    for error in report.errors:
        print(f"cockpit: {visible(error)}", file=sys.stderr)
    return 2 if report.errors else 0
