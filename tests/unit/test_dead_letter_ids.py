"""Issue 21 point 11: a dead letter keeps the `id` and `source` of a record whose JSON parsed,
whatever else was wrong with it, so the sender can tell which event was refused."""

from __future__ import annotations

import json

import pytest

from orchestrator.engine import EventValidator, dead_letter
from orchestrator.errors import EventRejected
from schemas import Origin

ORIGIN = Origin(kind="file", name="events.jsonl", offset=1)
GOOD = {
    "specversion": "1.0",
    "id": "evt-7",
    "source": "tms/carrier-feed",
    "type": "supply.shipment_delayed",
    "time": "2026-11-20T10:00:00Z",
    "data": {"supplier": "a", "shipment_id": "x", "delay_hours": 1},
}


def _refused(raw: bytes) -> tuple[str | None, str | None]:
    with pytest.raises(EventRejected) as refused:
        EventValidator().parse(raw)
    letter = dead_letter(raw, refused.value.reason, ORIGIN)
    return letter.event_id, letter.source


@pytest.mark.parametrize(
    "change",
    [
        {"data": {"supplier": "a", "shipment_id": "x", "delay_hours": -3}},
        {"type": "ops.unknown"},
        {"time": "2026-11-20T10:00:00"},
        {"time": None},
        {"specversion": "0.3"},
    ],
)
def test_a_record_that_parsed_keeps_its_id_and_source(change: dict[str, object]) -> None:
    """Invalid data, an unknown type, a time without offset: id and source are kept."""
    raw = json.dumps({**GOOD, **change}).encode()
    assert _refused(raw) == ("evt-7", "tms/carrier-feed")


def test_only_the_identifiers_that_are_strings_are_kept() -> None:
    """A number for an id, an empty source, a lone surrogate: what is not usable text stays
    null (a lone surrogate could not be written out as UTF-8)."""
    raw = json.dumps({**GOOD, "id": 7, "source": ""}).encode()
    assert _refused(raw) == (None, None)
    surrogate = json.dumps({**GOOD, "id": "\ud800", "type": "ops.unknown"}).encode()
    assert _refused(surrogate) == (None, "tms/carrier-feed")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id": "evt-7", "source": "s", "type": "ops.alert", "time":',
        b'["evt-7", "s"]',
        b'{"id": "evt-7", "source": "s", "data": {"value": NaN}}',
        b'{"id": "evt-7", "source": "s\xff"}',
    ],
)
def test_a_record_that_did_not_parse_as_an_object_names_nothing(raw: bytes) -> None:
    """Broken JSON, not an object, NaN, not UTF-8: nothing is guessed from the bytes."""
    assert _refused(raw) == (None, None)
