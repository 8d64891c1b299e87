"""Running fixture cases: each on a fresh drill over every playbook of the directory."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.engine import Playbook
from orchestrator.errors import FixtureError, Problem
from orchestrator.playbook.fixturecompare import compare
from orchestrator.playbook.fixtureload import FIXTURE_SUFFIXES, FixtureFile, load_fixture_file
from orchestrator.playbook.fixtures import Case, CommandStep, EventStep
from orchestrator.playbook.loader import load_directory
from orchestrator.playbook.yamlsource import Path as DocPath
from orchestrator.playbook.yamlsource import source_files
from orchestrator.testing import Drill, command, event

DEFAULT_SOURCE = "fixture"
"""The `source` of fixture events that name none."""
DEFAULT_ACTOR = "responder"
"""The `actor` of fixture commands that name none."""
DEFAULT_FIXTURE_FOLDER = "tests"
"""Where run_directory looks for fixtures when given none: `<playbook_dir>/tests`."""


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of one case: passed, or the mismatches that made it fail."""

    file: str
    name: str
    passed: bool
    mismatches: tuple[str, ...] = ()

    @property
    def messages(self) -> tuple[str, ...]:
        """The mismatches (an alias for report writers)."""
        return self.mismatches

    def describe(self) -> str:
        """`PASS name`, or `FAIL name` followed by one indented line per mismatch."""
        head = f"{'PASS' if self.passed else 'FAIL'} {self.file}: {self.name}"
        return "\n".join([head, *(f"  - {m}" for m in self.mismatches)])


def _playbook_of(fixture: FixtureFile, playbooks: Sequence[Playbook]) -> Playbook:
    for playbook in playbooks:
        if playbook.id == fixture.playbook:
            return playbook
    known = ", ".join(sorted(p.id for p in playbooks)) or "none"
    raise FixtureError(
        [
            fixture.problem(
                ("playbook",), f"no playbook {fixture.playbook!r} is loaded (loaded: {known})"
            )
        ]
    )


def _task_names(playbook: Playbook) -> set[str]:
    names = {t.name for t in playbook.tasks}
    return names | ({playbook.review.name} if playbook.review is not None else set())


def _case_problems(fixture: FixtureFile, playbook: Playbook, index: int) -> list[Problem]:
    """Task names the playbook does not define (a typo would otherwise pass as `absent`)."""
    names = _task_names(playbook)
    case = fixture.cases[index]
    problems = []

    def check(name: str | None, path: DocPath) -> None:
        if name is not None and name not in names:
            problems.append(
                fixture.problem(
                    path,
                    f"{playbook.id} has no task {name!r} (its tasks: {', '.join(sorted(names))})",
                )
            )

    for i, step in enumerate(case.events):
        if isinstance(step, CommandStep):
            check(step.task, ("cases", index, "events", i, "task"))
    for i, incident in enumerate(case.expect.incidents):
        for name in incident.tasks:
            check(name, ("cases", index, "expect", "incidents", i, "tasks", name))
    for i, expected in enumerate(case.expect.task_events):
        check(expected.task, ("cases", index, "expect", "task_events", i, "task"))
    return problems


def slug(name: str) -> str:
    """A case name as an id prefix: lower case, runs of other characters as one '-'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "case"


def _record(playbook: str, step: EventStep | CommandStep, default_id: str) -> dict[str, Any]:
    if isinstance(step, EventStep):
        record = event(
            step.type, step.time, source=step.source or DEFAULT_SOURCE, id=step.id or default_id
        )
        record["data"] = dict(step.data)
        return record
    fields = {"task": step.task, "note": step.note}
    given = {k: v for k, v in fields.items() if v is not None}
    return command(
        step.command,
        step.time,
        actor=step.actor or DEFAULT_ACTOR,
        id=step.id or default_id,
        playbook=playbook,
        key=step.key,
        **given,
    )


def _records(playbook: str, case: Case) -> list[dict[str, Any]]:
    prefix = slug(case.name)
    return [_record(playbook, step, f"{prefix}-{n}") for n, step in enumerate(case.events, 1)]


def run_case(playbooks: Sequence[Playbook], fixture: FixtureFile, index: int) -> CaseResult:
    """Run case number `index` of `fixture` on a fresh drill over all `playbooks`."""
    playbook = _playbook_of(fixture, playbooks)
    problems = _case_problems(fixture, playbook, index)
    if problems:
        raise FixtureError(problems)
    case = fixture.cases[index]
    drill = Drill.of(playbooks).feed(*_records(playbook.id, case))
    if case.until is not None:
        drill.until(case.until)
    mismatches = compare(drill, playbook.id, case.expect)
    return CaseResult(fixture.path, case.name, not mismatches, tuple(mismatches))


def run_fixture_file(playbooks: Sequence[Playbook], path: str | Path) -> list[CaseResult]:
    """Run every case of the fixture file at `path`; FixtureError if the file is unusable."""
    fixture = load_fixture_file(path)
    playbook = _playbook_of(fixture, playbooks)
    problems = [p for i in range(len(fixture.cases)) for p in _case_problems(fixture, playbook, i)]
    if problems:
        raise FixtureError(problems)
    return [run_case(playbooks, fixture, i) for i in range(len(fixture.cases))]


def run_directory(
    playbook_dir: str | Path, fixture_dir: str | Path | None = None
) -> list[CaseResult]:
    """Load the playbooks of `playbook_dir` and run every fixture file of `fixture_dir`.

    `fixture_dir` defaults to `<playbook_dir>/tests`. Problems of all fixture files are
    gathered into one FixtureError; a playbook that does not load raises PlaybookError.
    """
    playbooks = load_directory(playbook_dir)
    folder = (
        Path(fixture_dir)
        if fixture_dir is not None
        else Path(playbook_dir) / DEFAULT_FIXTURE_FOLDER
    )
    results: list[CaseResult] = []
    files, problems = source_files(folder, FIXTURE_SUFFIXES)
    for file in files:
        try:
            results.extend(run_fixture_file(playbooks, file))
        except FixtureError as err:
            problems.extend(err.problems)
    if problems:
        raise FixtureError(problems)
    return results
