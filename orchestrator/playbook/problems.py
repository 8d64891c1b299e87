"""The one translator of pydantic validation errors into Problems: file, line and field path.

Both formats this package reads (playbooks, schemas/playbook.py; fixtures, fixtures.py) are
validated by pydantic models. An error's location names model fields, list indexes and mapping
keys, but also the members of unions; the translator follows it through the YAML document as
far as the document goes, so the problem points at the line of the field, groups the errors
found at one field and lets the format's Wording say what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from orchestrator.errors import Problem
from orchestrator.playbook.fixtures import step_tag, task_tag
from orchestrator.playbook.typos import did_you_mean
from orchestrator.playbook.yamlsource import Document, Path, dotted
from schemas import playbook as spec

NAMED_FIELD_ERRORS = frozenset({"missing", "extra_forbidden"})
"""Error types whose location ends in the name of the field that is missing or unknown."""


@dataclass(frozen=True, slots=True)
class Wording:
    """How one file format words the validation errors pydantic finds in it."""

    describe: Callable[[Sequence[ErrorDetails]], str]
    """The message for the errors found at one field (with `per_message`, for one error)."""
    tags: Callable[[Any], Collection[object]]
    """The names pydantic may give the union member that a document node is validated as."""
    field_in_path: bool
    """Whether a missing field is named in the field path (else its message names it)."""
    per_message: bool
    """Whether each distinct message at a field is a problem of its own (else one a field)."""


def validation_problems(doc: Document, err: ValidationError, wording: Wording) -> list[Problem]:
    """The problems of `err` in `doc`, in the order pydantic found them."""
    groups: dict[tuple[str, str], tuple[Path, list[ErrorDetails]]] = {}
    for detail in err.errors():
        path = document_path(doc, detail, wording)
        apart = wording.describe([detail]) if wording.per_message else ""
        groups.setdefault((dotted(path), apart), (path, []))[1].append(detail)
    return [doc.problem(path, wording.describe(details)) for path, details in groups.values()]


def refused_paths(doc: Document, err: ValidationError, wording: Wording) -> set[Path]:
    """What `err` refuses in `doc`, as document paths: an unknown field or a malformed value;
    for a missing field, the part that lacks it (a window, a list item, an entry)."""
    found: set[Path] = set()
    for detail in err.errors():
        path = document_path(doc, detail, wording)
        missing = detail["type"] == "missing" and path and path[-1] == detail["loc"][-1]
        found.add(path[:-1] if missing else path)
    return found


def document_path(doc: Document, detail: ErrorDetails, wording: Wording) -> Path:
    """The path of the document along the error's location, passing over union member tags;
    it stops at the first part the document does not have."""
    path: Path = ()
    loc = detail["loc"]
    for part in loc:
        if (*path, part) in doc.lines:
            path = (*path, part)
        elif part in wording.tags(node_at(doc, path)):
            continue
        else:
            last = part == loc[-1] and detail["type"] in NAMED_FIELD_ERRORS
            return (*path, part) if last and wording.field_in_path else path
    return path


def node_at(doc: Document, path: Path) -> Any:
    """The value at `path` in the document (None where there is none)."""
    node = doc.data
    for step in path:
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return None
    return node


# -- the playbook format ------------------------------------------------------------------------

DURATION_FIELDS = frozenset(
    {"within", "over", "after", "quiet_for", "ack_within", "complete_within"}
)
"""Fields of the playbook format that hold a Duration (or a deadline that may be one)."""
DURATION_ADVICE = "expected a duration with a unit (s, m, h, d or w), e.g. 15m; got {!r}"
DURATION_PATTERN = "(s|m|h|d|w)"
"""How the pattern of a Duration ends, which tells a malformed duration from other strings."""


def _window_kind(node: Any) -> Collection[object]:
    """A window is a union tagged by its `kind`."""
    return (node.get("kind"),) if isinstance(node, dict) else ()


def _is_bare_number_duration(detail: ErrorDetails) -> bool:
    got = detail.get("input")
    number = isinstance(got, int | float) and not isinstance(got, bool)
    return number and any(part in DURATION_FIELDS for part in detail["loc"][-2:])


def _playbook_message(details: Sequence[ErrorDetails]) -> str:
    by_type = {d["type"]: d for d in details}
    if "extra_forbidden" in by_type:
        name = str(by_type["extra_forbidden"]["loc"][-1])
        guess = did_you_mean(name, format_fields())
        format_ = "the playbook format (docs/playbooks.md, schemas/json)"
        return f"unknown field{guess or ';'} check its spelling against {format_}"
    if "missing" in by_type:
        return "required field is missing"
    if "string_pattern_mismatch" in by_type:
        found = by_type["string_pattern_mismatch"]
        pattern = str((found.get("ctx") or {}).get("pattern", ""))
        if DURATION_PATTERN in pattern:
            return DURATION_ADVICE.format(found["input"])
        return f"{found['input']!r} does not have the expected form ({pattern})"
    if "string_type" in by_type and _is_bare_number_duration(by_type["string_type"]):
        return DURATION_ADVICE.format(by_type["string_type"]["input"])
    if "union_tag_invalid" in by_type:
        return str(by_type["union_tag_invalid"]["msg"])
    return _with_input(str(details[0]["msg"]), details[0])


@cache
def format_fields() -> tuple[str, ...]:
    """Every field name of the playbook format, for a "did you mean" on an unknown one."""
    schema = spec.PlaybookSpec.model_json_schema()
    names = set(schema["properties"])
    for definition in schema.get("$defs", {}).values():
        names |= set(definition.get("properties", {}))
    return tuple(sorted(names))


PLAYBOOK = Wording(_playbook_message, _window_kind, field_in_path=True, per_message=False)
"""Playbooks: one problem a field; a missing field is named in the path."""


# -- the fixture format -------------------------------------------------------------------------


def _fixture_tags(node: Any) -> Collection[object]:
    """A fixture's steps and task expectations are unions told apart by a function."""
    return (step_tag(node), task_tag(node))


def plain_message(unknown: str) -> Callable[[Sequence[ErrorDetails]], str]:
    """The wording of a format that names a missing field, says `unknown` of an unknown one and
    gives pydantic's message with the value for anything else."""

    def describe(details: Sequence[ErrorDetails]) -> str:
        detail = details[0]
        if detail["type"] == "missing":
            return f"required field {detail['loc'][-1]!r} is missing"
        if detail["type"] == "extra_forbidden":
            return unknown
        return _with_input(str(detail["msg"]).removeprefix("Value error, "), detail)

    return describe


_fixture_message = plain_message(
    "unknown field; check its spelling against orchestrator/playbook/fixtures.py"
)
FIXTURE = Wording(_fixture_message, _fixture_tags, field_in_path=False, per_message=True)
"""Fixture files: one problem a distinct message; a missing field is named in the message."""


def _with_input(message: str, detail: ErrorDetails) -> str:
    """`message; got <input>`, unless the input is a whole mapping or list."""
    got = detail.get("input")
    return message if isinstance(got, dict | list) else f"{message}; got {got!r}"
