"""Reading fixture files: YAML in, a validated FixtureFile out, or a FixtureError per mistake."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from orchestrator.errors import FixtureError, Problem
from orchestrator.playbook.fixtures import Case, FixtureSpec
from orchestrator.playbook.problems import FIXTURE, validation_problems
from orchestrator.playbook.yamlsource import Document, read_source, read_yaml, source_files
from orchestrator.playbook.yamlsource import Path as DocPath

FIXTURE_SUFFIXES = frozenset({".yaml", ".yml"})
"""How the names of fixture files in a directory end."""
TIME_HINT = 'times are quoted RFC 3339 strings, e.g. "2026-11-20T10:00:00Z"'
"""What a problem about an unquoted time (a YAML timestamp) says instead."""


@dataclass(frozen=True, slots=True)
class FixtureFile:
    """A parsed fixture file, with the line of every field for error messages."""

    path: str
    spec: FixtureSpec
    document: Document

    @property
    def playbook(self) -> str:
        """The id of the playbook under test."""
        return self.spec.playbook

    @property
    def cases(self) -> list[Case]:
        """The cases, in file order."""
        return self.spec.cases

    def problem(self, path: DocPath, message: str) -> Problem:
        """A problem pointing at `path` in this file."""
        return self.document.problem(path, message)


def _hint(problem: Problem) -> Problem:
    if "timestamp" not in problem.message:
        return problem
    return Problem(problem.file, problem.line, problem.path, TIME_HINT)


def load_fixture_file(path: str | Path) -> FixtureFile:
    """Read and validate one fixture file; raises FixtureError listing every problem."""
    file = Path(path)
    try:
        text = read_source(file)
    except OSError as err:
        raise FixtureError([Problem(str(file), None, "", f"cannot read: {err.strerror}")]) from None
    doc, problems = read_yaml(text, str(file))
    if doc is None or problems:
        raise FixtureError([_hint(p) for p in problems])
    if not isinstance(doc.data, dict):
        raise FixtureError(
            [Problem(str(file), 1, "", "a fixture file is a mapping with `playbook` and `cases`")]
        )
    try:
        spec = FixtureSpec.model_validate(doc.data)
    except ValidationError as err:
        raise FixtureError(validation_problems(doc, err, FIXTURE)) from None
    fixture = FixtureFile(str(file), spec, doc)
    _refuse_duplicate_names(fixture)
    return fixture


def _refuse_duplicate_names(fixture: FixtureFile) -> None:
    problems = []
    names: set[str] = set()
    for i, case in enumerate(fixture.cases):
        if case.name in names:
            problems.append(fixture.problem(("cases", i, "name"), f"duplicate case {case.name!r}"))
        names.add(case.name)
    if problems:
        raise FixtureError(problems)


def fixture_files(directory: str | Path) -> list[Path]:
    """The fixture files directly in `directory`, sorted by name; FixtureError naming each
    entry that is not a regular file inside it (a link out of it, a FIFO, a directory)."""
    files, problems = source_files(Path(directory), FIXTURE_SUFFIXES)
    if problems:
        raise FixtureError(problems)
    return files
