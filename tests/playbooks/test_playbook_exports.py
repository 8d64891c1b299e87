"""The playbook package's public face is pinned; one error translator serves both formats."""

from __future__ import annotations

import ast
from pathlib import Path

import orchestrator.errors
import orchestrator.playbook

PACKAGE = Path(orchestrator.playbook.__file__).parent


def test_playbook_exports() -> None:
    """orchestrator.playbook exports exactly the loader's, the fixture runner's and the rosters
    reader's names."""
    assert sorted(orchestrator.playbook.__all__) == [
        "CaseResult",
        "DEFAULT_ROLES",
        "FixtureError",
        "FixtureFile",
        "LoadOptions",
        "RostersFile",
        "fixture_files",
        "load_directory",
        "load_fixture_file",
        "load_playbook",
        "load_playbook_text",
        "load_rosters",
        "load_rosters_text",
        "run_case",
        "run_directory",
        "run_fixture_file",
    ]
    for name in orchestrator.playbook.__all__:
        assert getattr(orchestrator.playbook, name) is not None


def test_fixture_error_is_part_of_the_exception_tree() -> None:
    """FixtureError lives in orchestrator.errors under the root OrchestratorError."""
    assert orchestrator.playbook.FixtureError is orchestrator.errors.FixtureError
    assert issubclass(orchestrator.errors.FixtureError, orchestrator.errors.OrchestratorError)


def test_only_problems_py_translates_pydantic_errors() -> None:
    """Every module but problems.py leaves a ValidationError's details to validation_problems."""
    readers = []
    for module in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "errors"
        ]
        if calls:
            readers.append(module.name)
    assert readers == ["problems.py"]
