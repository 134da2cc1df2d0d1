"""The Deploys pane in a tiny app: list, candidates, copy, suspect diff, errors, sanitizing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable, OptionList, RichLog, Static

from cockpit.core.config import Config, load_config_file
from cockpit.core.deploys.model import Deploy
from cockpit.core.deploys.rollback import Candidate, FilledCommand, ScoreParts
from cockpit.resources import data_dir
from cockpit.tui.messages import CopyRequested, PinRequested
from cockpit.tui.panes.command_picker import CommandPickerScreen
from cockpit.tui.panes.deploys import DeploysPane
from tests.deploys_support import BASE_TIME, commit, init_repo, minutes, tag
from tests.tui_support import workers_done

DEMO_NOW = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


class PaneApp(App[None]):
    CSS_PATH = [data_dir("styles") / "deploys.tcss"]

    def __init__(self, config: Config, now: datetime) -> None:
        super().__init__()
        self.config = config
        self.now = now
        self.copies: list[CopyRequested] = []
        self.pins: list[PinRequested] = []

    def compose(self) -> ComposeResult:
        yield DeploysPane(self.config, lambda: self.now, id="deploys")

    def on_copy_requested(self, message: CopyRequested) -> None:
        self.copies.append(message)

    def on_pin_requested(self, message: PinRequested) -> None:
        self.pins.append(message)


async def settle(pilot: Any) -> None:
    for _ in range(4):
        await workers_done(pilot.app)
        await pilot.pause()


def plain(widget: Static) -> str:
    rendered = widget.render()
    return rendered.plain if isinstance(rendered, Text) else str(rendered)


def cell_texts(table: DataTable[Any], row: int) -> list[str]:
    return [c.plain if isinstance(c, Text) else str(c) for c in table.get_row_at(row)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    sandbox = pytest.importorskip("cockpit.core.demo.sandbox")
    from cockpit.core.demo.scenario import SCENARIOS

    return sandbox.build_sandbox(
        tmp_path_factory.mktemp("demo"),
        seed=7,
        now=DEMO_NOW,
        scenario=SCENARIOS["earlier-deploy"],
        log_mb=2,
    )


async def test_deploys_candidates_copy_and_suspect_diff(demo):
    app = PaneApp(load_config_file(demo.config_path), DEMO_NOW)
    truth = demo.truth
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one(DeploysPane)
        assert pane.listing is not None
        deploys = pane.query_one("#deploys-table", DataTable)
        assert deploys.row_count == len(pane.listing.deploys) > 0
        first = cell_texts(deploys, 0)
        newest = pane.listing.deploys[0]
        assert first[2] == newest.short_sha and first[1] == newest.service
        healths = {cell_texts(deploys, i)[4] for i in range(deploys.row_count)}
        assert "unhealthy" in healths and "healthy" in healths
        status = plain(pane.query_one("#deploys-status", Static))
        assert f"{truth.bad_service} ▁" in status and "█" in status  # the last hour's shape
        candidates = pane.query_one("#deploys-candidates", DataTable)
        top = cell_texts(candidates, 0)
        assert top[1] == truth.bad_service and top[3] == truth.rollback_target.short_sha
        detail = plain(pane.query_one("#deploys-detail", Static))
        assert f"last healthy deploy {truth.rollback_target.short_sha}" in detail
        assert "PROD-CHANGING" in detail and "never executed" in detail
        # The score shows its likelihood ratios; the line, the test's strength.
        assert "timing x" in detail and "no deploy" in detail
        assert "p < 0.001 over " in detail and " expected)" in detail

        await pilot.press("y")
        await pilot.press("Y")
        await pilot.pause()
        rollback, dry_run = app.copies
        expected = f"--to-revision={truth.rollback_target.revision}"
        assert rollback.purpose == "rollback command" and rollback.text.endswith(expected)
        assert rollback.detail["prod_changing"] is True and rollback.detail["executed"] is False
        assert rollback.detail["target_sha"] == truth.rollback_target.sha
        assert dry_run.text.endswith("--dry-run=server") and "dry run" in dry_run.purpose
        await pilot.press("p")
        await pilot.pause()
        assert app.pins and app.pins[0].text.startswith("error ratio")

        await pilot.press("s")
        await settle(pilot)
        summary = plain(pane.query_one("#deploys-diff-summary", Static))
        assert pane.diff is not None
        assert f"{truth.rollback_target.short_sha}.." in summary and "commits" in summary
        files = pane.query_one("#deploys-diff-files", DataTable)
        assert files.row_count == len(pane.diff.files) > 0
        log = pane.query_one("#deploys-diff-view", RichLog)
        assert len(log.lines) == len(pane.diff.commits)
        await pilot.press("enter")
        await settle(pilot)
        shown = [strip.text for strip in log.lines]
        assert shown[0] == pane.diff.files[0][1] and any(line.startswith("@@") for line in shown)
        await pilot.press("escape", "escape")  # the file's diff on the whole screen, the diff
        await pilot.pause()
        assert pane.query_one("#deploys-candidates", DataTable).has_focus


async def test_no_correlated_deploy_is_shown_plainly(tmp_path_factory):
    sandbox = pytest.importorskip("cockpit.core.demo.sandbox")
    from cockpit.core.demo.scenario import SCENARIOS

    info = sandbox.build_sandbox(
        tmp_path_factory.mktemp("nodeploy"),
        seed=7,
        now=DEMO_NOW,
        scenario=SCENARIOS["no-deploy"],
        log_mb=2,
    )
    app = PaneApp(load_config_file(info.config_path), DEMO_NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pane = app.query_one(DeploysPane)
        detail = plain(pane.query_one("#deploys-detail", Static))
        assert "no correlated deploy: rollback may not be the answer" in detail
        await pilot.press("y")
        await pilot.pause()
        assert app.copies == []


async def test_missing_repo_is_one_clear_message_in_the_pane(tmp_path):
    toml = tmp_path / "cockpit.toml"
    toml.write_text('[[services]]\nname = "checkout"\n[services.deploys]\nrepo = "gone"\n')
    app = PaneApp(load_config_file(toml), DEMO_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        status = plain(app.query_one("#deploys-status", Static))
        assert f"service checkout: git repo {tmp_path / 'gone'} not found" in status
        assert app.query_one("#deploys-table", DataTable).row_count == 0


async def test_untrusted_commit_text_and_file_names_are_shown_inert(tmp_path, git_command_log):
    repo = init_repo(tmp_path / "repo")
    evil_subject = "fix \x1b]52;c;ZXZpbA==\x07 [bold]x[/bold] [@click=app.quit]"
    base = commit(repo, "base", BASE_TIME)
    tag(repo, "deploy/checkout/1", base, BASE_TIME)
    bad = commit(repo, evil_subject, BASE_TIME + minutes(60), {"we\x1b[2Jird.py": "x = 1\n"})
    tag(repo, "deploy/checkout/2", bad, BASE_TIME + minutes(61), annotated=False)
    logs = tmp_path / "app.log"
    lines = []
    for minute in range(0, 120):
        when = BASE_TIME + minutes(minute)
        for n in range(20):
            status = 500 if minute >= 63 and n < 8 else 200
            record = {"ts": when.isoformat().replace("+00:00", "Z"), "status": status}
            lines.append(json.dumps(record, separators=(",", ":")))
    logs.write_text("\n".join(lines) + "\n")
    toml = tmp_path / "cockpit.toml"
    toml.write_text(
        '[[sources]]\nkind = "files"\nname = "checkout"\nservice = "checkout"\n'
        'paths = ["app.log"]\n'
        '[[services]]\nname = "checkout"\n[services.deploys]\nrepo = "repo"\n'
        'tag_pattern = "deploy/checkout/*"\n[services.rollback]\n'
        'command = "deploy-tool rollback {service} --to {sha}"\n'
    )
    app = PaneApp(load_config_file(toml), BASE_TIME + minutes(120))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one(DeploysPane)
        assert pane.rows
        target = pane.rows[0].candidate.target
        assert target is not None and target.sha == base
        await pilot.press("y")
        await pilot.pause()
        assert app.copies[0].text == f"deploy-tool rollback checkout --to {base}"
        await pilot.press("s")
        await settle(pilot)
        log = pane.query_one("#deploys-diff-view", RichLog)
        text = " ".join(strip.text for strip in log.lines)
        assert "\\x1b]52;c;ZXZpbA==\\x07" in text and "[bold]x[/bold]" in text
        assert "\x1b" not in text
        files = pane.query_one("#deploys-diff-files", DataTable)
        assert cell_texts(files, 0)[1] == "we\\x1b[2Jird.py"
        await pilot.press("enter")
        await settle(pilot)
        shown = [strip.text for strip in log.lines]
        assert shown[0] == "we\\x1b[2Jird.py" and "+x = 1" in shown
    git_command_log.assert_read_only()  # listing, suspect diff and file diff, all from workers
    assert {"for-each-ref", "log", "diff"} <= set(git_command_log.subcommands())


async def test_a_quiet_reread_shows_new_deploys_and_keeps_the_cursor(tmp_path):
    """What the pane's own timer does: a new deploy (say, the rollback) appears unasked."""
    log = tmp_path / "deploys.jsonl"

    def deploy(minute: int, sha: str, version: str) -> str:
        row = {"time": f"2026-03-01T14:{minute:02d}:00Z", "service": "checkout", "sha": sha}
        return json.dumps({**row, "version": version, "actor": "dana"}) + "\n"

    log.write_text(deploy(10, "a" * 40, "v1") + deploy(20, "b" * 40, "v2"))
    config_path = tmp_path / "cockpit.toml"
    config_path.write_text(
        '[cockpit]\nstore = "i.db"\nrefresh_seconds = 30\n\n[[services]]\nname = "checkout"\n'
        '[services.deploys]\ndeploy_log = "deploys.jsonl"\n'
    )
    app = PaneApp(load_config_file(config_path), DEMO_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one(DeploysPane)
        table = pane.query_one("#deploys-table", DataTable)
        assert [cell_texts(table, i)[5] for i in range(table.row_count)] == ["v2", "v1"]
        table.focus()
        await pilot.press("down")  # the human looks at v1
        with log.open("a") as handle:
            handle.write(deploy(40, "a" * 40, "v1-rollback"))
        pane.reread_quietly()
        await settle(pilot)
        versions = [cell_texts(table, i)[5] for i in range(table.row_count)]
        assert versions == ["v1-rollback", "v2", "v1"]
        assert cell_texts(table, table.cursor_row)[5] == "v1"  # still on the same deploy


def test_every_binding_has_id_description_and_tooltip():
    for binding in DeploysPane.BINDINGS:
        assert binding.id and binding.description and binding.tooltip  # type: ignore[union-attr]


def test_styles_file_exists():
    assert (data_dir("styles") / "deploys.tcss").is_file()
    assert Path(data_dir("styles") / "deploys.tcss").read_text().count("#") > 5


async def test_no_services_is_a_quiet_hint_and_a_failing_read_is_shown(tmp_path, monkeypatch):
    app = PaneApp(Config(), DEMO_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        status = plain(app.query_one("#deploys-status", Static))
        assert status.startswith("no services configured")
        assert len(app.workers) == 0  # nothing was started

    import cockpit.core.deploys as deploys_core

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(deploys_core, "list_deploys", broken)
    toml = tmp_path / "cockpit.toml"
    toml.write_text('[[services]]\nname = "checkout"\n')
    app = PaneApp(load_config_file(toml), DEMO_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert plain(app.query_one("#deploys-status", Static)) == "error: disk on fire"


def test_snapshot_80x24_candidates(snap_compare: Any, demo: Any) -> None:
    """The pane at 80x24 on the demo (earlier-deploy): regenerate with --snapshot-update."""
    app = PaneApp(load_config_file(demo.config_path), DEMO_NOW)

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        app.query_one("#deploys-candidates", DataTable).focus()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_p_in_the_suspect_diff_pins_the_diff_and_elsewhere_the_candidate(demo):
    app = PaneApp(load_config_file(demo.config_path), DEMO_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one(DeploysPane)
        await pilot.press("s")
        await settle(pilot)
        diff = pane.diff
        assert diff is not None and diff.files
        await pilot.press("p")  # no file opened yet: the range alone
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("p")  # the file on the whole screen goes with it
        await pilot.press("escape", "escape")  # back from the file, back from the diff
        await pilot.press("p")  # back in the overview: the candidate, as before
        await pilot.pause()
    range_only, with_file, candidate = app.pins
    assert range_only.source == with_file.source == "diff"
    span = f"{demo.truth.bad_service} {diff.base[:7]}..{diff.head[:7]}"
    assert range_only.text.startswith(f"{span} (")
    assert f"({diff.commit_count} commits, {diff.shortstat}; rolling back to" in range_only.text
    assert range_only.detail["base"] == diff.base and range_only.detail["head"] == diff.head
    assert range_only.detail["commit_count"] == diff.commit_count
    assert range_only.detail["file"] is None and " file " not in range_only.text
    assert with_file.detail["file"] == diff.files[0][1]
    # Every changed file rides along: the root-cause cross-check matches file names.
    assert with_file.detail["files"] == [path for _status, path in diff.files]
    assert with_file.detail["kind"] == "diff"
    assert with_file.text.startswith(f"{span} file {diff.files[0][1]} (")
    assert candidate.source == "deploys" and candidate.text.startswith("error ratio")


async def test_c_picks_a_custom_command_and_copies_it_without_running_anything(
    demo, monkeypatch, git_command_log
):
    import os
    import subprocess

    app = PaneApp(load_config_file(demo.config_path), DEMO_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pane = app.query_one(DeploysPane)
        candidate = pane.rows[0].candidate
        detail = plain(pane.query_one("#deploys-detail", Static))
        pin = next(c for c in candidate.commands if c.custom and not c.dry_run)
        assert f" PROD-CHANGING  pin the image to the healthy build: {pin.text}" in detail
        # From here on, anything that spawns a process is a failure: copying runs nothing.
        spawned: list[object] = []

        def refuse(*args: object, **_kwargs: object) -> None:
            spawned.append(args)
            raise AssertionError(f"a process was started: {args}")

        monkeypatch.setattr(subprocess, "Popen", refuse)
        monkeypatch.setattr(os, "system", refuse)
        reads_before = len(git_command_log.commands)

        await pilot.press("c")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, CommandPickerScreen)
        options = picker.query_one(OptionList)
        labels = [options.get_option_at_index(i).prompt for i in range(options.option_count)]
        assert [str(getattr(p, "plain", p)).split(": ", 1)[1] for p in labels] == [
            f"{c.text}  (copy only, never executed)" for c in candidate.commands
        ]
        for _ in range(candidate.commands.index(pin)):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, CommandPickerScreen)
        (copy,) = app.copies
        assert copy.text == pin.text and copy.text.startswith("kubectl -n prod set image ")
        assert copy.purpose == "custom rollback command: pin the image to the healthy build"
        assert copy.detail["prod_changing"] is True and copy.detail["executed"] is False
        assert copy.detail["template"] == "custom[0].command"
        assert copy.detail["target_sha"] == demo.truth.rollback_target.sha

        # Its dry run is offered too, flagged as not prod-changing; escape copies nothing.
        await pilot.press("c", "up", "enter")  # wraps to the last: the custom dry run
        await pilot.pause()
        await pilot.press("c", "escape")
        await pilot.pause()
        assert len(app.copies) == 2
        dry = app.copies[1]
        assert dry.text == pin.text + " --dry-run=server"
        assert (
            dry.purpose == "custom rollback command: pin the image to the healthy build (dry run)"
        )
        assert dry.detail["prod_changing"] is False and dry.detail["executed"] is False
        # `y` still copies the rollback template itself, never a custom command.
        await pilot.press("y")
        await pilot.pause()
        assert app.copies[2].purpose == "rollback command"
        assert "--to-revision=" in app.copies[2].text
    assert spawned == [] and len(git_command_log.commands) == reads_before


async def test_the_picker_shows_an_unfilled_template_as_a_note_never_for_copy():
    target = Deploy("checkout", BASE_TIME, sha="a" * 40)
    candidate = Candidate(
        "checkout",
        Deploy("checkout", BASE_TIME + minutes(5), sha="b" * 40),
        target,
        [],
        ScoreParts(1, 1, 1, 1),
        "why",
        True,
        commands=[
            FilledCommand(
                "flag off (not filled)",
                "# not filled: services[0].rollback.custom[0].command: unknown placeholder {x}",
                False,
                template="custom[0].command",
                filled=False,
            ),
            FilledCommand("watch", "kubectl rollout status", False, template="custom[1].command"),
        ],
    )
    chosen: list[FilledCommand | None] = []

    class PickerApp(App[None]):
        def on_mount(self) -> None:
            self.push_screen(CommandPickerScreen(candidate), chosen.append)

    async with PickerApp().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        options = pilot.app.screen.query_one(OptionList)
        assert options.get_option_at_index(0).disabled
        prompt = options.get_option_at_index(0).prompt
        assert isinstance(prompt, Text) and prompt.plain.startswith(" not filled  flag off")
        watch = options.get_option_at_index(1).prompt
        assert isinstance(watch, Text) and watch.plain.startswith(" no prod change  watch: ")
        await pilot.press("enter")  # the highlight skips the disabled note: `watch` is copied
        await pilot.pause()
    assert chosen == [candidate.commands[1]]
