"""The fixture runner: wrong expectations fail with clear messages, bad files are refused."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.engine.playbook import Playbook
from orchestrator.errors import Problem
from orchestrator.playbook import (
    CaseResult,
    FixtureError,
    load_directory,
    load_fixture_file,
    run_directory,
    run_fixture_file,
)

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
CRITICAL = (
    '{type: ops.alert, time: "2026-11-20T10:00:00Z", '
    "data: {alertname: Down, service: checkout, status: firing, severity: critical}}"
)


@pytest.fixture(scope="module")
def shipped() -> list[Playbook]:
    """The shipped playbooks."""
    return load_directory(PLAYBOOKS)


def write(folder: Path, text: str, name: str = "tech_outage.yaml") -> Path:
    """Write a fixture file (dedented) and return its path."""
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def line_of(path: Path, fragment: str) -> int:
    """The 1-based line of the first line of `path` containing `fragment`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if fragment in line)


def one_case(folder: Path, events: str, expect: str, until: str = "") -> Path:
    """A tech_outage fixture with one case named `probe`."""
    until_line = f'\n    until: "{until}"' if until else ""
    text = (
        "playbook: tech_outage\n"
        "cases:\n"
        "  - name: probe\n"
        "    events:\n"
        + textwrap.indent(textwrap.dedent(events).strip("\n"), "      ")
        + until_line
        + "\n    expect:\n"
        + textwrap.indent(textwrap.dedent(expect).strip("\n"), "      ")
        + "\n"
    )
    return write(folder, text)


def only(results: list[CaseResult]) -> CaseResult:
    """The single result of a one-case file."""
    assert len(results) == 1
    return results[0]


def refused(action: Callable[[], object]) -> list[Problem]:
    """The problems `action` (loading or running a fixture file) is refused with."""
    with pytest.raises(FixtureError) as caught:
        action()
    assert caught.value.problems, "a FixtureError carries at least one problem"
    return caught.value.problems


def refused_at_load(path: Path) -> list[Problem]:
    """The problems loading the fixture file at `path` is refused with."""
    return refused(lambda: load_fixture_file(path))


# -- mismatches ----------------------------------------------------------------------------------


def test_a_correct_expectation_passes(tmp_path: Path, shipped: list[Playbook]) -> None:
    """The control: the same case with the true severity passes with no mismatch."""
    path = one_case(tmp_path, f"- {CRITICAL}", "incidents: [{key: checkout, severity: high}]")
    result = only(run_fixture_file(shipped, path))
    assert (result.passed, result.mismatches, result.name) == (True, (), "probe")


def test_a_wrong_severity_fails_naming_actual_and_expected(
    tmp_path: Path, shipped: list[Playbook]
) -> None:
    """A deliberately wrong severity fails, and the message says what was found instead."""
    path = one_case(tmp_path, f"- {CRITICAL}", "incidents: [{key: checkout, severity: critical}]")
    result = only(run_fixture_file(shipped, path))
    assert not result.passed
    assert result.mismatches == ("incident 1 (checkout): severity is 'high', expected 'critical'",)
    assert result.describe().startswith(f"FAIL {path}: probe\n  - incident 1 (checkout)")


def test_a_wrong_incident_count_lists_what_opened(tmp_path: Path, shipped: list[Playbook]) -> None:
    """Expecting no incident when one opens fails and lists the incident that did open."""
    path = one_case(tmp_path, f"- {CRITICAL}", "incidents: []")
    result = only(run_fixture_file(shipped, path))
    assert result.mismatches == ("expected 0 incident(s), got 1: checkout high open",)


def test_task_expectations_are_compared_field_by_field(
    tmp_path: Path, shipped: list[Playbook]
) -> None:
    """Wrong task status, role and deadline each give a message; an attached 'absent' task too."""
    expect = """
        incidents:
          - key: checkout
            tasks:
              triage: {status: acknowledged, role: pr, due_at: "2026-11-20T10:05:00+00:00"}
              status_page: absent
              post_incident_review: {status: assigned}
    """
    result = only(run_fixture_file(shipped, one_case(tmp_path, f"- {CRITICAL}", expect)))
    assert result.mismatches == (
        "incident 1 (checkout): task triage: role is 'ops', expected 'pr'",
        "incident 1 (checkout): task triage: status is 'assigned', expected 'acknowledged'",
        "incident 1 (checkout): task status_page is attached (pending), expected absent",
        "incident 1 (checkout): task post_incident_review is absent "
        "(attached: triage, mitigate, status_page, verify_recovery)",
    )


