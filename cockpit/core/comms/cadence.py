"""Update cadence: when the next status update is due, a countdown, and a diff to the last one.

The clock counts from the last *copied* status update (the cockpit never publishes, so a copy
is the best record of an update going out). The next one is due at the time that copy promised,
else `cadence_minutes` later. Once the status is Monitoring or Resolved the cadence stops.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.core.comms.events import STATUS_UPDATE, CommsCopy, comms_copies
from cockpit.core.comms.facts import CADENCE_STATUSES, CommsStatus, hhmm
from cockpit.core.incident import IncidentState


@dataclass(frozen=True)
class Cadence:
    """Where the update cadence stands at one moment."""

    due: datetime | None
    """When the next update is due; None once the cadence stopped (Monitoring, Resolved)."""
    last: CommsCopy | None
    """The last copied status update."""
    status: CommsStatus

    def remaining(self, now: datetime) -> timedelta | None:
        """Time left until the update is due (negative when overdue)."""
        return None if self.due is None else self.due - now

    def overdue(self, now: datetime) -> bool:
        remaining = self.remaining(now)
        return remaining is not None and remaining < timedelta(0)

    def countdown(self, now: datetime) -> str:
        """`next update due 15:15 UTC, in 12:04`, `... OVERDUE by 3:10`, or why there is none."""
        if self.due is None:
            return f"no update cadence: {self.status.value}"
        remaining = self.remaining(now)
        assert remaining is not None
        which = "next update" if self.last else "first update"
        if remaining < timedelta(0):
            return f"{which} was due {hhmm(self.due)}: OVERDUE by {_clock(-remaining)}"
        return f"{which} due {hhmm(self.due)}, in {_clock(remaining)}"


def _clock(span: timedelta) -> str:
    """`1:02:03` or `12:04` (minutes:seconds)."""
    seconds = int(span.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def cadence(state: IncidentState, status: CommsStatus, cadence_minutes: int = 30) -> Cadence:
    """The cadence for `state`, whose comms status is `status`."""
    last = last_copy(state, STATUS_UPDATE)
    if status not in CADENCE_STATUSES:
        return Cadence(None, last, status)
    every = timedelta(minutes=cadence_minutes)
    due: datetime | None
    if last is not None:
        due = last.next_update or last.at + every
    else:
        anchor = state.declared.at if state.declared else state.opened_at
        due = anchor + every if anchor is not None else None
    return Cadence(due, last, status)


def _sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?;])\s+", text.strip()) if part]


def last_copy(state: IncidentState, purpose: str) -> CommsCopy | None:
    """The last copied draft of `purpose` ("status update" or "customer email"), or None."""
    copies = [copy for copy in comms_copies(state.events) if copy.purpose == purpose]
    return copies[-1] if copies else None


def diff_against_last(last: str | None, draft: str, what: str = STATUS_UPDATE) -> str:
    """A unified diff, sentence by sentence, of `draft` against the last copied `what`."""
    if last is None:
        return f"no {what} copied yet: nothing to compare"
    if last.strip() == draft.strip():
        return f"no change since the last copied {what}"
    lines = difflib.unified_diff(
        _sentences(last), _sentences(draft), "last copied", "this draft", n=0, lineterm=""
    )
    return "\n".join(line for line in lines if not line.startswith("@@"))
