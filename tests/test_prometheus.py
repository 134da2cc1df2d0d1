"""Health from a real Prometheus server, backfilled with promtool, on a loopback port."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cockpit.core.config import Config, PrometheusConfig, load_config_file
from cockpit.core.deploys.health import find_burst, health_from_prometheus
from cockpit.core.deploys.prometheus import (
    PROMETHEUS_POINTS_LIMIT,
    PrometheusError,
    bounded_step,
    query_range,
)

# A frozen clock: the demo's data, and so every ranking, depend on it (in the past, which
# backfilled blocks and a 100-year retention accept).
NOW = datetime(2026, 11, 28, 14, 45, tzinfo=UTC)
# The demo writes one sample a minute, so rates need a window of at least two samples.
ERROR_RATIO = (
    '(sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[3m])) or vector(0))'
    ' / sum(rate(http_requests_total{{service="{service}"}}[3m]))'
)
P95 = (
    "histogram_quantile(0.95, sum by (le) "
    '(rate(http_request_duration_seconds_bucket{{service="{service}"}}[3m])))'
)


def test_bounded_step_keeps_points_under_the_limit():
    start = NOW - timedelta(days=30)
    step = bounded_step(start, NOW, 10_000)
    assert (NOW - start).total_seconds() // step + 1 <= 10_000
    assert bounded_step(NOW - timedelta(hours=6), NOW, 10_000) == 60
    huge = bounded_step(NOW - timedelta(days=365), NOW, 50_000)  # clamped to Prometheus's limit
    assert (timedelta(days=365).total_seconds()) // huge + 1 <= PROMETHEUS_POINTS_LIMIT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _synthetic_openmetrics(path: Path) -> None:
    """`synthetic`: 1,000 requests a minute, 0.2% 5xx, then 30% from 25 minutes ago."""
    onset = NOW - timedelta(minutes=25)
    start = NOW - timedelta(hours=3)
    ok = bad = 0
    lines = ["# TYPE http_requests counter\n"]
    minute = start
    while minute <= NOW:
        ratio = 0.3 if minute > onset else 0.002
        bad += round(1000 * ratio)
        ok += 1000 - round(1000 * ratio)
        stamp = int(minute.timestamp())
        lines.append(f'http_requests_total{{service="synthetic",code="200"}} {ok} {stamp}\n')
        lines.append(f'http_requests_total{{service="synthetic",code="500"}} {bad} {stamp}\n')
        minute += timedelta(minutes=1)
    lines.append("# EOF\n")
    path.write_text("".join(lines))


@pytest.fixture(scope="module")
def demo_info(tmp_path_factory: pytest.TempPathFactory):
    sandbox = pytest.importorskip("cockpit.core.demo.sandbox")
    from cockpit.core.demo.scenario import SCENARIOS

    directory = tmp_path_factory.mktemp("demo")
    return sandbox.build_sandbox(
        directory, seed=7, now=NOW, scenario=SCENARIOS["earlier-deploy"], log_mb=2
    )


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory, demo_info) -> Iterator[str]:
    """A real Prometheus holding the synthetic series and the demo's metrics/metrics.om."""
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if prometheus is None or promtool is None:
        pytest.skip("prometheus/promtool not installed (apt-get install prometheus)")
    root = tmp_path_factory.mktemp("prom")
    data = root / "data"
    synthetic = root / "synthetic.om"
    _synthetic_openmetrics(synthetic)
    for source in (synthetic, demo_info.directory / "metrics" / "metrics.om"):
        subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
            check=True,
            capture_output=True,
        )
    config = root / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=100y",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _attempt in range(300):  # bounded readiness poll, ~30 s at most
            try:
                if httpx.get(f"{url}/-/ready", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            try:
                proc.wait(timeout=0.1)  # the pause between polls; also notices an early exit
                pytest.fail(f"prometheus exited: {(root / 'prometheus.log').read_text()[-500:]}")
            except subprocess.TimeoutExpired:
                pass
        else:
            pytest.fail("prometheus did not become ready within 30 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _config(url: str, base: Config | None = None) -> Config:
    prom = PrometheusConfig(url=url, error_ratio_query=ERROR_RATIO, latency_p95_query=P95)
    return (base or Config()).model_copy(update={"prometheus": prom})


def test_error_burst_read_from_real_prometheus(prometheus_url):
    config = _config(prometheus_url)
    series, _notes = health_from_prometheus(
        config, ["synthetic", "absent"], since=NOW - timedelta(hours=2), until=NOW
    )
    assert set(series) == {"synthetic"}  # a service without metrics has no series
    burst = find_burst(series["synthetic"], config.health)
    assert burst is not None and burst.source == "prometheus"
    # rate() over [3m] lags: the ratio crosses 5% within a couple of minutes of the change.
    assert abs(burst.onset - (NOW - timedelta(minutes=25))) <= timedelta(minutes=3)
    assert burst.baseline == pytest.approx(0.002, abs=0.001) and burst.peak > 0.25


def test_single_brace_promql_reads_the_same_health_as_doubled_braces(prometheus_url):
    """PromQL written as-is (single braces, `{service}` filled) used to crash str.format with
    a KeyError; it now gives exactly the series the documented doubled-brace form gives."""
    single = Config().model_copy(
        update={
            "prometheus": PrometheusConfig(
                url=prometheus_url,
                error_ratio_query=ERROR_RATIO.replace("{{", "{").replace("}}", "}"),
                latency_p95_query=P95.replace("{{", "{").replace("}}", "}"),
            )
        }
    )
    window = {"since": NOW - timedelta(hours=2), "until": NOW}
    got, _notes = health_from_prometheus(single, ["synthetic"], **window)
    expected, _notes = health_from_prometheus(_config(prometheus_url), ["synthetic"], **window)
    assert got["synthetic"].points and got == expected


def test_long_ranges_use_a_bounded_step_the_server_accepts(prometheus_url):
    prom = PrometheusConfig(url=prometheus_url, max_points=11_000)
    start = NOW - timedelta(days=30)
    rows = query_range(prom, 'sum(http_requests_total{service="synthetic"})', start, NOW)
    assert rows and len(rows[0][1]) <= 11_000
    with pytest.raises(PrometheusError, match="exceeded maximum resolution"):
        query_range(prom, "up", start, NOW, step=60)  # what an unbounded step would do


def test_bad_promql_and_unreachable_prometheus_give_one_line(prometheus_url):
    prom = PrometheusConfig(url=prometheus_url)
    with pytest.raises(PrometheusError, match=r"query failed \(HTTP 400\)"):
        query_range(prom, "sum(", NOW - timedelta(hours=1), NOW)
    closed = PrometheusConfig(url=f"http://127.0.0.1:{_free_port()}", timeout=2)
    with pytest.raises(PrometheusError, match=r"prometheus http://127\.0\.0\.1:\d+: unreachable"):
        query_range(closed, "up", NOW - timedelta(hours=1), NOW)


def test_demo_incident_ranked_from_prometheus_health(prometheus_url, demo_info):
    from cockpit.core.deploys import analyse_rollback

    config = _config(prometheus_url, load_config_file(demo_info.config_path))
    _listing, report = analyse_rollback(config, now=NOW)
    assert not report.errors
    truth = demo_info.truth
    analysis = report.analyses[0]
    assert analysis.service == truth.bad_service and analysis.burst.source == "prometheus"
    top = analysis.candidates[0]
    assert top.suspect.sha == truth.bad_deploy.sha
    assert top.target is not None and top.target.sha == truth.rollback_target.sha
    assert "also undoes 1 later deploy(s)" in top.explanation
    # p95 from the demo's latency histogram, read through the configured PromQL.
    before, after = re.search(r"p95 latency (\S+)s -> (\S+)s", top.explanation).groups()  # type: ignore[union-attr]
    assert float(after) > float(before)


def test_unreachable_prometheus_is_one_error_and_logs_still_answer(demo_info):
    from cockpit.core.deploys import analyse_rollback

    config = _config(f"http://127.0.0.1:{_free_port()}", load_config_file(demo_info.config_path))
    listing, report = analyse_rollback(config, now=NOW)
    assert len(report.errors) == 1 and "unreachable" in report.errors[0]
    assert listing.deploys  # the deploy list is unaffected
    assert report.analyses and report.analyses[0].burst.source == "logs"


def _answering(content: object) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, content=content))  # type: ignore[arg-type]


