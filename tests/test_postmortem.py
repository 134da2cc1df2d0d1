"""The postmortem draft, the evidence check, action items, the incident export and the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.cli import main
from cockpit.core.comms.facts import CommsFacts, LogFacts, ServiceShare
from cockpit.core.incident import IncidentState, Kind
from cockpit.core.review.events import (
    ACTION_ITEM_ADDED,
    ROOT_CAUSE_STATED,
    action_item_payload,
    iso_due,
    parse_due,
    root_cause_payload,
)
from cockpit.core.review.evidence import Evidence, check_root_cause, evidence_items, hypotheses
from cockpit.core.review.exports import (
    IncidentImportError,
    actions_csv,
    actions_json,
    export_incident,
    import_incident,
)
from cockpit.core.review.postmortem import md, md_code, render_postmortem
from cockpit.core.signals import SuspectDeploy
from cockpit.core.store import Event, EventStore
from tests.comms_support import at, build_demo_incident, demo_state
from tests.golden_support import assert_golden

NOW = at("15:20:00")


def postmortem_of(state: IncidentState) -> str:
    facts = CommsFacts.from_state(state, now=NOW)
    return render_postmortem(state, facts, now=NOW).replace(state.incident_id, "INCIDENT-ID")


def test_postmortem_matches_the_golden_file(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db")
    assert_golden("postmortem_demo.md", postmortem_of(state))


def test_postmortem_has_every_section(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db")
    text = postmortem_of(state)
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings == [
        "Summary",
        "Impact",
        "Severity and roles",
        "Key times",
        "Timeline",
        "Root cause",
        "Hypotheses",
        "Commands copied",
        "Customer communications",
        "What went well",
        "What went poorly",
        "Where we got lucky",
        "Action items",
    ]
    # Detection is measured from the start of impact to the first alert, and says so.
    assert (
        "| Time to detect | impact start 14:31Z | first alert 14:33Z (alertmanager) | 2 min |"
        in (text)
    )
    assert "| Time to contain | impact start 14:31Z | contained 14:44Z by alice | 13 min |" in text
    # Offline (no logs read), recovery falls back on the resolve and says so; resolving is a
    # row of its own.
    assert (
        "| Time to recover | impact start 14:31Z | recovered 14:58Z (the resolve, not the data)"
        " | 27 min |" in text
    )
    assert "| Time to resolve | impact start 14:31Z | resolved 14:58Z by alice | 27 min |" in text
    assert "| 2026-11-28 14:40:00 | bob | copied, not executed (rollback command)" in text
    assert "run by humans, not by the cockpit" in text
    assert "status update drafted and copied by alice (not published)" in text
    assert (
        "| 1 | Reject client timeouts below the callee's p99 latency in deploy checks | bob"
        " | 2026-12-05 |" in text
    )
    assert "No hypotheses were recorded." in text
    assert text.count("_To be written by the incident owner._") >= 5


def test_postmortem_before_review_says_what_is_missing(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db", until="14:41:00")
    text = postmortem_of(state)
    assert "No root cause has been stated yet" in text
    assert "| Time to contain | impact start 14:31Z | not contained | n/a |" in text
    assert "No action items recorded yet" in text


def test_evidence_check_marks_each_claim(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db")
    checks = check_root_cause(
        "The 14:29 deploy of checkout lowered the payments client timeout to 800ms."
        " Payments was down during the incident. The CDN dropped traffic in Frankfurt.",
        evidence_items(state),
    )
    assert [check.verdict for check in checks] == ["supported", "contradicted", "unsupported"]
    # Every piece of evidence that shares the claim's specifics counts, each with its reason.
    assert checks[0].supporting == (
        "pin (logs) by alice 14:37Z",
        "pin (deploys) by bob 14:38Z",
        "note by bob 14:47Z",
    )
    assert checks[0].reasons["pin (logs) by alice 14:37Z"].startswith("shares ")
    assert "'timeout'" in checks[0].reasons["pin (logs) by alice 14:37Z"]
    assert checks[1].contradicting == ("note by bob 14:47Z",)
    assert (
        checks[1]
        .reasons["note by bob 14:47Z"]
        .startswith("it says 'payments latency normal the whole time'")
    )
    assert checks[2].supporting == () and checks[2].contradicting == ()


def test_refuted_hypotheses_contradict_and_verified_ones_support() -> None:
    evidence = [
        Evidence("hypothesis refuted by carol", "the database ran out of connections", "refuted"),
        Evidence(
            "hypothesis verified by carol", "the cache eviction storm slowed checkout", "verified"
        ),
    ]
    checks = check_root_cause(
        "The database ran out of connections. A cache eviction storm slowed checkout.", evidence
    )
    assert [check.verdict for check in checks] == ["contradicted", "supported"]


def hypothesis_events(store: EventStore, incident_id: str) -> None:
    for key, claim in (
        ("h-1", "deploy 3f9e2ab lowered the client timeout"),
        ("h-2", "payments is down"),
        ("h-3", "a noisy neighbour slowed the database"),
    ):
        store.append(
            incident_id,
            "hypothesis.proposed",
            {
                "id": key,
                "origin": "heuristic",
                "claim": claim,
                "evidence": ["deploy 3f9e2ab"],
                "summary": f"UNVERIFIED heuristic hypothesis: {claim}",
            },
            "cockpit",
        )
    store.append(
        incident_id,
        "hypothesis.verified",
        {
            "id": "h-1",
            "note": "diff shows timeout 800ms",
            "evidence": ["pin 3"],
            "by": "bob",
            "summary": "hypothesis h-1 verified by bob",
        },
        "bob",
    )
    store.append(
        incident_id,
        "hypothesis.refuted",
        {
            "id": "h-2",
            "note": "payments p99 normal",
            "evidence": ["pin 4"],
            "by": "alice",
            "summary": "hypothesis h-2 refuted by alice",
        },
        "alice",
    )


def test_hypotheses_are_listed_apart_by_human_verdict(tmp_path: Path) -> None:
    store, incident_id, _clock = build_demo_incident(tmp_path / "s.db")
    with store:
        hypothesis_events(store, incident_id)
        state = IncidentState.from_events(store.events(incident_id))
    assert [(h.key, h.status) for h in hypotheses(state.events)] == [
        ("h-1", "verified"),
        ("h-2", "refuted"),
        ("h-3", "unverified"),
    ]
    text = postmortem_of(state)
    section = text.split("## Hypotheses", 1)[1].split("\n## ", 1)[0]
    verified, rest = section.split("### Refuted by a human")
    refuted, never = rest.split("### Never verified (UNVERIFIED: not facts)")
    assert (
        "deploy 3f9e2ab lowered the client timeout (by bob): diff shows timeout 800ms" in verified
    )
    assert "payments is down (by alice)" in refuted
    assert "a noisy neighbour slowed the database" in never
    assert "noisy neighbour" not in verified + refuted


def test_outside_text_is_escaped(tmp_path: Path) -> None:
    clock_store, incident_id, _clock = build_demo_incident(tmp_path / "s.db", until="14:36:00")
    with clock_store as store:
        store.append(
            incident_id,
            Kind.NOTE_ADDED,
            {"text": "evil \x1b]52;c;aGk=\x07 | **bold** <script>\nline2"},
            "mallory",
        )
        store.append(
            incident_id,
            Kind.COMMAND_COPIED,
            {"text": "echo `id` | tee x", "purpose": "rollback command"},
            "bob",
        )
        store.append(incident_id, ROOT_CAUSE_STATED, root_cause_payload("A | B\x1b[2J"), "bob")
        store.append(
            incident_id,
            ACTION_ITEM_ADDED,
            action_item_payload("fix | it", "=cmd|' /C calc'!A0", "soon"),
            "bob",
        )
        state = IncidentState.from_events(store.events(incident_id))
    text = postmortem_of(state)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)
    assert "\\x1b]52;c;aGk=\\x07" in text  # the visible escape, readable and inert
    assert "\\*\\*bold\\*\\*" in text and "\\<script>" in text
    for line in text.splitlines():
        if re.match(r"\| 2026-11-28 [\d:]{8} \|", line):  # timeline rows: 4 unescaped pipes
            assert len(re.findall(r"(?<!\\)\|", line)) == 4, line
    assert "``echo `id` \\| tee x``" in text
    rows = list(csv.DictReader(io.StringIO(actions_csv(state))))
    assert rows[0]["owner"].startswith("'=")  # no spreadsheet formula


def test_md_helpers() -> None:
    # Escaped only where Markdown would act: emphasis, code, HTML, entities, links, line starts.
    assert md("a_b*c") == "a_b\\*c"
    assert md("_x_ `y` ~z~") == "\\_x\\_ \\`y\\` \\~z\\~"
    assert md("phase -> Fix, status=5\\d\\d, C:\\logs") == "phase -> Fix, status=5\\d\\d, C:\\logs"
    assert md("<script> <dur> a < b") == "\\<script> \\<dur> a < b"
    assert md("a & b &amp;") == "a & b \\&amp;"
    assert md("[ERROR] x") == "[ERROR] x"
    assert md("[a](javascript:x)") == "\\[a\\](javascript:x)"
    assert md("# h") == "\\# h" and md("- i") == "\\- i" and md("1. x") == "1\\. x"
    assert md("trailing\\") == "trailing\\\\" and md("\\*") == "\\\\\\*"
    assert md_code("x") == "`x`"
    assert md_code("a ``b`` c") == "```a ``b`` c```"


def test_action_items_export(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db")
    rows = json.loads(actions_json(state))
    assert [(r["title"][:6], r["owner"], r["due"]) for r in rows] == [
        ("Reject", "bob", "2026-12-05"),
        ("Alert ", "alice", "2026-12-12"),
    ]
    assert rows[0]["incident"] == state.incident_id
    parsed = list(csv.DictReader(io.StringIO(actions_csv(state))))
    assert [r["owner"] for r in parsed] == ["bob", "alice"]
    assert list(parsed[0]) == ["incident", "title", "owner", "due", "added_by", "added_at"]


def test_export_round_trip(tmp_path: Path) -> None:
    store, incident_id, _clock = build_demo_incident(tmp_path / "a.db")
    with store:
        hypothesis_events(store, incident_id)
        record = store.incident(incident_id)
        assert record is not None
        exported = export_incident(record, store.events(incident_id))
    text = json.dumps(exported)
    with EventStore(tmp_path / "b.db") as fresh:
        fresh.create_incident("another incident", "zed")  # ids and seqs differ in the new store
        imported = import_incident(fresh, json.loads(text))
        assert imported == record
        again = export_incident(imported, fresh.events(incident_id))
        with pytest.raises(IncidentImportError, match="already in"):
            import_incident(fresh, json.loads(text))

    def without_seq(data: dict[str, Any]) -> dict[str, Any]:
        return {
            **data,
            "events": [{k: v for k, v in e.items() if k != "seq"} for e in data["events"]],
        }

    assert without_seq(again) == without_seq(exported)
    original = IncidentState.from_events(EventStore(tmp_path / "a.db").events(incident_id))
    copy = IncidentState.from_events(EventStore(tmp_path / "b.db").events(incident_id))
    assert postmortem_of(copy) == postmortem_of(original)


def test_import_rejects_other_files(tmp_path: Path) -> None:
    with EventStore(tmp_path / "s.db") as store:
        with pytest.raises(IncidentImportError, match="not a cockpit-incident export"):
            import_incident(store, {"events": []})
        with pytest.raises(IncidentImportError, match="malformed"):
            import_incident(store, {"format": "cockpit-incident", "version": 1, "incident": {}})


# -- the CLI -------------------------------------------------------------------------------------


@pytest.fixture
def demo_config(tmp_path: Path) -> tuple[Path, str]:
    store, incident_id, _clock = build_demo_incident(tmp_path / "incidents.db")
    store.close()
    config = tmp_path / "cockpit.toml"
    config.write_text('[cockpit]\nstore = "incidents.db"\nauthor = "carol"\n')
    return config, incident_id


def test_cli_exports(
    demo_config: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, incident_id = demo_config
    assert (
        main(["--config", str(config), "export", "postmortem", "-o", str(tmp_path / "pm.md")]) == 0
    )
    assert "wrote postmortem" in capsys.readouterr().out
    assert (tmp_path / "pm.md").read_text().startswith("# Postmortem: Checkout: elevated 5xx")
    assert (
        main(
            [
                "--config",
                str(config),
                "export",
                "actions",
                "--format",
                "csv",
                "--incident",
                incident_id[:6],
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("incident,title,owner,due,added_by,added_at\n")
    assert main(["--config", str(config), "export", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["incident"]["id"] == incident_id and len(data["events"]) == 20


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "json", "--incident", "nope"], "no incident 'nope'"),
        (["export", "postmortem", "-o", "/nonexistent/dir/pm.md"], "cannot write the export"),
    ],
)
def test_cli_errors_are_one_line_exit_2(
    demo_config: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    config, _incident_id = demo_config
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(config), *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_export_never_imports_textual(demo_config: tuple[Path, str]) -> None:
    config, _incident_id = demo_config
    code = (
        "import sys, argparse\n"
        "from cockpit.commands import export\n"
        "parser = argparse.ArgumentParser(); export.add_arguments(parser)\n"
        f"args = parser.parse_args(['postmortem', '-o', {str(config.parent / 'x.md')!r}])\n"
        f"args.config = {str(config)!r}\n"
        "export.run(args)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


# -- what an audit found ---------------------------------------------------------------------------

LOG_FACTS = LogFacts(
    first_error=at("14:31:00"),
    first_error_service="checkout",
    services=("checkout", "gateway"),
    errors=290,
    requests=1000,
    window=(at("14:31:00"), at("14:58:00")),
    by_service=(
        ServiceShare("checkout", at("14:31:00"), 290, 1000),
        ServiceShare("gateway", at("14:32:00"), 130, 1000),
    ),
    suspect=SuspectDeploy("checkout", "3f9e2ab", "luis.ortega", at("14:29:12")),
)


def test_timeline_has_the_trigger_and_the_start_of_impact_from_the_data(tmp_path: Path) -> None:
    state, _clock = demo_state(tmp_path / "s.db")
    facts = CommsFacts.from_state(state, now=NOW, log_facts=LOG_FACTS)
    text = render_postmortem(state, facts, now=NOW)
    timeline = text.split("## Timeline", 1)[1].split("\n## ", 1)[0]
    assert "come from the data the cockpit read, not from a person" in timeline
    rows = [line for line in timeline.splitlines() if line.startswith("| 2026-")]
    assert rows[:4] == [
        "| 2026-11-28 14:29:12 | _(from deploys)_ | checkout 3f9e2ab deployed by luis.ortega"
        " (the top rollback candidate's suspect deploy) |",
        "| 2026-11-28 14:31:00 | _(from logs)_ | errors begin at checkout |",
        "| 2026-11-28 14:32:00 | _(from logs)_ | errors begin at gateway |",
        "| 2026-11-28 14:33:00 | alice | incident opened: Checkout: elevated 5xx errors |",
    ]
    stamps = [row.split(" | ", 1)[0] for row in rows]
    assert stamps == sorted(stamps)
    # Offline (no logs read) there are no rows from the data and no note about them.
    offline = postmortem_of(state)
    assert "(from logs)" not in offline and "(from deploys)" not in offline


def test_time_to_detect_without_an_alert_runs_to_the_declaration(tmp_path: Path) -> None:
    store, incident_id, clock = build_demo_incident(tmp_path / "s.db", until="14:33:00")
    with store:
        clock.now = at("14:40:00")
        store.append(incident_id, Kind.DECLARED, {"severity": "SEV2"}, "alice")
        state = IncidentState.from_events(store.events(incident_id))
    facts = CommsFacts.from_state(state, now=NOW, log_facts=LOG_FACTS)
    text = render_postmortem(state, facts, now=NOW)
    assert (
        "| Time to detect | impact start 14:31Z | declared 14:40Z by alice (no alert recorded)"
        " | 9 min |" in text
    )


def test_recovery_without_verification_says_so(tmp_path: Path) -> None:
    store, incident_id, clock = build_demo_incident(tmp_path / "s.db", until="14:44:00")
    with store:
        clock.now = at("14:50:00")
        store.append(incident_id, Kind.RESOLVED, {"detail": "5xx back to baseline"}, "alice")
        state = IncidentState.from_events(store.events(incident_id))
    text = postmortem_of(state)
    assert (
        "| Recovered | 14:50 UTC | from the timeline: marked resolved at 14:50Z by alice"
        " (no verification recorded) |" in text
    )


def test_hypothesis_claims_are_not_cut(tmp_path: Path) -> None:
    signature = "error checkout: upstream timeout calling payments after <dur> (attempt <n>)"
    cut = "The checkout deploy introduced the errors, led by 'error checkout: upstream timeout" + (
        " calling payments after <dur> (attemp…'"
    )
    long_claim = "A noisy neighbour slowed the database " + "and then more " * 60 + "end."
    store, incident_id, _clock = build_demo_incident(tmp_path / "s.db")
    with store:
        for key, claim in (("h-1", cut), ("h-2", long_claim)):
            store.append(
                incident_id,
                "hypothesis.proposed",
                {
                    "id": key,
                    "origin": "heuristic",
                    "claim": claim,
                    "evidence": [f"signature '{signature}': 352 lines"],
                    "summary": f"UNVERIFIED heuristic hypothesis: {claim}",
                },
                "cockpit",
            )
        state = IncidentState.from_events(store.events(incident_id))
    text = postmortem_of(state)
    assert "attemp…" not in text
    assert md(f"led by '{signature}'") in text  # in the hypotheses and on the timeline
    assert text.count(md(f"led by '{signature}'")) == 2
    assert "and then more end." in text  # a long claim is kept whole


def test_due_dates_are_checked_and_exported_as_dates() -> None:
    today = date(2026, 11, 28)
    assert parse_due("2026-12-05", today) == date(2026, 12, 5)
    assert parse_due("+3d", today) == date(2026, 12, 1)
    assert parse_due("1w", today) == date(2026, 12, 5)
    assert parse_due(" +2 weeks ", today) == date(2026, 12, 12)
    for typed, message in (
        ("next_week", "due date 'next_week' is not a date: use YYYY-MM-DD, or +3d / 1w"),
        ("2026-02-30", "due date '2026-02-30' does not exist on the calendar"),
        ("2026-11-01", "due date 2026-11-01 is in the past (today is 2026-11-28)"),
        ("", "due date is required: YYYY-MM-DD, or +3d / 1w from today"),
    ):
        with pytest.raises(ValueError) as error:
            parse_due(typed, today)
        assert str(error.value) == message
    assert iso_due("2026-12-05") == "2026-12-05"
    assert iso_due("next_week") == ""


def test_an_old_free_text_due_is_flagged_and_not_exported(tmp_path: Path) -> None:
    store, incident_id, _clock = build_demo_incident(tmp_path / "s.db", until="14:36:00")
    with store:
        store.append(
            incident_id,
            ACTION_ITEM_ADDED,
            action_item_payload("Reject low client timeouts", "bob", "next_week"),
            "alice",
        )
        state = IncidentState.from_events(store.events(incident_id))
    assert "| bob | next_week (not a date) |" in postmortem_of(state)
    assert json.loads(actions_json(state))[0]["due"] == ""
    assert next(csv.DictReader(io.StringIO(actions_csv(state))))["due"] == ""


def test_postmortem_shows_severity_changes_roles_and_an_unverified_resolve(tmp_path: Path) -> None:
    """The latest severity counts everywhere, and the change is shown with who, when and why;
    roles set by humans are named; resolving without verification is said, not hidden."""
    state, _clock = demo_state(tmp_path / "s.db")
    at = state.events[-1].ts
    extra: list[tuple[str, dict[str, Any], str]] = [
        (Kind.SEVERITY_CHANGED, {"from": "SEV2", "to": "SEV1", "reason": "EU too"}, "bob"),
        (Kind.ROLE_ASSIGNED, {"role": "incident_lead", "who": "alice"}, "bob"),
        (Kind.ROLE_ASSIGNED, {"role": "comms_lead", "who": "carol [x](y)"}, "alice"),
        (Kind.RESOLVED, {"detail": "", "unverified": ["no verification recorded"]}, "alice"),
    ]
    for offset, (kind, payload, author) in enumerate(extra, start=1):
        state = state.apply(
            [
                Event(
                    seq=state.last_seq + 1,
                    id=f"extra-{offset}",
                    incident_id=state.incident_id,
                    ts=at + timedelta(minutes=offset),
                    author=author,
                    kind=kind,
                    payload=payload,
                )
            ]
        )
    text = postmortem_of(state)
    assert "- Severity: SEV1 (declared SEV2 at 14:35Z by alice)" in text
    assert "  - changed SEV2 -> SEV1 at " in text and "by bob: EU too" in text
    assert "- Incident lead: alice (set by bob at " in text
    assert "- Comms lead: carol \\[x\\](y) (set by alice" in text  # outside text stays text
    assert "- Resolved without a recorded verification: no verification recorded" in text
    assert "| Impact | Major outage | from the severity: SEV1, changed from SEV2 by bob" in text
