"""The one conversion between the engine's records and the contract models in schemas/.

`contract(record)` gives the contract model (Incident, Task, TimelineEntry, CommandResult) of
a record; `record_of(model)` the record of a contract model (a retired incident read back, an
old snapshot). Both go field by field, by name, with a plan made once per class from the two
classes' fields:
- a field the record has and the contract has not is left out, one the contract has and the
  record has not takes the contract's default (so a field added to the contract alone reads
  as its default);
- `at` and `*_at` fields are Millis in records and RFC 3339 text in contracts;
- tuples of records become lists of contract models, tuples of pairs dicts, other tuples
  lists; and back.

To add a field: add it to the contract model (schemas/) and, with the same name and a default,
to the record (records.py); the plans pick it up. Times must be named `at` or `*_at`.

`build(model, values)` makes a contract model from values the engine computed itself (every
field given, in declaration order): no validation and no per-field Python work, which
`model_construct` would cost (5x); tests/unit/test_contract.py holds it to pydantic's own.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from orchestrator.engine.clock import format_time, parse_time
from orchestrator.engine.records import (
    EntryRecord,
    EntryShape,
    IncidentRecord,
    Record,
    TaskProgress,
    TaskRecord,
    TaskSpec,
    VerdictRecord,
    entry_record,
    entry_ref,
    shared_pairs,
    task_record,
    with_task_refs,
)
from schemas import CommandResult, Incident, Task, TimelineEntry

M = TypeVar("M", bound=BaseModel)
Convert = Callable[[Any], Any]
Plan = tuple[tuple[str, Convert | None], ...]
_set = object.__setattr__
CONTRACTS: dict[type[Record], type[BaseModel]] = {
    IncidentRecord: Incident,
    TaskRecord: Task,
    EntryRecord: TimelineEntry,
    VerdictRecord: CommandResult,
}
RECORDS: dict[type[BaseModel], type[Record]] = {v: k for k, v in CONTRACTS.items()}
PARTS: dict[type[Record], tuple[type[Record], ...]] = {
    TaskRecord: (TaskSpec, TaskProgress),
    EntryRecord: (EntryShape,),
}
"""Records whose contract fields are partly those of records they hold (read through
properties of the same names)."""
MAKERS: dict[type[Record], Callable[..., Record]] = {
    TaskRecord: task_record,
    EntryRecord: entry_record,
    IncidentRecord: lambda **values: with_task_refs(IncidentRecord(**values)),
}
"""How a record is made from its contract's fields, where not by its own constructor."""
_ALL_SET: dict[type[BaseModel], set[str]] = {}
_FIELD_COUNT: dict[type[BaseModel], int] = {}


def build(model: type[M], values: dict[str, Any], fields_set: frozenset[str] | None = None) -> M:
    """`model` with `values` (trusted), as `model_construct(fields_set, **values)` would make
    it; `fields_set` (default: every field) says which count as set. Fields missing from
    `values` take their defaults (a field added to the contract alone)."""
    count = _FIELD_COUNT.get(model)
    if count is None:  # `model.model_fields` is a descriptor that costs microseconds a call
        count = _FIELD_COUNT[model] = len(model.model_fields)
    if len(values) != count:
        completed = _completed(model, values)
        if completed is None:  # a required field is missing: pydantic's own way
            return model.model_construct(set(fields_set) if fields_set else None, **values)
        values = completed
    made = model.__new__(model)
    _set(made, "__dict__", values)
    if fields_set is None:
        every = _ALL_SET.get(model)
        if every is None:
            every = _ALL_SET[model] = set(model.model_fields)
        _set(made, "__pydantic_fields_set__", every)  # never changed: set only grows, and is full
    else:
        _set(made, "__pydantic_fields_set__", set(fields_set))
    _set(made, "__pydantic_extra__", None)
    _set(made, "__pydantic_private__", None)
    return made


def _completed(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any] | None:
    """`values` with the defaults of the fields it lacks, in declaration order; None when a
    lacking field has no default."""
    completed: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in values:
            completed[name] = values[name]
        elif info.is_required():
            return None
        else:
            completed[name] = info.get_default(call_default_factory=True)
    return completed


def _time(value: int | None) -> str | None:
    return None if value is None else format_time(value)


def _millis(value: str | None) -> int | None:
    return None if value is None else parse_time(value)


def _kind(name: str, hint: Any) -> str:
    """How a record field of this name and type converts: time, records, pairs, tuple, plain."""
    if name == "at" or name.endswith("_at"):
        return "time"
    if typing.get_origin(hint) is not tuple:
        return "plain"
    item = typing.get_args(hint)[0]
    if isinstance(item, type) and issubclass(item, Record):
        return "records"
    return "pairs" if typing.get_origin(item) is tuple else "tuple"


def _contracts(items: tuple[Record, ...]) -> list[BaseModel]:
    return [contract(i) for i in items]


def _records(items: list[BaseModel]) -> tuple[Record, ...]:
    return tuple(record_of(i) for i in items)


