"""The fast path of validation: msgspec decodes and checks a common event in one pass.

Each event type whose `data` model has a one-pass form (datadicts.DataShape) gets an envelope
`Struct` tagged with its type name, its `data` a `Struct` with the model's fields and
constraints; one decoder takes the union. Unknown keys are refused (envelope extensions other
than `datacontenttype`, and extra `data` keys, take the slower paths, which keep them), so a
decoded event holds only typed fields, and `to_builtins` gives `data` as pydantic would dump
it: the model's fields in declaration order, those not sent left out.

Whatever this path refuses, or is not sure to decide as pydantic would, it hands back (None)
for the exact path to decide and, when it refuses, to name the reason: the dead letters do not
change. Deliberately handed back:

- `time` not written as `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM)` (lower-case `t`/`z`, minutes
  without seconds, more than 6 digits of fraction, where the two parsers round differently);
- a field with a `pattern` whose check by pydantic fails (Python's `re` and pydantic's regex
  engine differ at the edges, so pydantic checks the value msgspec decoded);
- a `Literal` of anything but strings, a union other than `X | None`, a constraint msgspec has
  no exact twin for: the whole type takes the slower paths.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, Union

import annotated_types
import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from schemas import EARLIEST_TIME, LATEST_TIME, Event

_TIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})\Z"
)
_Time = Annotated[str, Meta(pattern=_TIME_PATTERN)]
CONTENT_TYPE = "datacontenttype"
"""The one extension attribute this path takes (as text): every binary-mode request that has
a Content-Type carries it (adapters/cloudevents.py); any other extension takes the slow path."""
_LEAVES = (str, int, float, bool)
_BOUNDS: dict[type, str] = {
    annotated_types.MinLen: "min_length",
    annotated_types.MaxLen: "max_length",
    annotated_types.Ge: "ge",
    annotated_types.Le: "le",
    annotated_types.Gt: "gt",
    annotated_types.Lt: "lt",
}
_set = object.__setattr__
_new = Event.__new__
to_builtins = msgspec.to_builtins
Check = Callable[[Any], object]
"""Validates one decoded value as pydantic would (raises ValidationError when it refuses)."""


class Unsupported(Exception):
    """A field this path cannot decode exactly as pydantic does: its type takes the slow path."""


def _plain(annotation: object) -> Any:
    """The msgspec type of a JSON-shaped annotation, or Unsupported."""
    if annotation in _LEAVES or annotation is Any:
        return annotation
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal and all(type(arg) is str for arg in args):
        return annotation
    if origin is dict and args[0] is str:
        return dict[str, _plain(args[1])]  # type: ignore[misc]  # built at run time
    if origin is list:
        return list[_plain(args[0])]  # type: ignore[misc]  # built at run time
    if _optional(annotation):
        return _plain(_without_none(annotation)) | None
    raise Unsupported(repr(annotation))


def _optional(annotation: object) -> bool:
    """True for `X | None` (one type besides None)."""
    args = typing.get_args(annotation)
    union = typing.get_origin(annotation) in (Union, types.UnionType)
    return union and len(args) == 2 and type(None) in args


def _without_none(annotation: object) -> object:
    (other,) = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return other


def _field(name: str, info: Any) -> tuple[object, Check | None]:
    """The msgspec type of one model field, and the pydantic check it still needs, if any."""
    bounds: dict[str, Any] = {}
    pattern: list[Any] = []
    for meta in info.metadata:
        kind = _BOUNDS.get(type(meta))
        if kind is not None:
            bounds[kind] = getattr(meta, kind)
        elif getattr(meta, "pattern", None) is not None:
            pattern.append(meta)
        else:
            raise Unsupported(f"{name}: {meta!r}")
    annotation: Any = info.annotation
    optional = _optional(annotation)
    base = _plain(_without_none(annotation) if optional else annotation)
    if base is int:
        bounds = {kind: _whole(bound) for kind, bound in bounds.items()}
    typed: Any = Annotated[base, Meta(**bounds)] if bounds else base
    if optional:
        typed = typed | None
    check = None
    if pattern:
        config = ConfigDict(strict=True)
        check = TypeAdapter(Annotated[(info.annotation, *pattern)], config=config).validate_python
    return typed, check


def _whole(bound: object) -> int:
    """A bound on an integer field as msgspec takes it: an int (2.0 is 2; 2.5 has no twin)."""
    if isinstance(bound, float) and bound.is_integer():
        return int(bound)
    if type(bound) is not int:
        raise Unsupported(f"bound {bound!r} on an integer")
    return bound


def _data_struct(name: str, model: type[BaseModel]) -> tuple[type[Struct], dict[str, Check]]:
    fields: list[Any] = []
    checks: dict[str, Check] = {}
    for field_name, info in model.model_fields.items():
        typed, check = _field(field_name, info)
        if check is not None:
            checks[field_name] = check
        if info.is_required():
            fields.append((field_name, typed))
        else:
            fields.append((field_name, typed | UnsetType, UNSET))
    data = msgspec.defstruct(f"Data_{name}", fields, forbid_unknown_fields=True, kw_only=True)
    return data, checks


def _envelope(name: str, data: type[Struct]) -> type[Struct]:
    """The envelope of type `name`: Event's fields as typed there, but `time` as text in one
    form (parsed after), `data` as `data` and `type` as the tag."""
    fields: list[Any] = []
    for field_name, info in Event.model_fields.items():
        typed = {"time": _Time, "data": data}.get(field_name) or _field(field_name, info)[0]
        if field_name == "type":
            continue
        if info.is_required():
            fields.append((field_name, typed))
        else:
            fields.append((field_name, typed | UnsetType, UNSET))
    fields.append((CONTENT_TYPE, str | UnsetType, UNSET))
    return msgspec.defstruct(
        f"Envelope_{name}",
        fields,
        tag_field="type",
        tag=name,
        forbid_unknown_fields=True,
        kw_only=True,
    )


class FastParser:
    """Decodes the events of the types it was built for; None for everything else."""

    def __init__(
        self,
        models: Mapping[str, type[BaseModel]],
        untyped: frozenset[str] = frozenset(),
        max_nesting: int = 0,
    ) -> None:
        self.untyped: set[type[Struct]] = set()
        """Envelopes of the types (named in `untyped`) whose `data` may nest deeper than
        their fields: their records are counted against `max_nesting` openers."""
        self.max_nesting = max_nesting
        self.types: dict[type[Struct], str] = {}
        self.checks: dict[type[Struct], dict[str, Check]] = {}
        for name, model in models.items():
            try:
                data, checks = _data_struct(name, model)
                envelope = _envelope(name, data)
                msgspec.json.Decoder(envelope)  # refuses a type msgspec cannot decode
            except (Unsupported, TypeError, ValueError):
                continue
            self.types[envelope] = name
            if name in untyped:
                self.untyped.add(envelope)
            if checks:
                self.checks[envelope] = checks
        union: Any = Union[tuple(self.types)] if self.types else None  # noqa: UP007
        self.decoder = msgspec.json.Decoder(union) if self.types else None

    def parse(self, raw: bytes) -> Event | None:
        """The Event the exact path makes of `raw`, or None (let the exact path decide)."""
        if self.decoder is None:
            return None
        try:
            found = self.decoder.decode(raw)
            kind = type(found)
            if kind in self.untyped and raw.count(b"{") + raw.count(b"[") > self.max_nesting:
                return None
            checks = self.checks.get(kind)
            if checks is not None:
                _check(found.data, checks)
            at = datetime.fromisoformat(found.time)
        except (msgspec.DecodeError, ValidationError, ValueError, RecursionError):
            return None
        if not EARLIEST_TIME <= at < LATEST_TIME:
            return None
        return _event(found, self.types[kind], at)


def _check(data: Struct, checks: dict[str, Check]) -> None:
    for name, check in checks.items():
        value = getattr(data, name)
        if value is not UNSET:
            check(value)


def _fields_sets() -> dict[tuple[bool, bool], set[str]]:
    """The fields-set of an event by whether it gave `specversion` and `subject`: one set each,
    shared (a frozen model's fields-set never changes; `model_copy` copies it)."""
    always = ("id", "source", "type", "time", "data")
    return {
        (version, subject): {
            *always,
            *(("specversion",) if version else ()),
            *(("subject",) if subject else ()),
        }
        for version in (False, True)
        for subject in (False, True)
    }


_FIELDS_SETS = _fields_sets()


def _event(found: Any, kind: str, at: datetime) -> Event:
    """The Event pydantic validates from these checked values: the same `__dict__` (in field
    order), fields-set and extras; built without validating a second time."""
    specversion, subject = found.specversion, found.subject
    fields_set = _FIELDS_SETS[specversion is not UNSET, subject is not UNSET]
    event = _new(Event)
    _set(
        event,
        "__dict__",
        {
            "id": found.id,
            "source": found.source,
            "type": kind,
            "time": at,
            "specversion": "1.0" if specversion is UNSET else specversion,
            "subject": None if subject is UNSET else subject,
            "data": to_builtins(found.data),
        },
    )
    content_type = found.datacontenttype
    if content_type is UNSET:
        _set(event, "__pydantic_extra__", {})
    else:  # an extension: in the extras and the fields-set, as pydantic keeps it
        _set(event, "__pydantic_extra__", {CONTENT_TYPE: content_type})
        fields_set = {*fields_set, CONTENT_TYPE}
    _set(event, "__pydantic_fields_set__", fields_set)
    _set(event, "__pydantic_private__", None)
    return event
