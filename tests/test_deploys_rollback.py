"""Rollback candidates: ranking, explanations, the hard cases, commands; and the demo variants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.core.config import Config, CustomRollbackCommand, RollbackTemplates, ServiceConfig
from cockpit.core.deploys.health import (
    HealthSeries,
    Verdict,
    find_burst,
    judge_deploy,
    series_from_counts,
    series_from_ratios,
)
from cockpit.core.deploys.model import Deploy
from cockpit.core.deploys.rollback import (
    NO_CORRELATION,
    Candidate,
    ScoreParts,
    auto_dry_run,
    fill_commands,
    rank_candidates,
)

NOW = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
ONSET = datetime(2026, 3, 1, 14, 34, tzinfo=UTC)


def sha(prefix: str) -> str:
    return (prefix + "0" * 40)[:40]


def ratios(
    service: str,
    *,
    onset: datetime | None,
    before: float = 0.002,
    after: float = 0.31,
    start: datetime = NOW - timedelta(hours=6),
) -> HealthSeries:
    """A per-minute error ratio series (as from Prometheus) with an optional burst at `onset`."""
    points = []
    minute = start
    while minute < NOW:
        value = after if onset is not None and minute >= onset else before
        points.append((minute, value))
        minute += timedelta(minutes=1)
    return series_from_ratios(service, points)


GOOD = Deploy(
    "checkout",
    datetime(2026, 3, 1, 11, 2, tzinfo=UTC),
    sha=sha("7f3a2c1"),
    revision="41",
    version="v41",
    source="git-tag",
)
BAD = Deploy(
    "checkout",
    datetime(2026, 3, 1, 14, 31, tzinfo=UTC),
    sha=sha("b9c1d4e"),
    revision="42",
    version="v42",
    source="git-tag",
)
OLD = Deploy(
    "checkout",
    datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    sha=sha("1111111"),
    revision="40",
    source="git-tag",
)


def test_bad_latest_deploy_predecessor_ranks_first_with_checkable_explanation():
    report = rank_candidates(
        [OLD, GOOD, BAD], {"checkout": ratios("checkout", onset=ONSET)}, Config()
    )
    (analysis,) = report.analyses
    assert analysis.burst.onset == ONSET and analysis.correlated
    top = analysis.candidates[0]
    assert top.suspect == BAD and top.target == GOOD and analysis.last_good == GOOD
    # The test's strength is part of the line a human checks (a ratio series: level vs usual).
    assert top.explanation == (
        "error ratio 0.2% -> 31% within 3 min of b9c1d4e at 14:31 UTC "
        "(p < 0.001 over 26 min; 31.0% vs 0.2% usual); "
        "last healthy deploy 7f3a2c1 at 11:02 UTC"
    )
    assert (top.parts.error_jump, top.parts.same_service, top.parts.latest) == (1.0, 1.0, 1.0)
    assert 0.9 < top.parts.proximity <= 1.0
    # The score is a posterior from visible likelihood ratios: timing dominates here.
    assert top.parts.describe().startswith("timing x") and top.score > 0.9
    assert [f.name for f in top.parts.factors] == ["timing"]
    assert top.parts.no_deploy is not None and top.parts.no_deploy < 0.1
    bad_health, good_health = report.health_of(BAD), report.health_of(GOOD)
    assert bad_health is not None and bad_health.verdict == Verdict.UNHEALTHY
    assert good_health is not None and good_health.verdict == Verdict.HEALTHY


def test_bad_deploy_not_latest_target_still_its_predecessor_and_later_deploys_named():
    hotfix = Deploy(
        "checkout",
        ONSET + timedelta(minutes=9),
        sha=sha("c0ffee1"),
        revision="43",
        source="git-tag",
    )
    report = rank_candidates(
        [GOOD, BAD, hotfix], {"checkout": ratios("checkout", onset=ONSET)}, Config()
    )
    top = report.analyses[0].candidates[0]
    assert top.suspect == BAD and top.target == GOOD and top.parts.latest == 0.0
    assert top.undoes == [BAD, hotfix]
    assert "also undoes 1 later deploy(s): c0ffee1 at 14:43" in top.explanation


def test_a_rollback_already_done_is_marked_done_and_the_recovery_said():
    rolled_back_at = ONSET + timedelta(minutes=10)
    rollback = Deploy(
        "checkout", rolled_back_at, sha=GOOD.sha, revision="43", actor="alice", source="deploy-log"
    )
    points = [
        (NOW - timedelta(minutes=m), 0.31 if ONSET <= NOW - timedelta(minutes=m) < rolled_back_at
         else 0.002)
        for m in range(360, 0, -1)
    ]  # fmt: skip
    report = rank_candidates(
        [OLD, GOOD, BAD, rollback], {"checkout": series_from_ratios("checkout", points)}, Config()
    )
    (analysis,) = report.analyses
    assert analysis.recovered_by == rollback
    assert analysis.recovered_ratio == pytest.approx(0.002)
    assert analysis.recovery == "errors 0.2% since 7f3a2c1 at 14:44 UTC (alice)"
    assert analysis.summary.endswith("recovered: errors 0.2% since 7f3a2c1 at 14:44 UTC (alice)")
    top = analysis.candidates[0]
    assert top.target == GOOD and top.applied == rollback
    assert top.explanation.startswith("DONE: checkout runs 7f3a2c1 again since 14:44 UTC by alice")
    assert report.to_json()["analyses"][0]["candidates"][0]["applied"]["revision"] == "43"


def test_a_rollback_not_done_yet_is_not_marked():
    report = rank_candidates(
        [OLD, GOOD, BAD], {"checkout": ratios("checkout", onset=ONSET)}, Config()
    )
    (analysis,) = report.analyses
    assert analysis.recovered_by is None and analysis.recovery is None
    assert all(c.applied is None for c in analysis.candidates)


def test_last_known_good_of_a_service_deployed_before_the_health_window():
    """gateway last deployed 10 h ago, before the 6 h of health data: it ran fine until the
    burst, so it is the last known-good deploy even though its own after-window is unseen."""
    gateway = Deploy("gateway", NOW - timedelta(hours=10), sha=sha("6024184"), source="git-tag")
    series = {
        "checkout": ratios("checkout", onset=ONSET),
        "gateway": ratios("gateway", onset=ONSET + timedelta(minutes=1), after=0.15),
    }
    report = rank_candidates([GOOD, BAD, gateway], series, Config())
    by_service = {a.service: a for a in report.analyses}
    assert by_service["gateway"].last_good == gateway
    assert by_service["checkout"].last_good == GOOD


def test_a_failed_deploy_is_never_the_rollback_target():
    failed = Deploy(
        "checkout",
        GOOD.time + timedelta(hours=1),
        sha=sha("dead000"),
        status="failed",
        source="deploy-log",
    )
    report = rank_candidates(
        [GOOD, failed, BAD], {"checkout": ratios("checkout", onset=ONSET)}, Config()
    )
    top = report.analyses[0].candidates[0]
    assert top.suspect == BAD and top.target == GOOD
    assert top.undoes == [failed, BAD]


def test_two_services_deployed_close_together_the_failing_one_wins():
    other_prev = Deploy("inventory", datetime(2026, 3, 1, 9, 0, tzinfo=UTC), sha=sha("aaaaaaa"))
    other = Deploy("inventory", BAD.time - timedelta(minutes=1), sha=sha("bbbbbbb"))
    series = {
        "checkout": ratios("checkout", onset=ONSET),
        "inventory": ratios("inventory", onset=None),
    }
    report = rank_candidates([GOOD, BAD, other_prev, other], series, Config())
    assert report.healthy_services == ["inventory"]
    # An unrelated service's deploy a minute apart is no suspect beside the failing one's own.
    (first,) = report.analyses[0].candidates
    assert first.target == GOOD and first.correlated and first.score > 0.9
    # Alone, with the same timing, it is a suspect, but a weak one: nothing links the two.
    report = rank_candidates([GOOD, other_prev, other], series, Config())
    (weak,) = report.analyses[0].candidates
    assert weak.suspect == other and not weak.correlated and 0.2 <= weak.score < 0.5
    assert "inventory's own error ratio did not rise (0.2%)" in weak.explanation
    assert NO_CORRELATION in report.analyses[0].summary


def test_no_correlated_deploy_is_said_plainly():
    report = rank_candidates([OLD, GOOD], {"checkout": ratios("checkout", onset=ONSET)}, Config())
    (analysis,) = report.analyses
    # GOOD ran three and a half hours before the step: at most a weak suspect.
    assert not analysis.correlated and all(c.score < 0.5 for c in analysis.candidates)
    assert NO_CORRELATION in analysis.summary
    assert "(checked 1 deploy(s) since 11:02 UTC, the likeliest checkout 7f3a2c1 at " in (
        analysis.summary
    )
    assert report.to_json()["analyses"][0]["verdict"] == NO_CORRELATION
    assert analysis.no_deploy > 0.8


def test_clock_skew_deploy_recorded_after_the_onset_still_correlates():
    skewed = Deploy("checkout", ONSET + timedelta(seconds=90), sha=sha("b9c1d4e"), revision="42")
    report = rank_candidates(
        [GOOD, skewed], {"checkout": ratios("checkout", onset=ONSET)}, Config()
    )
    top = report.analyses[0].candidates[0]
    assert top.suspect == skewed and top.target == GOOD and top.parts.proximity == 1.0
    assert "within the 120s clock-skew tolerance" in top.explanation
    too_late = Deploy("checkout", ONSET + timedelta(minutes=5), sha=sha("b9c1d4e"))
    report = rank_candidates(
        [GOOD, too_late], {"checkout": ratios("checkout", onset=ONSET)}, Config()
    )
    assert not report.analyses[0].correlated


LEAK_RISE = datetime(2026, 3, 1, 12, 10, tzinfo=UTC)


def leak(deployed: datetime) -> Deploy:
    return Deploy("checkout", deployed, sha=sha("b812e23"), revision="42", source="git-tag")


def ramp(start: datetime = LEAK_RISE) -> HealthSeries:
    """A memory leak's error ratio: 0.2%, then from `start` a climb of 0.076 points a minute
    to 9%, which crosses the 5% threshold only an hour later."""
    points = []
    for back in range(360, 0, -1):
        minute = NOW - timedelta(minutes=back)
        climbed = (minute - start) / timedelta(minutes=1)
        points.append((minute, 0.002 if climbed < 0 else min(0.09, 0.003 + 0.00076 * climbed)))
    return series_from_ratios("checkout", points)


def test_a_slow_onset_is_traced_back_to_the_deploy_the_rise_began_after():
    """At the crossing (~13:12) the hour before is already the ramp, and the leaking deploy's
    own after-window looked healthy: it must be the suspect, never the last known-good."""
    bad = leak(LEAK_RISE - timedelta(minutes=6))
    report = rank_candidates([OLD, GOOD, bad], {"checkout": ramp()}, Config())
    (analysis,) = report.analyses
    burst = analysis.burst
    # A rise counts from half a percent over the baseline (MIN_RISE): this ramp gets there
    # about six minutes after it begins, still long before the crossing.
    assert burst.slow_onset and abs(burst.onset - LEAK_RISE) <= timedelta(minutes=8)
    assert burst.climbed_at is not None and burst.climbed_at - burst.onset > timedelta(minutes=20)
    assert burst.baseline == pytest.approx(0.002, abs=5e-4) and burst.peak == pytest.approx(0.09)
    assert analysis.correlated and analysis.last_good == GOOD
    top = analysis.candidates[0]
    assert top.suspect == bad and top.target == GOOD and top.correlated
    lead = round((burst.onset - bad.time).total_seconds() / 60)
    assert top.explanation == (
        f"error ratio rising from 0.2% at {burst.onset:%H:%M} to 9.0% at 14:05 UTC, "
        f"starting within {lead} min of b812e23 at 12:04 UTC "
        "(p < 0.001 over 30 min; 1.6% vs 0.2% usual); "
        "last healthy deploy 7f3a2c1 at 11:02 UTC"
    )
    assert report.to_json()["analyses"][0]["burst"]["slow_onset"] is True


def test_a_slow_onset_blames_the_deploy_running_when_it_began_a_step_does_not():
    """Twenty minutes of quiet after a deploy clear it of a step (a certificate expiring, say),
    not of a leak, which takes its time: the ramp blames it, the step says no correlation."""
    bad = leak(LEAK_RISE - timedelta(minutes=20))
    report = rank_candidates([OLD, GOOD, bad], {"checkout": ramp()}, Config())
    (analysis,) = report.analyses
    assert analysis.correlated and analysis.last_good == GOOD
    assert analysis.candidates[0].suspect == bad
    step = ratios("checkout", onset=LEAK_RISE)
    (analysis,) = rank_candidates([OLD, GOOD, bad], {"checkout": step}, Config()).analyses
    assert not analysis.burst.slow_onset and analysis.burst.onset == LEAK_RISE
    assert not analysis.correlated and NO_CORRELATION in analysis.summary
    # Twenty quiet minutes make it a weak suspect at most, not yet known-good.
    assert analysis.candidates[0].suspect == bad and analysis.candidates[0].score < 0.5
    assert analysis.last_good == GOOD


def test_log_counts_series_ignore_single_error_blips():
    requests = {NOW - timedelta(minutes=m): 8 for m in range(1, 200)}
    errors = {NOW - timedelta(minutes=100): 2, NOW - timedelta(minutes=50): 1}
    assert find_burst(series_from_counts("checkout", requests, errors), Config().health) is None
    errors.update({NOW - timedelta(minutes=m): 3 for m in range(1, 20)})
    burst = find_burst(series_from_counts("checkout", requests, errors), Config().health)
    assert burst is not None and burst.onset == NOW - timedelta(minutes=19)
    assert not burst.slow_onset and burst.climbed_at == burst.onset
    # One stray error just before a step is no rise; two leading in are where it began.
    errors[NOW - timedelta(minutes=21)] = 1
    burst = find_burst(series_from_counts("checkout", requests, errors), Config().health)
    assert burst is not None and burst.onset == NOW - timedelta(minutes=19)
    errors[NOW - timedelta(minutes=20)] = 1
    burst = find_burst(series_from_counts("checkout", requests, errors), Config().health)
    assert burst is not None and burst.onset == NOW - timedelta(minutes=21)


def test_deploy_without_health_data_is_unknown():
    assert judge_deploy(BAD, None, Config().health).verdict == Verdict.UNKNOWN


def _candidate(target: Deploy | None, suspect: Deploy = BAD, service: str = "checkout"):
    return Candidate(service, suspect, target, [suspect], ScoreParts(1, 1, 1, 1), "", True)


def _config(**templates: str) -> Config:
    rollback = RollbackTemplates.model_validate(templates)
    return Config(services=[ServiceConfig(name="checkout", rollback=rollback)])


def test_commands_filled_from_templates_with_auto_dry_run_and_flags():
    config = _config(
        command="kubectl rollout undo deploy/{service} --to-revision={revision}",
        revert="git revert --no-edit {revert_range} && make deploy S={service}",
    )
    rollback, dry, revert = fill_commands(config, _candidate(GOOD))
    assert rollback.text == "kubectl rollout undo deploy/checkout --to-revision=41"
    assert rollback.prod_changing and not dry.prod_changing
    assert dry.text == rollback.text + " --dry-run=server"
    assert revert.text == f"git revert --no-edit {GOOD.sha}..{BAD.sha} && make deploy S=checkout"
    assert rollback.to_json()["executed"] is False
    helm = fill_commands(_config(command="helm rollback {service} {revision}"), _candidate(GOOD))
    assert [c.text for c in helm] == [
        "helm rollback checkout 41",
        "helm rollback checkout 41 --dry-run",
    ]
    (argo,) = fill_commands(
        _config(command="argocd app rollback {service} {revision}"), _candidate(GOOD)
    )
    assert "no dry-run flag" in (argo.note or "")
    assert auto_dry_run("./custom-deploy.sh") == (None, None)


def test_commands_quote_hostile_values_and_flag_missing_placeholders():
    hostile = Deploy("checkout", GOOD.time, sha=sha("7f3a2c1"), version="v1; rm -rf /")
    (cmd,) = fill_commands(
        _config(command="deploy --version={version} --rev={revision}"), _candidate(hostile)
    )[:1]
    assert cmd.text == "deploy --version='v1; rm -rf /' --rev=<revision?>"
    assert cmd.missing == ("revision",)
    # The loader rejects unknown placeholders; a template that slips past it is never copyable.
    unchecked = Config(
        services=[
            ServiceConfig(
                name="checkout", rollback=RollbackTemplates.model_construct(command="x {nope}")
            )
        ]
    )
    (bad,) = fill_commands(unchecked, _candidate(GOOD))
    assert bad.label == "rollback (not filled)" and not bad.prod_changing
    assert bad.text == "# not filled: services[0].rollback.command: unknown placeholder {nope}"
    assert fill_commands(_config(command="x"), _candidate(None)) == []


def test_custom_commands_are_filled_beside_the_templates_with_their_dry_runs():
    config = Config(
        services=[
            ServiceConfig(
                name="checkout",
                rollback=RollbackTemplates(
                    command="argocd app rollback {service} {revision}",
                    custom=[
                        CustomRollbackCommand(
                            label="shift traffic to the stable pool",
                            command="kubectl patch svc {service} -p "
                            '\'{{"spec":{{"track":"stable"}}}}\'',
                            dry_run="kubectl patch svc {service} --dry-run=server -p '{{}}'",
                        ),
                        CustomRollbackCommand(
                            label="flag off", command="flagctl off {version} {revision}"
                        ),
                        CustomRollbackCommand(
                            label="watch",
                            command="kubectl rollout status deploy/{service}",
                            prod_changing=False,
                        ),
                    ],
                ),
            )
        ]
    )
    hostile = Deploy("checkout", GOOD.time, sha=sha("7f3a2c1"), version="v1; rm -rf /")
    argo, shift, shift_dry, flag, watch = fill_commands(config, _candidate(hostile))
    assert argo.label == "rollback" and not argo.custom and argo.template == "command"
    assert shift.text == 'kubectl patch svc checkout -p \'{"spec":{"track":"stable"}}\''
    assert (shift.label, shift.custom, shift.prod_changing) == (
        "shift traffic to the stable pool",
        True,
        True,
    )
    assert shift_dry.label == "shift traffic to the stable pool (dry run)"
    assert shift_dry.text == "kubectl patch svc checkout --dry-run=server -p '{}'"
    assert shift_dry.dry_run and not shift_dry.prod_changing
    assert shift_dry.template == "custom[0].dry_run"
    # Values from deploy logs are shell-quoted; a missing one is marked, as for the templates.
    assert flag.text == "flagctl off 'v1; rm -rf /' <revision?>" and flag.missing == ("revision",)
    assert flag.prod_changing and watch.template == "custom[2].command"
    assert not watch.prod_changing and not watch.dry_run
    assert shift.to_json() | {"command": ""} == {
        "label": "shift traffic to the stable pool",
        "command": "",
        "prod_changing": True,
        "missing": [],
        "note": None,
        "template": "custom[0].command",
        "custom": True,
        "filled": True,
        "executed": False,
    }


def test_a_custom_command_that_cannot_be_filled_is_a_note_never_a_command():
    # The loader rejects it; one that slips past is shown as an inert comment, not for copy.
    unchecked = CustomRollbackCommand.model_construct(
        label="flag off", command="flagctl {nope}", prod_changing=True, dry_run="flagctl {x"
    )
    config = Config(
        services=[
            ServiceConfig(
                name="checkout", rollback=RollbackTemplates.model_construct(custom=[unchecked])
            )
        ]
    )
    (bad,) = fill_commands(config, _candidate(GOOD))
    assert bad.label == "flag off (not filled)" and not bad.filled and not bad.prod_changing
    assert bad.text == (
        "# not filled: services[0].rollback.custom[0].command: unknown placeholder {nope}"
    )
    fine_command = CustomRollbackCommand.model_construct(
        label="flag off", command="flagctl off", prod_changing=True, dry_run="flagctl {x"
    )
    config = Config(
        services=[
            ServiceConfig(
                name="checkout", rollback=RollbackTemplates.model_construct(custom=[fine_command])
            )
        ]
    )
    command, bad_dry = fill_commands(config, _candidate(GOOD))
    assert command.filled and command.text == "flagctl off"
    assert not bad_dry.filled and bad_dry.text.startswith(
        "# not filled: services[0].rollback.custom[0].dry_run: "
    )


# --- the demo incident and its variants --------------------------------------------------

DEMO_NOW = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


def _demo(tmp_path_factory: pytest.TempPathFactory, name: str):
    demo = pytest.importorskip("cockpit.core.demo.sandbox")
    from cockpit.core.demo.scenario import SCENARIOS

    directory: Path = tmp_path_factory.mktemp(name)
    return demo.build_sandbox(directory, seed=7, now=DEMO_NOW, scenario=SCENARIOS[name], log_mb=2)


@pytest.mark.parametrize("name", ["bad-deploy", "earlier-deploy", "no-deploy"])
def test_demo_variants_rank_the_bad_deploys_predecessor_first(name, tmp_path_factory):
    from cockpit.core.config import load_config_file
    from cockpit.core.deploys import analyse_rollback

    info = _demo(tmp_path_factory, name)
    truth = info.truth
    _listing, report = analyse_rollback(load_config_file(info.config_path), now=DEMO_NOW)
    assert not report.errors
    analysis = next(a for a in report.analyses if a.service == truth.bad_service)
    # The first burst minute may hold only a few requests: the onset is found within minutes.
    assert abs(analysis.burst.onset - truth.burst_start) <= timedelta(minutes=3)
    if truth.bad_deploy is None:
        assert not analysis.correlated
        assert "no correlated deploy: rollback may not be the answer (checked" in analysis.summary
        assert all(not a.correlated for a in report.analyses)
        return
    top = analysis.candidates[0]
    assert top.correlated and report.analyses[0] is analysis
    assert top.suspect.sha == truth.bad_deploy.sha
    assert top.target is not None and top.target.sha == truth.rollback_target.sha
    assert analysis.last_good is not None and analysis.last_good.sha == truth.rollback_target.sha
    bad, good = truth.bad_deploy, truth.rollback_target
    minutes = round((analysis.burst.onset - bad.time).total_seconds() / 60)
    assert f"within {minutes} min of {bad.short_sha} at {bad.time:%H:%M} UTC" in top.explanation
    assert f"last healthy deploy {good.short_sha} at {good.time:%H:%M} UTC" in top.explanation
    assert top.target.revision == str(good.revision)
    assert f"--to-revision={good.revision}" in top.commands[0].text
    later = [d for d in info.deploys if d.service == bad.service and d.time > bad.time]
    assert (top.parts.latest == 1.0) == (not later)
    if later:
        assert f"also undoes {len(later)} later deploy(s)" in top.explanation


def test_the_report_keeps_each_services_trend_for_a_sparkline():
    series = ratios("checkout", onset=ONSET)
    report = rank_candidates([GOOD, BAD], {"checkout": series}, Config())
    assert report.series["checkout"] is series
    trend = series.ratio_trend(NOW, minutes=60, width=12)  # 14:00..15:00 in 5-minute buckets
    assert len(trend) == 12
    assert trend[:6] == [pytest.approx(0.002)] * 6  # 14:00-14:30: quiet
    assert trend[7:] == [pytest.approx(0.31)] * 5  # from 14:35: failing
    onset_bucket = trend[6]
    assert onset_bucket is not None and 0.002 < onset_bucket < 0.31  # holds the onset at 14:34
    assert series.ratio_trend(NOW + timedelta(hours=2))[-1] is None  # no data: a blank
