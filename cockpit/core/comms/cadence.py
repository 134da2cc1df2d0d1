"""Update cadence: when the next status update is due, a countdown, and a diff to the last one.

The clock counts from the last *copied* status update (the cockpit never publishes, so a copy
is the best record of an update going out). The next one is due at the time that copy promised,
else `cadence_minutes` later. Once the status is Monitoring or Resolved the cadence stops.
The times come from `facts.update_times`, the same source as the Next-update fact and the
draft's promise, so the countdown, the fact and the draft always name the same time.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cockpit.core.comms.events import STATUS_UPDATE, CommsCopy, comms_copies
from cockpit.core.comms.facts import CommsStatus, update_times
from cockpit.core.incident import IncidentState
from cockpit.core.timefmt import hhmm


@dataclass(frozen=True)
class Cadence:
    """Where the update cadence stands at one moment."""

    due: datetime | None
    """When the next update is due; None once the cadence stopped (Monitoring, Resolved)."""
    last: CommsCopy | None
    """The last copied status update."""
    status: CommsStatus
    promise: datetime | None = None
    """The next-update time the draft promises (the Next-update fact); None when it makes no
    promise. It differs from `due` only when the draft is itself the update that is due."""

    def remaining(self, now: datetime) -> timedelta | None:
        """Time left until the update is due (negative when overdue)."""
        return None if self.due is None else self.due - now

    def overdue(self, now: datetime) -> bool:
        remaining = self.remaining(now)
        return remaining is not None and remaining < timedelta(0)

    def countdown(self, now: datetime) -> str:
        """`next update due 15:15 UTC, in 12:04`, `... OVERDUE by 3:10`, or why there is none.

        When the draft promises a later time than `due` (it is the update that is due), that
        time is named too, so the countdown never contradicts the draft.
        """
        if self.due is None:
            if self.promise is not None:
                return (
                    f"no update cadence: {self.status.value};"
                    f" the draft promises the next update by {hhmm(self.promise)} UTC"
                )
            return f"no update cadence: {self.status.value}"
        remaining = self.remaining(now)
        assert remaining is not None
        which = "next update" if self.last else "first update"
        if remaining < timedelta(0):
            line = f"{which} was due {hhmm(self.due)} UTC: OVERDUE by {_clock(-remaining)}"
        else:
            line = f"{which} due {hhmm(self.due)} UTC, in {_clock(remaining)}"
        if self.promise is not None and self.promise != self.due:
            line += f" · this draft promises the one after by {hhmm(self.promise)} UTC"
        return line


def _clock(span: timedelta) -> str:
    """`1:02:03` or `12:04` (minutes:seconds)."""
    seconds = int(span.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def cadence(
    state: IncidentState,
    status: CommsStatus,
    cadence_minutes: int = 30,
    *,
    now: datetime | None = None,
    promise: datetime | None = None,
) -> Cadence:
    """The cadence for `state`, whose comms status is `status`, as seen at `now`.

    `promise` is the Next-update fact when the caller has it (a human may have edited it);
    without it, the promise is the one `update_times` derives. Without `now`, the due time.
    """
    last = last_copy(state, STATUS_UPDATE)
    if state.opened_at is None and state.declared is None and last is None:
        return Cadence(None, None, status, promise)
    # Without a `now`, one far enough back that the due time is never rolled forward.
    times = update_times(state, status, now or _LONG_AGO, cadence_minutes)
    return Cadence(times.due, last, status, promise or times.promise)


_LONG_AGO = datetime.min.replace(tzinfo=UTC)


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
