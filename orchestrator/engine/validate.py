"""Validation: raw bytes -> a typed Event, or the reason to reject them (for the dead letters)."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any, Literal, NoReturn

from pydantic import BaseModel, Field, ValidationError, create_model
from pydantic_core import from_json

from orchestrator.engine.datadicts import DataShape, data_shape
from orchestrator.engine.fastparse import FastParser
from orchestrator.errors import EventRejected
from schemas import (
    CATALOGUE,
    COMMAND_EVENT_TYPE,
    CommandData,
    DeadLetter,
    Event,
    EventData,
    EventTypeSpec,
    FieldTypeSpec,
    Origin,
)

DEFAULT_MAX_EVENT_BYTES = 1_048_576
"""Events larger than this are rejected (contracts section 1)."""
MAX_REASON_INPUT = 80
MAX_NESTING = 64
"""Deepest JSON nesting an event may have; much deeper values cannot even be serialized again."""
LONG_DIGITS = 100
_DIGITS = b"0123456789"
_LONG_NUMBER = re.compile(rb"\d{%d}" % LONG_DIGITS)
"""Digits the stdlib may refuse to turn into an int (or a finite float) while a fast parser
would not: such a line takes the exact path."""
_BIG_EXPONENT = re.compile(rb"\d[eE][+-]?\d{3}")
"""An exponent of 100 or more: the fast parser turns 1e400 into infinity instead of refusing
it. Typed float fields refuse infinity themselves; this guards the untyped places."""
_ENVELOPE_FIELDS = frozenset(Event.model_fields)

_FIELD_TYPES: dict[str, Any] = {
    "string": str,
    "number": float,
    "integer": int,
    "boolean": bool,
    "object": dict[str, Any],
    "array": list[Any],
}


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is too large")
    return value


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


_STRICT_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
"""`json.loads(text, parse_constant=..., parse_float=...)` makes one of these per call (most
of the cost of a short refused line); one made once decodes the same."""


def _strict_json(text: str) -> Any:
    """`json.loads(text)` refusing NaN, infinities and floats too large to be finite."""
    if text.startswith("\ufeff"):  # as json.loads words it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _STRICT_DECODER.decode(text)


def _declared_model(name: str, spec: EventTypeSpec) -> type[EventData]:
    fields: dict[str, Any] = {}
    for field_name, f in spec.fields.items():
        fields[field_name] = _declared_field(f)
    model: type[EventData] = create_model(
        "Data_" + name.replace(".", "_"), __base__=EventData, **fields
    )
    return model


def _declared_field(f: FieldTypeSpec) -> tuple[Any, Any]:
    base: Any = _FIELD_TYPES[f.type]
    if f.enum is not None:
        base = Literal[tuple(f.enum)]
    constraints: dict[str, Any] = {}
    if f.min is not None:
        constraints["ge"] = f.min
    if f.max is not None:
        constraints["le"] = f.max
    if f.required:
        return base, Field(**constraints)
    return base | None, Field(default=None, **constraints)


def _describe(err: ValidationError, prefix: str) -> str:
    parts = []
    for detail in err.errors()[:3]:
        loc = ".".join(str(p) for p in (prefix, *detail["loc"]) if p != "")
        got = detail.get("input")
        shown = repr(got)[:MAX_REASON_INPUT] if not isinstance(got, Mapping) else "an object"
        parts.append(
            f"{loc}: {detail['msg']} (got {shown})"
            if detail["type"] != "missing"
            else f"{loc}: required field is missing"
        )
    more = len(err.errors()) - 3
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _long_number(raw: bytes) -> bool:
    """True when `raw` has a run of LONG_DIGITS digits (counting first: most lines are short)."""
    return len(raw) - len(raw.translate(None, _DIGITS)) >= LONG_DIGITS and bool(
        _LONG_NUMBER.search(raw)
    )


def _may_overflow(raw: bytes, obj: dict[str, Any], data: dict[str, Any], shape: DataShape) -> bool:
    """True when an untyped value (an extra key, an object or array field) could hold a
    number the fast parser made infinite."""
    typed = obj.keys() <= _ENVELOPE_FIELDS and data.keys() <= shape.fields and not shape.untyped
    return not typed and bool(_BIG_EXPONENT.search(raw))


def _nesting_exceeds(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """True when the objects and arrays of `value` nest deeper than `limit` levels."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class EventValidator:
    """Turns raw records into Events: JSON, the envelope, then `data` against its type."""

    def __init__(
        self,
        declared: Mapping[str, EventTypeSpec] | None = None,
        max_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        self.max_bytes = max_bytes
        self.models: dict[str, type[BaseModel]] = {**CATALOGUE, COMMAND_EVENT_TYPE: CommandData}
        for name, spec in (declared or {}).items():
            if name not in self.models:
                self.models[name] = _declared_model(name, spec)
        self._shapes: dict[str, DataShape] = {}
        for name, model in self.models.items():
            shape = data_shape(model)
            if shape is not None:
                self._shapes[name] = shape
        self._fast = FastParser(
            {name: self.models[name] for name in self._shapes},
            frozenset(name for name, shape in self._shapes.items() if shape.untyped),
            MAX_NESTING,
        )

    def parse(self, raw: bytes) -> Event:
        """The Event in `raw`, or EventRejected with a reason a sender can act on: msgspec
        decodes the common case (fastparse); what it hands back takes `_parse_fast`, and what
        that hands back `parse_exact`, which names the reason to reject."""
        fits = len(raw) <= self.max_bytes and not _long_number(raw)
        event = self._fast.parse(raw) if fits else None
        if event is None:
            event = self._parse_fast(raw)
        return event if event is not None else self.parse_exact(raw)

    def _plain(self, raw: bytes) -> bool:
        """False when `raw` is over the size limit, may nest too deep or holds a number too
        long for the stdlib: the cases the exact path words its own way."""
        return (
            len(raw) <= self.max_bytes
            and raw.count(b"{") + raw.count(b"[") <= MAX_NESTING
            and not _long_number(raw)
        )

    def _parse_fast(self, raw: bytes) -> Event | None:
        """One pass for the common case: the same Event `parse_exact` gives, or None to say
        "take the exact path" (which also finds the reason to reject)."""
        if not self._plain(raw):
            return None
        try:
            obj = from_json(raw, allow_inf_nan=False)
        except ValueError:
            return None
        if type(obj) is not dict:
            return None
        kind, data = obj.get("type"), obj.get("data")
        shape = self._shapes.get(kind) if type(kind) is str else None
        if shape is None or type(data) is not dict or _may_overflow(raw, obj, data, shape):
            return None
        try:
            return Event.model_validate({**obj, "data": shape.adapter.validate_python(data)})
        except ValidationError:
            return None

    def parse_exact(self, raw: bytes) -> Event:
        """`parse` the reference way (stdlib JSON, the envelope, then `data` and its dump)."""
        if len(raw) > self.max_bytes:
            raise EventRejected(f"event is {len(raw)} bytes; the limit is {self.max_bytes}")
        try:
            text = raw.decode("utf-8")  # JSON on the wire is UTF-8; no guessing at UTF-16/32
            obj = _strict_json(text)
        except UnicodeDecodeError as err:
            raise EventRejected(f"not UTF-8 text: {err.reason} at byte {err.start}") from None
        except json.JSONDecodeError as err:
            raise EventRejected(
                f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
            ) from None
        except (ValueError, RecursionError) as err:
            raise EventRejected(
                f"not valid JSON: {str(err)[:MAX_REASON_INPUT] or 'nested too deeply'}"
            ) from None
        openers = raw.count(b"{") + raw.count(b"[")
        return self.validate(obj, check_nesting=openers > MAX_NESTING)

    def validate(self, obj: Any, check_nesting: bool = True) -> Event:
        """The Event for an already-decoded JSON value (nesting is checked unless ruled out)."""
        if not isinstance(obj, dict):
            raise EventRejected(f"an event is a JSON object, not {type(obj).__name__}")
        if check_nesting and _nesting_exceeds(obj, MAX_NESTING):
            raise EventRejected(f"objects and arrays nest more than {MAX_NESTING} levels deep")
        try:
            event = Event.model_validate(obj)
        except ValidationError as err:
            raise EventRejected(_describe(err, "")) from None
        model = self.models.get(event.type)
        if model is None:
            raise EventRejected(
                f"unknown event type {event.type!r}; use a catalogue type or "
                "declare it in a playbook's event_types"
            )
        try:
            data = model.model_validate(event.data, strict=True)
        except ValidationError as err:
            raise EventRejected(_describe(err, "data")) from None
        typed = data.model_dump(mode="json", exclude_unset=True)
        return event.model_copy(update={"data": typed})


def dead_letter(raw: bytes, reason: str, origin: Origin, event: Event | None = None) -> DeadLetter:
    """A dead-letter record for `raw`; its id is derived from the bytes and the origin."""
    where = origin.model_dump_json(exclude={"sender"} if origin.sender is None else None)
    digest = hashlib.sha256(raw + where.encode()).hexdigest()[:16]
    event_id, source = (event.id, event.source) if event else _identity(raw, origin.headers)
    return DeadLetter(
        id=f"dl-{digest}",
        reason=reason,
        raw=raw.decode("utf-8", errors="backslashreplace"),
        raw_b64=base64.b64encode(raw).decode("ascii"),
        origin=origin,
        event_id=event_id,
        source=source,
    )


def _identity(raw: bytes, headers: dict[str, str] | None) -> tuple[str | None, str | None]:
    """The `id` and `source` of a refused record that still parsed as a JSON object, so a
    sender can tell which event it was; None for each it lacks, or when it did not parse. A
    binary-mode event is known by its `ce-id` and `ce-source` headers (as sent, so still
    percent-encoded where they needed it): its body may not be JSON."""
    if headers is not None:
        return _text(headers.get("ce-id")), _text(headers.get("ce-source"))
    if len(raw) > DEFAULT_MAX_EVENT_BYTES:
        return None, None
    try:
        obj = _strict_json(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None, None
    if not isinstance(obj, dict):
        return None, None
    return _text(obj.get("id")), _text(obj.get("source"))


def _text(value: object) -> str | None:
    """`value` if it is non-empty text that UTF-8 can carry (no lone surrogate), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value
