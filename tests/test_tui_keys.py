"""Keys declared once: the global key map, help from the live bindings, the footer at 80
columns, the palette by name, `check_action`, and the README's generated key map."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from textual.actions import parse
from textual.command import CommandPalette
from textual.dom import DOMNode
from textual.widgets import Input, OptionList

from cockpit.core.ai.hypotheses import PROPOSED, Hypothesis
from cockpit.core.config import Config
from cockpit.core.incident import Kind
from cockpit.core.store import EventStore
from cockpit.tui.app import PANES, CockpitApp, CockpitFooter
from cockpit.tui.help import HelpScreen, cockpit_bindings
from cockpit.tui.keymap import README_BEGIN, README_END, keymap_markdown
from cockpit.tui.keys import GLOBAL_KEYS, collisions, remapped
from cockpit.tui.panes.comms import CommsPane
from cockpit.tui.panes.hypotheses import HypothesesPane
from tests.tui_support import make_app, settle, write_config

PROJECT = Path(__file__).resolve().parents[1]


def cockpit_widget_classes() -> list[type[DOMNode]]:
    """Every cockpit widget class with bindings (panes and what they compose), not the app."""
    for spec in PANES:
        spec.load_class()  # import every pane module
    found: list[type[DOMNode]] = []
    pending: list[type[DOMNode]] = [DOMNode]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if (
            cls.__module__.startswith("cockpit.tui.panes")
            and "BINDINGS" in cls.__dict__
            and not cls.__name__.endswith("Screen")
        ):
            found.append(cls)
    return found


def test_no_pane_binding_collides_with_a_global_key() -> None:
    classes = cockpit_widget_classes()
    assert {"LogSearchPane", "DeploysPane", "CommsPane", "HitLog"} <= {c.__name__ for c in classes}
    found = [
        f"{cls.__name__}: {line}"
        for cls in classes
        for line in collisions(remapped(cockpit_bindings(cls), {}))
    ]
    assert found == []
    # The check itself can fail: `n` for "new since" in a pane is a collision.
    from textual.binding import Binding

    assert collisions(remapped([Binding("n", "mark_new_since", "New since", id="x")], {}))
    assert not collisions(remapped([Binding("p", "pin", "Pin", id="y")], {}))


def test_the_app_binds_every_global_decision_key_once() -> None:
    keys = {b.key: b.action for b in remapped(cockpit_bindings(CockpitApp), {})}
    for key, action in {
        "n": "add_note",
        "d": "declare",
        "S": "change_severity",
        "T": "rename",
        "C": "mark_contained",
        "R": "mark_resolved",
        "N": "new_incident",
        "H": "hand_off",
        "O": "roles",
        "q": "quit",
        "question_mark": "pane_help",
        "f1": "pane_help",
    }.items():
        assert key in GLOBAL_KEYS and keys[key] == action, key


def test_pane_help_has_prose_but_no_hand_written_key_rows() -> None:
    for spec in PANES:
        pane = spec.load_class()
        assert pane.HELP.startswith("# "), pane
        assert "| Key |" not in pane.HELP and "| --- |" not in pane.HELP, pane


def _help_text(app: CockpitApp) -> str:
    screen = app.screen
    assert isinstance(screen, HelpScreen)
    return screen.markdown


async def test_question_mark_help_is_built_from_the_live_bindings_and_follows_a_remap(
    tmp_path: Path,
) -> None:
    config = write_config(
        tmp_path, extra='\n[keymap]\nadd-note = "m"\ndeploys-copy-rollback = "ctrl+r"\n'
    )
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = _help_text(app)
        assert text.startswith("# Phase checklist")
        assert "The incident loop: **Assess, Contain" in text  # the pane's prose, kept
        assert text.index("## Keys in Phases") < text.index("The incident loop")  # keys first
        assert "`^p` opens the command palette" in text
        assert "## Keys in Phases" in text
        assert "| `x` / `space` | Check |" in text
        assert "| `m` | Note |" in text and "| `n` | Note |" not in text  # remapped
        assert "| `P` | Enter phase | Make the viewed phase" in text
        await pilot.press("escape", "3")
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        text = _help_text(app)
        assert "## Keys in Deploys" in text and "| `^r` | Copy rollback |" in text
        assert "*(not now)*" in text  # nothing to copy without candidates: dimmed, said so


async def test_in_a_text_box_question_mark_types_and_f1_still_helps(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")  # Logs: the focus lands in the pattern box
        await settle(pilot)
        assert isinstance(app.focused, Input)
        await pilot.press("question_mark")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert app.query_one("#log-search-pattern", Input).value == "?"
        await pilot.press("f1")
        await pilot.pause()
        text = _help_text(app)
        assert "| `alt+x` | Regex |" in text  # what works in the box, from the live bindings
        assert "once the focus leaves the text box" in text  # and the letter keys, said so
        assert "| `p` | Pin |" in text


async def test_the_footer_keeps_help_visible_at_80_columns_in_every_pane(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for spec in PANES:
            await pilot.press(f"alt+{spec.key}")
            await settle(pilot, rounds=2)
            footer = app.query_one(CockpitFooter)
            pinned = [w for w in footer.query(".-pinned") if "Help" in str(w.render())]
            assert len(pinned) == 1, spec.title
            region = pinned[0].region
            assert region.width and region.x >= 0 and region.right <= 80, (spec.title, region)
            assert region.y == 23  # the bottom line
            palette = next(w for w in footer.query(".-pinned") if w is not pinned[0]).region
            assert palette.x >= region.right  # side by side, neither covers the other
            # On top: what a person sees in every cell of it is the help key, nothing else.
            for x in range(region.x, region.right):
                seen, _ = app.screen.get_widget_at(x, 23)
                assert seen is pinned[0], (spec.title, x, seen)


async def test_the_palette_finds_every_pane_action_by_name_with_its_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra='\n[keymap]\ncomms-postmortem = "W"\n')
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert commands["Comms: Write postmortem"].startswith("W in Comms")  # remapped
        assert "Declare" in commands and "Change severity" not in commands  # not declared yet
        assert "Logs: Regex" in commands and "Deploys: Refresh" not in commands  # no services
        # Every pane binding that applies now is a command; the dimmed ones are left out.
        for spec in PANES:
            pane = app.pane_content(spec.pane_id)
            for binding in remapped(cockpit_bindings(type(pane)), config.keymap):
                title = f"{spec.title}: {binding.description}"
                _, name, params = parse(binding.action)
                assert (title in commands) == bool(pane.check_action(name, params)), title
        # By name, through the palette a person opens.
        app.query_one(CommsPane).export_dir = tmp_path  # where the postmortem is written
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"postmortem")
        await settle(pilot, rounds=3)
        found = app.screen.query_one("CommandList", OptionList)
        shown = " ".join(str(o.prompt) for o in found.options)
        assert "Comms: Write postmortem" in shown and "W in Comms" in shown
        await pilot.press("enter")  # runs it in its pane
        await settle(pilot)
        assert app.query_one("#pane-tabs").active == "tab-comms"  # type: ignore[attr-defined]
        assert len(list(tmp_path.glob("postmortem-*.md"))) == 1


async def test_a_partners_note_leaves_the_footer_as_it_is(tmp_path: Path) -> None:
    """A partner's event refreshes every pane's bindings; the footer is rebuilt only when
    what it shows changes (rebuilding it per event cost the UI thread more than the panes)."""
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.state is not None
        footer = app.query_one(CockpitFooter)
        keys = list(footer.query("*"))
        assert any(getattr(w, "action", None) == "declare" for w in keys)
        with EventStore(config.store_path) as store:
            store.append(app.state.incident_id, Kind.NOTE_ADDED, {"text": "p95 up"}, "bob")
        app._poll_store()
        await settle(pilot)
        assert [n.text for n in app.state.notes] == ["p95 up"]
        assert list(footer.query("*")) == keys  # the same widgets: not rebuilt
        with EventStore(config.store_path) as store:  # what the footer offers changes
            store.append(app.state.incident_id, Kind.DECLARED, {"severity": "SEV2"}, "bob")
        app._poll_store()
        await settle(pilot)
        actions = {getattr(w, "action", None) for w in footer.query("*")}
        assert "change_severity" in actions and "declare" not in actions


async def test_a_selection_change_refreshes_what_the_footer_offers(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        pane = app.query_one(HypothesesPane)

        def verify_key() -> Any:
            footer = app.query_one(CockpitFooter)
            return next(w for w in footer.query("*") if getattr(w, "action", "") == "verify")

        assert pane.check_action("verify", ()) is None
        assert verify_key().has_class("-disabled")  # dimmed: no hypothesis to verify
        assert app.state is not None
        hypothesis = Hypothesis(id="h-1", origin="model", claim="the 14:31 deploy broke it")
        with EventStore(config.store_path) as store:  # a partner's triage proposes one
            store.append(app.state.incident_id, PROPOSED, hypothesis.payload(), "cockpit")
        app._poll_store()
        await settle(pilot, rounds=8)
        assert pane.selected() is not None  # the card under the cursor
        assert pane.check_action("verify", ()) is True
        assert not verify_key().has_class("-disabled")
        assert pane.check_action("copy_containment", ()) is None  # it has no containment


def test_the_readme_key_map_is_the_one_the_bindings_give() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    start = readme.index(README_BEGIN) + len(README_BEGIN)
    section = readme[start : readme.index(README_END)].strip()
    assert section == keymap_markdown({}).strip(), "run: python docs/make_keymap.py"
    assert "| `y` | Copy rollback |" in section and "| `m` | Write postmortem |" in section
    assert (
        "| `S` | Change severity | Change the severity" in section
        and "`change-severity` |" in section
    )


def test_cockpit_keys_prints_the_map_with_the_configs_remaps(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra='\n[keymap]\ndeploys-copy-rollback = "ctrl+r"\n')
    assert config.source_path is not None
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cockpit",
            "--config",
            str(config.source_path),
            "keys",
            "--markdown",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT,
    )
    assert "| `^r` | Copy rollback |" in done.stdout
    assert "| `y` | Copy rollback |" not in done.stdout
    assert done.stdout == keymap_markdown(config.keymap)


def test_an_unused_config_is_a_valid_default_map() -> None:
    assert keymap_markdown(Config().keymap) == keymap_markdown({})


async def test_decisions_that_do_not_apply_are_hidden_not_refused(tmp_path: Path) -> None:
    """`d` once declared, `S` before: the footer offers the one that applies."""
    config = write_config(tmp_path)
    app = make_app(config, new_incident_title="t")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.check_action("declare", ()) is True
        assert app.check_action("change_severity", ()) is False
        await pilot.press("S")  # nothing to change yet: no dialog, no "declare first" toast
        await pilot.pause()
        assert app.screen is app.screen_stack[0] and not app._notifications
        assert app.state is not None
        store = EventStore(config.store_path)
        store.append(app.state.incident_id, Kind.DECLARED, {"severity": "SEV2"}, "bob")
        store.close()
        app._poll_store()
        await settle(pilot)
        assert app.check_action("declare", ()) is False
        assert app.check_action("change_severity", ()) is True
        footer_actions = {
            getattr(w, "action", None) for w in app.query_one(CockpitFooter).query("*")
        }
        assert "change_severity" in footer_actions and "declare" not in footer_actions
