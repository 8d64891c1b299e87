"""Every case of every shipped playbook fixture (playbooks/tests/*.yaml) runs as its own test."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.engine.playbook import Playbook
from orchestrator.playbook import (
    FixtureFile,
    fixture_files,
    load_directory,
    load_fixture_file,
    run_case,
)

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
FIXTURES = PLAYBOOKS / "tests"


def _fixtures() -> list[FixtureFile]:
    return [load_fixture_file(path) for path in fixture_files(FIXTURES)]


def _cases() -> list[object]:
    return [
        pytest.param(fixture, index, id=f"{fixture.playbook}: {case.name}")
        for fixture in _fixtures()
        for index, case in enumerate(fixture.cases)
    ]


@pytest.fixture(scope="module")
def shipped() -> list[Playbook]:
    """The five shipped playbooks, loaded once for all cases."""
    return load_directory(PLAYBOOKS)


@pytest.mark.parametrize(("fixture", "index"), _cases())
def test_fixture_case(shipped: list[Playbook], fixture: FixtureFile, index: int) -> None:
    """The case's expectations hold when its events run through the shipped playbooks."""
    result = run_case(shipped, fixture, index)
    assert result.passed, result.describe()


def test_every_shipped_playbook_has_exactly_one_fixture_file_named_after_it(
    shipped: list[Playbook],
) -> None:
    """playbooks/tests/<id>.yaml exists for each shipped playbook and tests that playbook."""
    named = {Path(fixture.path).stem: fixture.playbook for fixture in _fixtures()}
    assert named == {playbook.id: playbook.id for playbook in shipped}
