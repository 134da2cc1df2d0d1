"""Customer comms: facts with sources, deterministic drafts, lint before copy, update cadence.

The cockpit drafts; a human edits, copies and sends. Nothing here publishes anything, and
nothing here imports textual.
"""

from cockpit.core.comms.cadence import Cadence, cadence, diff_against_last
from cockpit.core.comms.drafts import AI_REWRITE_STATUS, customer_email, draft, status_update
from cockpit.core.comms.events import COMMS_KIND, CUSTOMER_EMAIL, FACT_SET, STATUS_UPDATE
from cockpit.core.comms.facts import CommsFacts, CommsStatus, Fact, LogFacts, read_log_facts
from cockpit.core.comms.lint import Finding, LintContext, lint

__all__ = [
    "AI_REWRITE_STATUS",
    "COMMS_KIND",
    "CUSTOMER_EMAIL",
    "FACT_SET",
    "STATUS_UPDATE",
    "Cadence",
    "CommsFacts",
    "CommsStatus",
    "Fact",
    "Finding",
    "LintContext",
    "LogFacts",
    "cadence",
    "customer_email",
    "diff_against_last",
    "draft",
    "lint",
    "read_log_facts",
    "status_update",
]
