"""Deploy logs, helm/kubectl/Argo CD history, history commands, and merging sources."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.core.config import Config, DeploySource, ServiceConfig
from cockpit.core.deploys.history import (
    parse_argocd_history,
    parse_deploy_log,
    parse_helm_history,
    read_history_command,
)
from cockpit.core.deploys.model import Deploy, DeployError
from cockpit.core.deploys.sources import list_deploys, merge_deploys
from cockpit.core.timefmt import parse_time
from tests.deploys_support import BASE_TIME, commit, init_repo, minutes, tag

SHA_A = "b9c1d4e" + "0" * 33
SHA_B = "7f3a2c1" + "1" * 33


def test_parse_time_forms():
    assert parse_time("2026-03-01T14:31:00Z") == datetime(2026, 3, 1, 14, 31, tzinfo=UTC)
    assert parse_time("2026-03-01T16:31:00.123456789+02:00") == datetime(
        2026, 3, 1, 14, 31, 0, 123456, tzinfo=UTC
    )
    assert parse_time(1772375460) == datetime(2026, 3, 1, 14, 31, tzinfo=UTC)


def test_deploy_log_json_lines_with_bad_lines_named():
    text = "\n".join(
        [
            json.dumps(
                {
                    "time": "2026-03-01T14:31:00Z",
                    "service": "checkout",
                    "sha": SHA_A,
                    "version": "v42",
                    "actor": "ada",
                    "status": "succeeded",
                }
            ),
            "not json",
            json.dumps({"service": "checkout", "sha": SHA_B}),
            json.dumps(
                {
                    "ts": "2026-03-01T11:02:00Z",
                    "app": "payments",
                    "commit": SHA_B[:7],
                    "user": "bob",
                    "revision": 7,
                }
            ),
        ]
    )
    deploys, notes = parse_deploy_log(text, "deploy log deploys.jsonl")
    assert [(d.service, d.sha, d.actor) for d in deploys] == [
        ("checkout", SHA_A, "ada"),
        ("payments", SHA_B[:7], "bob"),
    ]
    assert deploys[1].revision == "7" and deploys[0].version == "v42"
    assert notes == [
        "deploy log deploys.jsonl: skipped 2 line(s): line 2: not JSON (Expecting value); "
        "line 3: no time"
    ]


def test_deploy_log_csv():
    text = (
        "time,service,sha,version,actor,status\n"
        f"2026-03-01T14:31:00Z,checkout,{SHA_A},v42,ada,succeeded\n"
        "2026-03-01T14:35:00Z,checkout,not-a-sha,v43,ada,failed\n"
    )
    deploys, notes = parse_deploy_log(text, "deploy log d.csv")
    assert len(deploys) == 1 and deploys[0].status == "succeeded"
    assert "line 3: sha 'not-a-sha' is not hexadecimal" in notes[0]


def test_helm_history_json():
    text = json.dumps(
        [
            {
                "revision": 41,
                "updated": "2026-03-01T11:02:00.123456789Z",
                "status": "superseded",
                "chart": "checkout-1.4.1",
                "app_version": "1.4.1",
                "description": "Upgrade complete",
            },
            {
                "revision": 42,
                "updated": "2026-03-01T14:31:00+00:00",
                "status": "deployed",
                "chart": "checkout-1.4.2",
                "app_version": SHA_A[:7],
                "description": "Upgrade complete",
            },
        ]
    )
    deploys, notes = parse_helm_history(text, "checkout", "helm")
    assert [d.revision for d in deploys] == ["41", "42"] and not notes
    assert deploys[1].sha == SHA_A[:7] and deploys[0].version == "1.4.1"
    with pytest.raises(DeployError, match="not helm history JSON"):
        parse_helm_history("REVISION UPDATED", "checkout", "helm")


def test_argocd_history_text():
    text = (
        "SOURCE  https://git.example.com/deploy.git\n"
        "ID      DATE                           REVISION\n"
        "3       2026-03-01 12:02:00 +0100 CET  v1.4.1 (7f3a2c1)\n"
        "4       2026-03-01 14:31:00 +0000 UTC  b9c1d4e\n"
    )
    deploys, _ = parse_argocd_history(text, "checkout", "argocd")
    assert [(d.revision, d.sha, d.version) for d in deploys] == [
        ("3", "7f3a2c1", "v1.4.1"),
        ("4", "b9c1d4e", None),
    ]
    assert deploys[0].time == datetime(2026, 3, 1, 11, 2, tzinfo=UTC)


def test_merge_joins_sources_by_sha_version_and_skew_and_attaches_kubectl_rows():
    t = BASE_TIME
    records = [
        Deploy("checkout", t, sha=SHA_A, source="git-tag", ref="deploy/checkout/v42"),
        Deploy(
            "checkout",
            t + timedelta(seconds=40),
            sha=SHA_A[:7],
            actor="ada",
            version="v42",
            source="deploy-log",
        ),
        Deploy("checkout", t + timedelta(seconds=90), revision="42", version="v42", source="helm"),
        Deploy("checkout", t - minutes(180), sha=SHA_B, source="git-tag"),
        Deploy("payments", t, sha=SHA_A, source="git-tag"),
    ]
    merged, notes = merge_deploys(
        records,
        skew=timedelta(seconds=120),
        kubectl_rows=[
            ("checkout", "9", f"kubectl set image app=checkout:{SHA_B[:7]}"),
            ("checkout", "10", "<none>"),
        ],
    )
    checkout = [d for d in merged if d.service == "checkout"]
    assert len(checkout) == 2
    newest = checkout[0]
    assert newest.sha == SHA_A and newest.actor == "ada" and newest.revision == "42"
    assert newest.time == t + timedelta(seconds=40)  # the deploy log's time wins
    assert newest.all_sources == ("deploy-log", "helm", "git-tag")
    assert checkout[1].revision == "9"  # kubectl row matched by its change-cause
    assert "1 revision(s)" in notes[0]


def _fake_tool(bin_dir: Path, name: str, output: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{output}\nEOF\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_history_command_runs_only_read_only_tools(tmp_path, monkeypatch):
    helm_json = json.dumps(
        [
            {
                "revision": 3,
                "updated": "2026-03-01T14:31:00Z",
                "status": "deployed",
                "app_version": "1.2.3",
            }
        ]
    )
    _fake_tool(tmp_path / "bin", "helm", helm_json)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert read_history_command(["helm", "history", "checkout", "-o", "json"]) == helm_json + "\n"
    with pytest.raises(DeployError, match="refused"):
        read_history_command(["helm", "rollback", "checkout", "3"])
    with pytest.raises(DeployError, match="refused"):
        read_history_command(["kubectl", "rollout", "undo", "deploy/checkout"])
    with pytest.raises(DeployError, match="refused"):
        read_history_command(["sh", "-c", "helm history x"])
    config = Config(
        services=[
            ServiceConfig(
                name="checkout",
                deploys=DeploySource(history_command=["helm", "history", "checkout", "-o", "json"]),
            )
        ]
    )
    listing = list_deploys(config)
    assert not listing.errors
    assert [(d.revision, d.version, d.source) for d in listing.deploys] == [("3", "1.2.3", "helm")]


def test_list_deploys_from_config_merges_and_isolates_a_broken_source(tmp_path):
    repo = init_repo(tmp_path / "repo")
    sha = commit(repo, "ship", BASE_TIME)
    tag(repo, "deploy/checkout/v42", sha, BASE_TIME + minutes(1))
    log = tmp_path / "deploys.jsonl"
    log.write_text(
        json.dumps(
            {
                "time": (BASE_TIME + minutes(2)).isoformat(),
                "service": "checkout",
                "sha": sha[:7],
                "actor": "ada",
                "version": "v42",
            }
        )
        + "\n"
    )
    toml = tmp_path / "cockpit.toml"
    toml.write_text(
        '[[services]]\nname = "checkout"\n[services.deploys]\nrepo = "repo"\n'
        'tag_pattern = "deploy/{service}/*"\ndeploy_log = "deploys.jsonl"\n'
        '[[services]]\nname = "payments"\n[services.deploys]\nrepo = "missing-repo"\n'
    )
    from cockpit.core.config import load_config_file

    config = load_config_file(toml)
    listing = list_deploys(config)
    assert len(listing.deploys) == 1
    only = listing.deploys[0]
    assert only.sha == sha and only.actor == "ada" and only.ref == "deploy/checkout/v42"
    assert listing.errors == [f"service payments: git repo {tmp_path / 'missing-repo'} not found"]
    assert list_deploys(config, service="nope").errors[0].startswith("unknown service 'nope'")
    assert "no services configured" in list_deploys(Config()).errors[0]
