"""Real Alertmanagers for tests: Debian's `prometheus-alertmanager` on free loopback ports.

Each instance gets a temporary config and storage path and runs without gossip
(`--cluster.listen-address=` empty), so two of them are independent, as an HA pair whose
gossip is down would be. Tests post alerts (and silences) through the v2 API, the way
Prometheus and amtool do; the cockpit itself only ever reads.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

PACKAGE = "prometheus-alertmanager"
CONFIG = """\
route:
  receiver: blackhole
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: blackhole
"""


def alertmanager_binary() -> str:
    """The binary, or skip naming the package."""
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if found is None:
        pytest.skip(f"{PACKAGE} not installed (apt-get install {PACKAGE})")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RealAlertmanager:
    url: str
    process: subprocess.Popen[bytes]

    def post(self, *alerts: dict[str, Any]) -> None:
        """POST alerts as Prometheus does."""
        response = httpx.post(f"{self.url}/api/v2/alerts", json=list(alerts), timeout=5)
        assert response.status_code == 200, response.text

    def silence(self, matchers: dict[str, str], *, now: datetime | None = None) -> str:
        """Silence alerts whose labels match (as amtool would)."""
        start = now or datetime.now(UTC)
        body = {
            "matchers": [
                {"name": k, "value": v, "isRegex": False, "isEqual": True}
                for k, v in matchers.items()
            ],
            "startsAt": (start - timedelta(minutes=1)).isoformat(),
            "endsAt": (start + timedelta(hours=1)).isoformat(),
            "createdBy": "test",
            "comment": "test silence",
        }
        response = httpx.post(f"{self.url}/api/v2/silences", json=body, timeout=5)
        assert response.status_code == 200, response.text
        return str(response.json()["silenceID"])

    def wait_for(self, predicate: Any, *, seconds: float = 15.0) -> list[dict[str, Any]]:
        """Poll GET /api/v2/alerts until `predicate(alerts)` holds (a liveness bound)."""
        deadline = time.monotonic() + seconds
        alerts: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            alerts = httpx.get(f"{self.url}/api/v2/alerts", timeout=5).json()
            if predicate(alerts):
                return alerts
            time.sleep(0.1)  # polling a real server's state, bounded by the deadline
        raise AssertionError(f"Alertmanager at {self.url} never got there: {alerts}")


@contextmanager
def running_alertmanager(directory: Path, *, port: int | None = None) -> Iterator[RealAlertmanager]:
    """Start one Alertmanager; stop it on exit."""
    binary = alertmanager_binary()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "alertmanager.yml"
    config.write_text(CONFIG)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = (directory / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"alertmanager exited: {(directory / 'alertmanager.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{url}/-/ready", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("alertmanager did not become ready in 30 s")
            time.sleep(0.1)  # readiness poll of a real server, bounded above
        yield RealAlertmanager(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def alert_json(
    alertname: str,
    *,
    service: str = "checkout",
    severity: str = "critical",
    summary: str = "",
    description: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    generator_url: str = "http://prometheus.example:9090/graph?g0.expr=up",
    **labels: str,
) -> dict[str, Any]:
    """An alert as Prometheus POSTs it."""
    body: dict[str, Any] = {
        "labels": {"alertname": alertname, "service": service, "severity": severity, **labels},
        "annotations": {"summary": summary or f"{alertname} on {service}"},
        "generatorURL": generator_url,
    }
    if description:
        body["annotations"]["description"] = description
    if starts_at is not None:
        body["startsAt"] = starts_at.isoformat()
    if ends_at is not None:
        body["endsAt"] = ends_at.isoformat()
    return body
