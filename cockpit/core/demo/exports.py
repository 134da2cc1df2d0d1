"""Deploy history as the tools export it, and the metrics file, written from the plan.

- `deploys.jsonl`: a JSON object per deploy (time, service, sha, version, revision, actor, status).
- `helm/history-<svc>.json`: `helm history <release> -o json` (revision, updated, status, chart,
  app_version, description), oldest first, the newest `deployed`, the rest `superseded`.
- `kubectl/rollout-<svc>.txt`: `kubectl rollout history deployment/<svc>` (REVISION, CHANGE-CAUSE).
- `argocd/history-<svc>.txt`: `argocd app history <svc>` (SOURCE header, then ID, DATE, REVISION).
- `metrics/metrics.om`: OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.core.demo.logs import BUCKETS, MinuteStats
from cockpit.core.demo.scenario import Deploy
from cockpit.core.timefmt import iso_utc

DEPLOY_REPO_URL = "https://git.acme.example/platform/shop-deploy.git"


def write_deploy_log(path: Path, deploys: Sequence[Deploy]) -> None:
    lines = [
        json.dumps(
            {
                "time": iso_utc(d.time),
                "service": d.service,
                "sha": d.sha,
                "version": d.version,
                "revision": d.revision,
                "actor": d.actor,
                "status": d.status,
            }
        )
        for d in deploys
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _table(rows: list[list[str]], padding: int, min_width: int = 0) -> str:
    """Columns aligned like Go's tabwriter: every cell but the last is padded."""
    widths = [
        max(min_width, max(len(row[i]) for row in rows if len(row) > i + 1) + padding)
        for i in range(max(len(row) for row in rows) - 1)
    ]
    return "".join(
        "".join(cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row))
        + "\n"
        for row in rows
    )


def helm_history(deploys: Sequence[Deploy]) -> str:
    """`helm history -o json` for one service's deploys."""
    entries = []
    for index, deploy in enumerate(deploys):
        micros = (deploy.revision * 7919) % 1_000_000  # a stable, plausible sub-second part
        updated = (
            deploy.time.astimezone(UTC)
            .replace(microsecond=micros)
            .strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        )
        entries.append(
            {
                "revision": deploy.revision,
                "updated": updated,
                "status": "deployed" if index == len(deploys) - 1 else "superseded",
                "chart": f"{deploy.service}-{deploy.version.lstrip('v')}",
                "app_version": deploy.version.lstrip("v"),
                "description": "Install complete"
                if index == 0 and deploy.revision == 1
                else "Upgrade complete",
            }
        )
    return json.dumps(entries, separators=(",", ":")) + "\n"


def kubectl_rollout_history(service: str, deploys: Sequence[Deploy]) -> str:
    """`kubectl rollout history deployment/<service>`: the last ten revisions."""
    rows = [["REVISION", "CHANGE-CAUSE"]]
    for deploy in deploys[-10:]:
        cause = f"deploy {deploy.version} ({deploy.short_sha}) by {deploy.actor}"
        rows.append([str(deploy.revision), cause])
    return f"deployment.apps/{service}\n" + _table(rows, padding=2, min_width=10) + "\n"


def argocd_history(deploys: Sequence[Deploy]) -> str:
    """`argocd app history <app>`: a SOURCE header then ID, DATE (Go time format), REVISION."""
    rows = [["SOURCE", DEPLOY_REPO_URL], ["ID", "DATE", "REVISION"]]
    for deploy in deploys:
        date = deploy.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")
        rows.append([str(deploy.revision), date, f"{deploy.version} ({deploy.sha[:7]})"])
    return _table(rows, padding=2)


def write_tool_histories(root: Path, deploys: Sequence[Deploy], services: Sequence[str]) -> None:
    for sub in ("helm", "kubectl", "argocd"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for service in services:
        own = [d for d in deploys if d.service == service]
        (root / "helm" / f"history-{service}.json").write_text(helm_history(own), encoding="utf-8")
        (root / "kubectl" / f"rollout-{service}.txt").write_text(
            kubectl_rollout_history(service, own), encoding="utf-8"
        )
        (root / "argocd" / f"history-{service}.txt").write_text(
            argocd_history(own), encoding="utf-8"
        )


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def write_openmetrics(path: Path, start: datetime, stats: dict[str, list[MinuteStats]]) -> None:
    """Counters and a latency histogram per service, one sample per minute, then `# EOF`.

    Each sample is stamped at the end of its minute (seconds since the epoch), so the value at
    T counts every request logged before T.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    stamps = [
        int((start + timedelta(minutes=i + 1)).timestamp())
        for i in range(max(len(v) for v in stats.values()))
    ]
    out: list[str] = [
        "# HELP http_requests Total HTTP requests by service and status code.\n",
        "# TYPE http_requests counter\n",
    ]
    for service, minutes in stats.items():
        codes = sorted({code for minute in minutes for code in minute.codes})
        for code in codes:
            total = 0
            labels = f'{{service="{service}",code="{code}"}}'
            for i, minute in enumerate(minutes):
                total += minute.codes.get(code, 0)
                out.append(f"http_requests_total{labels} {total} {stamps[i]}\n")
    out += [
        "# HELP http_request_duration_seconds Request duration by service.\n",
        "# TYPE http_request_duration_seconds histogram\n",
        "# UNIT http_request_duration_seconds seconds\n",
    ]
    for service, minutes in stats.items():
        totals = [0] * len(BUCKETS)
        total_seconds = 0.0
        for i, minute in enumerate(minutes):
            for b in range(len(BUCKETS)):
                totals[b] += minute.buckets[b]
            total_seconds += minute.duration_sum
            stamp = stamps[i]
            count = 0
            for b, bound in enumerate(BUCKETS):
                count += totals[b]  # `le` buckets are cumulative over the bounds
                labels = f'service="{service}",le="{_le(bound)}"'
                out.append(f"http_request_duration_seconds_bucket{{{labels}}} {count} {stamp}\n")
            labels = f'service="{service}"'
            out.append(f"http_request_duration_seconds_count{{{labels}}} {count} {stamp}\n")
            out.append(
                f"http_request_duration_seconds_sum{{{labels}}} {total_seconds:.3f} {stamp}\n"
            )
    out.append("# EOF\n")
    path.write_text("".join(out), encoding="utf-8")
