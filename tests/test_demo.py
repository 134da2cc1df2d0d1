"""The demo sandbox generator and `cockpit demo`: determinism, real git, formats, the burst."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pytest

from cockpit.core.config import HealthConfig, load_config_file
from cockpit.core.demo import (
    DEFAULT,
    ERROR_PATTERN,
    REQUEST_PATTERN,
    SCENARIOS,
    SandboxError,
    SandboxInfo,
    Scenario,
    build_sandbox,
)

NOW = datetime(2026, 11, 28, 14, 31, 17, tzinfo=UTC)
SMALL_MB = 2.0

# A line's own timestamp, per format (see cockpit/core/demo/logs.py).
TIMESTAMP = {
    "gateway": re.compile(r"^\S+ - - \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}):\d{2} \+0000\] "),
    "checkout": re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}):\d{2}\.\d{3}Z "),
    "payments": re.compile(r'^\{"time":"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}):\d{2}\.\d{3}Z"'),
    "inventory": re.compile(r"^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}):\d{2} \S+ inventory\[\d+\]: "),
}
MINUTE_FORMAT = {
    "gateway": "%d/%b/%Y:%H:%M",
    "checkout": "%Y-%m-%dT%H:%M",
    "payments": "%Y-%m-%dT%H:%M",
    "inventory": "%b %d %H:%M",
}
CONTINUATION = re.compile(
    r"^(Traceback \(most recent call last\):|  File |    |\t|[\w.]+(Error|Exception): )"
)

GIT = shutil.which("git") or "git"
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def build(
    directory: Path,
    scenario: Scenario = DEFAULT,
    *,
    seed: int = 7,
    log_mb: float = SMALL_MB,
    now: datetime = NOW,
) -> SandboxInfo:
    return build_sandbox(directory, seed=seed, now=now, scenario=scenario, log_mb=log_mb)


@pytest.fixture(scope="module")
def default_box(tmp_path_factory: pytest.TempPathFactory) -> SandboxInfo:
    return build(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="module")
def earlier_box(tmp_path_factory: pytest.TempPathFactory) -> SandboxInfo:
    return build(tmp_path_factory.mktemp("earlier"), SCENARIOS["earlier-deploy"], log_mb=1)


@pytest.fixture(scope="module")
def nodeploy_box(tmp_path_factory: pytest.TempPathFactory) -> SandboxInfo:
    return build(tmp_path_factory.mktemp("nodeploy"), SCENARIOS["no-deploy"], log_mb=1)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [GIT, "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def read_lines(directory: Path, service: str) -> list[str]:
    """All lines of a service's rotated logs, oldest file first."""
    files = sorted(
        (directory / "logs" / service).iterdir(),
        key=lambda p: -int(p.name.split(".")[2]) if p.name.count(".") >= 2 else 0,
    )
    lines: list[str] = []
    for path in files:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        lines.extend(data.decode("utf-8").splitlines())
    return lines


def minute_ratios(directory: Path, service: str) -> dict[str, tuple[int, int]]:
    """(requests, 5xx) per minute key, counted with the HealthConfig defaults."""
    health = HealthConfig()
    request, error = re.compile(health.request_pattern), re.compile(health.error_pattern)
    counts: dict[str, list[int]] = {}
    for line in read_lines(directory, service):
        match = TIMESTAMP[service].match(line)
        if not match:
            continue
        bucket = counts.setdefault(match.group(1), [0, 0])
        if request.search(line):
            bucket[0] += 1
            if error.search(line):
                bucket[1] += 1
    return {key: (value[0], value[1]) for key, value in counts.items()}


def window_ratio(
    ratios: dict[str, tuple[int, int]], service: str, start: datetime, minutes: int
) -> float:
    """5xx share of all requests in [start, start + minutes): steadier than one minute."""
    keys = [(start + timedelta(minutes=k)).strftime(MINUTE_FORMAT[service]) for k in range(minutes)]
    requests = sum(ratios.get(key, (0, 0))[0] for key in keys)
    errors = sum(ratios.get(key, (0, 0))[1] for key in keys)
    return errors / requests if requests else 0.0


def ratio_at(ratios: dict[str, tuple[int, int]], service: str, minute: datetime) -> float:
    requests, errors = ratios.get(minute.strftime(MINUTE_FORMAT[service]), (0, 0))
    return errors / requests if requests else 0.0


