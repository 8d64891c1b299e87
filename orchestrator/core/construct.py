"""Trusted pydantic models built and copied without per-field Python work.

The engine makes an output model (timeline entry, incident event, task event) for most events,
from values it computed itself. `model_construct` loops over every field in Python for aliases
and defaults; for a model with neither extras nor private attributes, given a value for every
field, the result is just its `__dict__` and the set of its field names. `Constructor` builds
exactly that (and defers to `model_construct` when a field is missing); `shallow_copy` is
`model_copy()` for such models. tests/unit/test_construct.py holds both to pydantic's own.

Instances built with every field set share one fields-set: a timeline entry's own set of five
names took 728 bytes, more than the rest of the entry, and incidents hold hundreds of entries.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__


def _plain(cls: type[BaseModel]) -> bool:
    return (
        cls.model_config.get("extra") != "allow"
        and not cls.__private_attributes__
        and not cls.__pydantic_root_model__
        and not cls.__pydantic_post_init__
        and all(f.alias is None and f.validation_alias is None for f in cls.model_fields.values())
    )


class Constructor(Generic[M]):
    """Builds `cls` from a dict holding every field, in declaration order."""

    def __init__(self, cls: type[M]) -> None:
        if not _plain(cls):
            raise TypeError(f"{cls.__name__} has extras, aliases or private attributes")
        self.cls = cls
        self.fields = len(cls.model_fields)
        self.all_set = set(cls.model_fields)
        """The fields-set of every instance built with all fields set, shared: pydantic only
        ever adds to a fields-set, and adding a name already in it changes nothing."""

    def __call__(self, values: dict[str, Any], fields_set: frozenset[str] | None = None) -> M:
        """cls.model_construct(fields_set, **values), without the per-field loop when every
        field is given; `fields_set` (default: all of them) says which count as set."""
        if len(values) != self.fields:
            chosen = set(fields_set) if fields_set is not None else None
            return self.cls.model_construct(chosen, **values)
        model = self.cls.__new__(self.cls)
        _set(model, "__dict__", values)
        _set(
            model,
            "__pydantic_fields_set__",
            self.all_set if fields_set is None else set(fields_set),
        )
        _set(model, "__pydantic_extra__", None)
        _set(model, "__pydantic_private__", None)
        return model


def shallow_copy(model: M) -> M:
    """model.model_copy() for a model without extras or private attributes."""
    if model.__pydantic_extra__ is not None or model.__pydantic_private__ is not None:
        return model.model_copy()
    cls = type(model)
    copied = cls.__new__(cls)
    _set(copied, "__dict__", model.__dict__.copy())
    _set(copied, "__pydantic_extra__", None)
    _set(copied, "__pydantic_fields_set__", model.__pydantic_fields_set__.copy())
    _set(copied, "__pydantic_private__", None)
    return copied
