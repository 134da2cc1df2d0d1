"""`cockpit deploys` and `cockpit rollback`, headless."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cockpit.cli import main
from tests.deploys_support import BASE_TIME, commit, init_repo, minutes, tag


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = init_repo(tmp_path / "repo")
    first = commit(path, "first", BASE_TIME)
    second = commit(path, "second \x1b[31mred\x1b[0m", BASE_TIME + minutes(5))
    tag(path, "deploy/checkout/v1", first, BASE_TIME + minutes(1), message="ship v1")
    tag(path, "deploy/checkout/v2", second, BASE_TIME + minutes(6), message="ship \x1b[2J v2")
    tag(path, "deploy/payments/p1", first, BASE_TIME + minutes(2), message="pay")
    return path


def test_deploys_repo_adhoc_table_is_sanitized(repo, capsys):
    assert main(["deploys", "--repo", str(repo), "--since", "3650d"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == [
        "TIME",
        "(UTC)",
        "SERVICE",
        "SHA",
        "VERSION",
        "REV",
        "ACTOR",
        "STATUS",
        "SOURCE",
    ]
    assert lines[1].split()[2:4] == ["checkout", lines[1].split()[3]]
    assert "ship \\x1b[2J v2" in out and "\x1b" not in out
    assert [line.split()[2] for line in lines[1:4]] == ["checkout", "payments", "checkout"]


def test_deploys_repo_json_with_tag_pattern(repo, capsys):
    assert (
        main(
            [
                "deploys",
                "--repo",
                str(repo),
                "--tag-pattern",
                "deploy/payments/*",
                "--since",
                "3650d",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert [d["ref"] for d in data["deploys"]] == ["deploy/payments/p1"]
    assert data["deploys"][0]["time"] == "2026-03-01T09:02:00Z"
    assert data["errors"] == []


def test_deploys_errors_are_one_line_with_exit_2(tmp_path, capsys):
    assert main(["deploys", "--repo", str(tmp_path / "nope")]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"cockpit: git repo {tmp_path / 'nope'} not found\n"
    with pytest.raises(SystemExit) as exited:
        main(["deploys", "--repo", str(tmp_path), "--since", "yesterday-ish"])
    assert exited.value.code == 2
    assert "expected a duration like 7d" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["deploys", "--tag-pattern", "x/*"])
    assert "--tag-pattern needs --repo" in capsys.readouterr().err


def test_headless_commands_do_not_import_textual(repo):
    code = (
        "import sys; from cockpit.cli import main; "
        f"main(['deploys', '--repo', {str(repo)!r}]); "
        "assert 'textual' not in sys.modules, 'textual imported'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    sandbox = pytest.importorskip("cockpit.core.demo.sandbox")
    from cockpit.core.demo.scenario import SCENARIOS

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    info = sandbox.build_sandbox(
        tmp_path_factory.mktemp("demo"), seed=7, now=now, scenario=SCENARIOS["bad-deploy"], log_mb=2
    )
    return info.config_path, info.truth


def test_deploys_from_config_by_service(demo_config, capsys):
    path, _truth = demo_config
    assert main(["--config", str(path), "deploys", "--service", "checkout", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["deploys"] and {d["service"] for d in data["deploys"]} == {"checkout"}
    newest = data["deploys"][0]
    assert newest["revision"] and newest["actor"]
    assert set(newest["sources"]) >= {"deploy-log", "git-tag"}


def test_rollback_prints_candidates_and_commands_never_runs_them(demo_config, capsys):
    path, truth = demo_config
    assert main(["--config", str(path), "rollback"]) == 0
    out = capsys.readouterr().out
    target = truth.rollback_target
    assert f"1. roll back checkout to {target.short_sha} (rev {target.revision})" in out
    assert f"last healthy deploy {target.short_sha}" in out
    assert (
        f"rollback (PROD-CHANGING, not executed): kubectl rollout undo deployment/checkout "
        f"-n prod --to-revision={target.revision}" in out
    )
    assert "--dry-run=server" in out
    assert out.rstrip().endswith(
        "Commands are printed only: not executed. A human checks and runs them."
    )
    assert main(["--config", str(path), "rollback", "--service", "checkout", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["commands_executed"] is False
    top = data["analyses"][0]["candidates"][0]
    assert top["target"]["sha"] == target.sha and top["score_parts"]["same_service"] == 1.0
    assert all(c["executed"] is False for c in top["commands"])


def test_rollback_shows_custom_commands_in_full_in_text_and_json(demo_config, capsys):
    path, truth = demo_config
    target = truth.rollback_target
    pin = (
        "kubectl -n prod set image deployment/checkout "
        f"checkout=registry.example.com/checkout:{target.version}"
    )
    assert main(["--config", str(path), "rollback", "--service", "checkout"]) == 0
    out = capsys.readouterr().out
    assert f"pin the image to the healthy build (custom, PROD-CHANGING, not executed): {pin}\n" in (
        out
    )
    assert (
        "pin the image to the healthy build (dry run) (custom, not executed): "
        f"{pin} --dry-run=server\n" in out
    )
    assert main(["--config", str(path), "rollback", "--service", "checkout", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["analyses"][0]["candidates"][0]
    custom = [c for c in top["commands"] if c["custom"]]
    assert [(c["label"], c["command"], c["prod_changing"], c["template"]) for c in custom] == [
        ("pin the image to the healthy build", pin, True, "custom[0].command"),
        (
            "pin the image to the healthy build (dry run)",
            f"{pin} --dry-run=server",
            False,
            "custom[0].dry_run",
        ),
    ]
    assert all(c["executed"] is False and c["filled"] for c in custom)


def test_rollback_without_services_fails_with_one_line(tmp_path, capsys):
    config = tmp_path / "cockpit.toml"
    config.write_text('[cockpit]\nauthor = "a"\n')
    assert main(["--config", str(config), "rollback"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("cockpit: no services configured")
    assert captured.err.count("\n") == 1
    assert "not executed" in captured.out


def test_rollback_for_an_unknown_service_fails_with_one_line(demo_config, capsys):
    path, _truth = demo_config
    assert main(["--config", str(path), "rollback", "--service", "chekout"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "cockpit: unknown service 'chekout' (known: gateway, checkout, payments, inventory)\n"
    )
    assert "nothing to roll back" not in captured.out  # no answer for services not asked about


def test_rollback_for_one_service_prints_only_its_analysis(demo_config, capsys):
    """`--service inventory` on a checkout incident: no checkout analysis, and a first line
    saying inventory has no error burst of its own (issue 12, polish)."""
    path, truth = demo_config
    assert main(["--config", str(path), "rollback", "--service", "inventory"]) == 0
    out = capsys.readouterr().out
    assert f"{truth.bad_service}: error burst" not in out
    assert f"roll back {truth.bad_service} to" not in out
    assert out.startswith("inventory: no error burst of its own")
    assert out.rstrip().endswith("A human checks and runs them.")


def test_a_service_whose_deploy_is_a_candidate_elsewhere_says_so(demo_config, capsys, monkeypatch):
    """`--service payments` when payments' deploy is the candidate for orders-api's errors:
    orders-api's analysis is left out, one note says where payments' deploy stands."""
    import cockpit.core.deploys as deploys_package
    from cockpit.core.deploys.model import DeployListing
    from cockpit.core.deploys.rollback import rank_candidates
    from tests.test_rollback_evidence import NOW, dependency_world

    path, _truth = demo_config
    deploys, series, config, bad, _before = dependency_world(declared=True)

    def analyse(_config: object, *, now: datetime, service: str | None = None) -> object:
        report = rank_candidates(deploys, series, config, now=NOW)
        return DeployListing(deploys=deploys), report

    monkeypatch.setattr(deploys_package, "analyse_rollback", analyse)
    candidate = " for orders-api's errors"
    assert main(["--config", str(path), "rollback", "--service", "payments"]) == 0
    out = capsys.readouterr().out
    assert "orders-api: error burst" not in out and "roll back payments to" not in out
    assert out.startswith("payments: no error burst of its own")
    assert f"note: payments's deploy {bad.label} is candidate 1{candidate}" in out
    assert out.rstrip().endswith("A human checks and runs them.")
    assert main(["--config", str(path), "rollback", "--service", "payments", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["analyses"] == [] and candidate in data["candidate_elsewhere"][0]
