"""The intake's fast paths (msgspec Structs per event type, fastparse; then one pass of
pydantic_core JSON, a TypedDict per event type, the envelope) give exactly what the reference
path gives: the same Event with the same `data` (keys, order, value types), or the same
rejection reason. Whatever the input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from orchestrator.engine.datadicts import data_shape
from orchestrator.engine.validate import EventValidator
from orchestrator.errors import EventRejected
from schemas.commands import COMMAND_EVENT_TYPE, CommandData
from schemas.events import CATALOGUE, Event
from schemas.playbook import EventTypeSpec

DECLARED = {
    "ext.sample": EventTypeSpec.model_validate(
        {
            "fields": {
                "name": {"type": "string"},
                "level": {"type": "integer", "min": 0, "max": 5, "required": False},
                "ratio": {"type": "number", "min": -1, "max": 1},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "flag": {"type": "boolean", "required": False},
                "extra": {"type": "object", "required": False},
                "items": {"type": "array", "required": False},
            }
        }
    )
}
VALIDATOR = EventValidator(DECLARED)
TYPES = sorted(VALIDATOR.models)
RAW_NUMBERS = [
    "1e400",
    "-1e999",
    "1E308",
    "2e-400",
    "1" * 120,
    "12345678901234567890123",
    "0.1",
    "-0",
    "-0.0",
    "1.5e3",
    "NaN",
    "Infinity",
]
"""Number texts JSON encoders do not produce: huge, tiny, long, and the non-JSON constants."""

KEEP = st.integers(0, 99).map(lambda n: n < 90)
"""Mostly keep a field (hypothesis draws small integers far more often than large ones)."""
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["firing", "critical", "2026-11-20", "2026-11-20\n", "a", "b", "", "x" * 3]),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


SAMPLES: dict[str, dict[str, Any]] = {
    "ops.alert": {
        "alertname": "Down",
        "service": "api",
        "status": "firing",
        "severity": "critical",
        "labels": {"env": "prod"},
    },
    "ops.metric": {"service": "api", "metric": "error_rate", "value": 0.2},
    "biz.kpi": {"kpi": "sales", "value": 100, "period": "2026-11-20"},
    "supply.shipment_delayed": {"supplier": "acme", "shipment_id": "s1", "delay_hours": 5},
    "supply.inventory_level": {"sku": "k", "warehouse": "w", "on_hand": 1, "safety_stock": 2},
    "security.alert": {"kind": "malware", "asset": "crm", "records_exposed": 0, "pii": False},
    "cs.complaint": {"channel": "chat", "topic": "t", "sentiment": -0.5},
    "social.mention": {"platform": "x", "reach": 10, "sentiment": 0.1},
    COMMAND_EVENT_TYPE: {"kind": "ack", "actor": "alice", "task_id": "inc-1.triage"},
    "ext.sample": {"name": "n", "level": 2, "ratio": 0.5, "mode": "a", "items": [1]},
}
"""A valid `data` per type; the strategies mostly keep these values and sometimes break one."""


def _field_names(event_type: str) -> list[str]:
    return list(VALIDATOR.models[event_type].model_fields)


@st.composite
def data_dicts(draw: st.DrawFn, event_type: str) -> dict[str, Any]:
    """Each field of the type absent, or any JSON value; some extra keys; any order."""
    valid = SAMPLES[event_type]
    items = [
        (
            name,
            draw(st.one_of(st.just(valid[name]), st.just(valid[name]), json_value))
            if name in valid
            else draw(json_value),
        )
        for name in _field_names(event_type)
        if (name in valid and draw(KEEP)) or draw(st.booleans())
    ]
    items += draw(st.lists(st.tuples(st.text(max_size=6), json_value), max_size=2))
    return dict(draw(st.permutations(items)))


def _exact_data(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    model = VALIDATOR.models[event_type]
    return model.model_validate(data, strict=True).model_dump(mode="json", exclude_unset=True)


def _typed(value: dict[str, Any]) -> list[tuple[str, type, Any]]:
    return [(k, type(v), v) for k, v in value.items()]


def test_every_shipped_type_has_a_fast_adapter() -> None:
    """Catalogue types, commands and declared types all take the fast path."""
    for model in [*CATALOGUE.values(), CommandData, VALIDATOR.models["ext.sample"]]:
        assert data_shape(model) is not None, model.__name__


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TYPES).flatmap(lambda t: st.tuples(st.just(t), data_dicts(t))))
def test_adapter_accepts_and_returns_exactly_what_the_model_does(
    case: tuple[str, dict[str, Any]],
) -> None:
    """Validate-and-dump through the model versus the TypedDict adapter: both refuse, or both
    give the same keys in the same order with the same values of the same types."""
    event_type, data = case
    shape = data_shape(VALIDATOR.models[event_type])
    assert shape is not None
    adapter = shape.adapter
    try:
        expected = _exact_data(event_type, data)
    except ValidationError:
        with pytest.raises(ValidationError):
            adapter.validate_python(data)
        return
    assert _typed(adapter.validate_python(data)) == _typed(expected)


ENVELOPE: dict[str, tuple[Any, list[Any]]] = {
    "specversion": ("1.0", ["2.0", 1]),
    "id": ("e1", ["", 5, "x" * 513, "\ud800"]),
    "source": ("s", ["", None, "s" * 512]),
    "time": (
        "2026-11-20T10:00:00Z",
        [
            "2026-11-20T10:00:00+02:00",
            "2026-11-20T10:00:00",
            "1700000000",
            1700000000,
            "x",
            "2026-11-20 10:00:00.5Z",
            "2026-11-20t10:00:00z",
            "2026-11-20T10:00:00.1234567Z",
            "2026-11-20T10:00:00.9999995Z",
            "2026-11-20T10:00:00.123456Z",
            "2026-11-20T23:59:60Z",
            "2026-11-20T10:00Z",
            "2026-11-20T10:00:00-00:00",
            "2026-11-20T10:00:00+23:59",
            "2026-02-29T10:00:00Z",
            "1969-12-31T23:59:59.999999Z",
            "8999-12-31T23:59:59+00:00",
            "9000-01-01T00:00:00Z",
        ],
    ),
}
"""Each envelope field's usual value and odd ones."""


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """Envelopes with every field possibly missing or odd, and raw number texts spliced in."""
    event_type = draw(st.sampled_from([*TYPES, *TYPES, "ops.unknown", 7]))
    envelope: dict[str, Any] = {
        name: good if draw(KEEP) else draw(st.sampled_from(odd))
        for name, (good, odd) in ENVELOPE.items()
    }
    envelope["type"] = event_type
    envelope["data"] = draw(data_dicts(event_type)) if event_type in TYPES else draw(json_value)
    if not draw(KEEP):
        envelope["subject"] = draw(json_leaf)
    if draw(st.booleans()):
        envelope["datacontenttype"] = draw(st.sampled_from(["application/json", "", 5, None]))
    kept = draw(st.permutations([k for k in envelope if draw(KEEP)]))
    text = json.dumps({k: envelope[k] for k in kept}, separators=(",", ":"))
    numbers = [] if draw(KEEP) else draw(st.lists(st.sampled_from(RAW_NUMBERS), max_size=2))
    for number in numbers:
        text = text.replace("null", number, 1) if "null" in text else text
    return text.encode()


