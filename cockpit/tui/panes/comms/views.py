"""What the Comms pane's smaller views say, as rich Text: outside text made visible and inert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from cockpit.core.comms.cadence import Cadence, diff_against_last
from cockpit.core.comms.events import STATUS_UPDATE
from cockpit.core.comms.facts import CommsStatus
from cockpit.core.comms.lint import Finding
from cockpit.core.sanitize import visible


def lint_text(findings: Sequence[Finding]) -> Text:
    """`lint: clean`, or the findings one per line."""
    if not findings:
        return Text("lint: clean")
    shown = Text(f"lint: {len(findings)} finding(s); copy is allowed and records them")
    for finding in findings:
        shown.append("\n ! ")
        shown.append(visible(finding.message, max_len=300))
    return shown


def draft_title(
    purpose: str,
    *,
    edited: bool,
    ai_rewritten: bool,
    ai_status: str,
    findings: Sequence[Finding] = (),
) -> Text:
    """`Status update (edited) · ⚠ 2 lint: promise: … · t: email · AI rewrite: …`: the lint
    sits on the line above the draft, so it is on screen wherever the draft is (80x24)."""
    other = "email" if purpose == STATUS_UPDATE else "status update"
    mark = " (edited)" if edited else ""
    if ai_rewritten:
        mark = " (AI rewrite, UNVERIFIED: read every word)"
    title = Text(f"{purpose.capitalize()}{mark}", style="bold")
    if findings:
        title.append(f" · ⚠ {len(findings)} lint: ", style="bold reverse")
        title.append(visible(findings[0].message, max_len=120), style="bold")
    else:
        title.append(" · lint clean", style="dim")
    title.append(f" · t: {other} · {ai_status}", style="dim")
    return title


def cadence_text(status: CommsStatus, cadence: Cadence, now: datetime) -> Text:
    """`Investigating · next update due 15:05 UTC, in 23:00` (bold once overdue)."""
    line = Text(f"{status.value}", style="bold")
    line.append(" · ")
    line.append(cadence.countdown(now), style="bold" if cadence.overdue(now) else "")
    return line


def diff_text(last: str | None, text: str, purpose: str) -> Text:
    """The draft against the last copied one, line by line."""
    lines = diff_against_last(last, text, purpose).splitlines()
    return Text("\n".join(visible(line, max_len=500) for line in lines))
