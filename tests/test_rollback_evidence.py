"""Evidence beyond the counts: the version split, the dependency link, new signatures, the
honest "no correlated deploy", and the whole path from real log files and a real git repo."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.core.config import Config, ConfigError, ServiceConfig, load_config_file
from cockpit.core.deploys import NO_CORRELATION, analyse_rollback
from cockpit.core.deploys.evidence import (
    LineDetail,
    _matching,
    _python_safe,
    labels_of_deploy,
    new_signatures,
    read_detail,
)
from cockpit.core.deploys.health import HealthSeries, patterns_for, series_from_counts
from cockpit.core.deploys.model import Deploy
from cockpit.core.deploys.rollback import rank_candidates
from tests.deploys_support import commit, init_repo, tag

NOW = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


def sha(prefix: str) -> str:
    return (prefix + "0" * 40)[:40]


def counts(
    service: str, *, rate: int, onset_back: int | None, before: float, after: float, seed: int = 1
) -> HealthSeries:
    rng = random.Random(seed)
    requests, errors = {}, {}
    for back in range(360, 0, -1):
        minute = NOW - timedelta(minutes=back)
        ratio = after if onset_back is not None and back <= onset_back else before
        requests[minute] = rate
        errors[minute] = sum(1 for _ in range(rate) if rng.random() < ratio)
    return series_from_counts(service, requests, errors)


def detail_reader(detail: LineDetail):
    def read(service: str, since: datetime, until: datetime, others: list[str]) -> LineDetail:
        assert service == detail.service
        return detail

    return read


# -- the version split ---------------------------------------------------------------------


def canary_detail(*, canary_fails: bool, stable_fails: bool) -> LineDetail:
    """Per-minute requests and errors per pod: two stable pods, one canary from 14:40."""
    detail = LineDetail("checkout", NOW - timedelta(hours=2), NOW, labelled=True)
    rng = random.Random(3)
    for back in range(120, 0, -1):
        minute = NOW - timedelta(minutes=back)
        for label, share in (("checkout-7d-a", 0.45), ("checkout-7d-b", 0.45), ("canary-1", 0.1)):
            if label == "canary-1" and back > 20:
                continue
            n = round(60 * share)
            failing = back <= 18 and (
                (label == "canary-1" and canary_fails) or (label != "canary-1" and stable_fails)
            )
            e = sum(1 for _ in range(n) if rng.random() < (0.3 if failing else 0.002))
            detail.labels.setdefault(label, {})[minute] = [float(n), float(e)]
            detail.first_seen.setdefault(label, minute)
    return detail


def test_a_canary_whose_own_error_ratio_jumped_is_the_suspect_with_the_split_shown():
    good = Deploy("checkout", NOW - timedelta(hours=5), sha=sha("aaa1111"), version="v41")
    canary = Deploy("checkout", NOW - timedelta(minutes=20), sha=sha("bbb2222"), version="v42")
    # 10% of traffic at 30%: the overall ratio goes from 0.2% to about 3%.
    series = counts("checkout", rate=60, onset_back=18, before=0.002, after=0.03)
    detail = canary_detail(canary_fails=True, stable_fails=False)
    new, old = labels_of_deploy(detail, canary.time, "v42", canary.sha, timedelta(seconds=120))
    assert new == {"canary-1"} and old == {"checkout-7d-a", "checkout-7d-b"}
    report = rank_candidates(
        [good, canary], {"checkout": series}, Config(), now=NOW, details=detail_reader(detail)
    )
    (analysis,) = report.analyses
    top = analysis.candidates[0]
    assert top.suspect == canary and top.target == good and top.correlated
    factors = {f.name: f.weight for f in top.parts.factors}
    assert factors["versions"] > 100
    kinds = dict(top.evidence)
    assert (
        kinds["versions"].startswith("errors ")
        and "on canary-1 (new with bbb2222)" in (kinds["versions"])
    )
    assert re.search(
        r" vs 0\.\d% on the rest \(same minutes, \d+ vs \d+ requests\)", kinds["versions"]
    )
    assert "versions x" in top.parts.describe()


def test_a_canary_is_a_burst_of_its_own_when_the_overall_ratio_stays_under_the_floor():
    good = Deploy("checkout", NOW - timedelta(hours=5), sha=sha("aaa1111"), version="v41")
    canary = Deploy("checkout", NOW - timedelta(minutes=20), sha=sha("bbb2222"), version="v42")
    series = counts("checkout", rate=60, onset_back=18, before=0.002, after=0.03)
    detail = canary_detail(canary_fails=True, stable_fails=False)
    # A floor of 5%: the service as a whole (3%) is under it; the canary (30%) is not.
    config = Config.model_validate(
        {"health": {"error_ratio_threshold": 0.05, "version_field": "pod"}}
    )
    plain = rank_candidates([good, canary], {"checkout": series}, config, now=NOW)
    assert plain.analyses == [] and plain.healthy_services == ["checkout"]
    report = rank_candidates(
        [good, canary], {"checkout": series}, config, now=NOW, details=detail_reader(detail)
    )
    (analysis,) = report.analyses
    assert analysis.burst.scope == "canary-1 (new with bbb2222)"
    assert analysis.burst.peak > 0.2
    top = analysis.candidates[0]
    assert top.suspect == canary and top.target == good and top.correlated
    assert top.explanation.startswith("on canary-1 (new with bbb2222): error ratio ")
    assert report.to_json()["analyses"][0]["burst"]["scope"] == "canary-1 (new with bbb2222)"
    # A rolling restart's new pods, as healthy as the old: no burst of their own.
    healthy = canary_detail(canary_fails=False, stable_fails=False)
    report = rank_candidates(
        [good, canary], {"checkout": series}, config, now=NOW, details=detail_reader(healthy)
    )
    assert report.analyses == []


def test_everyone_failing_alike_clears_the_new_version():
    good = Deploy("checkout", NOW - timedelta(hours=5), sha=sha("aaa1111"), version="v41")
    canary = Deploy("checkout", NOW - timedelta(minutes=20), sha=sha("bbb2222"), version="v42")
    series = counts("checkout", rate=60, onset_back=18, before=0.002, after=0.3)
    split = canary_detail(canary_fails=True, stable_fails=True)
    report = rank_candidates(
        [good, canary], {"checkout": series}, Config(), now=NOW, details=detail_reader(split)
    )
    (analysis,) = report.analyses
    # The old pods fail just as much: the version is no explanation, the timing alone is not
    # enough against it.
    assert not analysis.correlated
    assert NO_CORRELATION in analysis.summary and "the error ratio per version" in analysis.summary


# -- the dependency link -------------------------------------------------------------------


def named_detail(share: float, service: str = "orders-api") -> LineDetail:
    """Error items per minute; from 14:42, `share` of the new ones name payments."""
    detail = LineDetail(service, NOW - timedelta(hours=2), NOW)
    rng = random.Random(5)
    for back in range(120, 0, -1):
        minute = NOW - timedelta(minutes=back)
        items = 1 if back % 10 == 0 else 0
        if back <= 18:
            items += 12
        detail.item_minutes[minute] = items
        named = sum(1 for _ in range(items) if back <= 18 and rng.random() < share)
        if named:
            detail.named.setdefault("payments", Counter())[minute] = named
    return detail


def dependency_world(declared: bool):
    own = Deploy("orders-api", NOW - timedelta(hours=3), sha=sha("0001111"))
    before = Deploy("payments", NOW - timedelta(hours=6), sha=sha("ccc0000"), version="v3.0")
    bad = Deploy("payments", NOW - timedelta(minutes=20), sha=sha("ddd3333"), version="v3.1")
    series = {
        "orders-api": counts("orders-api", rate=60, onset_back=18, before=0.002, after=0.2),
        "payments": counts("payments", rate=60, onset_back=None, before=0.002, after=0.002),
    }
    services = [
        ServiceConfig(name="orders-api", depends_on=["payments"] if declared else []),
        ServiceConfig(name="payments"),
    ]
    return [own, before, bad], series, Config(services=services), bad, before


@pytest.mark.parametrize("declared", [True, False])
def test_a_callee_deploy_named_by_the_callers_new_errors_is_the_answer(declared):
    deploys, series, config, bad, before = dependency_world(declared)
    report = rank_candidates(
        deploys, series, config, now=NOW, details=detail_reader(named_detail(0.94))
    )
    (analysis,) = report.analyses
    top = analysis.candidates[0]
    assert top.service == "payments" and top.suspect == bad and top.target == before
    assert top.correlated and top.score > (0.9 if declared else 0.6)
    text = top.explanation
    assert "orders-api errors rose 2 min after payments ddd3333 deployed; " in text
    assert "% of the new errors are calls to payments" in text
    assert "payments's own error ratio did not rise (0." in text
    assert ("orders-api depends on payments (depends_on)" in text) is declared
    assert "calls x" in top.parts.describe()


def test_a_declared_dependency_without_naming_is_a_suspect_on_timing_alone():
    deploys, series, config, bad, _before = dependency_world(declared=True)
    report = rank_candidates(deploys, series, config, now=NOW)
    top = report.analyses[0].candidates[0]
    assert top.suspect == bad and top.correlated
    assert "orders-api depends on payments (depends_on)" in top.explanation


def test_an_unlinked_deploy_with_the_right_timing_stays_a_weak_suspect():
    deploys, series, config, bad, _before = dependency_world(declared=False)
    report = rank_candidates(deploys, series, config, now=NOW)
    (analysis,) = report.analyses
    top = analysis.candidates[0]
    assert top.suspect == bad and not top.correlated and 0.2 <= top.score < 0.5
    assert NO_CORRELATION in analysis.summary


def test_naming_alone_does_not_blame_an_old_deploy_of_the_named_callee():
    """Errors naming payments say payments is involved, not that its deploy of yesterday is."""
    own = Deploy("orders-api", NOW - timedelta(hours=30), sha=sha("0001111"))
    old = Deploy("payments", NOW - timedelta(hours=27), sha=sha("ddd3333"))
    older = Deploy("payments", NOW - timedelta(hours=50), sha=sha("ccc0000"))
    _deploys, series, config, _bad, _before = dependency_world(declared=True)
    report = rank_candidates(
        [own, old, older], series, config, now=NOW, details=detail_reader(named_detail(0.94))
    )
    (analysis,) = report.analyses
    assert not analysis.correlated and analysis.no_deploy > 0.5


# -- new signatures --------------------------------------------------------------------------


def test_a_new_signature_is_each_lines_own_template_whatever_was_read_before():
    """A 503 after the deploy is a new signature beside the 500s before it, even right after
    an analysis that read only 500s of the same shape (a cache keyed on the line without its
    digits once merged them, and kept whichever it saw first)."""
    deploy_at = NOW - timedelta(minutes=20)

    def detail(status_after: int) -> LineDetail:
        found = LineDetail("checkout", NOW - timedelta(hours=2), NOW)
        for back in range(120, 0, -1):
            minute = NOW - timedelta(minutes=back)
            status = status_after if back <= 18 else 500
            if back <= 18 or back % 10 == 0:
                stamp = minute.strftime("%d/%b/%Y:%H:%M:%S +0000")
                found.items.append(
                    (
                        minute,
                        f'10.0.0.{back % 7} - - [{stamp}] "GET /api/orders/{back} HTTP/1.1" '
                        f'{status} 12 "-" "curl/8.0" rt=0.0{back % 9} request_id=r{back}',
                    )
                )
        return found

    onset = NOW - timedelta(minutes=18)
    deploys = [("bad", deploy_at)]
    assert new_signatures(detail(500), onset, deploys, timedelta(minutes=1)) == ({}, 0)
    shares, count = new_signatures(detail(503), onset, deploys, timedelta(minutes=1))
    assert count == 1 and shares == {"bad": 1.0}


def test_new_signatures_weigh_in_modestly_and_never_make_a_burst():
    good = Deploy("checkout", NOW - timedelta(hours=5), sha=sha("aaa1111"))
    bad = Deploy("checkout", NOW - timedelta(minutes=20), sha=sha("bbb2222"))
    detail = LineDetail("checkout", NOW - timedelta(hours=2), NOW)
    for back in range(120, 0, -1):
        minute = NOW - timedelta(minutes=back)
        text = (
            f'{minute:%Y-%m-%dT%H:%M:%S}Z level=error msg="price rules: nil pointer"'
            if back <= 18
            else f'{minute:%Y-%m-%dT%H:%M:%S}Z level=error msg="cache miss storm" id={back}'
        )
        if back <= 18 or back % 15 == 0:
            detail.items.append((minute, text))
            detail.item_minutes[minute] += 1
    series = counts("checkout", rate=60, onset_back=18, before=0.002, after=0.3)
    report = rank_candidates(
        [good, bad], {"checkout": series}, Config(), now=NOW, details=detail_reader(detail)
    )
    top = report.analyses[0].candidates[0]
    factors = {f.name: f.weight for f in top.parts.factors}
    assert 1.5 < factors["new signatures"] <= 2.0
    assert "new error signatures since it: 100% of the errors" in top.explanation
    # Health did not change: no burst, no analysis, however new the signatures.
    quiet = counts("checkout", rate=60, onset_back=None, before=0.002, after=0.002)
    report = rank_candidates(
        [good, bad], {"checkout": quiet}, Config(), now=NOW, details=detail_reader(detail)
    )
    assert report.analyses == [] and report.healthy_services == ["checkout"]


# -- reading lines -----------------------------------------------------------------------------


def test_python_engine_only_for_patterns_that_cannot_backtrack_badly():
    assert _python_safe(r"upstream_addr=(\S+)") and _python_safe(r'"version": "([^"]+)"')
    assert not _python_safe(r"(a+)+$") and not _python_safe(r"(\w+\s?)*x")
    assert not _python_safe(r"(a|b)+") and not _python_safe(r"(x)\1")
    lines = ["a" * 40 + "!", "status=503", "aaa"]
    # The hostile pattern still answers, through RE2, at once.
    assert _matching(lines, r"(a+)+$") == {2}
    assert _matching(lines, r"status=5\d\d") == {1}


def write_zap(path: Path, lines: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def canary_sandbox(root: Path, now: datetime) -> tuple[Path, str, str]:
    """checkout in zap JSON with a nested version field; a 10% canary failing since 20 min
    ago; deploys as annotated tags in a real repo."""
    repo = init_repo(root / "repo")
    first = commit(repo, "checkout: v41", now - timedelta(hours=5))
    second = commit(repo, "checkout: v42", now - timedelta(minutes=25))
    tag(repo, "deploy/checkout/v41", first, now - timedelta(hours=5))
    tag(repo, "deploy/checkout/v42", second, now - timedelta(minutes=21))
    rng = random.Random(9)
    records: list[dict[str, object]] = []
    for back in range(300, 0, -1):
        minute = now - timedelta(minutes=back)
        for i in range(40):
            canary = back <= 21 and i % 10 == 0
            fails = canary and back <= 19 and rng.random() < 0.4
            status = 500 if fails or rng.random() < 0.002 else 200
            stamp = (minute + timedelta(seconds=i)).timestamp()
            records.append(
                {
                    "level": "error" if status >= 500 else "info",
                    "ts": round(stamp, 3),
                    "msg": "request",
                    "status": status,
                    "app": {"version": "42.0.0" if canary else "41.0.0"},
                }
            )
    write_zap(root / "logs" / "checkout.log", records)
    (root / "cockpit.toml").write_text(
        "[cockpit]\nstore = 'incidents.db'\n"
        "[[sources]]\nkind = 'files'\nname = 'checkout'\nservice = 'checkout'\n"
        "paths = ['logs/checkout.log']\n"
        "[[services]]\nname = 'checkout'\n"
        "[services.deploys]\nrepo = 'repo'\ntag_pattern = 'deploy/{service}/*'\n"
        "[services.health]\n"
        'request_pattern = \'"msg": "request"\'\n'
        "error_pattern = '\"status\": 5[0-9][0-9]'\n"
        "version_field = 'app.version'\n"
    )
    return root / "cockpit.toml", first, second


def test_a_canary_from_real_files_and_tags_is_found_by_its_own_version(tmp_path):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    config_path, first, second = canary_sandbox(tmp_path, now)
    config = load_config_file(config_path)
    patterns = patterns_for(config, "checkout")
    assert patterns.labelled and patterns.version_field == "app.version"
    detail = read_detail(
        config, "checkout", since=now - timedelta(hours=2), until=now, others=["checkout"]
    )
    assert set(detail.labels) == {"41.0.0", "42.0.0"}
    _listing, report = analyse_rollback(config, now=now)
    (analysis,) = report.analyses
    top = analysis.candidates[0]
    assert top.suspect.sha == second and top.target is not None and top.target.sha == first
    assert top.correlated
    assert "on 42.0.0 (new with " in top.explanation
    assert "on the rest (same minutes" in top.explanation


def test_depends_on_must_name_a_service_and_labels_need_a_group(tmp_path):
    path = tmp_path / "cockpit.toml"
    path.write_text(
        "[[services]]\nname = 'orders'\ndepends_on = ['paymnets']\n"
        "[[services]]\nname = 'payments'\n"
    )
    with pytest.raises(ConfigError) as error:
        load_config_file(path)
    line = str(error.value)
    assert "\n" not in line and str(path) in line
    assert "depends_on names 'paymnets', which is not a [[services]] name" in line
    path.write_text("[health]\nversion_pattern = 'version=\\S+'\n")
    with pytest.raises(ConfigError, match="capture group"):
        load_config_file(path)
    path.write_text("[[services]]\nname = 'a'\n[services.health]\nerror_pattern = '(unclosed'\n")
    with pytest.raises(ConfigError, match="error_pattern"):
        load_config_file(path)
