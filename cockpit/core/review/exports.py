"""Exports for trackers and other stores: action items as JSON or CSV, and the whole incident
(its record and every event) exported and imported with ids, times and authors kept."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from cockpit.core.incident import IncidentState
from cockpit.core.review.events import action_items, iso_due
from cockpit.core.sanitize import visible
from cockpit.core.store import (
    Event,
    IncidentRecord,
    IncidentStore,
    StoreDump,
    StoreError,
    format_ts,
    parse_ts,
)

EXPORT_FORMAT = "cockpit-incident"


EXPORT_VERSION = 1


ACTION_FIELDS = ("incident", "title", "owner", "due", "added_by", "added_at")


def action_rows(state: IncidentState) -> list[dict[str, str]]:
    """Action items as flat rows for a tracker import; `due` is YYYY-MM-DD, or "" when what
    was recorded is not a date."""
    return [
        {
            "incident": state.incident_id,
            "title": item.text,
            "owner": item.owner,
            "due": iso_due(item.due),
            "added_by": item.added_by,
            "added_at": format_ts(item.added_at),
        }
        for item in action_items(state.events)
    ]


def actions_json(state: IncidentState) -> str:
    """Action items as a JSON array."""
    return json.dumps(action_rows(state), indent=2, ensure_ascii=True) + "\n"


def actions_csv(state: IncidentState) -> str:
    """Action items as CSV with a header; cells that a spreadsheet would run as a formula are
    prefixed with a quote."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ACTION_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in action_rows(state):
        writer.writerow({key: _no_formula(value) for key, value in row.items()})
    return buffer.getvalue()


def _no_formula(value: str) -> str:
    value = visible(value, max_len=None)  # no raw control characters, even in a file
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


class IncidentImportError(Exception):
    """An export that cannot be imported; the message is one line."""


def export_incident(record: IncidentRecord, events: Sequence[Event]) -> dict[str, Any]:
    """The incident record and every event, as plain JSON types."""
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "incident": {
            "id": record.id,
            "title": record.title,
            "created_at": format_ts(record.created_at),
            "created_by": record.created_by,
            "drill": record.drill,
            "closed_at": format_ts(record.closed_at) if record.closed_at else None,
        },
        "events": [event.to_json() for event in events],
    }


def import_incident(store: IncidentStore, data: dict[str, Any]) -> IncidentRecord:
    """Add an exported incident, with its event ids, times and authors, to `store`.

    One transaction through the store's own `import_dump`, so it works on SQLite and on
    PostgreSQL alike. Refuses an incident id that is already there.
    """
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise IncidentImportError(f"not a {EXPORT_FORMAT} export (missing 'format')")
    if data.get("version") != EXPORT_VERSION:
        raise IncidentImportError(f"unsupported export version {data.get('version')!r}")
    try:
        incident = data["incident"]
        record = IncidentRecord(
            id=str(incident["id"]),
            title=str(incident["title"]),
            created_at=parse_ts(incident["created_at"]),
            created_by=str(incident["created_by"]),
            drill=bool(incident["drill"]),
            closed_at=parse_ts(incident["closed_at"]) if incident.get("closed_at") else None,
        )
        events = [
            Event(
                seq=index,
                id=str(e["id"]),
                incident_id=record.id,
                ts=parse_ts(e["ts"]),
                author=str(e["author"]),
                kind=str(e["kind"]),
                payload=dict(e["payload"]),
            )
            for index, e in enumerate(data["events"], start=1)
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise IncidentImportError(f"malformed export: {exc!r}") from None
    if store.incident(record.id) is not None:
        raise IncidentImportError(f"incident {record.id} is already in {store.location}")
    try:
        store.import_dump(StoreDump(incidents=[record], events=events, salts={}))
    except StoreError as exc:
        raise IncidentImportError(
            f"{store.location}: import failed, nothing saved ({exc})"
        ) from None
    return record
