"""Every problem of a playbook file in one run: what the format refuses, and what the compiler
finds in the rest.

pydantic refuses a document as a whole, so the compiler's checks (roles, event types, conditions,
deadlines) would only run once the format's mistakes were fixed, and a user would meet the
mistakes in rounds. Instead the parts the format refuses are cut out of a copy of the document
(an unknown or malformed field; a list item or mapping entry that cannot stand without it), the
rest is validated again, and the compiler runs on what remains, its problems pointing at the
lines of the original file. Problems that only follow from a cut (a dependency on a task that
was cut) are left out: each names something that is already reported.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from orchestrator.errors import Problem
from orchestrator.playbook.problems import PLAYBOOK, node_at, refused_paths, validation_problems
from orchestrator.playbook.yamlsource import Document, Path, dotted
from schemas import playbook as spec

MAX_ROUNDS = 20
"""How often the format is checked again after a cut before the rest is given up on."""
NAME_FIELDS = ("name", "id")
"""Fields that name a list item, which other parts of a playbook refer to."""


@dataclass
class Cut(Document):
    """A copy of a document with refused parts cut out: `data` and `lines` are the copy's, and
    every problem is reported at the original's path and line."""

    original: Document = field(default_factory=lambda: Document("", None))
    kept: dict[Path, list[int]] = field(default_factory=dict)
    """Original path of a list -> the original indexes of the items still in it."""
    cut: set[Path] = field(default_factory=set)
    """Original paths of what was cut."""
    names: set[str] = field(default_factory=set)
    """Names of cut items and entries (task names, trigger ids, role and event type names)."""

    def problem(self, path: Path, message: str) -> Problem:
        return self.original.problem(self.to_original(path), message)

    def to_original(self, path: Path) -> Path:
        """The original document's path for a path of the copy."""
        found: Path = ()
        for part in path:
            kept = self.kept.get(found)
            found = (*found, kept[part] if kept is not None and isinstance(part, int) else part)
        return found

    def remove(self, path: Path) -> None:
        """Cut the node at `path` (of the copy) out of the copy."""
        parent = node_at(self, path[:-1])
        self.cut.add(self.to_original(path))
        self.names.update(_names(node_at(self, path), path[-1]))
        if isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, list) and isinstance(path[-1], int):
            original = self.to_original(path[:-1])
            kept = self.kept.setdefault(original, list(range(len(parent))))
            del parent[path[-1]], kept[path[-1]]
        self.lines = _lines(self)

    def follows_from_a_cut(self, problem: Problem) -> bool:
        """True for a problem that names something cut, lies inside a cut part, or is about a
        part that held one (a check of the part as a whole, e.g. "a rule must set likelihood,
        impact or at_least" once a bad at_least is cut)."""
        cut = [dotted(p) for p in self.cut if p]
        inside = any(_within(problem.path, part) for part in cut)
        holds = any(_within(part, problem.path) for part in cut)
        return inside or holds or any(repr(name) in problem.message for name in self.names)


def _within(path: str, part: str) -> bool:
    return path == part or path.startswith((f"{part}.", f"{part}["))


def validate_all(
    doc: Document, compile_: Callable[[Document, spec.PlaybookSpec], list[Problem]]
) -> list[Problem]:
    """Every problem of `doc`: the format's, and `compile_`'s on what the format accepts.

    Only called when the format refused `doc`; `compile_` returns the compiler's problems."""
    cut = Cut(doc.file, copy.deepcopy(doc.data), dict(doc.lines), original=doc)
    problems: list[Problem] = []
    for _round in range(MAX_ROUNDS):
        try:
            raw = spec.PlaybookSpec.model_validate(cut.data)
        except ValidationError as err:
            found = validation_problems(cut, err, PLAYBOOK)
            problems += [p for p in found if not cut.follows_from_a_cut(p)]
            if not _cut_refused(cut, refused_paths(cut, err, PLAYBOOK)):
                break
            continue
        problems += [p for p in compile_(cut, raw) if not cut.follows_from_a_cut(p)]
        break
    return list(dict.fromkeys(problems))


def _cut_refused(cut: Cut, targets: set[Path]) -> bool:
    """Cut what the errors refuse; False when nothing could be cut (only the root is)."""
    cuttable = [path for path in targets if path and _has(cut, path)]
    # the deepest first, later list items before earlier ones: each cut leaves the others' paths
    order = sorted(cuttable, key=lambda p: (len(p), p[-1] if isinstance(p[-1], int) else -1))
    for path in reversed(order):
        if _has(cut, path):
            cut.remove(path)
    return bool(cuttable)


def _has(cut: Cut, path: Path) -> bool:
    """True when the copy has a node at `path` (the root does not count)."""
    if not path:
        return False
    parent = node_at(cut, path[:-1])
    if isinstance(parent, dict):
        return path[-1] in parent
    return isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent)


def _names(node: Any, last: str | int) -> set[str]:
    """What a cut part was called, when others may refer to it: the key of an entry that is a
    mapping (a role, an event type), the name or id of a list item."""
    if not isinstance(node, dict):
        return set()
    names = {last} if isinstance(last, str) else set()
    names.update(str(node[f]) for f in NAME_FIELDS if isinstance(node.get(f), str))
    return names


def _lines(cut: Cut) -> dict[Path, int]:
    """The line of every path of the copy, from the original's lines."""
    lines: dict[Path, int] = {}
    stack: list[tuple[Path, Any]] = [((), cut.data)]
    while stack:
        path, node = stack.pop()
        line = cut.original.lines.get(cut.to_original(path))
        if line is not None:
            lines[path] = line
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in enumerate(node))
    return lines