def _outcome(parse: Any, raw: bytes) -> tuple[str, Any]:
    try:
        event: Event = parse(raw)
    except EventRejected as err:
        return "rejected", err.reason
    return "event", (
        event,
        list(event.__dict__),
        sorted(event.model_fields_set),
        event.__pydantic_extra__,
        _typed(event.data),
        event.model_dump_json(),
        event.time.isoformat(),
    )


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines())
def test_parse_matches_the_exact_path_whatever_the_line(raw: bytes) -> None:
    """parse() and parse_exact() agree: the same Event (fields set, data order and types), or
    the same rejection reason."""
    assert _outcome(VALIDATOR.parse, raw) == _outcome(VALIDATOR.parse_exact, raw)


def test_typical_events_take_the_fast_path() -> None:
    """A well-formed event of every type is parsed in one pass (the fast path does not rot)."""
    for event_type, data in SAMPLES.items():
        raw = json.dumps(
            {
                "id": "e1",
                "source": "s",
                "type": event_type,
                "time": "2026-11-20T10:00:00Z",
                "data": data,
            }
        ).encode()
        for fast in (VALIDATOR._fast.parse(raw), VALIDATOR._parse_fast(raw)):
            assert fast is not None, event_type
            assert _outcome(lambda _raw, e=fast: e, raw) == _outcome(VALIDATOR.parse_exact, raw)


def _odd(data: str, kind: str = "ops.metric", head: str = "", when: str = "10:00:00Z") -> bytes:
    return (
        f'{{"id":"e1","source":"s",{head}"type":"{kind}","time":"2026-11-20T{when}",'
        f'"data":{{{data}}}}}'
    ).encode()