def _pairs(mapping: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return shared_pairs(tuple(mapping.items()))


_TO_CONTRACT: dict[str, Convert] = {
    "time": _time,
    "records": _contracts,
    "pairs": dict,
    "tuple": list,
}
_TO_RECORD: dict[str, Convert] = {
    "time": _millis,
    "records": _records,
    "pairs": _pairs,
    "tuple": tuple,
}


def _to_contract(kind: str) -> Convert | None:
    return _TO_CONTRACT.get(kind)


def _to_record(kind: str) -> Convert | None:
    return _TO_RECORD.get(kind)


def _hints(cls: type[Record]) -> dict[str, Any]:
    """The record's fields (its own, its parts' and its derived ones) and their types."""
    hints = typing.get_type_hints(cls)
    for part in PARTS.get(cls, ()):
        hints.update(typing.get_type_hints(part))
    if cls is TaskRecord:
        hints["id"] = str
    return hints


_OUT: dict[type[Record], Plan] = {}
_OUT_VALUES: dict[type[Record], Callable[[Record], dict[str, Any]]] = {}
_IN: dict[type[BaseModel], Plan] = {}


def _plan_out(cls: type[Record]) -> Plan:
    hints, model = _hints(cls), CONTRACTS[cls]
    return tuple(
        (name, _to_contract(_kind(name, hints[name])))
        for name in model.model_fields
        if name in hints
    )


def _plan_in(model: type[BaseModel]) -> Plan:
    cls = RECORDS[model]
    hints, theirs = _hints(cls), set(model.model_fields)
    return tuple((name, _to_record(_kind(name, hints[name]))) for name in hints if name in theirs)


@overload
def contract(record: IncidentRecord) -> Incident: ...
@overload
def contract(record: TaskRecord) -> Task: ...
@overload
def contract(record: EntryRecord) -> TimelineEntry: ...
@overload
def contract(record: VerdictRecord) -> CommandResult: ...
@overload
def contract(record: Record) -> BaseModel: ...
def contract(record: Record) -> BaseModel:
    """The contract model of a record (schemas.Incident, Task, TimelineEntry, CommandResult)."""
    cls = type(record)
    return build(CONTRACTS[cls], _values(cls)(record))


def _values(cls: type[Record]) -> Callable[[Record], dict[str, Any]]:
    """The generated function giving a record's contract values (made on first use)."""
    values = _OUT_VALUES.get(cls)
    if values is None:
        values = _OUT_VALUES[cls] = _written(cls, _plan(cls))
    return values


def _timeline(incident: IncidentRecord) -> list[TimelineEntry]:
    """The incident's timeline as contract models, with the task ids its entries stand for."""
    entries = []
    for entry in incident.timeline:
        values = _values(EntryRecord)(entry)
        values["ref"] = entry_ref(incident.id, entry)
        entries.append(build(TimelineEntry, values))
    return entries


WHOLE: dict[tuple[type[Record], str], Convert] = {(IncidentRecord, "timeline"): _timeline}
"""Contract fields converted from the whole record, not from the field of that name."""


def _plan(cls: type[Record]) -> Plan:
    plan = _OUT.get(cls)
    if plan is None:
        plan = _OUT[cls] = _plan_out(cls)
    return plan


def planned_values(record: Record) -> dict[str, Any]:
    """A contract's values from a record, field by field along its plan (what the function
    `_written` makes of the plan computes; tests/unit/test_contract.py holds them together)."""
    cls = type(record)
    return {
        name: WHOLE[cls, name](record)
        if (cls, name) in WHOLE
        else getattr(record, name)
        if convert is None
        else convert(getattr(record, name))
        for name, convert in _plan(cls)
    }


def _written(cls: type[Record], plan: Plan) -> Callable[[Record], dict[str, Any]]:
    """One function giving a plan's values from a record: one dict display, times formatted
    inline (most are None), the other conversions called."""
    names: dict[str, Any] = {"_format_time": format_time}
    items = []
    for index, (name, convert) in enumerate(plan):
        if (cls, name) in WHOLE:
            names[f"_w{index}"] = WHOLE[cls, name]
            items.append(f"{name!r}: _w{index}(r)")
        elif convert is None:
            items.append(f"{name!r}: r.{name}")
        elif convert is _time:
            items.append(
                f"{name!r}: None if (v{index} := r.{name}) is None else _format_time(v{index})"
            )
        else:
            names[f"_c{index}"] = convert
            items.append(f"{name!r}: _c{index}(r.{name})")
    source = "def values(r):\n    return {" + ", ".join(items) + "}\n"
    exec(compile(source, "<contract>", "exec"), names)  # our own source: field names only
    values: Callable[[Record], dict[str, Any]] = names["values"]
    return values


@overload
def record_of(model: Incident) -> IncidentRecord: ...
@overload
def record_of(model: Task) -> TaskRecord: ...
@overload
def record_of(model: TimelineEntry) -> EntryRecord: ...
@overload
def record_of(model: CommandResult) -> VerdictRecord: ...
@overload
def record_of(model: BaseModel) -> Record: ...
def record_of(model: BaseModel) -> Record:
    """The record of a contract model (the inverse of `contract`)."""
    cls = type(model)
    plan = _IN.get(cls)
    if plan is None:
        plan = _IN[cls] = _plan_in(cls)
    values = {
        name: getattr(model, name) if convert is None else convert(getattr(model, name))
        for name, convert in plan
    }
    made = RECORDS[cls]
    return MAKERS.get(made, made)(**values)
