"""Per-service health from Prometheus's `/api/v1/query_range`, with a bounded step."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime

from cockpit.core.config import PrometheusConfig, promql_escaped
from cockpit.core.deploys.model import DeployError
from cockpit.core.timefmt import as_utc

PROMETHEUS_POINTS_LIMIT = 11_000
"""Prometheus refuses a range query that would return more points than this per series."""
MIN_STEP_SECONDS = 60


class PrometheusError(DeployError):
    """Prometheus could not answer; the message names the URL and the reason in one line."""


def bounded_step(
    start: datetime, end: datetime, max_points: int, *, min_step: int = MIN_STEP_SECONDS
) -> int:
    """The step in seconds: at least `min_step`, and large enough that the number of points
    `floor((end - start) / step) + 1` stays within `max_points` (and Prometheus's limit)."""
    limit = max(2, min(max_points, PROMETHEUS_POINTS_LIMIT))
    span = max(0.0, (end - start).total_seconds())
    return max(min_step, math.ceil(span / (limit - 1)))


def query_range(
    config: PrometheusConfig,
    promql: str,
    start: datetime,
    end: datetime,
    *,
    step: int | None = None,
    transport: object | None = None,
) -> list[tuple[dict[str, str], list[tuple[datetime, float]]]]:
    """Run one range query; returns (labels, [(time, value)]) per series. NaN samples dropped."""
    import httpx  # lazy: headless commands that never touch Prometheus do not pay for it

    step = step or bounded_step(start, end, config.max_points)
    url = config.url.rstrip("/") + "/api/v1/query_range"
    params = {
        "query": promql,
        "start": f"{as_utc(start).timestamp():.3f}",
        "end": f"{as_utc(end).timestamp():.3f}",
        "step": str(step),
    }
    where = f"prometheus {config.url}"
    try:
        kwargs: dict[str, object] = {"timeout": config.timeout}
        if transport is not None:
            kwargs["transport"] = transport
        with (
            httpx.Client(**kwargs) as client,  # type: ignore[arg-type]
            client.stream("GET", url, params=params) as response,
        ):
            raw = _bounded_body(response, where)
            status = response.status_code
    except httpx.TimeoutException:
        raise PrometheusError(f"{where}: no answer within {config.timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise PrometheusError(f"{where}: unreachable ({type(exc).__name__}: {exc})") from None
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than any API answer
        raise PrometheusError(f"{where}: HTTP {status}, not a Prometheus API answer") from None
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error", "") if isinstance(body, dict) else ""
        raise PrometheusError(f"{where}: query failed (HTTP {status}): {error}")
    data = body.get("data") or {}
    if data.get("resultType") != "matrix":
        raise PrometheusError(f"{where}: expected a matrix, got {data.get('resultType')!r}")
    series: list[tuple[dict[str, str], list[tuple[datetime, float]]]] = []
    results = data.get("result")
    for item in results if isinstance(results, list) else []:
        if not isinstance(item, dict):
            continue
        points: list[tuple[datetime, float]] = []
        values = item.get("values")
        for sample in values if isinstance(values, list) else []:
            point = _point(sample)
            if point is not None:
                points.append(point)
        metric = item.get("metric")
        labels = {str(k): str(v) for k, v in metric.items()} if isinstance(metric, dict) else {}
        series.append((labels, points))
    return series


MAX_BODY_BYTES = 32 * 1024 * 1024
"""Largest answer read: a range query within the point limit is far smaller."""


def _bounded_body(response: object, where: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():  # type: ignore[attr-defined]
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PrometheusError(
                f"{where}: answer larger than {MAX_BODY_BYTES >> 20} MB; not a range query answer"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _point(sample: object) -> tuple[datetime, float] | None:
    """`[unix time, "value"]` as (time, value); None for NaN, infinity or anything malformed
    (a server's answer is outside data: a bad sample is skipped, never a traceback)."""
    if not isinstance(sample, list | tuple) or len(sample) != 2:
        return None
    try:
        value = float(sample[1])
        stamp = datetime.fromtimestamp(float(sample[0]), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    if math.isnan(value) or math.isinf(value):
        return None
    return stamp, value


_ESCAPED_TOKEN = re.compile(r"\{\{|\}\}|\{service\}")


def service_query(template: str, service: str) -> str:
    """Fill `{service}` in a configured PromQL template, without `str.format`: PromQL is full
    of braces. A template that doubles its literal braces (`{{service="{service}"}}`, the
    documented form) has them undoubled; otherwise every other brace is left as written."""
    if not promql_escaped(template):
        return template.replace("{service}", service)
    tokens = {"{{": "{", "}}": "}", "{service}": service}
    return _ESCAPED_TOKEN.sub(lambda match: tokens[match[0]], template)


def ready(url: str, *, timeout: float = 1.0) -> bool:
    """True when Prometheus answers `/-/ready` with 200."""
    import httpx

    try:
        return httpx.get(url.rstrip("/") + "/-/ready", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False