# -- determinism and safety -----------------------------------------------------------------------


def all_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_inputs_give_byte_identical_sandboxes(tmp_path: Path) -> None:
    first = build(tmp_path / "a", log_mb=1)
    second = build(tmp_path / "b", log_mb=1)
    files_a, files_b = all_files(first.directory), all_files(second.directory)
    assert files_a.keys() == files_b.keys()
    assert any(name.endswith(".gz") for name in files_a)
    different = [name for name in files_a if files_a[name] != files_b[name]]
    assert different == []
    assert first.deploys == second.deploys


def test_another_seed_gives_other_logs_and_commits(
    tmp_path: Path, default_box: SandboxInfo
) -> None:
    other = build(tmp_path / "b", seed=8, log_mb=0.5)
    log = Path("logs/checkout/checkout.log")
    first_lines = (default_box.directory / log).read_text().splitlines()[:5]
    assert first_lines != (other.directory / log).read_text().splitlines()[:5]
    assert {d.sha for d in default_box.deploys}.isdisjoint({d.sha for d in other.deploys})


def test_rebuild_in_place_keeps_the_incident_store_and_refuses_foreign_dirs(tmp_path: Path) -> None:
    box = build(tmp_path / "box", log_mb=0.5)
    store = box.directory / "incidents.db"
    store.write_bytes(b"keep me")
    build(tmp_path / "box", log_mb=0.5, now=NOW + timedelta(hours=1))
    assert store.read_bytes() == b"keep me"
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(SandboxError, match="not a demo sandbox"):
        build(foreign, log_mb=0.5)
    assert (foreign / "notes.txt").read_text() == "mine"


def test_the_truth_is_not_written_into_the_sandbox(default_box: SandboxInfo) -> None:
    marker = json.loads((default_box.directory / ".cockpit-demo.json").read_text())
    assert set(marker) == {"generator", "seed", "scenario", "now", "log_mb"}
    assert DEFAULT.name not in json.dumps(marker)
    names = {p.name for p in default_box.directory.rglob("*")}
    assert not any("truth" in name for name in names)
    config_text = default_box.config_path.read_text()
    assert "bad" not in config_text and DEFAULT.name not in config_text


# -- the git repository ---------------------------------------------------------------------------


@needs_git
def test_repo_passes_fsck_and_has_history_and_deploy_tags(default_box: SandboxInfo) -> None:
    repo = default_box.directory / "repo"
    subprocess.run(
        [GIT, "-C", str(repo), "fsck", "--strict", "--no-dangling"], check=True, capture_output=True
    )
    commits = git(repo, "log", "--format=%H %at %ae %s").splitlines()
    assert 250 <= len(commits) <= 350
    times = [int(line.split()[1]) for line in commits]
    assert max(times) <= NOW.timestamp()
    assert min(times) >= (NOW - timedelta(days=7, minutes=1)).timestamp()
    assert all(line.split()[2].endswith("@acme.example") for line in commits)
    assert any("checkout:" in line for line in commits)
    assert git(repo, "status", "--porcelain") == ""  # the index matches the work tree
    tags = git(repo, "tag", "-l").split()
    for service in DEFAULT.services:
        own = [t for t in tags if t.startswith(f"deploy/{service}/")]
        assert 6 <= len(own) <= 11, (service, own)
        assert all(re.fullmatch(rf"deploy/{service}/\d{{8}}-\d{{4}}", t) for t in own)


def test_gitpython_sees_the_tags_on_the_deployed_commits(default_box: SandboxInfo) -> None:
    import git as gitpython

    repo = gitpython.Repo(default_box.directory / "repo")
    by_name = {tag.name: tag for tag in repo.tags}
    assert len(by_name) == len(default_box.deploys)
    for deploy in default_box.deploys:
        tag = by_name[deploy.tag]
        assert tag.commit.hexsha == deploy.sha
        assert tag.commit.committed_datetime <= deploy.time
        assert deploy.time - tag.commit.committed_datetime < timedelta(days=3)


