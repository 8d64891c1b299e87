"""`data` validated straight to a plain dict: one TypeAdapter per event type.

The exact path validates `data` into its pydantic model and dumps it back
(`model_validate(strict=True)` then `model_dump(mode="json", exclude_unset=True)`). For a model
made only of JSON-shaped fields (str, int, float, bool, None, Any, Literal, dict, list, unions)
with no validators, aliases or nested models, a TypedDict with the same fields, constraints and
`extra` policy validates to the same dict in one pass: same keys in the same order, same values.
Models outside that shape get no adapter, and their events take the exact path.

The one deliberate difference: the adapter refuses infinite floats. JSON parsed the exact way
never holds one (too-large numbers are rejected), but a fast parser turns 1e400 into infinity,
so a typed float field that holds one sends the event back to the exact path.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired, Union

from pydantic import BaseModel, ConfigDict, TypeAdapter, with_config
from typing_extensions import TypedDict

DataAdapter = TypeAdapter[dict[str, Any]]
_LEAVES: frozenset[object] = frozenset({str, int, float, bool, type(None), Any})
_UNTYPED: frozenset[object] = frozenset({Any, dict, list})
"""Annotations whose values may hold any JSON number (bare dict and list mean dict[Any, Any])."""
_CONTAINERS: frozenset[object] = frozenset({dict, list, Union, types.UnionType})
_EXTRA_POLICIES = frozenset({"allow", "forbid"})
_NEUTRAL_CONFIG = frozenset({"extra", "title"})
"""Model settings that change nothing about validated values."""


@dataclass(frozen=True, slots=True)
class DataShape:
    """The adapter for one event type's `data`, its field names, and whether any field (or
    an extra key) may hold an untyped value, where a number is not checked by a field type."""

    adapter: DataAdapter
    fields: frozenset[str]
    untyped: bool


def _json_shaped(annotation: object) -> bool:
    """True when values of this annotation validate to plain JSON data (nothing to dump)."""
    if annotation in _LEAVES:
        return True
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return all(type(arg) in (str, int, bool) for arg in args)
    if origin in _CONTAINERS:
        return all(_json_shaped(arg) for arg in args)
    return False


def _untyped(annotation: object) -> bool:
    """True when a value of this annotation may contain a number no field type checks."""
    if annotation in _UNTYPED:
        return True
    return any(_untyped(arg) for arg in typing.get_args(annotation))


def _plain_model(model: type[BaseModel]) -> bool:
    decorators = model.__pydantic_decorators__
    hooks = (
        decorators.validators,
        decorators.field_validators,
        decorators.root_validators,
        decorators.model_validators,
        decorators.field_serializers,
        decorators.model_serializers,
        decorators.computed_fields,
    )
    fields = model.model_fields.values()
    return (
        model.model_config.get("extra") in _EXTRA_POLICIES
        and set(model.model_config) <= _NEUTRAL_CONFIG
        and not model.__private_attributes__
        and not any(hooks)
        and not model.__pydantic_post_init__
        and all(f.alias is None and f.validation_alias is None for f in fields)
        and all(_json_shaped(f.annotation) for f in fields)
        and all(f.is_required() or f.default is None for f in fields)
    )


def data_shape(model: type[BaseModel]) -> DataShape | None:
    """The one-pass equivalent of validating and dumping `model`, or None if unsure."""
    if not _plain_model(model):
        return None
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation: Any = info.annotation
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        fields[name] = annotation if info.is_required() else NotRequired[annotation]
    make: Any = TypedDict  # built at run time: a type checker cannot follow it
    config = ConfigDict(extra=model.model_config.get("extra"), strict=True, allow_inf_nan=False)
    form: Any = with_config(config)(make(f"{model.__name__}Dict", fields))
    adapter: DataAdapter = TypeAdapter(form)
    untyped = any(_untyped(f.annotation) for f in model.model_fields.values())
    return DataShape(adapter, frozenset(fields), untyped)
