"""Drill scenarios: the shipped files load, build, keep the truth out of the sandbox, can be
solved with the cockpit's own tools, and their debrief scores good and poor runs correctly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cockpit.core.ai.triage import gather
from cockpit.core.config import load_config_file
from cockpit.core.demo import SandboxInfo
from cockpit.core.deploys import NO_CORRELATION, analyse_rollback
from cockpit.core.drills.debrief import debrief
from cockpit.core.drills.runner import DRILL_MARKER
from cockpit.core.drills.scenarios import (
    DrillScenario,
    DrillScenarioError,
    find_scenario,
    load_all,
    load_scenario,
    scenarios_dir,
)
from cockpit.core.drills.truth import derive_truth
from cockpit.core.incident import Kind
from tests.drills_support import NOW, build, good_run, open_script, poor_run

SCENARIOS = load_all()
NAMES = sorted(SCENARIOS)


@pytest.fixture(scope="module")
def boxes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SandboxInfo]:
    return {name: build(tmp_path_factory.mktemp(name), SCENARIOS[name]) for name in NAMES}


def test_at_least_seven_distinct_scenarios_ship_with_every_kind_of_incident() -> None:
    assert len(SCENARIOS) >= 7
    assert scenarios_dir().name == "scenarios"
    faults = {s.sandbox.fault for s in SCENARIOS.values()}
    assert {"bad_deploy", "none", "db_pool", "memory_leak", "tls_expired"} <= faults
    assert any(s.truth.culprit_deploy == "previous" for s in SCENARIOS.values())
    assert any(s.sandbox.noisy_service for s in SCENARIOS.values())
    kinds = {s.truth.containment_kind for s in SCENARIOS.values()}
    assert {"rollback", "feature-flag", "renew-certificate"} <= kinds
    for scenario in SCENARIOS.values():
        assert scenario.injects, scenario.name
        assert all(0 <= i.at_minutes <= scenario.duration_minutes for i in scenario.injects)
    # Distinct: no two scenarios simulate the same thing.
    shapes = {
        (s.sandbox.fault, s.sandbox.bad_service, s.sandbox.bad_deploy_back)
        for s in SCENARIOS.values()
    }
    assert len(shapes) == len(SCENARIOS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sandbox]\nfault = 'bad_deploy'\n", "[drill]: expected a table"),
        ("x = 1\n", "top level: unknown key 'x'"),
        (
            "[sandbox]\nbogus = 1\n[drill]\ndescription='d'\n",
            "[sandbox]: unknown scenario key 'bogus'",
        ),
        (
            "[sandbox]\n[drill]\ndescription='d'\n[[injects]]\nat_minutes=-1\ntext='t'\n",
            "[[injects]] #1.at_minutes: expected a number",
        ),
        (
            "[sandbox]\n[drill]\ndescription='d'\n[truth]\nculprit_service='payments'\n"
            "culprit_deploy='latest'\ncontainment='x'\ncontainment_kind='rollback'\n"
            "root_cause='r'\n",
            "[truth].culprit_service: must be [sandbox].bad_service 'checkout'",
        ),
        (
            "[sandbox]\n[drill]\ndescription='d'\n[truth]\nculprit_service='checkout'\n"
            "culprit_deploy='none'\ncontainment='x'\ncontainment_kind='failover'\n"
            "root_cause='r'\n",
            "[truth].culprit_deploy: the sandbox simulates 'latest'",
        ),
        ("[sandbox\n", "not valid TOML"),
    ],
)
def test_bad_files_give_one_line_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(DrillScenarioError) as error:
        load_scenario(path)
    line = str(error.value)
    assert "\n" not in line and line.startswith(str(path)) and message in line


def test_unknown_and_reserved_names(tmp_path: Path) -> None:
    with pytest.raises(DrillScenarioError, match="unknown drill scenario 'nope' \\(known: "):
        find_scenario("nope")
    with pytest.raises(DrillScenarioError, match="unknown drill scenario"):
        find_scenario("../pyproject")
    (tmp_path / "debrief.toml").write_text("")
    with pytest.raises(DrillScenarioError, match="reserved"):
        load_scenario(tmp_path / "debrief.toml")


def test_every_scenario_builds_a_drill_config_without_its_truth(
    boxes: dict[str, SandboxInfo],
) -> None:
    for name, info in boxes.items():
        scenario = SCENARIOS[name]
        config = load_config_file(info.config_path)
        assert config.cockpit.drill is True
        assert config.store_path == info.directory / "incidents.db"
        marker = (info.directory / DRILL_MARKER).read_text()
        assert set(json.loads(marker)) == {"scenario", "seed", "now", "log_mb"}
        secrets = [scenario.truth.containment, scenario.truth.root_cause, "[truth]"]
        for path in info.directory.rglob("*"):
            if path.is_file() and not path.name.endswith(".gz") and ".git" not in path.parts:
                text = path.read_text(errors="replace")
                assert not any(secret in text for secret in secrets), (name, path)
        # The derived truth agrees with the generator's own (in-memory) truth.
        derived = derive_truth(scenario, info.directory, info.now)
        assert derived.burst_start == info.truth.burst_start
        bad, target = info.truth.bad_deploy, info.truth.rollback_target
        assert derived.culprit_sha == (bad.sha if bad else None), name
        assert derived.target_sha == (target.sha if target else None), name


def test_same_seed_same_bytes_other_seed_other_logs(tmp_path: Path) -> None:
    scenario = SCENARIOS["checkout-timeouts"]
    first = build(tmp_path / "a", scenario)
    second = build(tmp_path / "b", scenario)
    third = build(tmp_path / "c", scenario, seed=8)

    def files(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }

    assert files(first.directory) == files(second.directory)
    assert len(files(first.directory)) > 20
    log = "logs/checkout/checkout.log"
    assert files(first.directory)[log] != files(third.directory)[log]


@pytest.mark.parametrize("name", NAMES)
def test_the_cockpits_own_tools_find_the_truth(boxes: dict[str, SandboxInfo], name: str) -> None:
    scenario, info = SCENARIOS[name], boxes[name]
    config = load_config_file(info.config_path)
    truth = derive_truth(scenario, info.directory, info.now)
    _, report = analyse_rollback(config, now=info.now)
    mine = next(a for a in report.analyses if a.service == scenario.truth.culprit_service)
    if scenario.truth.rollback_is_right:
        top = gather(config, now=info.now).targets[0]
        assert top.service == scenario.truth.culprit_service
        assert top.suspect.sha == truth.culprit_sha
        assert top.target is not None and top.target.sha == truth.target_sha
        # The slow leak too: its errors began rising while its deploy ran, after a healthy
        # after-window, so that deploy is the suspect and not the last known-good.
        assert report.analyses[0] is mine and mine.correlated and top.correlated
        assert mine.last_good is not None and mine.last_good.sha == truth.target_sha
        if scenario.sandbox.fault == "memory_leak":
            assert mine.burst.slow_onset and "error ratio rising from" in top.explanation
    else:
        assert not mine.correlated
        assert NO_CORRELATION in mine.summary
        assert not any(a.correlated for a in report.analyses if a.service == mine.service)


@pytest.mark.parametrize("name", NAMES)
def test_debrief_scores_a_good_and_a_poor_run(tmp_path: Path, name: str) -> None:
    scenario: DrillScenario = SCENARIOS[name]
    good_box = build(tmp_path / "good", scenario)
    script = open_script(good_box, scenario)
    good_run(script)
    good = debrief(
        scenario, good_box.directory, script.store.events(script.incident_id), now=NOW, speed=1
    )
    explained = {p.name: (p.points, p.explanation) for p in good.parts}
    assert good.score == good.max_score == 100, explained
    assert good.times == {"declare": 2.0, "assess": 3.0, "contain": 7.0, "resolve": 20.0}
    assert "executed nothing" in good.executed_nothing
    culprit = scenario.truth.culprit_service
    assert (
        f"a verified hypothesis names {culprit}"
        in good.part("hypothesis verified before fix").explanation
    )
    if scenario.truth.rollback_is_right:
        assert good.executed_nothing.startswith("The cockpit executed nothing: 1 command(s)")
        assert (script.truth.target_sha or "")[:7] in good.part("rollback target").explanation
    else:
        assert good.executed_nothing.startswith("The cockpit executed nothing: 0 command(s)")
        assert "right lever" in good.part("no rollback").explanation

    poor_box = build(tmp_path / "poor", scenario)
    script = open_script(poor_box, scenario)
    poor_run(script)
    poor = debrief(
        scenario, poor_box.directory, script.store.events(script.incident_id), now=NOW, speed=1
    )
    parts = {p.name: p.points for p in poor.parts}
    lever = "rollback target" if scenario.truth.rollback_is_right else "no rollback"
    assert parts == {
        "declare": 2.5,
        "severity": 0,
        "assess": 5,
        "contain": 5,
        "verify": 0,
        lever: 0,
        "contain before diagnose": 0,
        "hypothesis verified before fix": 0,
        "root cause": 0,
        "comms cadence": 2.5,
        "comms lint": 0,
    }
    assert poor.score == 15
    why = {p.name: p.explanation for p in poor.parts}
    assert "customers waited" in why["contain before diagnose"]
    assert "no hypothesis verified" in why["hypothesis verified before fix"]
    assert "no verified hypothesis names" in why["hypothesis verified before fix"]
    assert "no impact stated" in why["comms lint"]
    if scenario.truth.rollback_is_right:
        assert "but the right target was" in why[lever]
    else:
        assert "no deploy caused this" in why[lever]
    markdown = poor.to_markdown()
    assert "Score: 15 / 100" in markdown and scenario.truth.containment in markdown


def test_a_rollback_named_in_the_decision_counts_and_order_matters(
    boxes: dict[str, SandboxInfo],
) -> None:
    scenario = SCENARIOS["checkout-5xx"]
    info = boxes["checkout-5xx"]
    script = open_script(info, scenario)
    short = (script.truth.target_sha or "")[:7]
    script.at(1, Kind.RESOLVED, {"detail": "looks fine"})
    script.at(2, Kind.CONTAINED, {"detail": f"ran the rollback of checkout to {short} by hand"})
    report = debrief(
        scenario, info.directory, script.store.events(script.incident_id), now=NOW, speed=1
    )
    assert report.part("rollback target").points == 20
    assert "named in the decision" in report.part("rollback target").explanation
    assert report.part("verify").points == 0  # before containing, and nothing verified
    assert "without first marking" in report.part("verify").explanation
    assert "from Assess with no verification recorded" in report.part("verify").explanation
    assert report.executed_nothing.startswith("The cockpit executed nothing: 0 command(s)")
    # Something claiming to have executed a command is called out, not hidden.
    script.at(3, "command.executed", {"text": "kubectl rollout undo deployment/checkout"})
    report = debrief(
        scenario, info.directory, script.store.events(script.incident_id), now=NOW, speed=1
    )
    assert report.executed_nothing.startswith("WARNING: 1 event(s) claim an execution")


@pytest.mark.parametrize(
    ("flaw", "part", "points", "says"),
    [
        ("severity", "severity", 0, "the impact called for"),
        ("resolve from fix", "verify", 3, "from Fix with no verification recorded"),
        ("root cause", "root cause", 0, "misses the truth"),
    ],
)
def test_a_good_run_with_one_flaw_is_not_scored_100(
    tmp_path: Path, flaw: str, part: str, points: float, says: str
) -> None:
    """A wrong severity, resolving from Fix with nothing verified, or a root cause that misses
    the truth each cost points, with the reason said."""
    scenario = SCENARIOS["checkout-timeouts"]
    box = build(tmp_path / "box", scenario)
    script = open_script(box, scenario)
    if flaw == "severity":
        good_run(script, severity="SEV4")
    elif flaw == "root cause":
        good_run(script, cause="the latest checkout deploy bumped a log level")
    else:
        script.at(1, Kind.DECLARED, {"severity": "SEV2"})
        script.at(2, Kind.CONTAINED, {"detail": "rolled back"})
        script.at(3, Kind.PHASE_CHANGED, {"phase": "fix"})
        script.at(4, Kind.RESOLVED, {"detail": "looks fine"})
    report = debrief(
        scenario, box.directory, script.store.events(script.incident_id), now=NOW, speed=1
    )
    assert report.score < report.max_score == 100
    assert report.part(part).points == points
    assert says in report.part(part).explanation


def test_a_severity_change_counts_the_latest_one(tmp_path: Path) -> None:
    scenario = SCENARIOS["checkout-timeouts"]
    box = build(tmp_path / "box", scenario)
    script = open_script(box, scenario)
    script.at(1, Kind.DECLARED, {"severity": "SEV4"})
    script.at(3, Kind.SEVERITY_CHANGED, {"from": "SEV4", "to": "SEV1", "reason": "EU too"}, "bob")
    report = debrief(
        scenario, box.directory, script.store.events(script.incident_id), now=NOW, speed=1
    )
    assert report.part("severity").points == 5
    assert report.part("severity").explanation.startswith("declared SEV4, changed to SEV1 by bob")