def test_counts_and_task_events_are_checked(tmp_path: Path, shipped: list[Playbook]) -> None:
    """Wrong escalation and dead-letter counts and a missing task event are each reported."""
    events = f"""
        - {CRITICAL}
        - {{type: ops.alert, time: "2026-11-20T10:01:00Z", data: {{service: checkout}}}}
    """
    expect = """
        incidents: [{key: checkout}]
        escalations: 1
        dead_letters: 0
        task_events:
          - {kind: escalated, task: triage, role: incident_commander}
    """
    result = only(run_fixture_file(shipped, one_case(tmp_path, events, expect)))
    assert result.mismatches == (
        "dead_letters: got 1, expected 0",
        "escalations: got 0, expected 1",
        "no task.escalated event for task triage to incident_commander (its events: assigned->ops)",
    )


def test_until_advances_the_clock_so_timers_fire(tmp_path: Path, shipped: list[Playbook]) -> None:
    """With `until` past the ack deadline the ladder fires: the escalation expectations hold."""
    expect = """
        incidents: [{key: checkout, tasks: {triage: {escalations: 1}}}]
        escalations: 1
        task_events: [{kind: task.escalated, task: triage, role: incident_commander}]
    """
    path = one_case(tmp_path, f"- {CRITICAL}", expect, until="2026-11-20T10:06:00Z")
    assert only(run_fixture_file(shipped, path)).passed


def test_a_rejected_command_fails_the_case_unless_it_is_expected(
    tmp_path: Path, shipped: list[Playbook]
) -> None:
    """Acking a pending task is rejected: a mismatch by default, fine with commands_rejected: 1."""
    events = f"""
        - {CRITICAL}
        - {{command: ack, time: "2026-11-20T10:01:00Z", key: checkout, task: mitigate}}
    """
    plain = only(run_fixture_file(shipped, one_case(tmp_path, events, "incidents: [{}]")))
    assert len(plain.mismatches) == 1
    assert plain.mismatches[0].startswith("command probe-2 was rejected: task ")
    assert "is pending: it waits on triage" in plain.mismatches[0]
    expected = one_case(tmp_path, events, "incidents: [{}]\ncommands_rejected: 1")
    assert only(run_fixture_file(shipped, expected)).passed


def test_default_event_ids_are_the_case_slug_and_position(
    tmp_path: Path, shipped: list[Playbook]
) -> None:
    """A third sample given the default id of the second (`probe-2`) is a duplicate."""
    sample = (
        '{{type: ops.metric, time: "2026-11-20T10:0{minute}:00Z"{extra}, '
        "data: {{service: api, metric: error_rate, value: 0.5}}}}"
    )
    events = "\n".join(
        f"- {sample.format(minute=m, extra=x)}" for m, x in ((0, ""), (1, ""), (2, ", id: probe-2"))
    )
    duplicate = one_case(tmp_path, events, "incidents: []")
    assert only(run_fixture_file(shipped, duplicate)).passed
    distinct = one_case(tmp_path, events.replace("probe-2", "probe-9"), "incidents: []")
    assert only(run_fixture_file(shipped, distinct)).mismatches == (
        "expected 0 incident(s), got 1: api critical open",
    )


def test_only_incidents_of_the_fixture_playbook_are_compared(
    tmp_path: Path, shipped: list[Playbook]
) -> None:
    """A breach opened by the same run is not an incident of the tech_outage fixture."""
    events = """
        - {type: security.alert, time: "2026-11-20T10:00:00Z",
           data: {kind: exfiltration, asset: checkout, records_exposed: 0, pii: false}}
    """
    path = one_case(tmp_path, events, "incidents: []")
    assert only(run_fixture_file(shipped, path)).passed
    breach = path.read_text(encoding="utf-8").replace("tech_outage", "data_breach")
    breach_path = write(tmp_path, breach, "data_breach.yaml")
    assert only(run_fixture_file(shipped, breach_path)).mismatches == (
        "expected 0 incident(s), got 1: checkout high open",
    )


# -- refused files --------------------------------------------------------------------------------


def test_an_unknown_field_is_refused_with_file_and_line(tmp_path: Path) -> None:
    """A misspelt expectation field points at its own line."""
    path = one_case(tmp_path, f"- {CRITICAL}", "incidents:\n  - key: checkout\n    sevrity: high")
    (problem,) = refused_at_load(path)
    assert (problem.file, problem.line) == (str(path), line_of(path, "sevrity"))
    assert problem.path == "cases[0].expect.incidents[0].sevrity"
    assert "unknown field" in problem.message


def test_the_error_message_carries_file_colon_line(tmp_path: Path) -> None:
    """str(FixtureError) shows `file:line:` so an editor can jump to the mistake."""
    path = one_case(tmp_path, f"- {CRITICAL}", "incidents: []\nescalation: 3")
    with pytest.raises(FixtureError) as caught:
        load_fixture_file(path)
    assert f"{path}:{line_of(path, 'escalation:')}: cases[0].expect.escalation:" in str(
        caught.value
    )


