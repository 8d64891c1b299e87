"""A broken playbook gets one clear error per mistake, with file:line and the field path.

Every case edits one line of a small valid playbook (BASE, line numbers in the comments) and
checks the exact line, the dotted field path and a fragment of the advice.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from orchestrator.engine.clock import HOUR_MS
from orchestrator.errors import PlaybookError, Problem
from orchestrator.playbook import LoadOptions, load_directory, load_playbook, load_playbook_text

FILE = "drill.yaml"
BASE_LINES = [
    "id: drill",  # 1
    "version: 1",  # 2
    "title: Drill playbook",  # 3
    "key: [data.service]",  # 4
    "triggers:",  # 5
    "  - id: critical_alert",  # 6
    "    on: ops.alert",  # 7
    '    when: data.status == "firing"',  # 8
    "  - id: error_rate",  # 9
    "    on: ops.metric",  # 10
    '    window: {kind: samples, value: data.value, op: ">", threshold: 0.05, at_least: 3, '
    "within: 5m}",  # 11
    "tasks:",  # 12
    "  - name: triage",  # 13
    "    role: ops",  # 14
    "    title: Triage",  # 15
    "    ack_within: 5m",  # 16
    "  - name: statement",  # 17
    "    role: pr",  # 18
    "    title: Holding statement",  # 19
    "    depends_on: [triage]",  # 20
]
BASE = "\n".join(BASE_LINES) + "\n"
SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"
QUICK = 5.0
"""Seconds a hostile document may take to be refused: generous, so the test is never flaky."""


def replace(line: int, *new: str) -> str:
    """BASE with line `line` (1-based) replaced by the given lines."""
    lines = BASE_LINES[: line - 1] + list(new) + BASE_LINES[line:]
    return "\n".join(lines) + "\n"


def insert(after: int, *new: str) -> str:
    """BASE with the given lines inserted after line `after`."""
    lines = BASE_LINES[:after] + list(new) + BASE_LINES[after:]
    return "\n".join(lines) + "\n"


def problems(text: str | bytes, options: LoadOptions | None = None) -> list[Problem]:
    """The problems a refused playbook text is reported with."""
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(text, FILE, options)
    return caught.value.problems


def only(text: str | bytes, options: LoadOptions | None = None) -> Problem:
    """The single problem of a playbook text with exactly one mistake."""
    found = problems(text, options)
    assert len(found) == 1, found
    return found[0]


def assert_problem(problem: Problem, line: int, path: str, *fragments: str) -> None:
    """The problem points at `line` and `path` and its message holds every fragment."""
    assert (problem.file, problem.line, problem.path) == (FILE, line, path)
    for fragment in fragments:
        assert fragment in problem.message


def test_the_base_playbook_is_valid() -> None:
    """The fixture every case breaks loads cleanly, so each case's error is its own."""
    playbook = load_playbook_text(BASE, FILE)
    assert playbook.id == "drill"
    assert [t.name for t in playbook.tasks] == ["triage", "statement"]


# ---- reading the YAML -----------------------------------------------------------------------


def test_yaml_syntax_error_points_at_its_line() -> None:
    """Broken YAML (an unclosed flow mapping) is one problem at the line the parser stopped."""
    text = replace(11, "    window: {kind: count, at_least: 3, within: 5m")
    assert_problem(only(text), 12, "", "YAML syntax error")


def test_yaml_bad_indentation_is_a_syntax_error() -> None:
    """A key indented into the middle of a mapping is a syntax error on that line."""
    text = replace(3, "title: Drill", "  version: 2")
    assert_problem(only(text), 4, "", "YAML syntax error", "mapping values are not allowed")


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing but a comment\n"])
def test_empty_file_is_refused(text: str) -> None:
    """An empty file is one problem at line 1 saying the file is empty."""
    assert_problem(only(text), 1, "", "empty")


