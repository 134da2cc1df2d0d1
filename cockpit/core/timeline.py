"""The timeline as people read it: repeats folded into one row with a count, and kind filters.

Ten searches for the same pattern in a row are one row, "searched logs for 'timeout': 1,715
lines (x10, 14:02-14:09Z)", in the Timeline pane, `cockpit timeline` and the postmortem alike.
Only neighbours fold, and only the same kind by the same person saying the same thing (a
search: the same pattern), so nothing a reader needs is hidden; `--json` and the store keep
every event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from cockpit.core.incident import Kind, describe
from cockpit.core.records import Record
from cockpit.core.store import Event
from cockpit.core.timefmt import hhmm, hhmm_z

SEARCHES = Kind.SEARCH_RUN.value


class TimelineRow(Record):
    """One row: an event, or a run of repeats of it (`first` .. `last`, `count` of them)."""

    _fields = ("first", "last", "count", "key")

    first: Event
    last: Event
    count: int
    key: tuple[str, ...]

    def __init__(
        self,
        first: Event,
        last: Event,
        count: int = 1,
        key: tuple[str, ...] = (),
    ) -> None:
        self.__dict__.update(
            first=first,
            last=last,
            count=count,
            key=key,
        )

    @property
    def kind(self) -> str:
        return self.first.kind

    @property
    def author(self) -> str:
        return self.first.author

    def repeats(self) -> str:
        """` (x10, 14:02-14:09Z)` for a folded row, else ""."""
        if self.count == 1:
            return ""
        return f" (x{self.count}, {hhmm(self.first.ts)}-{hhmm_z(self.last.ts)})"


def repeat_key(event: Event, text_of: Callable[[Event], str] = describe) -> tuple[str, ...]:
    """What makes two neighbouring events the same row: kind, author and what they say (a
    search: its pattern, since its line count grows as logs arrive)."""
    if event.kind == SEARCHES:
        payload = event.payload
        return (event.kind, event.author, str(payload.get("query")), str(payload.get("regex")))
    return (event.kind, event.author, text_of(event))


def fold_repeats(
    events: Iterable[Event], text_of: Callable[[Event], str] = describe
) -> list[TimelineRow]:
    """The events as rows, each run of neighbouring repeats folded into one (the last event's
    text, with the count and the span)."""
    rows: list[TimelineRow] = []
    for event in events:
        key = repeat_key(event, text_of)
        if rows and rows[-1].key == key:
            rows[-1] = rows[-1].replace(last=event, count=rows[-1].count + 1)
        else:
            rows.append(TimelineRow(event, event, 1, key))
    return rows


def kind_matches(kind: str, wanted: str) -> bool:
    """`note` matches `note.added`; `incident` every `incident.*`; a full kind only itself."""
    return kind == wanted or kind.startswith(wanted + ".")


def filter_kinds(
    events: Iterable[Event], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[Event]:
    """Events of any `include` kind (all when empty) and of no `exclude` kind."""
    return [
        event
        for event in events
        if (not include or any(kind_matches(event.kind, want) for want in include))
        and not any(kind_matches(event.kind, skip) for skip in exclude)
    ]


def kinds_present(events: Iterable[Event]) -> Counter[str]:
    """How many events of each kind, most frequent first when iterated with most_common."""
    return Counter(event.kind for event in events)


def unknown_kinds(wanted: Iterable[str], events: Sequence[Event]) -> list[str]:
    """The `wanted` kinds that name nothing: no known kind and no kind in `events` (a typo)."""
    known = {kind.value for kind in Kind} | {event.kind for event in events}
    return [want for want in wanted if not any(kind_matches(kind, want) for kind in known) and want]


def latest_rows(events: Sequence[Event], count: int) -> list[TimelineRow]:
    """The newest `count` rows, folded exactly as over the whole timeline, reading back only as
    far as needed (the row before them ends every fold that reaches into them)."""
    size = count * 4
    while True:
        tail = events[-size:]
        rows = fold_repeats(tail)
        if len(rows) > count or len(tail) == len(events):
            return rows[-count:]
        size *= 4
