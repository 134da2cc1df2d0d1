"""The postmortem draft in Markdown, from the event log and the comms facts.

The postmortem is Markdown built only from the event log: what happened, who did what and
when (UTC), the times to detect, contain and recover, the root cause in a human's words with a
heuristic evidence check, hypotheses by their human verdict, the commands humans copied, and
the action items. Judgement is left to the incident owner in marked sections. Every piece of
outside text is sanitized (`visible`) and Markdown-escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.core.ai.hypotheses import whole_quotes
from cockpit.core.comms.events import FACT_SET, CommsCopy, comms_copies, is_comms_copy
from cockpit.core.comms.facts import CommsFacts
from cockpit.core.incident import ROLES, UNTITLED, IncidentState, Kind, describe
from cockpit.core.review.events import (
    ACTION_ITEM_ADDED,
    ROOT_CAUSE_STATED,
    RootCause,
    action_items,
    iso_due,
    root_cause,
)
from cockpit.core.review.evidence import (
    EVIDENCE_HEURISTIC_NOTE,
    check_root_cause,
    evidence_items,
    hypotheses,
)
from cockpit.core.sanitize import visible
from cockpit.core.store import (
    Event,
)
from cockpit.core.timefmt import hhmm_z
from cockpit.core.timeline import fold_repeats

TO_BE_WRITTEN = "_To be written by the incident owner._"


# -- Markdown escaping -----------------------------------------------------------------------

# Only what Markdown would act on is escaped, so the draft stays readable as text: `->`,
# `status=5\d\d` and `request_id` stay as they are.
_MD_ALWAYS = r"[`*~]"
"""Code spans, emphasis and strikethrough, wherever they are."""
_MD_BACKSLASH = r"\\(?=[!-/:-@\[-`{-~]|$)"
"""A backslash only escapes ASCII punctuation (or, last, breaks the line): only then doubled."""
_MD_UNDERSCORE = r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"
"""Emphasis by underscores needs a word boundary: `request_id` is left alone."""
_MD_ANGLE = r"<(?=[A-Za-z/!?])"
"""An HTML tag, comment or autolink (`<script>`, `<dur>`, `<https://...>`) starts so."""
_MD_ENTITY = r"&(?=#?[A-Za-z0-9]+;)"
"""`&amp;`-style entities; a lone `&` is text."""
_MD_INLINE = re.compile(
    "|".join((_MD_ALWAYS, _MD_BACKSLASH, _MD_UNDERSCORE, _MD_ANGLE, _MD_ENTITY))
)
_MD_LINK = re.compile(r"\]\s*[(\[:]|!\[")
"""Brackets make a link only with `](`, `][`, `]:` or an image's `![`: then they are escaped."""
_MD_BRACKETS = re.compile(r"[\[\]]")
_MD_LINE_START = re.compile(r"^(\s*)(?:([#>]|[-+](?=\s))|(\d+)([.)])(?=\s))")
"""A heading, a quote or a list item when the text starts a line."""


def md(text: str, max_len: int = 1000) -> str:
    """Outside text as inert inline Markdown: control characters visible, and escaped only
    where Markdown would act on it (emphasis, code, HTML, entities, links, a line start)."""
    return _md_escape(visible(text, max_len=max_len))


def _md_escape(shown: str) -> str:
    escaped = _MD_INLINE.sub(lambda match: "\\" + match.group(0), shown)
    if _MD_LINK.search(escaped):
        escaped = _MD_BRACKETS.sub(lambda match: "\\" + match.group(0), escaped)
    return _MD_LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark, number, dot = match.groups()
    return f"{indent}\\{mark}" if mark else f"{indent}{number}\\{dot}"


CLAIM_LIMIT = 4000
"""A claim longer than this is cut at a word boundary (far beyond any real claim)."""


def md_claim(text: str) -> str:
    """A claim as inert Markdown, whole: cut only beyond `CLAIM_LIMIT`, at a word boundary."""
    shown = visible(text, max_len=None)
    if len(shown) > CLAIM_LIMIT:
        cut = shown.rfind(" ", 0, CLAIM_LIMIT)
        shown = shown[: cut if cut > 0 else CLAIM_LIMIT].rstrip() + " …"
    return _md_escape(shown)


def md_code(text: str, max_len: int = 1000) -> str:
    """Outside text as an inline code span, fenced with more backticks than it contains."""
    shown = visible(text, max_len=max_len)
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") or not shown else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def cell(text: str) -> str:
    """Already-escaped Markdown made safe for a table cell (a pipe ends a cell even in code)."""
    return re.sub(r"(?<!\\)\|", r"\\|", text)


