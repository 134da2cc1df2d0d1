"""Deterministic drafts from the facts: a 2-3 sentence status-page update and an email paragraph.

Factual, accountable, not over-promising: they state only what the facts say, the cause is
"under investigation" until Review, and the only time promised is the next update. The same
facts always give the same words, so a draft is reproducible and testable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from cockpit.core.comms.events import CUSTOMER_EMAIL
from cockpit.core.comms.facts import CommsFacts, CommsStatus, Fact
from cockpit.core.timefmt import hhmm

AI_REWRITE_STATUS = "AI rewrite: not available (no AI configured)"
"""Shown beside the drafts when no AI key is set."""
AI_REWRITE_OFFERED = "w: AI rewrite (redacted, UNVERIFIED)"
"""Shown when a key is set: `w` asks the model to reword the draft."""


def ai_rewrite_status(environ: Mapping[str, str]) -> str:
    """What the drafter says about an AI rewrite: offered only when a key makes it real."""
    return AI_REWRITE_OFFERED if environ.get("ANTHROPIC_API_KEY") else AI_REWRITE_STATUS


CAUSE_UNKNOWN = "the cause is under investigation"
CAUSE_IN_REVIEW = "we are reviewing the cause"


def _when(fact: Fact) -> str:
    """The fact as a time for prose: `14:31 UTC`, or the human's own words, or ""."""
    if fact.at is not None:
        return f"{hhmm(fact.at)} UTC"
    return fact.value.strip()


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _services(facts: CommsFacts) -> str:
    names = [name.strip() for name in facts["services"].value.split(",") if name.strip()]
    return _join(names)


def _requests(facts: CommsFacts) -> str:
    """`about 12% of requests to checkout`, `some requests to checkout`, or `some requests`.

    A share that already says what it is a share of (`about 29% of checkout requests`, from
    the logs of one service) is used as it stands: it is never spread over other services.
    """
    services = _services(facts)
    share = facts["share"].value.strip()
    if " of " in share:
        return share
    target = f"requests to {services}" if services else "requests"
    return f"{share} of {target}" if share else f"some {target}"


def _cause(facts: CommsFacts) -> str:
    return CAUSE_IN_REVIEW if facts.in_review else CAUSE_UNKNOWN


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _next_update(facts: CommsFacts, verb: str = "post") -> str:
    when = _when(facts["next_update"])
    return f" We will {verb} the next update by {when}." if when else ""


def status_update(facts: CommsFacts) -> str:
    """The status-page update: 2-3 sentences, one line (safe to paste)."""
    start = _when(facts["start"])
    requests = _requests(facts)
    status = facts.status
    if status == CommsStatus.RESOLVED:
        recovered = _when(facts["recovered"])
        span = f"From {start} to {recovered}" if start and recovered else "For a period"
        return (
            f"{span}, {requests} failed. {_resolved(facts)}; {_cause(facts)}."
            " We are sorry for the disruption."
        )
    if status == CommsStatus.MONITORING:
        contained = _when(facts["contained"])
        opening = (
            f"Starting at {start}, {requests} failed."
            if start
            else (f"{_capital(requests)} failed.")
        )
        # "applied" only once a human marked the incident contained (or stated the time).
        mitigation = (
            f"At {contained} we applied a mitigation and are monitoring the results"
            if contained
            else "We are monitoring the service closely"
        )
        return f"{opening} {mitigation}; {_cause(facts)}.{_next_update(facts)}"
    opening = (
        f"Since {start}, {requests} have been failing."
        if start
        else (f"{_capital(requests)} are failing.")
    )
    # Identified (a rollback copied, or the Fix phase) shows a likely cause, not that any fix
    # was applied: nothing records that a copied command was run.
    if status == CommsStatus.IDENTIFIED and not facts.in_review:
        work = "We have identified a likely cause and are working on a fix; it is not yet confirmed"
    elif status == CommsStatus.IDENTIFIED:
        work = f"We have identified a likely cause and are working on a fix; {_cause(facts)}"
    else:
        work = f"We are investigating and working to restore service; {_cause(facts)}"
    return f"{opening} {work}.{_next_update(facts)}"


def _resolved(facts: CommsFacts) -> str:
    """The issue is resolved; "operating normally" only when recovery was verified."""
    if facts.recovery_verified:
        return "The issue is resolved and the service is operating normally"
    return "The issue is resolved"


def customer_email(facts: CommsFacts) -> str:
    """The customer email: one paragraph on one line, factual and accountable."""
    start = _when(facts["start"])
    contained = _when(facts["contained"])
    recovered = _when(facts["recovered"])
    services = _services(facts) or "our service"
    day = facts.day.astimezone(UTC).strftime("%-d %B %Y") if facts.day else ""
    status = facts.status
    sentences = [
        f"We are writing to let you know about a problem affecting {services}"
        + (f" on {day}." if day else ".")
    ]
    requests = _requests(facts)
    ongoing = status in (CommsStatus.INVESTIGATING, CommsStatus.IDENTIFIED)
    if start:
        verb = "have been failing" if ongoing else "failed"
        sentences.append(f"Starting at {start}, {requests} {verb}.")
    else:
        sentences.append(f"{_capital(requests)} {'are failing' if ongoing else 'failed'}.")
    if contained:
        sentences.append(f"At {contained} we applied a mitigation to limit the impact.")
    if status == CommsStatus.RESOLVED:
        end = f"At {recovered} the" if recovered else "The"
        normally = ", and it is operating normally" if facts.recovery_verified else ""
        sentences.append(f"{end} service was restored{normally}.")
    elif status == CommsStatus.MONITORING:
        sentences.append("We are monitoring the service closely.")
    else:
        sentences.append("Our engineers are working to restore service.")
    sentences.append(f"{_capital(_cause(facts))}.")
    next_update = _next_update(facts, "send").strip()
    if next_update:
        sentences.append(next_update)
    sentences.append("We are sorry for the disruption this has caused you.")
    return " ".join(sentences)


def draft(facts: CommsFacts, purpose: str) -> str:
    """The draft for `purpose` ("status update" or "customer email")."""
    return customer_email(facts) if purpose == CUSTOMER_EMAIL else status_update(facts)
