"""Alerts: Alertmanager's v2 API read-only, merged over an HA pair, and alerts on incidents.

- `cockpit.core.alerts.model`: the `Alert` (parsed defensively, stored on the timeline).
- `cockpit.core.alerts.alertmanager`: `fetch_alerts` reads every `[[alertmanagers]]` entry in
  parallel, each with its deadline and its own error row.
- `cockpit.core.alerts.incident`: `incident_alerts` folds an incident's alert events and
  `reconcile` says which events bring them up to date (later alerts attached, resolutions,
  re-fires after the fix).

Import the submodule you need: this package imports nothing at import time, so reading the
timeline never loads the HTTP client.
"""