def utc(moment: datetime) -> str:
    """`2026-11-28 14:31:05 UTC`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(span: timedelta) -> str:
    """`27 min`, `1 h 05 min`, `45 s`."""
    seconds = int(span.total_seconds())
    if seconds < 0:
        return f"-{duration(-span)}"
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


# -- evidence cross-check ----------------------------------------------------------------------


# -- hypotheses (written by the AI pane, judged by humans) -------------------------------------


# -- the postmortem ----------------------------------------------------------------------------


def timeline_text(event: Event) -> str:
    """One timeline line in words; comms copies read as "status update drafted and copied"."""
    if is_comms_copy(event):
        purpose = str(event.payload.get("purpose") or "comms draft")
        detail = event.payload.get("detail") or {}
        lint = detail.get("lint") if isinstance(detail, dict) else None
        flags = f" [lint: {'; '.join(str(x) for x in lint)}]" if lint else ""
        return f"{purpose} drafted and copied by {event.author} (not published){flags}"
    if event.kind in (FACT_SET, ACTION_ITEM_ADDED, ROOT_CAUSE_STATED):
        summary = event.payload.get("summary")
        if summary:
            return str(summary)
    if event.kind == "hypothesis.proposed":
        evidence = event.payload.get("evidence")
        items = [str(item) for item in evidence] if isinstance(evidence, list) else []
        return whole_quotes(describe(event), items)
    return describe(event)


def timeline_markdown(event: Event) -> str:
    """One timeline line as Markdown: a search's pattern in a code span (a regex reads as
    written), a pinned signature too; everything else escaped where Markdown would act."""
    payload = event.payload
    if event.kind == Kind.SEARCH_RUN and isinstance(payload.get("query"), str):
        how = "regex" if payload.get("regex") else "text"
        hits = payload.get("hits")
        count = f": {hits:,} lines" if isinstance(hits, int) else ""
        return f"searched logs for the {how} {md_code(payload['query'], 400)}{count}"
    detail = payload.get("detail")
    if (
        event.kind == Kind.PIN_ADDED
        and isinstance(detail, dict)
        and detail.get("kind") == "log signature"
    ):
        return f"pinned from logs: the signature {md_code(str(payload.get('text', '')), 600)}"
    return md_claim(timeline_text(event))


@dataclass(frozen=True)
class DataRow:
    """A timeline row that comes from the data (logs, deploys), not from a person."""

    at: datetime
    source: str
    """`logs` or `deploys`: shown as "(from logs)"."""
    text: str


def data_rows(facts: CommsFacts) -> list[DataRow]:
    """What the logs and deploys say happened: the suspect deploy and each error burst's onset.

    Empty when the logs were not read (offline, `--no-logs`, no sources)."""
    logs = facts.log_facts
    if logs is None:
        return []
    rows = [
        DataRow(share.onset, "logs", f"errors begin at {share.service}")
        for share in logs.by_service
    ]
    if logs.suspect is not None:
        suspect = logs.suspect
        by = f" by {suspect.actor}" if suspect.actor else ""
        rows.append(
            DataRow(
                suspect.at,
                "deploys",
                f"{suspect.service} {suspect.label} deployed{by}"
                " (the top rollback candidate's suspect deploy)",
            )
        )
    return sorted(rows, key=lambda row: row.at)


def _key_times(state: IncidentState, facts: CommsFacts) -> list[str]:
    from cockpit.core.alerts.incident import detection, first_alert_event, resolution_lines

    start = facts["start"].at
    alert = first_alert_event(state)
    detected = detection(state)
    origin, origin_label = (
        (start, "impact start")
        if start
        else ((detected[0], "first alert") if detected else (None, ""))
    )
    lines = ["| Measure | From | To | Duration |", "| --- | --- | --- | --- |"]
    lines.append(_detect_row(state, facts, detected))
    recovered = facts["recovered"]
    # Recovery is what the data shows (or the resolve, said so); resolving is a decision.
    rows: list[tuple[str, datetime | None, str, str]] = [
        (
            "Time to contain",
            state.contained.at if state.contained else None,
            "contained",
            f" by {cell(md(state.contained.by, 80))}" if state.contained else "",
        ),
        (
            "Time to recover",
            recovered.at,
            "recovered",
            f" ({cell(md(_recovery_basis(recovered.source), 120))})",
        ),
        (
            "Time to resolve",
            state.resolved.at if state.resolved else None,
            "resolved",
            f" by {cell(md(state.resolved.by, 80))}" if state.resolved else "",
        ),
    ]
    for measure, at, verb, by in rows:
        if origin is None:
            lines.append(f"| {measure} | unknown start | | unknown |")
            continue
        if at is None:
            lines.append(f"| {measure} | {origin_label} {hhmm_z(origin)} | not {verb} | n/a |")
            continue
        lines.append(
            f"| {measure} | {origin_label} {hhmm_z(origin)} | {verb} {hhmm_z(at)}{by}"
            f" | {duration(at - origin)} |"
        )
    start_fact = facts["start"]
    notes = [
        f"Start of impact: {md(start_fact.value or 'unknown', 80)}, {md(start_fact.source, 200)}."
    ]
    if recovered.known:
        notes.append(f"Recovery: {md(recovered.value, 80)}, {md(recovered.source, 400)}.")
    if alert is not None and detected is not None:
        notes.append(f"First alert: {utc(detected[0])} ({md(timeline_text(alert), 300)}).")
    notes += [f"Alert: {md(line, 300)}." for line in resolution_lines(state)]
    return [*lines, "", *notes]


def _recovery_basis(source: str) -> str:
    """`from logs, UNVERIFIED` / `from logs, verified` / `the resolve`: the recovery's basis in
    a few words, for the key-times table."""
    if source.startswith("from the timeline"):
        return "the resolve, not the data"
    origin = source.split(":", 1)[0]
    return f"{origin}, verified" if "verified: " in source else f"{origin}, UNVERIFIED"


def _detect_row(state: IncidentState, facts: CommsFacts, alert: tuple[datetime, str] | None) -> str:
    """Impact start to the first alert, or to the declaration when no alert came (said so)."""
    measure = "Time to detect"
    start = facts["start"]
    if alert is not None:
        detected, to = alert[0], f"first alert {hhmm_z(alert[0])} ({cell(md(alert[1], 80))})"
    elif state.declared is not None:
        detected = state.declared.at
        to = f"declared {hhmm_z(detected)} by {cell(md(state.declared.by, 80))} (no alert recorded)"
    else:
        return f"| {measure} | impact start | not detected: no alert, not declared | n/a |"
    if start.at is None:
        return f"| {measure} | unknown impact start | {to} | unknown |"
    if not start.edited and start.source.startswith("from the timeline"):
        # The start is the declaration (or opening) itself: nothing earlier is known.
        return f"| {measure} | unknown impact start | {to} | unknown |"
    if start.at > detected:
        return (
            f"| {measure} | impact start {hhmm_z(start.at)} | {to} | n/a: detected before impact |"
        )
    return (
        f"| {measure} | impact start {hhmm_z(start.at)} | {to} | {duration(detected - start.at)} |"
    )


def _severity_and_roles(state: IncidentState) -> list[str]:
    """The severity with every change (from, to, why, who, when), the roles and who set them,
    and a resolve that went ahead without a recorded verification."""
    lines = ["## Severity and roles", ""]
    if state.declared is None:
        lines.append("- Severity: never declared")
    else:
        first = state.severity_changes[0].from_severity if state.severity_changes else None
        declared = first or state.severity or "?"
        lines.append(
            f"- Severity: {md(state.severity or '?', 20)} (declared {md(declared, 20)} at "
            f"{hhmm_z(state.declared.at)} by {md(state.declared.by, 80)})"
        )
        for change in state.severity_changes:
            why = f": {md(change.reason, 300)}" if change.reason else ""
            lines.append(
                f"  - changed {md(change.from_severity, 20)} -> {md(change.to_severity, 20)} "
                f"at {hhmm_z(change.at)} by {md(change.by, 80)}{why}"
            )
    for role, words in ROLES.items():
        holder = state.roles.get(role)
        who = (
            f"{md(holder.who, 80)} (set by {md(holder.by, 80)} at {hhmm_z(holder.at)})"
            if holder
            else "not set"
        )
        lines.append(f"- {words.capitalize()}: {who}")
    if state.resolve_warnings:
        missing = "; ".join(md(w, 200) for w in state.resolve_warnings)
        lines.append(f"- Resolved without a recorded verification: {missing}")
    return [*lines, ""]


def _facts_table(facts: CommsFacts) -> list[str]:
    lines = ["| Fact | Value | Source |", "| --- | --- | --- |"]
    for fact in facts:
        if fact.name == "next_update":
            continue  # a comms cadence detail, not part of the impact
        value = md(fact.value, 200) if fact.known else "_unknown_"
        lines.append(f"| {fact.label} | {cell(value)} | {cell(md(fact.source, 300))} |")
    return lines


def _timeline(state: IncidentState, facts: CommsFacts) -> list[str]:
    """Every event, with the rows from the data merged in by time and marked as such."""
    from_data = data_rows(facts)
    lines = []
    if from_data:
        lines += [
            "Rows whose Who is _(from logs)_ or _(from deploys)_ come from the data the cockpit"
            " read, not from a person; every other row was recorded by the person named.",
            "",
        ]
    folded = fold_repeats(state.events, timeline_text)
    if len(folded) < len(state.events):
        lines += [
            "Repeats (the same search again and again) are one row with their count and span;"
            " `cockpit timeline --no-fold` lists every event.",
            "",
        ]
    lines += ["| Date and time (UTC) | Who | What |", "| --- | --- | --- |"]
    rows: list[tuple[datetime, int, str]] = [
        (
            row.first.ts,
            1,
            f"| {_ymd_hms(row.first.ts)} | {cell(md(row.author, 80))}"
            f" | {cell(timeline_markdown(row.last))}{cell(md(row.repeats(), 80))} |",
        )
        for row in folded
    ]
    rows += [
        (row.at, 0, f"| {_ymd_hms(row.at)} | _(from {row.source})_ | {cell(md(row.text, 600))} |")
        for row in from_data
    ]
    # Stable by time; at the same second the data row (what happened) comes first.
    lines += [line for _at, _order, line in sorted(rows, key=lambda row: (row[0], row[1]))]
    return lines


def _ymd_hms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _root_cause_section(state: IncidentState, stated: RootCause | None) -> list[str]:
    lines = ["## Root cause", ""]
    if stated is None:
        return [
            *lines,
            "No root cause has been stated yet. The incident owner states it in the Comms pane"
            " (key `r`); the evidence cross-check appears here once it is stated.",
            "",
        ]
    lines += [f"As stated by {md(stated.by, 80)} at {utc(stated.at)}:", ""]
    lines.append(f"> {md(stated.text, 2000)}")
    lines += [
        "",
        "### Evidence cross-check (heuristic, UNVERIFIED)",
        "",
        EVIDENCE_HEURISTIC_NOTE,
        "",
        "| # | Claim | Verdict | Evidence |",
        "| --- | --- | --- | --- |",
    ]
    for index, check in enumerate(check_root_cause(stated.text, evidence_items(state)), 1):
        refs = [f"for: {label} ({check.reasons[label]})" for label in check.supporting]
        refs += [f"against: {label} ({check.reasons[label]})" for label in check.contradicting]
        shown = "; ".join(refs) if refs else "no recorded evidence mentions it"
        lines.append(
            f"| {index} | {cell(md(check.claim, 500))} | **{check.verdict}** |"
            f" {cell(md(shown, 600))} |"
        )
    lines += ["", f"Contributing factors: {TO_BE_WRITTEN}", ""]
    return lines


def _hypotheses_section(events: Sequence[Event]) -> list[str]:
    lines = ["## Hypotheses", ""]
    found = hypotheses(events)
    if not found:
        return [*lines, "No hypotheses were recorded.", ""]
    for status, heading in (
        ("verified", "Verified by a human"),
        ("refuted", "Refuted by a human"),
        ("unverified", "Never verified (UNVERIFIED: not facts)"),
    ):
        lines += [f"### {heading}", ""]
        group = [h for h in found if h.status == status]
        if not group:
            lines += ["None.", ""]
            continue
        for hypothesis in group:
            who = (
                f"by {md(hypothesis.by, 80)}"
                if status != "unverified"
                else (f"proposed by {md(hypothesis.by, 80)}")
            )
            note = f": {md_claim(hypothesis.note)}" if hypothesis.note else ""
            lines.append(f"- {md_claim(hypothesis.claim)} ({who}){note}")
        lines.append("")
    return lines


def _commands_section(events: Sequence[Event]) -> list[str]:
    copied = [e for e in events if e.kind == Kind.COMMAND_COPIED and not is_comms_copy(e)]
    lines = ["## Commands copied", ""]
    if not copied:
        return [*lines, "No commands were copied.", ""]
    lines += [
        "Every command below was copied to a human's clipboard and run by humans, not by the"
        " cockpit.",
        "",
        "| Time (UTC) | Copied by | Purpose | Command | Flags |",
        "| --- | --- | --- | --- | --- |",
    ]
    for event in copied:
        flags = event.payload.get("findings") or []
        flag_text = "; ".join(str(f) for f in flags) if isinstance(flags, list) else str(flags)
        lines.append(
            f"| {utc(event.ts)} | {cell(md(event.author, 80))}"
            f" | {cell(md(str(event.payload.get('purpose') or 'command'), 80))}"
            f" | {cell(md_code(str(event.payload.get('text', ''))))}"
            f" | {cell(md(flag_text, 300)) or 'none'} |"
        )
    return [*lines, ""]


def _comms_section(copies: list[CommsCopy]) -> list[str]:
    lines = ["## Customer communications", ""]
    if not copies:
        return [*lines, "No status updates or emails were copied.", ""]
    lines += ["Drafted in the cockpit, copied and sent by humans; the cockpit never publishes.", ""]
    for copy in copies:
        lint = "; ".join(copy.lint) if copy.lint else "none"
        lines.append(
            f"- {utc(copy.at)}: {md(copy.purpose, 80)} drafted and copied by"
            f" {md(copy.author, 80)} (lint findings: {md(lint, 600)})"
        )
        lines.append(f"  > {md(copy.text, 3000)}")
    return [*lines, ""]


def _actions_section(events: Sequence[Event]) -> list[str]:
    lines = ["## Action items", ""]
    items = action_items(events)
    if not items:
        return [*lines, "No action items recorded yet (Comms pane, key `a`).", ""]
    lines += ["| # | Action | Owner | Due | Added by |", "| --- | --- | --- | --- | --- |"]
    for index, item in enumerate(items, 1):
        due = iso_due(item.due)
        if not due:
            # Saved before due dates were checked: shown as typed, flagged, never exported.
            due = f"{md(item.due, 40)} (not a date)" if item.due.strip() else "_none_"
        lines.append(
            f"| {index} | {cell(md_claim(item.text))} | {cell(md(item.owner, 80)) or '_none_'}"
            f" | {cell(due)}"
            f" | {cell(md(item.added_by, 80))} {hhmm_z(item.added_at)} |"
        )
    return [*lines, ""]


def render_postmortem(state: IncidentState, facts: CommsFacts, *, now: datetime) -> str:
    """The postmortem draft in Markdown, from the incident state and its comms facts."""
    title = md(state.title or UNTITLED, 300)
    drill = " (drill)" if state.drill else ""
    lines = [
        f"# Postmortem: {title}{drill}",
        "",
        f"Incident `{md(state.incident_id, 80)}`. Draft written by Cockpit at {utc(now)} from the"
        " incident's event log. Facts below carry their source; sections marked \"To be written"
        ' by the incident owner" are judgement and belong to a human. AI output that no'
        " human verified is kept apart and marked UNVERIFIED. All times are UTC.",
        "",
        "## Summary",
        "",
        f"What happened, for a reader who was not there: {TO_BE_WRITTEN}",
        "",
        "## Impact",
        "",
        *_facts_table(facts),
        "",
        f"Customer impact for legal or contractual purposes: {TO_BE_WRITTEN}",
        "",
        *_severity_and_roles(state),
        "## Key times",
        "",
        *_key_times(state, facts),
        "",
        "## Timeline",
        "",
        *_timeline(state, facts),
        "",
    ]
    lines += _root_cause_section(state, root_cause(state.events))
    lines += _hypotheses_section(state.events)
    lines += _commands_section(state.events)
    lines += _comms_section(comms_copies(state.events))
    for heading in ("What went well", "What went poorly", "Where we got lucky"):
        lines += [f"## {heading}", "", TO_BE_WRITTEN, ""]
    lines += _actions_section(state.events)
    return "\n".join(lines).rstrip() + "\n"


class PostmortemWriteError(Exception):
    """The postmortem file could not be written: `path: reason`, one line."""


def write_postmortem(
    directory: Path, state: IncidentState, facts: CommsFacts, now: datetime
) -> Path:
    """Write the draft to `directory/postmortem-<incident>.md` (or `-2.md`, ... when taken) and
    return that path. Blocking
    I/O (a worker). Raises PostmortemWriteError naming the file."""
    from cockpit.core.safe_files import UnsafeFileError, write_private_new

    stem = f"postmortem-{state.incident_id or 'incident'}"
    try:
        # 0600, never through a symlink, and never over an earlier draft a human may have
        # edited: a second export goes to postmortem-ID-2.md.
        return write_private_new(directory, stem, ".md", render_postmortem(state, facts, now=now))
    except UnsafeFileError as exc:
        raise PostmortemWriteError(str(exc)) from None
    except OSError as exc:
        raise PostmortemWriteError(f"{directory / stem}.md: {exc.strerror or exc}") from None


# -- action items for trackers -------------------------------------------------------------------


# -- whole-incident export and import --------------------------------------------------------------
