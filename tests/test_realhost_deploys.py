"""A checkout whose last change is older than the deploy window: `cockpit deploys` and the
Deploys pane say what is there instead of an empty list that reads as "no history"."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from textual.widgets import DataTable, Static

from cockpit.core.config import load_config_file
from cockpit.tui.panes.deploys import DeploysPane
from tests.deploys_support import BASE_TIME, commit, init_repo
from tests.test_deploys_pane import PaneApp, plain, settle

REPO = Path(__file__).resolve().parent.parent
NOW = BASE_TIME + timedelta(days=40)


def _old_checkout(path: Path) -> Path:
    repo = init_repo(path)
    commit(repo, "first change", BASE_TIME)
    commit(repo, "second change", BASE_TIME + timedelta(days=1))
    return repo


def test_deploys_in_an_old_checkout_names_the_newest_and_how_to_list_it(tmp_path: Path) -> None:
    repo = _old_checkout(tmp_path / "shop")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "COCKPIT_"))}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
        PYTHONPATH=str(REPO),
        COCKPIT_DISCOVERY_ROOT=str(tmp_path / "host"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "deploys"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "no deploys found since 7d"
    assert lines[1].startswith("note: the newest is older, 2026-03-02 09:00 UTC: --since ")
    days = int(lines[1].rsplit("--since ", 1)[1].split("d ")[0])
    listed = subprocess.run(
        [sys.executable, "-m", "cockpit", "deploys", "--since", f"{days}d"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.stdout.splitlines()[1].endswith("second change")


async def test_the_deploys_pane_lists_an_old_checkouts_history_labelled_older(
    tmp_path: Path,
) -> None:
    repo = _old_checkout(tmp_path / "shop")
    config_path = tmp_path / "cockpit.toml"
    config_path.write_text(f'[[services]]\nname = "shop"\n[services.deploys]\nrepo = "{repo}"\n')
    app = PaneApp(load_config_file(config_path), NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one(DeploysPane)
        assert pane.listing is not None
        assert [d.subject for d in pane.listing.deploys] == ["second change", "first change"]
        assert pane.query_one("#deploys-table", DataTable).row_count == 2
        status = plain(pane.query_one("#deploys-status", Static))
        assert "none in the last 7 days: older ones" in status
