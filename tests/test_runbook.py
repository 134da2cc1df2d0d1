"""The Markdown runbook: parsing rules, errors, and the shipped default."""

from __future__ import annotations

from pathlib import Path

import pytest

import cockpit
from cockpit.core.runbook import PHASE_REMINDERS, Phase, RunbookError, load_runbook, parse_runbook

SHIPPED = Path(cockpit.__file__).resolve().parent.parent / "config" / "runbook.md"


def test_phases_in_loop_order() -> None:
    assert [p.value for p in Phase] == ["assess", "contain", "diagnose", "fix", "verify", "review"]
    assert Phase.CONTAIN.title == "Contain"
    assert all(Phase(p).reminder == PHASE_REMINDERS[p] for p in Phase)


def test_headings_and_list_items_become_the_checklist() -> None:
    runbook = parse_runbook(
        "# Checkout runbook\n"
        "Intro prose with - a dash is not an item.\n"
        "- an item before any phase is ignored\n"
        "## Assess\n"
        "- Check error rate\n"
        "* Check p95\n"
        "+ Read the logs\n"
        "1. Numbered item\n"
        "2) Other numbering\n"
        "- [ ] Unchecked box\n"
        "- [x] Checked box   \n"
        "## 2. Contain the damage ##\n"
        "Some prose.\n"
        "- Roll back\n"
        "      - deeply indented code-like line\n"
    )
    assert runbook.checklist(Phase.ASSESS) == (
        "Check error rate",
        "Check p95",
        "Read the logs",
        "Numbered item",
        "Other numbering",
        "Unchecked box",
        "Checked box",
    )
    assert runbook.checklist(Phase.CONTAIN) == ("Roll back",)
    assert runbook.checklist(Phase.REVIEW) == ()


def test_other_headings_end_a_phase() -> None:
    runbook = parse_runbook(
        "## Assess\n- a\n## Contacts\n- Bob: 555-0100\n### Sub\n- still contacts\n"
        "# Appendix\n- nothing\n## Verify\n- v\n"
    )
    assert runbook.checklist(Phase.ASSESS) == ("a",)
    assert runbook.checklist(Phase.VERIFY) == ("v",)
    all_items = [i for items in runbook.items.values() for i in items]
    assert "Bob: 555-0100" not in all_items and "nothing" not in all_items


def test_subheadings_inside_a_phase_keep_the_phase() -> None:
    # `###` is below the phase level: its items still belong to the phase above.
    runbook = parse_runbook("## Diagnose\n- a\n### Database\n- b\n")
    assert runbook.checklist(Phase.DIAGNOSE) == ("a", "b")


def test_heading_with_more_words_and_case() -> None:
    runbook = parse_runbook("## Step 6: REVIEW and learn\n- write it up\n")
    assert runbook.checklist(Phase.REVIEW) == ("write it up",)


def test_fenced_code_is_not_checklist() -> None:
    runbook = parse_runbook(
        "## Fix\n- real item\n```markdown\n- example item\n## Verify\n- not a phase\n```\n"
        "~~~\n- tilde example\n~~~\n- second real item\n"
    )
    assert runbook.checklist(Phase.FIX) == ("real item", "second real item")
    assert runbook.checklist(Phase.VERIFY) == ()


def test_repeated_item_is_one_item() -> None:
    runbook = parse_runbook("## Assess\n- same\n- other\n- same\n## Assess\n- same\n- third\n")
    assert runbook.checklist(Phase.ASSESS) == ("same", "other", "third")


def test_load_runbook_errors(tmp_path: Path) -> None:
    with pytest.raises(RunbookError, match=r"nope\.md: runbook not found"):
        load_runbook(tmp_path / "nope.md")
    with pytest.raises(RunbookError, match="is a directory"):
        load_runbook(tmp_path)
    prose = tmp_path / "prose.md"
    prose.write_text("# Notes\nJust prose, no phases.\n")
    with pytest.raises(RunbookError, match=r"prose\.md: no checklist found; expected '## Assess'"):
        load_runbook(prose)
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"\xff\xfe## Assess\n")
    with pytest.raises(RunbookError, match=r"bin\.md: not UTF-8"):
        load_runbook(binary)


def test_load_runbook_keeps_its_source(tmp_path: Path) -> None:
    file = tmp_path / "INCIDENT.md"
    file.write_text("## Contain\n- roll back\n")
    runbook = load_runbook(file)
    assert runbook.source == file
    assert runbook.checklist(Phase.CONTAIN) == ("roll back",)


# -- the shipped default runbook --------------------------------------------------------------


def test_shipped_runbook_covers_every_phase() -> None:
    runbook = load_runbook(SHIPPED)
    for phase in Phase:
        items = runbook.checklist(phase)
        assert 4 <= len(items) <= 7, (phase, items)
        for item in items:
            assert len(item) <= 70, item  # shown at 80 columns beside a checkbox


def test_shipped_runbook_keeps_the_human_ai_split() -> None:
    runbook = load_runbook(SHIPPED)
    contain = " ".join(runbook.checklist(Phase.CONTAIN)).lower()
    assert "rollback" in contain and "human runs" in contain and "copies" in contain
    diagnose = " ".join(runbook.checklist(Phase.DIAGNOSE))
    assert "UNVERIFIED" in diagnose
    assert any("declare" in i.lower() for i in runbook.checklist(Phase.ASSESS))
    assert any("resolved" in i.lower() for i in runbook.checklist(Phase.VERIFY))


def test_shipped_runbook_is_the_default() -> None:
    from cockpit.core.config import Config

    assert Config().runbook_path.resolve() == SHIPPED