def test_a_missing_event_time_points_at_the_event(tmp_path: Path) -> None:
    """An event without `time` is refused at the event's line, naming the missing field."""
    events = "- type: ops.alert\n  data: {service: checkout}"
    path = one_case(tmp_path, events, "incidents: []")
    (problem,) = refused_at_load(path)
    assert problem.line == line_of(path, "type: ops.alert")
    assert problem.message == "required field 'time' is missing"


def test_an_unquoted_time_is_refused_with_a_hint(tmp_path: Path) -> None:
    """YAML reads an unquoted timestamp as a date: the problem says to quote it."""
    events = "- {type: ops.alert, time: 2026-11-20T10:00:00Z, data: {service: checkout}}"
    path = one_case(tmp_path, events, "incidents: []")
    (problem,) = refused_at_load(path)
    assert problem.line == line_of(path, "2026-11-20T10:00:00Z")
    assert "quoted RFC 3339" in problem.message


def test_a_time_without_offset_is_refused(tmp_path: Path) -> None:
    """Event time needs an offset, like the event envelope's."""
    events = '- {type: ops.alert, time: "2026-11-20T10:00:00", data: {service: checkout}}'
    path = one_case(tmp_path, events, "incidents: []")
    (problem,) = refused_at_load(path)
    assert problem.path == "cases[0].events[0].time"
    assert "no UTC offset" in problem.message


def test_a_task_command_without_a_task_is_refused(tmp_path: Path) -> None:
    """`ack` needs the task's name; the problem points at the command."""
    events = f'- {CRITICAL}\n- {{command: ack, time: "2026-11-20T10:01:00Z", key: checkout}}'
    path = one_case(tmp_path, events, "incidents: []")
    (problem,) = refused_at_load(path)
    assert problem.line == line_of(path, "command: ack")
    assert "needs `task`" in problem.message


def test_a_yaml_syntax_error_is_refused_with_its_line(tmp_path: Path) -> None:
    """Broken YAML is reported at the line the parser stopped."""
    path = write(tmp_path, "playbook: tech_outage\ncases:\n  - name: a: b\n    events: []\n")
    (problem,) = refused_at_load(path)
    assert problem.line == 3
    assert "YAML syntax error" in problem.message


def test_duplicate_case_names_are_refused(tmp_path: Path) -> None:
    """Two cases with one name would make ambiguous test ids."""
    text = f"""
        playbook: tech_outage
        cases:
          - {{name: twice, events: [{CRITICAL}], expect: {{incidents: []}}}}
          - {{name: twice, events: [{CRITICAL}], expect: {{incidents: []}}}}
    """
    path = write(tmp_path, text)
    (problem,) = refused_at_load(path)
    assert (problem.line, problem.message) == (4, "duplicate case 'twice'")


def test_an_unknown_playbook_is_refused_when_run(tmp_path: Path, shipped: list[Playbook]) -> None:
    """A fixture for a playbook that is not loaded fails at its `playbook:` line."""
    path = write(
        tmp_path,
        f"playbook: tech_outgae\ncases:\n  - {{name: a, events: [{CRITICAL}], "
        "expect: {incidents: []}}\n",
    )
    (problem,) = refused(lambda: run_fixture_file(shipped, path))
    assert (problem.line, problem.path) == (1, "playbook")
    assert "no playbook 'tech_outgae' is loaded" in problem.message


def test_an_unknown_task_name_is_refused_rather_than_passing_as_absent(
    tmp_path: Path, shipped: list[Playbook]
) -> None:
    """A typo in a task name would make `absent` pass vacuously, so it is refused with its line."""
    path = one_case(tmp_path, f"- {CRITICAL}", "incidents: [{tasks: {traige: absent}}]")
    (problem,) = refused(lambda: run_fixture_file(shipped, path))
    assert problem.line == line_of(path, "traige")
    assert problem.message.startswith("tech_outage has no task 'traige' (its tasks: ")


# -- directories ----------------------------------------------------------------------------------


def test_run_directory_defaults_to_the_tests_folder(tmp_path: Path) -> None:
    """`<dir>/tests` holds the fixtures when no fixture directory is given."""
    shutil.copy(PLAYBOOKS / "tech_outage.yaml", tmp_path)
    (tmp_path / "tests").mkdir()
    one_case(tmp_path / "tests", f"- {CRITICAL}", "incidents: [{severity: high}]")
    results = run_directory(tmp_path)
    assert [(r.name, r.passed) for r in results] == [("probe", True)]


def test_run_directory_gathers_the_problems_of_every_file(tmp_path: Path) -> None:
    """Each unusable fixture file contributes its problems to one FixtureError."""
    bad_key = write(tmp_path, "playbook: tech_outage\ncases: []\nextra: 1\n", "a.yaml")
    bad_case = write(tmp_path, "playbook: tech_outage\ncases: [{name: x}]\n", "b.yaml")
    with pytest.raises(FixtureError) as caught:
        run_directory(PLAYBOOKS, tmp_path)
    files = {problem.file for problem in caught.value.problems}
    assert files == {str(bad_key), str(bad_case)}