@pytest.mark.parametrize("text", ["- id: drill\n- title: x\n", "just text\n", "42\n"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    """A list or a scalar at the top is refused with what a playbook looks like."""
    assert_problem(only(text), 1, "", "a playbook is a YAML mapping")


def test_duplicate_yaml_key_is_refused_at_the_second_one() -> None:
    """The same key twice in one mapping is an error at the repeat, not a silent overwrite."""
    text = insert(15, "    title: Triage again")
    assert_problem(only(text), 16, "tasks[0].title", "duplicate key 'title'")


# ---- the format (schema) --------------------------------------------------------------------


def test_misspelled_top_level_field() -> None:
    """`trigers` is an unknown field at its line, and `triggers` is reported missing."""
    found = problems(replace(5, "trigers:"))
    by_path = {p.path: p for p in found}
    assert set(by_path) == {"trigers", "triggers"}
    assert_problem(by_path["trigers"], 5, "trigers", "unknown field", "spelling")
    assert_problem(by_path["triggers"], 1, "triggers", "required field is missing")


def test_misspelled_task_field() -> None:
    """`ack_withn` in a task is an unknown field at its own line and path."""
    text = replace(16, "    ack_withn: 5m")
    assert_problem(only(text), 16, "tasks[0].ack_withn", "unknown field")


def test_wrong_type_in_a_window() -> None:
    """`at_least: "three"` is a type error on the window's at_least field."""
    text = replace(
        11,
        "    window:",
        "      kind: samples",
        "      value: data.value",
        '      op: ">"',
        "      threshold: 0.05",
        '      at_least: "three"',
        "      within: 5m",
    )
    assert_problem(only(text), 16, "triggers[1].window.at_least", "valid integer", "'three'")


def test_missing_field_inside_a_window() -> None:
    """A window without `within` names the missing field inside the window."""
    text = replace(11, "    window: {kind: count, at_least: 3}")
    assert_problem(only(text), 11, "triggers[1].window.within", "required field is missing")


@pytest.mark.parametrize(
    ("removed", "parent_line", "path"),
    [(3, 1, "title"), (19, 17, "tasks[1].title")],
)
def test_missing_required_field(removed: int, parent_line: int, path: str) -> None:
    """Leaving out a required field reports it missing on its parent's line."""
    text = "\n".join(BASE_LINES[: removed - 1] + BASE_LINES[removed:]) + "\n"
    assert_problem(only(text), parent_line, path, "required field is missing")


def test_missing_tasks_section() -> None:
    """A playbook without tasks reports `tasks` missing."""
    text = "\n".join(BASE_LINES[:11]) + "\n"
    assert_problem(only(text), 1, "tasks", "required field is missing")


@pytest.mark.parametrize(
    ("line", "new", "path"),
    [
        (16, "    ack_within: 15", "tasks[0].ack_within"),
        (16, "    ack_within: 15.5", "tasks[0].ack_within"),
        (16, '    ack_within: "15"', "tasks[0].ack_within"),
        (
            11,
            "    window: {kind: count, at_least: 3, within: 300}",
            "triggers[1].window.within",
        ),
    ],
)
def test_duration_without_a_unit(line: int, new: str, path: str) -> None:
    """A number of minutes without its unit is refused with the units to choose from."""
    assert_problem(only(replace(line, new)), line, path, "with a unit (s, m, h, d or w)", "15m")


def test_unknown_window_kind() -> None:
    """`kind: median` is refused, listing the window kinds there are."""
    text = replace(11, "    window: {kind: median, value: data.value, within: 5m}")
    assert_problem(only(text), 11, "triggers[1].window", "'median'", "'count'", "'baseline'")


def test_bad_severity_name() -> None:
    """A severity floor must be one of low, medium, high, critical."""
    text = BASE + "severity:\n  rules:\n    - on: ops.alert\n      at_least: severe\n"
    problem = only(text)
    assert_problem(problem, 24, "severity.rules[0].at_least", "'severe'", "'critical'")


# ---- meaning: expressions, names, references ------------------------------------------------


@pytest.mark.parametrize(
    ("when", "fragment"),
    [
        ("data.status ==", "ends too early"),
        ("data.status = 'firing'", "unexpected character '='"),
        ("median(data.value) > 1", "unknown function 'median'"),
        ("payload.status == 'firing'", "unknown name 'payload'"),
        ("data.__class__", "may not start with '__'"),
        ("__import__('os')", "unknown function '__import__'"),
    ],
)
def test_bad_expression(when: str, fragment: str) -> None:
    """A condition that does not compile is reported on its `when` line, with the reason."""
    text = replace(8, f"    when: {when}")
    assert_problem(only(text), 8, "triggers[0].when", "bad expression", fragment, "column")


def test_task_condition_may_only_read_the_incident() -> None:
    """A task's `when` reads incident fields; an event field there is an unknown name."""
    text = insert(19, "    when: data.severity == 'critical'")
    assert_problem(only(text), 20, "tasks[1].when", "unknown name 'data'", "incident")


def test_unknown_role() -> None:
    """A task for a role nobody declared is refused, listing the known roles."""
    text = replace(18, "    role: press")
    assert_problem(only(text), 18, "tasks[1].role", "unknown role 'press'", "ops, pr")


def test_unknown_escalation_target_in_a_ladder() -> None:
    """An escalation step to an unknown role points at that step's `to`."""
    text = insert(
        16, "    escalation:", "      - {after: 0m, to: ops}", "      - {after: 5m, to: boss}"
    )
    assert_problem(only(text), 19, "tasks[0].escalation[1].to", "unknown role 'boss'")


def test_unknown_escalation_target_of_a_role() -> None:
    """A declared role escalating to an unknown role is refused at its escalates_to."""
    text = BASE + "roles:\n  comms:\n    title: Comms\n    escalates_to: ceo\n"
    assert_problem(only(text), 24, "roles.comms.escalates_to", "unknown role 'ceo'")


def test_escalation_ladder_needs_an_ack_deadline() -> None:
    """A ladder on a task without ack_within cannot start: it is refused."""
    text = insert(20, "    escalation:", "      - {after: 5m, to: incident_commander}")
    assert_problem(only(text), 21, "tasks[1].escalation", "needs an ack_within deadline")


def test_dependency_cycle_is_reported_with_the_cycle() -> None:
    """a -> b -> a is one problem that spells out the cycle."""
    text = insert(16, "    depends_on: [statement]")
    assert_problem(
        only(text), 17, "tasks[0].depends_on", "dependency cycle: triage -> statement -> triage"
    )


def test_depends_on_unknown_task() -> None:
    """A dependency on a task that does not exist names it."""
    text = replace(20, "    depends_on: [triage, assess]")
    assert_problem(only(text), 20, "tasks[1].depends_on", "unknown task 'assess'")


def test_unknown_event_type_in_a_trigger() -> None:
    """A trigger on an event type outside the catalogue (and not declared) is refused."""
    text = replace(7, "    on: ops.alarm")
    assert_problem(only(text), 7, "triggers[0].on", "unknown event type 'ops.alarm'", "event_types")


def test_window_longer_than_the_configured_maximum() -> None:
    """With max_window=1h, a 2h window is refused naming the limit; deadlines are not windows."""
    text = replace(11, "    window: {kind: count, at_least: 3, within: 2h}")
    problem = only(text, LoadOptions(max_window=HOUR_MS))
    assert_problem(problem, 11, "triggers[1].window.within", "2h", "1h maximum")


def test_window_at_the_configured_maximum_is_accepted() -> None:
    """A window exactly as long as max_window loads."""
    text = replace(11, "    window: {kind: count, at_least: 3, within: 60m}")
    assert load_playbook_text(text, FILE, LoadOptions(max_window=HOUR_MS)).id == "drill"


def test_duplicate_task_name() -> None:
    """Two tasks with one name: the second is refused (and no phantom cycle is reported)."""
    text = replace(17, "  - name: triage")
    assert_problem(only(text), 17, "tasks[1]", "duplicate task name 'triage'")


def test_duplicate_trigger_id() -> None:
    """Two triggers with one id: the second id is refused."""
    text = replace(9, "  - id: critical_alert")
    assert_problem(only(text), 9, "triggers[1].id", "duplicate trigger id 'critical_alert'")


def test_unknown_likelihood_level() -> None:
    """A rule raising likelihood to a level the matrix does not have lists the levels."""
    text = BASE + "severity:\n  rules:\n    - on: ops.alert\n      likelihood: sometimes\n"
    problem = only(text)
    assert_problem(problem, 24, "severity.rules[0].likelihood", "unknown level 'sometimes'")


def test_matrix_of_the_wrong_shape() -> None:
    """A matrix whose cells do not match likelihood x impact says the expected shape."""
    text = BASE + (
        "severity:\n"
        "  matrix:\n"
        "    likelihood: [rare, likely]\n"
        "    impact: [minor, major, severe]\n"
        "    cells:\n"
        "      - [low, medium, high]\n"
        "      - [medium, high]\n"
    )
    assert_problem(only(text), 25, "severity.matrix.cells", "2 rows", "3 columns")


def test_severity_rule_that_changes_nothing() -> None:
    """A severity rule must raise likelihood, impact or the floor."""
    text = BASE + "severity:\n  rules:\n    - on: ops.alert\n"
    assert_problem(only(text), 23, "severity.rules[0]", "must set likelihood, impact or at_least")


# ---- several mistakes at once ---------------------------------------------------------------


def test_every_meaning_mistake_of_a_file_is_reported() -> None:
    """Four independent mistakes give four problems, each at its own line and path."""
    text = "\n".join(
        [
            *BASE_LINES[:6],
            "    on: ops.alarm",  # 7: unknown event type
            "    when: data.__class__",  # 8: dunder
            *BASE_LINES[8:17],
            "    role: press",  # 18: unknown role
            *BASE_LINES[18:19],
            "    depends_on: [nothing]",  # 20: unknown dependency
        ]
    )
    found = problems(text)
    assert [(p.line, p.path) for p in found] == [
        (7, "triggers[0].on"),
        (8, "triggers[0].when"),
        (18, "tasks[1].role"),
        (20, "tasks[1].depends_on"),
    ]


def test_every_format_mistake_of_a_file_is_reported() -> None:
    """Several schema mistakes in one file are all reported together."""
    text = "\n".join(
        [
            *BASE_LINES[:2],
            "titel: Drill",  # 3: unknown field (and title missing)
            *BASE_LINES[3:13],
            "    role: OPS",  # 14: not an identifier
            *BASE_LINES[14:15],
            "    ack_within: 15",  # 16: no unit
            *BASE_LINES[16:],
        ]
    )
    found = problems(text)
    assert {(p.line, p.path) for p in found} == {
        (1, "title"),
        (3, "titel"),
        (14, "tasks[0].role"),
        (16, "tasks[0].ack_within"),
    }


def test_error_message_lists_every_problem_on_its_own_line() -> None:
    """str(PlaybookError) has a count, then one `file:line: path: message` line per problem."""
    text = replace(18, "    role: press").replace("ops.metric", "ops.metrics")
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(text, FILE)
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("2 problems in playbooks")
    assert lines[1].strip().startswith(f"{FILE}:10: triggers[1].on: unknown event type")
    assert lines[2].strip().startswith(f"{FILE}:18: tasks[1].role: unknown role 'press'")
    assert len(lines) == 3


def test_load_playbook_names_the_file_in_each_problem(tmp_path: Path) -> None:
    """Loading from disk puts the file's path in front of the line number."""
    path = tmp_path / "drill.yaml"
    path.write_text(replace(7, "    on: ops.alarm"), encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_playbook(path)
    assert str(caught.value.problems[0]).startswith(f"{path}:7: triggers[0].on:")


def test_missing_file_is_a_playbook_error(tmp_path: Path) -> None:
    """A path that cannot be read is a PlaybookError naming it, not an OSError."""
    with pytest.raises(PlaybookError) as caught:
        load_playbook(tmp_path / "absent.yaml")
    assert "cannot read the file" in caught.value.problems[0].message


# ---- directories ----------------------------------------------------------------------------


def test_load_directory_gathers_the_problems_of_every_file(tmp_path: Path) -> None:
    """Two broken files in one directory: the problems of both are reported together."""
    (tmp_path / "a.yaml").write_text(replace(7, "    on: ops.alarm"), encoding="utf-8")
    (tmp_path / "b.yml").write_text(replace(18, "    role: press"), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a playbook: ignored", encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_directory(tmp_path)
    found = [(Path(p.file).name, p.line, p.path) for p in caught.value.problems]
    assert found == [("a.yaml", 7, "triggers[0].on"), ("b.yml", 18, "tasks[1].role")]


def test_load_directory_refuses_two_files_with_one_playbook_id(tmp_path: Path) -> None:
    """Two valid files declaring the same id are refused, naming both files."""
    (tmp_path / "one.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "two.yaml").write_text(BASE, encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_directory(tmp_path)
    (problem,) = caught.value.problems
    assert problem.path == "id"
    assert problem.file.endswith("two.yaml")
    assert "'drill'" in problem.message
    assert "one.yaml" in problem.message


def test_shipped_playbooks_load_cleanly() -> None:
    """The playbooks/ directory loads without a problem, one playbook per shipped crisis."""
    ids = [p.id for p in load_directory(SHIPPED)]
    assert ids == ["customer_service", "data_breach", "sales_drop", "supply_chain", "tech_outage"]


# ---- hostile YAML ---------------------------------------------------------------------------


def refused_quickly(text: str | bytes) -> Problem:
    """The single problem of a hostile document, which must be refused in under QUICK seconds."""
    started = time.perf_counter()
    found = problems(text)
    assert time.perf_counter() - started < QUICK
    assert len(found) == 1, found
    return found[0]


def billion_laughs(levels: int = 12, width: int = 12) -> str:
    """The alias bomb: each level holds `width` aliases of the one before (width**levels)."""
    lines = ['l0: &l0 "' + "lol" * 100 + '"']
    for level in range(1, levels):
        refs = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_before_expansion() -> None:
    """A billion-laughs document (12**11 strings if expanded) is refused at its first anchor."""
    problem = refused_quickly(billion_laughs())
    assert problem.line == 1
    assert "anchors (&name) are not allowed" in problem.message


def test_alias_without_anchor_is_refused() -> None:
    """An alias is refused even where the document has no anchor to point to."""
    problem = refused_quickly(replace(19, "    title: *title"))
    assert problem.line == 19
    assert "aliases (*name) are not allowed" in problem.message


def test_anchor_on_a_plain_value_is_refused() -> None:
    """Anchors are refused even when never used: playbooks are plain data."""
    problem = refused_quickly(replace(3, "title: &t Drill playbook"))
    assert problem.line == 3
    assert "anchors" in problem.message


def test_merge_key_is_refused() -> None:
    """`<<` merge keys are refused at their mapping."""
    problem = refused_quickly(insert(16, "    <<: {complete_within: 1h}"))
    assert (problem.line, problem.path) == (17, "tasks[0]")
    assert "merge keys" in problem.message


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system",
        "!!python/object/new:os.system",
        "!!python/name:os.system",
        "!custom",
    ],
)
def test_python_tags_are_refused_without_running_anything(tmp_path: Path, tag: str) -> None:
    """A `!!python/...` (or any custom) tag is an error at its line; nothing is executed."""
    marker = tmp_path / "executed"
    text = replace(19, f'    title: {tag} ["touch {marker}"]')
    problem = refused_quickly(text)
    assert (problem.line, problem.path) == (19, "tasks[1].title")
    assert "is not allowed; write plain YAML values" in problem.message
    assert not marker.exists()


def test_tagged_document_root_is_refused(tmp_path: Path) -> None:
    """A tag on the whole document is refused too, and nothing is executed."""
    marker = tmp_path / "executed"
    problem = refused_quickly(f'!!python/object/apply:os.system ["touch {marker}"]\n')
    assert problem.line == 1
    assert "python/object/apply:os.system" in problem.message
    assert not marker.exists()


def test_deeply_nested_document_is_refused() -> None:
    """A document nested 60 levels deep (block mappings) is refused, not recursed into."""
    lines = [f"{'  ' * depth}k{depth}:" for depth in range(60)] + ["  " * 60 + "leaf"]
    problem = refused_quickly("\n".join(lines) + "\n")
    assert "nested too deeply" in problem.message


def test_deeply_nested_flow_sequence_is_refused() -> None:
    """[[[[...]]]] 60 levels deep in one line is refused at that line."""
    problem = refused_quickly("id: drill\ndeep: " + "[" * 60 + "]" * 60 + "\n")
    assert problem.line == 2
    assert "nested too deeply" in problem.message


def test_oversized_file_is_refused_unread() -> None:
    """A file over the size limit is refused before parsing, saying the limit."""
    problem = refused_quickly("description: " + "x" * 1_100_000 + "\n")
    assert "the limit is" in problem.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (b"id: drill\ntitle: caf\xe9\n", 2),  # Latin-1, not UTF-8
        ("id: drill\ntitle: bell\x07\n", 2),  # a control character
        ("id: drill\nversion: 1\ntitle: \ud800\n", 3),  # a lone surrogate
        (BASE.encode() + b"description: \xff\n", 21),  # far into the file
    ],
)
def test_unreadable_text_is_a_problem_not_a_crash(text: str | bytes, line: int) -> None:
    """Bytes that are not UTF-8, or control characters, give a problem at their line."""
    problem = refused_quickly(text)
    assert problem.line == line
    assert "UTF-8" in problem.message
