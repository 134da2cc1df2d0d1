"""`cockpit store copy`: move a team's incidents between engines (SQLite <-> PostgreSQL).

Idempotent by id: an incident or event already in the target is left alone, so a copy cut
short is finished by running it again. Verified afterwards by counts, by the sha256 of the
events (ids, times, authors, kinds, payloads) and by each incident's event order.
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.core.store import ImportCounts, IncidentStore, StoreError, events_digest


@dataclass(frozen=True)
class CopyReport:
    """What a copy did and what the verification found (all checks passed, or it raised)."""

    incidents: int
    events: int
    added: ImportCounts
    digest: str


def copy_store(source: IncidentStore, target: IncidentStore) -> CopyReport:
    """Copy every incident, event and redaction salt of `source` into `target`, then verify.

    Raises StoreError (one line) when the target does not hold exactly the source's events.
    """
    dump = source.dump()
    added = target.import_dump(dump)
    after = target.dump()
    wanted = {e.id for e in dump.events}
    copied = [e for e in after.events if e.id in wanted]
    where = f"{source.location} -> {target.location}"
    if len(copied) != len(dump.events):
        raise StoreError(
            f"{where}: copy not verified: {len(dump.events)} events in the source,"
            f" {len(copied)} of them in the target"
        )
    digest = dump.digest()
    if events_digest(copied) != digest:
        raise StoreError(f"{where}: copy not verified: the events' sha256 differs")
    missing = {r.id for r in dump.incidents} - {r.id for r in after.incidents}
    if missing:
        raise StoreError(f"{where}: copy not verified: incidents missing: {sorted(missing)[:5]}")
    for incident in dump.incidents:
        before = [e.id for e in dump.events if e.incident_id == incident.id]
        now = [e.id for e in copied if e.incident_id == incident.id]
        if before != now:
            raise StoreError(
                f"{where}: copy not verified: incident {incident.id}'s events are in another order"
            )
    return CopyReport(len(dump.incidents), len(dump.events), added, digest)