def test_deploys_are_in_working_hours_and_two_services_deploy_close_together(
    default_box: SandboxInfo,
) -> None:
    truth = default_box.truth
    fixed = {d for d in default_box.deploys if d.time > truth.burst_start - timedelta(minutes=30)}
    for deploy in default_box.deploys:
        if deploy not in fixed:
            assert 9 <= deploy.time.hour < 18, deploy
    pairs = [
        (a, b)
        for a in default_box.deploys
        for b in default_box.deploys
        if a.service != b.service and timedelta(0) < b.time - a.time < timedelta(minutes=10)
    ]
    assert pairs


@needs_git
def test_the_bad_deploy_is_the_latest_and_changes_the_client_timeout(
    default_box: SandboxInfo,
) -> None:
    truth = default_box.truth
    bad, target = truth.bad_deploy, truth.rollback_target
    assert bad is not None and target is not None
    checkout = [d for d in default_box.deploys if d.service == "checkout"]
    assert checkout[-1] == bad and checkout[-2] == target
    assert timedelta(minutes=2) < truth.burst_start - bad.time <= timedelta(minutes=3)
    assert truth.burst_start == NOW.replace(second=0) - timedelta(minutes=25)
    assert bad.revision == target.revision + 1
    diff = git(
        default_box.directory / "repo",
        "diff",
        target.sha,
        bad.sha,
        "--",
        "services/checkout/config.yaml",
    )
    assert "-  timeout_ms: 3000" in diff and "+  timeout_ms: 800" in diff
    assert "+    max: 10" in diff
    subjects = git(default_box.directory / "repo", "log", "--format=%s", f"{target.sha}..{bad.sha}")
    assert "checkout: tighten payments client timeout to 800ms" in subjects


def test_earlier_deploy_scenario_has_a_harmless_deploy_after_the_bad_one(
    earlier_box: SandboxInfo,
) -> None:
    truth = earlier_box.truth
    checkout = [d for d in earlier_box.deploys if d.service == "checkout"]
    assert truth.bad_deploy == checkout[-2]
    assert truth.rollback_target == checkout[-3]
    latest = checkout[-1]
    assert truth.burst_start < latest.time < NOW
    assert timedelta(minutes=2) < truth.burst_start - checkout[-2].time <= timedelta(minutes=3)


def test_no_deploy_scenario_has_no_deploy_near_the_burst(nodeploy_box: SandboxInfo) -> None:
    truth = nodeploy_box.truth
    assert truth.bad_deploy is None and truth.rollback_target is None
    assert truth.containment != "rollback"
    quiet_from = truth.burst_start - timedelta(minutes=90)
    assert not [d for d in nodeploy_box.deploys if d.time >= quiet_from]
    ratios = minute_ratios(nodeploy_box.directory, "payments")
    assert window_ratio(ratios, "payments", truth.burst_start + timedelta(minutes=3), 10) > 0.15


# -- logs -----------------------------------------------------------------------------------------


def test_every_line_has_its_formats_timestamp_or_is_a_trace_continuation(
    default_box: SandboxInfo,
) -> None:
    for service in DEFAULT.services:
        lines = read_lines(default_box.directory, service)
        assert len(lines) > 1000
        stamped = [line for line in lines if TIMESTAMP[service].match(line)]
        loose = [line for line in lines if not TIMESTAMP[service].match(line)]
        assert all(CONTINUATION.match(line) for line in loose), [
            line for line in loose if not CONTINUATION.match(line)
        ][:3]
        assert len(stamped) > 0.9 * len(lines)
    checkout = "\n".join(read_lines(default_box.directory, "checkout"))
    assert "Traceback (most recent call last):" in checkout
    assert "\tat com.acme.inventory" in "\n".join(read_lines(default_box.directory, "inventory"))
    for line in read_lines(default_box.directory, "payments"):
        json.loads(line)


