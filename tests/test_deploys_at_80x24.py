"""Deploys and diffs at 80x24 (issue 12, item 15): a screenful of deploys, a file's diff on the
whole screen (`enter` on a file), and the suspect range narrowed to the service's `paths`
(config, strict, `f` for the whole range)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cockpit.core.config import ConfigError, load_config_file
from cockpit.core.deploys.git_source import GitRepo, suspect_diff
from cockpit.core.incident import Kind
from cockpit.tui.panes.deploys import DeploysPane
from cockpit.tui.panes.diff_screen import FileDiffScreen
from tests.deploys_support import BASE_TIME, commit, init_repo, minutes
from tests.tui_support import make_app, settle
from tests.ux_support import flowing_text, screen_lines


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ('"services/checkout/"', "key 'services[0].paths': expected a valid list"),
        ('["/etc/passwd"]', "'services[0].paths': '/etc/passwd': expected a path inside"),
        ('["../other"]', "expected a path inside the repository"),
        ('[":(top)x"]', "no leading '/', ':' or '-'"),
        ('[""]', "expected a path on one line, not empty"),
    ],
)
def test_service_paths_are_strict(tmp_path: Path, paths: str, expected: str) -> None:
    file = tmp_path / "c.toml"
    file.write_text(f'[[services]]\nname = "checkout"\npaths = {paths}\n')
    with pytest.raises(ConfigError) as caught:
        load_config_file(file)
    message = str(caught.value)
    assert "c.toml:3: " in message and expected in message
    assert "\n" not in message


def test_a_range_narrowed_to_the_services_paths_counts_the_whole_too(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    base = commit(repo, "start", BASE_TIME, {"services/checkout/app.py": "a\n", "x.txt": "x\n"})
    change = {"services/checkout/config.yaml": "t: 800\n"}
    commit(repo, "checkout: timeout", BASE_TIME + minutes(1), change)
    commit(repo, "gateway: logs", BASE_TIME + minutes(2), {"services/gateway/app.py": "g\n"})
    head = commit(repo, "ci", BASE_TIME + minutes(3), {".github/ci.yml": "on: push\n"})
    narrowed = suspect_diff(GitRepo(repo), base, head, paths=["services/checkout/"])
    assert [c.subject for c in narrowed.commits] == ["checkout: timeout"]
    assert narrowed.files == [("A", "services/checkout/config.yaml")]
    assert (narrowed.commit_count, narrowed.all_commit_count) == (1, 3)
    assert (narrowed.file_count, narrowed.all_file_count) == (1, 3)
    whole = suspect_diff(GitRepo(repo), base, head)
    assert whole.commit_count == whole.all_commit_count == 3 and whole.all_file_count == 3


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from datetime import UTC, datetime

    sandbox = pytest.importorskip("cockpit.core.demo.sandbox")
    from cockpit.core.demo.scenario import SCENARIOS

    return sandbox.build_sandbox(
        tmp_path_factory.mktemp("demo"),
        seed=7,
        now=datetime(2026, 11, 28, 14, 45, tzinfo=UTC),
        scenario=SCENARIOS["bad-deploy"],
        log_mb=2,
    )


def deploy_rows(app: Any) -> int:
    return sum(1 for row in screen_lines(app) if re.match(r"│\s+\d\d-\d\d \d\d:\d\d ", row))


async def test_at_80x24_a_screenful_of_deploys_and_a_diff_on_the_whole_screen(demo: Any) -> None:
    app = make_app(load_config_file(demo.config_path), new_incident_title="Checkout 5xx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot, rounds=12)
        pane = app.query_one(DeploysPane)
        assert pane.listing is not None and len(pane.listing.deploys) > 12
        assert deploy_rows(app) >= 10  # the list has focus: it gets the room (it showed 2-3)
        await pilot.press("tab")  # the candidates: their reason is on screen
        await pilot.pause()
        assert deploy_rows(app) >= 5 and "why: " in flowing_text(app)

        await pilot.press("s")
        await settle(pilot)
        diff = pane.diff
        assert diff is not None and diff.paths == (f"services/{demo.truth.bad_service}/",)
        words = flowing_text(app)
        assert f"{demo.truth.bad_service}'s paths: {diff.commit_count} of" in words
        assert "f: whole range" in words
        assert all(f"services/{demo.truth.bad_service}/" in path for _s, path in diff.files)
        await pilot.press("f")
        await settle(pilot)
        assert pane.diff is not None and pane.diff.paths == ()
        assert pane.diff.commit_count == diff.all_commit_count
        await pilot.press("f")
        await settle(pilot)

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FileDiffScreen)
        rows = screen_lines(app)
        assert rows[0].startswith(f" {diff.files[0][1]} · ") and "file 1 of" in rows[0]
        assert sum(1 for row in rows if row.startswith((" +", " -", " @@"))) >= 5
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "file 2 of" in screen_lines(app)[0]
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FileDiffScreen)
    assert app.state is not None
    (pin,) = [p for p in app.state.pins if p.source == "diff"]
    assert pin.detail["file"] == diff.files[1][1]
    assert [e.kind for e in app.state.events].count(Kind.PIN_ADDED) == 1
