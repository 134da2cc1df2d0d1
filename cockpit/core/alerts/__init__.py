"""Alerts: Alertmanager's v2 API read-only, merged over an HA pair, and alerts on incidents.

`fetch_alerts` reads every configured Alertmanager (`[[alertmanagers]]`) in parallel;
`incident_alerts` folds an incident's alert events; `reconcile` says which events bring them
up to date (later alerts attached, resolutions, re-fires after the fix).
"""

from __future__ import annotations

from cockpit.core.alerts.alertmanager import (
    AlertmanagerStatus,
    AlertsReport,
    default_alertmanagers,
    fetch_alerts,
)
from cockpit.core.alerts.incident import (
    IncidentAlerts,
    TrackedAlert,
    incident_alerts,
    opened_payload,
    reconcile,
)
from cockpit.core.alerts.model import Alert, AlertError, synthetic_alert

__all__ = [
    "Alert",
    "AlertError",
    "AlertmanagerStatus",
    "AlertsReport",
    "IncidentAlerts",
    "TrackedAlert",
    "default_alertmanagers",
    "fetch_alerts",
    "incident_alerts",
    "opened_payload",
    "reconcile",
    "synthetic_alert",
]