def test_logs_cover_six_hours_before_now_in_rotated_files(default_box: SandboxInfo) -> None:
    names = sorted(p.name for p in (default_box.directory / "logs" / "checkout").iterdir())
    assert names == [
        "checkout.log",
        "checkout.log.1",
        "checkout.log.2.gz",
        "checkout.log.3.gz",
        "checkout.log.4.gz",
        "checkout.log.5.gz",
    ]
    lines = read_lines(default_box.directory, "checkout")
    first = datetime.strptime(lines[0][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    last_stamped = next(line for line in reversed(lines) if TIMESTAMP["checkout"].match(line))
    last = datetime.strptime(last_stamped[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    assert NOW - timedelta(hours=6, minutes=1) <= first < NOW - timedelta(hours=5, minutes=59)
    assert NOW - timedelta(minutes=2) < last < NOW
    newest = (default_box.directory / "logs/checkout/checkout.log").read_text().splitlines()
    assert newest[0] >= (NOW - timedelta(hours=1, minutes=1)).strftime("%Y-%m-%dT%H:%M")


def test_gzip_files_are_valid_and_reproducible(default_box: SandboxInfo) -> None:
    gz_files = list((default_box.directory / "logs").rglob("*.gz"))
    assert len(gz_files) == 4 * len(DEFAULT.services)
    for path in gz_files:
        raw = path.read_bytes()
        assert raw[:4] == b"\x1f\x8b\x08\x00"  # deflate, no FNAME/FEXTRA flags
        assert raw[4:8] == b"\0\0\0\0"  # mtime 0
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            assert sum(1 for _ in handle) > 100


def test_patterns_match_each_format_exactly() -> None:
    assert HealthConfig().request_pattern == REQUEST_PATTERN
    assert HealthConfig().error_pattern == ERROR_PATTERN
    request, error = re.compile(REQUEST_PATTERN), re.compile(ERROR_PATTERN)
    stamp, syslog = "2026-11-28T14:31:02.123Z", "Nov 28 14:31:02 inventory-7d9f inventory[4121]:"
    nginx = '10.1.2.3 - - [28/Nov/2026:14:31:02 +0000] "GET /api/cart HTTP/1.1"'
    samples = {
        f'{nginx} 200 512 "-" "x" rt=0.042': False,
        f'{nginx} 504 0 "-" "x" rt=0.8': True,
        f"{stamp} level=info service=checkout path=/api/cart status=200 duration_ms=4": False,
        f'{stamp} level=error service=checkout status=503 msg="pool exhausted"': True,
        f'{{"time":"{stamp}","level":"info","status":201,"duration_ms":31}}': False,
        f'{{"time":"{stamp}","level":"error","status":502,"duration_ms":3}}': True,
        f"{syslog} INFO GET /api/stock/1 status=200 duration_ms=8": False,
        f"{syslog} ERROR GET /api/stock/1 status=500 duration_ms=8": True,
    }
    for line, is_error in samples.items():
        assert request.search(line), line
        assert bool(error.search(line)) is is_error, line
    for not_a_request in (
        '2026-11-28T14:31:02.123Z level=warn msg="slow query" duration_ms=612',
        "Nov 28 14:31:02 inv inventory[1]: WARN GC pause 120ms (G1 Evacuation Pause)",
        "upstream_status=503",
        '{"upstream_status":503}',
    ):
        assert not request.search(not_a_request), not_a_request


def test_the_burst_starts_minutes_after_the_bad_deploy(default_box: SandboxInfo) -> None:
    truth = default_box.truth
    assert truth.bad_deploy is not None
    ratios = minute_ratios(default_box.directory, "checkout")
    before = [
        ratio_at(ratios, "checkout", truth.bad_deploy.time - timedelta(minutes=m))
        for m in range(1, 60)
    ]
    assert sum(before) / len(before) < 0.02

    def high(minute: datetime) -> bool:
        # Two high minutes in a row: at small log sizes one error can make a single minute high.
        return all(
            ratio_at(ratios, "checkout", minute + timedelta(minutes=k)) > 0.05 for k in (0, 1)
        )

    start = truth.bad_deploy.time.replace(second=0)
    assert not any(high(start - timedelta(minutes=m)) for m in range(1, 120))
    first_high = next(
        start + timedelta(minutes=m) for m in range(0, 20) if high(start + timedelta(minutes=m))
    )
    delay = first_high - truth.bad_deploy.time.replace(second=0)
    assert timedelta(minutes=2) <= delay <= timedelta(minutes=6)
    assert window_ratio(ratios, "checkout", truth.burst_start + timedelta(minutes=5), 10) > 0.15
    # Other services' own logs stay healthy; the gateway sees the failures of checkout routes.
    for service in ("payments", "inventory"):
        other = minute_ratios(default_box.directory, service)
        assert window_ratio(other, service, truth.burst_start + timedelta(minutes=5), 15) < 0.03


def test_burst_errors_have_several_signatures_with_varying_details(
    default_box: SandboxInfo,
) -> None:
    truth = default_box.truth
    messages = [
        m.group(1)
        for line in read_lines(default_box.directory, "checkout")
        if "level=error" in line and (m := re.search(r'msg="([^"]*)"', line))
    ]
    shapes = Counter(re.sub(r"\d+|[0-9a-f]{12}", "N", message) for message in messages)
    burst_shapes = [shape for shape in shapes if "payments" in shape and shapes[shape] > 3]
    assert len(burst_shapes) >= 3
    assert len(set(messages)) > 2 * len(shapes)  # the numbers and ids vary
    assert any("upstream timeout calling payments after 8" in m for m in messages)
    assert truth.error_signatures


def test_hostile_lines_are_present_raw(default_box: SandboxInfo) -> None:
    blob = b"".join(
        gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for path in (default_box.directory / "logs").rglob("*.log*")
    )
    assert b"\x1b[2J" in blob
    assert b"\x1b]52;c;" in blob
    assert b"[@click=app.quit]" in blob
    assert b"IGNORE PREVIOUS INSTRUCTIONS" in blob
    assert max(len(line) for line in blob.split(b"\n")) > 10_000


# -- deploy histories, metrics, config ------------------------------------------------------------


def test_deploy_log_and_tool_histories_agree(default_box: SandboxInfo) -> None:
    root = default_box.directory
    rows = [json.loads(line) for line in (root / "deploys.jsonl").read_text().splitlines()]
    assert len(rows) == len(default_box.deploys)
    assert set(rows[0]) == {"time", "service", "sha", "version", "revision", "actor", "status"}
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["time"]) and len(r["sha"]) == 40
        for r in rows
    )
    checkout = [d for d in default_box.deploys if d.service == "checkout"]
    helm = json.loads((root / "helm/history-checkout.json").read_text())
    assert [h["revision"] for h in helm] == [d.revision for d in checkout]
    assert {tuple(sorted(h)) for h in helm} == {
        ("app_version", "chart", "description", "revision", "status", "updated")
    }
    assert [h["status"] for h in helm][-2:] == ["superseded", "deployed"]
    kubectl = (root / "kubectl/rollout-checkout.txt").read_text().splitlines()
    assert kubectl[0] == "deployment.apps/checkout"
    assert kubectl[1].split() == ["REVISION", "CHANGE-CAUSE"]
    assert kubectl[-2].split()[0] == str(checkout[-1].revision)
    argocd = (root / "argocd/history-checkout.txt").read_text().splitlines()
    assert argocd[0].split()[0] == "SOURCE" and argocd[1].split() == ["ID", "DATE", "REVISION"]
    last = argocd[-1]
    assert (
        checkout[-1].sha[:7] in last
        and checkout[-1].time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC") in last
    )


def test_metrics_agree_with_the_logs(default_box: SandboxInfo) -> None:
    text = (default_box.directory / "metrics/metrics.om").read_text()
    assert text.endswith("# EOF\n")
    finals: dict[str, int] = {}
    for line in text.splitlines():
        match = re.match(
            r'http_requests_total\{service="checkout",code="(\d+)"\} (\d+) (\d+)$', line
        )
        if match:
            finals[match.group(1)] = int(match.group(2))
    lines = read_lines(default_box.directory, "checkout")
    request, error = re.compile(REQUEST_PATTERN), re.compile(ERROR_PATTERN)
    assert sum(finals.values()) == sum(1 for line in lines if request.search(line))
    assert sum(v for code, v in finals.items() if code.startswith("5")) == sum(
        1 for line in lines if error.search(line)
    )
    assert 'http_request_duration_seconds_bucket{service="checkout",le="+Inf"}' in text


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_backfills_the_metrics(tmp_path: Path) -> None:
    box = build(tmp_path / "box", log_mb=0.3)
    promtool = shutil.which("promtool")
    assert promtool is not None
    result = subprocess.run(
        [
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            str(box.directory / "metrics/metrics.om"),
            str(tmp_path / "tsdb"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert any((tmp_path / "tsdb").iterdir())


def test_config_validates_and_points_at_everything(default_box: SandboxInfo) -> None:
    config = load_config_file(default_box.config_path)
    assert config.cockpit.author is None
    assert config.store_path == default_box.directory / "incidents.db"
    assert config.prometheus is None
    assert [s.name for s in config.sources] == list(DEFAULT.services)
    for source in config.sources:
        assert source.kind == "files"
        matched = {p.name for pattern in source.paths for p in default_box.directory.glob(pattern)}
        assert f"{source.name}.log" in matched and f"{source.name}.log.5.gz" in matched
    assert [s.name for s in config.services] == list(DEFAULT.services)
    tools = set()
    for service in config.services:
        deploys = service.deploys
        assert deploys.repo is not None and (config.resolve(deploys.repo) / ".git").is_dir()
        assert deploys.tag_pattern == f"deploy/{service.name}/*"
        assert deploys.deploy_log is not None and config.resolve(deploys.deploy_log).is_file()
        assert deploys.history_file is not None and config.resolve(deploys.history_file).is_file()
        assert service.rollback.command and "{revision}" in service.rollback.command
        tools.add(service.rollback.command.split()[0])
    assert tools == {"kubectl", "helm", "argocd"}
    checkout = next(s for s in config.services if s.name == "checkout")
    assert (
        checkout.rollback.command
        == "kubectl rollout undo deployment/checkout -n prod --to-revision={revision}"
    )
    assert checkout.rollback.dry_run == checkout.rollback.command + " --dry-run=server"
    # The kubectl services also show a named custom command beside the rollback.
    (pin,) = checkout.rollback.custom
    assert pin.label == "pin the image to the healthy build" and pin.prod_changing
    assert pin.command.endswith("checkout=registry.example.com/checkout:{version}")
    assert pin.dry_run == pin.command + " --dry-run=server"
    assert [len(s.rollback.custom) for s in config.services] == [
        int((s.rollback.command or "").startswith("kubectl ")) for s in config.services
    ]


# -- scenarios ------------------------------------------------------------------------------------


def test_scenarios_validate_their_fields() -> None:
    with pytest.raises(ValueError, match="bad_service"):
        Scenario(bad_service="search")
    with pytest.raises(ValueError, match="unknown fault"):
        Scenario(fault="meteor")
    with pytest.raises(ValueError, match="unknown scenario key 'colour'"):
        Scenario.from_mapping({"name": "x", "colour": "red"})
    with pytest.raises(ValueError, match="'error_ratio_after': expected a number"):
        Scenario.from_mapping({"error_ratio_after": "high"})
    with pytest.raises(ValueError, match="'bad_deploy_back': expected an integer"):
        Scenario.from_mapping({"bad_deploy_back": True})
    with pytest.raises(ValueError, match="history_days"):
        Scenario(history_days=1)
    assert (
        Scenario.from_mapping({"noisy_service": "", "error_ratio_after": 1}).noisy_service is None
    )
    loaded = Scenario.from_mapping(
        {"name": "x", "services": ["a", "b", "c"], "bad_service": "b", "companion_service": None}
    )
    assert loaded.services == ("a", "b", "c")


def test_custom_services_build_with_generic_routes(tmp_path: Path) -> None:
    scenario = replace(
        DEFAULT,
        name="custom",
        services=("web", "orders", "billing"),
        bad_service="orders",
        companion_service="web",
    )
    box = build_sandbox(tmp_path / "box", now=NOW, scenario=scenario, log_mb=0.3, drill=True)
    assert {d.service for d in box.deploys} == {"web", "orders", "billing"}
    assert box.truth.bad_deploy is not None and box.truth.bad_deploy.service == "orders"
    config = load_config_file(box.config_path)
    assert config.cockpit.drill is True
    assert [s.name for s in config.sources] == ["web", "orders", "billing"]


# -- the command ----------------------------------------------------------------------------------


def test_cli_build_only_prints_the_config_path_and_reuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cockpit.cli import main

    target = tmp_path / "demo"
    argv = [
        "demo",
        "--dir",
        str(target),
        "--build-only",
        "--now",
        "2026-11-28T14:31:00Z",
        "--log-mb",
        "0.5",
    ]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(target / "cockpit.toml")
    assert "100% done" in err
    load_config_file(Path(out.strip()))
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(target / "cockpit.toml") and "reusing" in err


def test_cli_rejects_a_bad_now_and_a_foreign_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cockpit.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["demo", "--now", "yesterday", "--build-only", "--dir", str(tmp_path)])
    assert exited.value.code == 2
    (tmp_path / "x.txt").write_text("mine")
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--dir", str(tmp_path), "--build-only", "--log-mb", "0.2"])
    assert exited.value.code == 2
    assert "not a demo sandbox" in capsys.readouterr().err


def test_demo_opens_the_tui_on_an_alerted_incident(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cockpit.tui.app
    from cockpit.cli import main
    from cockpit.core.store import EventStore

    opened: list[tuple[Path, str | None]] = []

    def fake_run_tui(config_path: Path, *, incident_id: str | None = None, **_: object) -> int:
        opened.append((config_path, incident_id))
        return 0

    monkeypatch.setattr(cockpit.tui.app, "run_tui", fake_run_tui)
    argv = [
        "demo",
        "--dir",
        str(tmp_path / "demo"),
        "--now",
        "2026-11-28T14:31:00Z",
        "--log-mb",
        "0.3",
    ]
    assert main(argv) == 0
    assert main(argv) == 0  # reused: the same incident, not a second one
    assert len(opened) == 2 and opened[0] == opened[1]
    _, incident_id = opened[0]
    with EventStore(tmp_path / "demo" / "incidents.db") as store:
        incidents = store.incidents()
        assert [i.id for i in incidents] == [incident_id]
        assert incidents[0].title == DEFAULT.title and incidents[0].created_by == "alertmanager"
        assert incident_id is not None
        alert = [e for e in store.events(incident_id) if e.kind == "alert.attached"]
        assert len(alert) == 1 and alert[0].author == "alertmanager"
        assert alert[0].payload["service"] == "checkout"
        assert alert[0].payload["started_at"] == "2026-11-28T14:06:00Z"
        # The page is a real alert object, as Alertmanager would give it.
        page = alert[0].payload["alert"]
        assert page["labels"] == {
            "alertname": "HighErrorRate",
            "service": "checkout",
            "severity": "critical",
        }
        assert page["startsAt"] == "2026-11-28T14:06:00Z" and alert[0].payload["opened_from"]
    # A rebuild for another moment closes the stale demo incident and opens a fresh one.
    assert main([*argv[:3], "--now", "2026-11-28T16:00:00Z", "--log-mb", "0.3"]) == 0
    with EventStore(tmp_path / "demo" / "incidents.db") as store:
        incidents = store.incidents()
        assert len(incidents) == 2
        assert [i.is_open for i in incidents] == [True, False]
        assert incidents[0].id == opened[-1][1]
    # Another scenario at the same moment is another build: its own incident.
    rebuilt = [*argv[:3], "--now", "2026-11-28T16:00:00Z", "--log-mb", "0.3"]
    assert main([*rebuilt, "--scenario", "no-deploy"]) == 0
    with EventStore(tmp_path / "demo" / "incidents.db") as store:
        incidents = store.incidents()
        assert [i.is_open for i in incidents] == [True, False, False]
        assert incidents[0].title == SCENARIOS["no-deploy"].title


@pytest.mark.parametrize("fault", ["db_pool", "memory_leak", "tls_expired"])
def test_every_fault_builds_with_its_burst_and_cause(tmp_path: Path, fault: str) -> None:
    scenario = replace(DEFAULT, name=fault, fault=fault, noisy_service="payments")
    box = build(tmp_path / "box", scenario, log_mb=0.6)
    truth, profile = box.truth, scenario.fault_profile
    assert (truth.bad_deploy is not None) is profile.correlated_deploy
    if truth.bad_deploy is not None:
        config = (box.directory / "repo/services/checkout/config.yaml").read_text()
        for key, value in profile.bad_change:
            assert f"{key.format(client='payments_client').rsplit('.', 1)[-1]}: {value}" in config
    ratios = minute_ratios(box.directory, "checkout")
    later = truth.burst_start + timedelta(minutes=profile.ramp_minutes + 2)
    assert window_ratio(ratios, "checkout", later, 3) > 0.1
    assert "{" not in truth.root_cause
    # The red herring: loud error lines in payments from shortly before the burst, no 5xx.
    payments = minute_ratios(box.directory, "payments")
    assert window_ratio(payments, "payments", truth.burst_start, 20) < 0.03
    loud = [line for line in read_lines(box.directory, "payments") if "kafka" in line]
    assert len(loud) > 20


def test_replay_appends_minutes_after_now_and_recovers(tmp_path: Path) -> None:
    from cockpit.core.demo import LogReplayer

    boxes = [build(tmp_path / name, log_mb=1) for name in ("a", "b")]
    end = NOW.replace(second=0)
    for box in boxes:
        replayer = LogReplayer(box)
        assert replayer.append_until(end + timedelta(minutes=8, seconds=30)) == 8
        replayer.recover(end + timedelta(minutes=8))
        assert replayer.append_until(end + timedelta(minutes=20)) == 12
        assert replayer.next_minute == end + timedelta(minutes=20)
    log = Path("logs/checkout/checkout.log")
    assert (boxes[0].directory / log).read_bytes() == (boxes[1].directory / log).read_bytes()
    ratios = minute_ratios(boxes[0].directory, "checkout")
    assert max(ratios) == (end + timedelta(minutes=19)).strftime(MINUTE_FORMAT["checkout"])
    assert window_ratio(ratios, "checkout", end, 8) > 0.15
    assert window_ratio(ratios, "checkout", end + timedelta(minutes=9), 11) < 0.03
    stamped = [line for line in read_lines(boxes[0].directory, "inventory")[-50:]]
    assert all(TIMESTAMP["inventory"].match(line) or CONTINUATION.match(line) for line in stamped)


def test_a_proxy_can_be_the_bad_service(tmp_path: Path) -> None:
    scenario = replace(DEFAULT, name="edge", bad_service="gateway", fault="tls_expired")
    box = build(tmp_path / "box", scenario, log_mb=0.6)
    ratios = minute_ratios(box.directory, "gateway")
    assert window_ratio(ratios, "gateway", box.truth.burst_start + timedelta(minutes=2), 10) > 0.15
    assert window_ratio(ratios, "gateway", box.truth.burst_start - timedelta(minutes=60), 50) < 0.02


def test_an_older_sandbox_whose_incident_was_worked_on_is_reused_not_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ten minutes after the build, a rebuild would close the incident someone is working on:
    the sandbox is reused while its incident has their entries; an untouched one is rebuilt."""
    import cockpit.commands.demo as demo_command
    import cockpit.tui.app
    from cockpit.cli import main
    from cockpit.core.store import EventStore

    opened: list[str | None] = []

    def fake_run_tui(config_path: Path, *, incident_id: str | None = None, **_: object) -> int:
        opened.append(incident_id)
        return 0

    monkeypatch.setattr(cockpit.tui.app, "run_tui", fake_run_tui)

    class Later(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz or UTC) + timedelta(minutes=demo_command.REUSE_MINUTES + 1)

    worked, untouched = tmp_path / "worked", tmp_path / "untouched"
    for directory in (worked, untouched):
        assert main(["demo", "--dir", str(directory), "--log-mb", "0.3"]) == 0
    worked_id, untouched_id = opened
    with EventStore(worked / "incidents.db") as store:
        assert worked_id is not None
        store.append(worked_id, "note.added", {"text": "looking at checkout"}, "alice")
    capsys.readouterr()

    monkeypatch.setattr(demo_command, "datetime", Later)
    assert main(["demo", "--dir", str(worked), "--log-mb", "0.3"]) == 0
    err = capsys.readouterr().err
    assert "reusing the sandbox" in err and "has your entries" in err and "done" not in err
    assert opened[-1] == worked_id
    with EventStore(worked / "incidents.db") as store:
        assert [(i.id, i.is_open) for i in store.incidents()] == [(worked_id, True)]

    assert main(["demo", "--dir", str(untouched), "--log-mb", "0.3"]) == 0
    assert "100% done" in capsys.readouterr().err  # rebuilt for the present
    assert opened[-1] != untouched_id
    with EventStore(untouched / "incidents.db") as store:
        assert [i.is_open for i in store.incidents()] == [True, False]
