"""`cockpit drill`: --list, --build-only, the run (TUI faked) and `debrief`, with exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.core.drills.scenarios import load_all
from cockpit.core.incident import Kind
from cockpit.core.store import EventStore

BUILD = ["--now", "2026-11-28T14:31:00Z", "--log-mb", "1", "--seed", "3"]


def test_list_names_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drill", "--list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == sorted(load_all())
    assert all("min" in line for line in out)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["drill", "no-such-drill"], "unknown drill scenario 'no-such-drill' (known: "),
        (["drill"], "name a drill scenario"),
        (["drill", "checkout-5xx", "--speed", "0"], "--speed 0.0: expected a number above 0"),
        (["drill", "checkout-5xx", "--speed", "nan"], "--speed nan: expected a number above 0"),
        (["drill", "checkout-5xx", "--speed", "inf"], "--speed inf: expected a number above 0"),
        (
            ["drill", "checkout-5xx", "--scenarios", "/nonexistent"],
            "/nonexistent: no such folder of drill scenarios",
        ),
        (["drill", "--list", "--scenarios", "/nonexistent"], "no such folder of drill scenarios"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--dir", str(tmp_path / "box")])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "box").exists()


def test_build_only_prints_the_config_path_and_is_deterministic(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("a", "b"):
        assert (
            main(
                [
                    "drill",
                    "payments-provider",
                    "--dir",
                    str(tmp_path / name),
                    *BUILD,
                    "--build-only",
                ]
            )
            == 0
        )
        assert capsys.readouterr().out.strip() == str(tmp_path / name / "cockpit.toml")
    a, b = (sorted(p for p in (tmp_path / n).rglob("*") if p.is_file()) for n in "ab")
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))
    assert not (tmp_path / "a" / "incidents.db").exists()  # no drill incident yet
    # Nothing to debrief before a drill ran; a folder that is no drill at all.
    with pytest.raises(SystemExit) as exited:
        main(["drill", "debrief", "--dir", str(tmp_path / "a")])
    assert exited.value.code == 2 and "never run" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["drill", "debrief", "--dir", str(tmp_path)])
    assert exited.value.code == 2 and "not a drill sandbox" in capsys.readouterr().err


def test_a_drill_runs_the_tui_with_a_replay_then_debriefs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cockpit.tui.app

    seen: dict[str, object] = {}

    def fake_run_tui(
        config_path: Path, *, incident_id: str, clock: Callable[[], datetime], **_: object
    ) -> int:
        # What a participant does, stamped by the drill clock the TUI was given.
        store = EventStore(config_path.parent / "incidents.db", clock=clock)
        store.append(incident_id, Kind.DECLARED, {"severity": "SEV2"}, "alice")
        store.append(incident_id, Kind.NOTE_ADDED, {"text": "enable payments-fallback"}, "alice")
        store.append(incident_id, Kind.CONTAINED, {"detail": "payments-fallback on"}, "alice")
        store.close()
        seen.update(config=config_path, incident=incident_id, start=clock())
        return 0

    monkeypatch.setattr(cockpit.tui.app, "run_tui", fake_run_tui)
    box = tmp_path / "box"
    assert main(["drill", "payments-provider", "--dir", str(box), *BUILD, "--speed", "10"]) == 0
    start = seen["start"]
    assert isinstance(start, datetime)
    assert (
        timedelta(0)
        <= start - datetime.fromisoformat("2026-11-28T14:31:00+00:00")
        < timedelta(minutes=5)
    )
    out = capsys.readouterr().out
    assert "score" in out and str(box / "debrief.md") in out
    with EventStore(box / "incidents.db") as store:
        drills = store.incidents(drill=True)
        assert [d.id for d in drills] == [seen["incident"]] and store.incidents(drill=False) == []
    assert main(["drill", "debrief", "--dir", str(box), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["scenario"] == "payments-provider" and report["speed"] == 10
    assert report["executed"] is False
    parts = {p["name"]: p for p in report["parts"]}
    assert parts["no rollback"]["points"] == 20 and parts["declare"]["points"] == 5
    assert parts["verify"]["explanation"] == "never marked resolved"
    assert report["score"] < report["max_score"]
    markdown = (box / "debrief.md").read_text()
    assert markdown.startswith("# Drill debrief: payments-provider")
    assert "copied, not executed" in markdown
    assert main(["drill", "debrief", "--dir", str(box)]) == 0
    assert "| no rollback | 20 / 20 |" in capsys.readouterr().out


def test_a_folder_of_own_scenarios_is_listed_run_and_debriefed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cockpit.tui.app
    from cockpit.core.drills.scenarios import scenarios_dir

    folder = tmp_path / "ours"
    folder.mkdir()
    text = (scenarios_dir() / "checkout-5xx.toml").read_text()
    (folder / "our-drill.toml").write_text(text.replace("Checkout pages fail", "Our drill"))
    assert main(["drill", "--list", "--scenarios", str(folder)]) == 0
    assert capsys.readouterr().out.split()[0] == "our-drill"
    monkeypatch.setattr(cockpit.tui.app, "run_tui", lambda *a, **k: 0)
    box = tmp_path / "box"
    argv = ["drill", "our-drill", "--scenarios", str(folder), "--dir", str(box), *BUILD]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["drill", "debrief", "--dir", str(box), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["scenario"] == "our-drill" and report["score"] == 0
    # The shipped folder does not know it.
    with pytest.raises(SystemExit) as exited:
        main(["drill", "our-drill", "--dir", str(box), *BUILD])
    assert exited.value.code == 2
