"""Reading playbook files: YAML in, a compiled Playbook out, or one clear error per mistake;
and playbook fixtures: test cases in YAML, run through the real engine.

The public face: other packages import these names from here. FixtureError lives in
orchestrator.errors with the rest of the exception tree and is re-exported for the runner's
callers.
"""

from orchestrator.errors import FixtureError
from orchestrator.playbook.checker import LoadOptions
from orchestrator.playbook.compiler import DEFAULT_ROLES
from orchestrator.playbook.fixtureload import FixtureFile, fixture_files, load_fixture_file
from orchestrator.playbook.fixturerun import CaseResult, run_case, run_directory, run_fixture_file
from orchestrator.playbook.loader import load_directory, load_playbook, load_playbook_text
from orchestrator.playbook.rosters import RostersFile, load_rosters, load_rosters_text

__all__ = [
    "DEFAULT_ROLES",
    "CaseResult",
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
