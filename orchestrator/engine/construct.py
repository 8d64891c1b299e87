"""Trusted pydantic models built and copied without per-field Python work, and kept small.

The engine makes an output model (timeline entry, incident event, task event) for most events,
from values it computed itself. `model_construct` loops over every field in Python for aliases
and defaults; for a model with neither extras nor private attributes, given a value for every
field, the result is just its `__dict__` and the set of its field names. `Constructor` builds
exactly that (and defers to `model_construct` when a field is missing); `shallow_copy` is
`model_copy()` for such models. tests/unit/test_construct.py holds both to pydantic's own.

Models the state keeps (incidents, their tasks and timeline entries) are built compact:

- Instances with every field set share one fields-set per class: a set of 5 to 24 names takes
  728 bytes, more than a timeline entry's values. Pydantic only ever adds names to a fields-set
  (on assignment) and copies it on `model_copy`, so a set that already holds every name never
  changes. A restored state counts every field as set too (snapshots dump every field).
- Their fields are set one by one, in declaration order, as a plain `__init__` would, so
  CPython keeps the values inline with the keys shared by the class (PEP 412) instead of a
  `__dict__` of its own: a 24-field `Task` takes about 310 bytes instead of 830 + 728.
- Equal timeline details (`{"task": "triage", "role": "ops"}`, `{"type": "ops.alert"}`) are one
  dict (`SharedDicts`): nothing changes a timeline entry's detail once it is written.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__
_COMPLETE: dict[type[BaseModel], set[str]] = {}
_PLAIN: dict[type[BaseModel], bool] = {}
SHARED_DICTS_MAX = 4096
"""Distinct dicts a `SharedDicts` remembers before it starts over."""
_SCALARS = (str, int, bool, type(None))


def complete_fields(cls: type[BaseModel]) -> set[str]:
    """The fields-set shared by every instance of `cls` that has all its fields set."""
    found = _COMPLETE.get(cls)
    if found is None:
        found = _COMPLETE[cls] = set(cls.model_fields)
    return found


def _plain(cls: type[BaseModel]) -> bool:
    found = _PLAIN.get(cls)
    if found is None:
        found = _PLAIN[cls] = _no_extras(cls)
    return found


def _no_extras(cls: type[BaseModel]) -> bool:
    return (
        cls.model_config.get("extra") != "allow"
        and not cls.__private_attributes__
        and not cls.__pydantic_root_model__
        and not cls.__pydantic_post_init__
        and all(f.alias is None and f.validation_alias is None for f in cls.model_fields.values())
    )


def _finish(model: M, fields_set: set[str]) -> M:
    _set(model, "__pydantic_fields_set__", fields_set)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


class Constructor(Generic[M]):
    """Builds `cls` from a dict holding every field, in declaration order; `compact` for models
    the state keeps (values inline, keys shared), plain for short-lived outputs (faster)."""

    def __init__(self, cls: type[M], compact: bool = False) -> None:
        if not _plain(cls):
            raise TypeError(f"{cls.__name__} has extras, aliases or private attributes")
        self.cls = cls
        self.compact = compact
        self.fields = len(cls.model_fields)
        self.all_set = complete_fields(cls)

    def __call__(self, values: dict[str, Any], fields_set: frozenset[str] | None = None) -> M:
        """cls.model_construct(fields_set, **values), without the per-field loop when every
        field is given; `fields_set` (default: all of them) says which count as set."""
        if len(values) != self.fields:
            chosen = set(fields_set) if fields_set is not None else None
            return self.cls.model_construct(chosen, **values)
        model = self.cls.__new__(self.cls)
        if self.compact:
            for name, value in values.items():
                _set(model, name, value)
        else:
            _set(model, "__dict__", values)
        return _finish(model, self.all_set if fields_set is None else set(fields_set))


def compact(model: M) -> M:
    """The same model (type, values, every field counted as set) built compact; `model` as it
    is when its class has extras, aliases or private attributes, or a field is missing."""
    cls = type(model)
    values = model.__dict__
    if not _plain(cls) or values.keys() != cls.model_fields.keys():
        return model
    rebuilt = cls.__new__(cls)
    for name in cls.model_fields:
        _set(rebuilt, name, values[name])
    return _finish(rebuilt, complete_fields(cls))


def shallow_copy(model: M) -> M:
    """model.model_copy() for a model without extras or private attributes."""
    if model.__pydantic_extra__ is not None or model.__pydantic_private__ is not None:
        return model.model_copy()
    cls = type(model)
    copied = cls.__new__(cls)
    _set(copied, "__dict__", model.__dict__.copy())
    fields_set = model.__pydantic_fields_set__
    return _finish(copied, fields_set if fields_set is _COMPLETE.get(cls) else fields_set.copy())


class SharedDicts:
    """Hands out one dict for equal dicts of scalars (str, int, bool, None, enum members), so
    the many equal dicts that are never changed take the memory of one. Equal means same keys,
    values of the same type and equal value (1, True and 1.0 stay apart); any other dict is
    handed back as it is. It remembers up to SHARED_DICTS_MAX and then starts over."""

    def __init__(self, limit: int = SHARED_DICTS_MAX) -> None:
        self.limit = limit
        self.known: dict[tuple[Any, ...], dict[str, Any]] = {}

    def __call__(self, values: dict[str, Any]) -> dict[str, Any]:
        """`values`, or an equal dict handed out before."""
        key = _scalar_key(values)
        if key is None:
            return values
        found = self.known.get(key)
        if found is not None:
            return found
        if len(self.known) >= self.limit:
            self.known.clear()
        self.known[key] = values
        return values


def _scalar_key(values: dict[str, Any]) -> tuple[Any, ...] | None:
    key: list[Any] = []
    for name, value in values.items():
        kind = type(value)
        if kind not in _SCALARS and not isinstance(value, Enum):
            return None
        key += (name, kind, value)
    return tuple(key)