METRIC = '"service":"a","metric":"m","value":1'
ALERT = '"alertname":"a","service":"b","status":"firing","severity":"info"'
SAMPLE = '"name":"n","ratio":0,"mode":"a"'
STOCK = '"sku":"k","warehouse":"w","safety_stock":2'
ODD_LINES = [
    _odd(METRIC, head='"type":"cs.complaint",'),
    _odd(METRIC, head='"id":"e2",'),
    _odd(METRIC + ',"value":"x"'),
    _odd(METRIC, when="10:00:00.12345\\u0036Z"),
    _odd(METRIC, when="10:00:00.12345\\u00367Z"),
    _odd(METRIC.replace(":1", ":1e400")),
    _odd(METRIC.replace(":1", ":NaN")),
    _odd(METRIC.replace(":1", ":true"), head='"subject":null,"specversion":"1.0",'),
    _odd(METRIC, head='"ext":"x",'),
    _odd(METRIC, head='"datacontenttype":"application/json","ext":"x",'),
    _odd(METRIC, head='"datacontenttype":"text/json","subject":"s",'),
    _odd(METRIC, head='"datacontenttype":{"a":[1e400]},'),
    b"\xef\xbb\xbf" + _odd(METRIC),
    _odd(ALERT + ',"labels":{"k":"1","k":2}', "ops.alert"),
    _odd(ALERT + ',"summary":null,"value":3', "ops.alert"),
    _odd('"kpi":"sales","value":1,"period":"2026-11-20\\n"', "biz.kpi"),
    _odd('"kpi":"sales","value":1,"period":"\\u0662026-11-20"', "biz.kpi"),
    _odd(SAMPLE + ',"extra":' + "[" * 70 + "]" * 70, "ext.sample"),
    _odd(SAMPLE + ',"items":[1e400]', "ext.sample"),
    _odd(SAMPLE + ',"level":true', "ext.sample"),
    _odd(STOCK + ',"on_hand":5.0', "supply.inventory_level"),
    _odd(STOCK + ',"on_hand":99999999999999999999', "supply.inventory_level"),
]
"""Duplicate keys, escapes inside the time, numbers out of range, a pattern's edge, deep
nesting in an untyped field, wrong scalar types, an extension attribute, a byte-order mark."""


@pytest.mark.parametrize("raw", ODD_LINES)
def test_odd_lines_parse_as_the_exact_path_does(raw: bytes) -> None:
    """Each odd line gives what the exact path gives (the fast paths hand back what they are
    not sure of)."""
    assert _outcome(VALIDATOR.parse, raw) == _outcome(VALIDATOR.parse_exact, raw)


GOLDEN = sorted(Path(__file__).parents[1].joinpath("golden").glob("*/events.jsonl"))


@pytest.mark.parametrize("log", GOLDEN, ids=lambda p: p.parent.name)
def test_golden_log_lines_parse_as_the_exact_path_does(log: Path) -> None:
    """Every line of the golden logs gives what the exact path gives: same Event or reason."""
    shipped = EventValidator()
    for raw in log.read_bytes().splitlines():
        if raw.strip():
            assert _outcome(shipped.parse, raw) == _outcome(shipped.parse_exact, raw), raw


def test_binary_mode_records_take_the_msgspec_path() -> None:
    """A binary-mode request's record (its Content-Type as `datacontenttype`) is decoded by
    msgspec, with the attribute kept as pydantic keeps an extension."""
    raw = _odd(METRIC, head='"datacontenttype":"application/json",')
    fast = VALIDATOR._fast.parse(raw)
    assert fast is not None
    assert fast.__pydantic_extra__ == {"datacontenttype": "application/json"}
    assert _outcome(lambda _raw: fast, raw) == _outcome(VALIDATOR.parse_exact, raw)


def test_events_sharing_a_fields_set_stay_apart() -> None:
    """Fast-path events share one fields-set per shape; a copy with an update does not change
    the set the next event gets."""
    raw = json.dumps(
        {
            "id": "e1",
            "source": "s",
            "type": "ops.metric",
            "time": "2026-11-20T10:00:00Z",
            "data": SAMPLES["ops.metric"],
        }
    ).encode()
    first = VALIDATOR.parse(raw)
    copied = first.model_copy(update={"subject": "x"})
    assert "subject" not in VALIDATOR.parse(raw).model_fields_set
    assert copied.subject == "x"
    assert first.subject is None
