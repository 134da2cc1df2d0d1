"""`Record`, the dataclass stand-in of the store-only commands: it behaves as the frozen
dataclasses it replaced (equality, hashing, repr, immutability, replace)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cockpit.core.incident import IncidentState, Pin
from cockpit.core.records import FrozenRecordError
from cockpit.core.store import Event, IncidentRecord, StoreDump

WHEN = datetime(2026, 11, 28, 14, 31, tzinfo=UTC)


def event(**changes: object) -> Event:
    return Event(1, "e1", "i1", WHEN, "ana", "note", {"text": "hi"}).replace(**changes)


def test_equality_compares_fields_but_not_pending() -> None:
    assert event() == event()
    assert event() == event(pending=True)
    assert event() != event(seq=2)
    assert event() != ("e1",)  # only the same class compares


def test_records_are_immutable() -> None:
    with pytest.raises(FrozenRecordError):
        event().seq = 2
    with pytest.raises(AttributeError):
        del event().author


def test_replace_copies_with_changes_and_refuses_unknown_fields() -> None:
    original = event()
    changed = original.replace(seq=7, pending=True)
    assert (changed.seq, changed.pending, original.seq) == (7, True, 1)
    assert changed.payload is original.payload
    with pytest.raises(TypeError):
        original.replace(nope=1)


def test_hash_and_repr_as_a_dataclass() -> None:
    record = IncidentRecord("i1", "db down", WHEN, "ana", False, None)
    assert hash(record) == hash(record.replace(pending=True))
    assert {record, record.replace(pending=True)} == {record}
    with pytest.raises(TypeError):
        hash(event())  # the payload is a dict
    assert repr(record) == (
        "IncidentRecord(id='i1', title='db down', created_at="
        f"{WHEN!r}, created_by='ana', drill=False, closed_at=None, pending=False)"
    )
    assert IncidentRecord.__match_args__[:2] == ("id", "title")


def test_default_factories_give_each_instance_its_own_container() -> None:
    first, second = Pin("ana", WHEN, "logs", "line"), Pin("ana", WHEN, "logs", "line")
    assert first.detail == {} and first.detail is not second.detail
    assert IncidentState().roles == {} and IncidentState() == IncidentState()


def test_a_store_dump_is_mutable_and_unhashable() -> None:
    dump = StoreDump([], [], {})
    dump.events = [event()]
    assert dump == StoreDump([], [event()], {})
    with pytest.raises(TypeError):
        hash(dump)