HOUR_AGO = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)


def test_a_hostile_prometheus_answer_is_one_line_never_a_traceback():
    """A server that is not Prometheus (or lies): JSON nested 200,000 deep, an endless body,
    samples that are not numbers. One line each, bounded memory; bad samples are skipped."""
    config = PrometheusConfig(url="http://prometheus.invalid:9090")
    end = HOUR_AGO + timedelta(hours=1)
    deep = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(PrometheusError, match="not a Prometheus API answer"):
        query_range(config, "up", HOUR_AGO, end, transport=_answering(deep))

    sent = []

    def endless() -> Iterator[bytes]:
        chunk = b"x" * (1 << 20)
        for _ in range(1000):  # 1 GB if it were all read
            sent.append(len(chunk))
            yield chunk

    with pytest.raises(PrometheusError, match="larger than 32 MB"):
        query_range(config, "up", HOUR_AGO, end, transport=_answering(endless()))
    assert len(sent) <= 34  # it stopped reading at the cap

    stamp = HOUR_AGO.timestamp()
    samples = [[stamp, "0.5"], [stamp + 60, "abc"], ["x", "1"], [stamp + 120], 7]
    samples.append([stamp + 180, "NaN"])
    body = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {"metric": {"service": "checkout"}, "values": samples},
                "not a series",
                {"metric": [], "values": {}},
            ],
        },
    }
    answer = _answering(json.dumps(body).encode())
    series = query_range(config, "up", HOUR_AGO, end, transport=answer)
    assert series[0] == ({"service": "checkout"}, [(HOUR_AGO, 0.5)])
    assert series[1] == ({}, [])


def test_a_remote_source_answer_nested_too_deeply_is_its_own_one_line_error():
    from cockpit.core.search._remote import parse_json
    from cockpit.core.search.model import SourceError

    with pytest.raises(SourceError, match="nested too deeply"):
        parse_json("loki", b"[" * 200_000 + b"]" * 200_000)
