"""Playbooks that would break intake, loading or the file system are refused with file:line.

Durations are bounded (a deadline of 4,000,000 days validated, then every matching event failed
on a date past year 9999), hostile nesting and long dependency chains are refused or loaded
without recursion, and a playbook directory only yields regular files inside it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.engine.clock import (
    DAY_MS,
    parse_duration,
    parse_duration_at_most,
    parse_time,
)
from orchestrator.errors import PlaybookError, Problem
from orchestrator.playbook import (
    FixtureError,
    fixture_files,
    load_directory,
    load_fixture_file,
    load_playbook,
    load_playbook_text,
    run_directory,
)
from orchestrator.testing import Drill, event

FILE = "limits.yaml"
LIMITS = """\
id: limits
version: 1
title: Limits playbook
key: [data.service]
triggers:
  - id: alert
    on: ops.alert
    window: {{kind: count, at_least: 1, within: {window}}}
  - id: surge
    on: ops.metric
    window: {{kind: baseline, value: data.value, over: {over}, ratio: {{op: ">=", threshold: 2}}}}
tasks:
  - name: triage
    role: ops
    title: Triage
    ack_within: {ack}
    complete_within: {{within: {complete}, since: opened}}
    escalation:
      - {{after: {after}, to: incident_commander, repeat: {repeat}}}
      - {{after: {after2}, to: legal, repeat: {repeat2}}}
resolution:
  quiet_for: {quiet}
review:
  name: review
  role: incident_commander
  title: Review
  ack_within: {{within: {review_ack}}}
  escalation:
    - {{after: {review_after}, to: incident_commander, repeat: {review_repeat}}}
"""
AT_THE_LIMITS = {
    "window": "31d",
    "over": "31d",
    "ack": "366d",
    "complete": "366d",
    "after": "366d",
    "after2": "366d",
    "repeat": "50",
    "repeat2": "50",
    "quiet": "366d",
    "review_ack": "366d",
    "review_after": "366d",
    "review_repeat": "100",
}
"""Every duration at its maximum and every ladder at MAX_ESCALATIONS."""
DURATIONS = [
    # (field, line, path, maximum)
    ("window", 8, "triggers[0].window.within", "31d maximum window"),
    ("over", 11, "triggers[1].window.over", "31d maximum window"),
    ("ack", 16, "tasks[0].ack_within", "366d maximum for a deadline"),
    ("complete", 17, "tasks[0].complete_within.within", "366d maximum for a deadline"),
    ("after", 19, "tasks[0].escalation[0].after", "366d maximum for a deadline"),
    ("after2", 20, "tasks[0].escalation[1].after", "366d maximum for a deadline"),
    ("quiet", 22, "resolution.quiet_for", "366d maximum for a deadline"),
    ("review_ack", 27, "review.ack_within.within", "366d maximum for a deadline"),
    ("review_after", 29, "review.escalation[0].after", "366d maximum for a deadline"),
]
ALERT = {"alertname": "Down", "service": "checkout", "status": "firing", "severity": "critical"}
TOO_LONG = ["367d", "53w", "4000000d", "9" * 20 + "d", "9" * 400 + "d", "31622401s"]


def limits(**changed: str) -> str:
    """The LIMITS playbook with some fields changed from AT_THE_LIMITS."""
    return LIMITS.format(**{**AT_THE_LIMITS, **changed})


def problems(text: str) -> list[Problem]:
    """The problems a refused playbook text is reported with."""
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(text, FILE)
    return caught.value.problems


def test_a_playbook_at_every_limit_loads() -> None:
    """Every duration at its maximum and 100 escalations per ladder load."""
    playbook = load_playbook_text(limits(), FILE)
    assert playbook.tasks[0].ack is not None
    assert playbook.tasks[0].ack.within == 366 * DAY_MS
    assert len(playbook.tasks[0].ladder) == 100


@pytest.mark.parametrize("value", TOO_LONG)
@pytest.mark.parametrize(("field", "line", "path", "limit"), DURATIONS)
def test_every_duration_beyond_its_maximum_is_refused_at_its_line(
    field: str, line: int, path: str, limit: str, value: str
) -> None:
    """Each duration field, set past its maximum (up to a 400-digit number of days, too large
    for a float), is one problem at its line and field path naming the limit."""
    found = problems(limits(**{field: value}))
    assert [(p.file, p.line, p.path) for p in found] == [(FILE, line, path)]
    assert limit in found[0].message
    assert "use a shorter one" in found[0].message


def test_an_overlong_duration_is_not_repeated_in_full() -> None:
    """A 400-digit duration is shortened in the message, with its length."""
    (problem,) = problems(limits(ack="9" * 400 + "d"))
    assert "(401 characters)" in problem.message
    assert len(problem.message) < 200


def test_a_ladder_of_more_than_100_escalations_is_refused() -> None:
    """Repeat counts summed over a ladder's steps may not exceed MAX_ESCALATIONS."""
    (problem,) = problems(limits(repeat2="51"))
    assert (problem.line, problem.path) == (18, "tasks[0].escalation")
    assert "escalates 101 times" in problem.message
    assert "the limit is 100" in problem.message


def test_everything_a_playbook_at_the_limits_schedules_stays_printable() -> None:
    """An event just before year 9000 on a playbook at every limit: every timer fires (quiet
    period, deadlines, both ladders) and every output has a time, instead of a date error."""
    drill = Drill.of([load_playbook_text(limits(), FILE)])
    drill.feed(event("ops.alert", "8999-12-31T23:59:59Z", **ALERT))
    drill.until("9999-01-01T00:00:00Z")
    assert drill.dead_letters() == []
    review = drill.task("limits", "checkout", "review")
    assert review.escalations == 100
    last = max(parse_time(e.time) for e in drill.task_events("task.escalated"))
    assert last < parse_time("9110-01-01T00:00:00Z")


def test_bounded_durations_leave_parse_duration_unchanged() -> None:
    """parse_duration_at_most refuses past its maximum (and infinity); parse_duration does not
    bound (settings use it) and keeps its results."""
    assert parse_duration_at_most("366d", 366 * DAY_MS) == parse_duration("366d")
    assert parse_duration_at_most("1.5s", 2000) == 1500
    for text in ["367d", "9" * 400 + "d", "-1s"]:
        with pytest.raises(ValueError, match="is not between 0s and 366d"):
            parse_duration_at_most(text, 366 * DAY_MS)
    assert parse_duration("4000000d") == 4_000_000 * DAY_MS


# ---- nesting and long chains, refused or loaded without recursion ----------------------------


def only(text: str) -> Problem:
    """The single problem of a refused playbook text."""
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    "deep",
    [
        "[" * 600 + "]" * 600,
        "{a: " * 600 + "}" * 600,
        "[{a: " * 300 + "}]" * 300,
        "[" * 100_000,  # never closed
    ],
)
def test_flow_nesting_hundreds_deep_is_refused_at_its_line(deep: str) -> None:
    """Flow collections nested 600 deep (or 100,000, unclosed) are one problem at their line,
    not a RecursionError from the YAML composer."""
    problem = only(f"id: drill\ndeep: {deep}\n")
    assert (problem.file, problem.line, problem.path) == (FILE, 2, "")
    assert "nested too deeply (over 50 levels)" in problem.message


def test_block_nesting_hundreds_deep_is_refused_at_its_line() -> None:
    """Block sequences nested 700 deep are refused at the line of the first level too deep."""
    lines = ["id: drill", "deep:", *(f"{'  ' * depth}- " for depth in range(1, 700))]
    problem = only("\n".join(lines) + "\n")
    assert problem.line == 53
    assert "nested too deeply" in problem.message


def test_deep_nesting_in_a_fixture_file_is_a_fixture_error(tmp_path: Path) -> None:
    """Fixture files are read the same way: deep nesting is a FixtureError at its line."""
    path = tmp_path / "deep.yaml"
    path.write_text("playbook: drill\ncases: " + "[" * 600 + "]" * 600 + "\n", encoding="utf-8")
    with pytest.raises(FixtureError) as caught:
        load_fixture_file(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == (str(path), 2)
    assert "nested too deeply" in problem.message


CHAIN_HEAD = """\
id: chain
version: 1
title: Chain
key: [data.service]
triggers:
  - {id: alert, on: ops.alert}
tasks:
"""


def chain(length: int, closed: bool = False) -> str:
    """`length` tasks, each depending on the one listed after it (the last, if `closed`, on
    the first): the order in which a recursive walk goes `length` calls deep."""
    tasks = [
        f"  - {{name: t{i}, role: ops, title: T, depends_on: [t{i + 1}]}}"
        for i in range(length - 1)
    ]
    last = (
        f"  - {{name: t{length - 1}, role: ops, title: T, depends_on: [{'t0' if closed else ''}]}}"
    )
    return CHAIN_HEAD + "\n".join([*tasks, last]) + "\n"


def test_a_chain_of_2000_tasks_listed_in_reverse_loads_and_runs() -> None:
    """2,000 tasks, each depending on the next: the cycle check does not recurse, and an
    incident attaches them all with only the last one assigned."""
    playbook = load_playbook_text(chain(2000), FILE)
    assert playbook.tasks[0].depends_on == ("t1",)
    drill = Drill.of([playbook]).feed(event("ops.alert", "2026-11-20T10:00:00Z", **ALERT))
    tasks = drill.incident("chain", "checkout").tasks
    assert len(tasks) == 2000
    assert [t.name for t in tasks if t.status == "assigned"] == ["t1999"]


def test_a_cycle_through_2000_tasks_is_named_in_full_at_its_first_task() -> None:
    """A 2,000-task cycle is one problem at tasks[0], spelling the cycle t0 -> ... -> t0."""
    problem = only(chain(2000, closed=True))
    assert (problem.line, problem.path) == (8, "tasks[0].depends_on")
    names = " -> ".join(f"t{i}" for i in range(2000))
    assert problem.message == f"dependency cycle: {names} -> t0"


def test_a_cycle_is_named_from_its_task_listed_first() -> None:
    """a needs nothing; the cycle b -> c -> d -> b is reported at c, the first of it listed
    (tasks[1]), in depends_on order, wherever the graph walk met it."""
    text = (
        CHAIN_HEAD
        + "\n".join(
            [
                "  - {name: a, role: ops, title: A}",
                "  - {name: c, role: ops, title: C, depends_on: [d]}",
                "  - {name: b, role: ops, title: B, depends_on: [c, a]}",
                "  - {name: d, role: ops, title: D, depends_on: [b]}",
            ]
        )
        + "\n"
    )
    problem = only(text)
    assert (problem.line, problem.path) == (9, "tasks[1].depends_on")
    assert problem.message == "dependency cycle: c -> d -> b -> c"


# ---- what a playbook directory may hold ------------------------------------------------------

QUICK = 5.0
"""Seconds within which a FIFO must be refused (opening one for reading waits for a writer)."""


def directory_problems(folder: Path) -> list[Problem]:
    """The problems load_directory refuses `folder` with."""
    with pytest.raises(PlaybookError) as caught:
        load_directory(folder)
    return caught.value.problems


def promptly(call: Callable[[], object]) -> Exception | None:
    """Run `call` in a daemon thread; the exception it raised, failing if it does not return
    within QUICK seconds (blocked on a FIFO)."""
    raised: list[Exception] = []

    def run() -> None:
        try:
            call()
        except Exception as err:  # handed to the test, which asserts on it
            raised.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(QUICK)
    assert not thread.is_alive(), "blocked: a non-regular file was opened"
    return raised[0] if raised else None


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ", "elsewhere"])
def test_a_link_out_of_the_playbook_directory_is_refused(tmp_path: Path, target: str) -> None:
    """A playbook link to a file outside the directory (a system file, or even a valid playbook
    elsewhere) is one problem naming the link and its target; nothing is read through it."""
    folder, outside = tmp_path / "playbooks", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    (outside / "drill.yaml").write_text(limits(), encoding="utf-8")
    link = folder / "leak.yaml"
    link.symlink_to(outside / "drill.yaml" if target == "elsewhere" else target)
    (problem,) = directory_problems(folder)
    assert (problem.file, problem.line, problem.path) == (str(link), None, "")
    assert "is a symbolic link to" in problem.message
    assert f"outside {folder.resolve()}" in problem.message
    assert "root:" not in problem.message


def test_a_link_to_a_file_inside_the_directory_loads(tmp_path: Path) -> None:
    """A link to a regular file elsewhere inside the directory is followed."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "real.yaml").write_text(limits(), encoding="utf-8")
    (tmp_path / "limits.yaml").symlink_to(tmp_path / "shared" / "real.yaml")
    assert [p.id for p in load_directory(tmp_path)] == ["limits"]


def fifo_behind_a_link(path: Path) -> None:
    """`path` as a link to a FIFO beside it."""
    os.mkfifo(path.with_suffix(".pipe"))
    path.symlink_to(path.with_suffix(".pipe"))


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (os.mkfifo, "a FIFO (named pipe)"),
        (os.mkdir, "a directory"),
        (fifo_behind_a_link, "a FIFO"),
    ],
    ids=["fifo", "directory", "link-to-fifo"],
)
def test_an_entry_that_is_not_a_regular_file_is_refused_unopened(
    tmp_path: Path, make: Callable[[Path], object], kind: str
) -> None:
    """A FIFO, a directory named *.yaml or a link to a FIFO is a problem saying what it is and
    what to do, instead of being skipped in silence (or, for a FIFO, waited on)."""
    (tmp_path / "limits.yaml").write_text(limits(), encoding="utf-8")
    make(tmp_path / "odd.yaml")
    err = promptly(lambda: load_directory(tmp_path))
    assert isinstance(err, PlaybookError)
    (problem,) = err.problems
    assert problem.file == str(tmp_path / "odd.yaml")
    assert f"is {kind}" in problem.message
    assert "not a regular file; remove it, or rename it" in problem.message


def test_a_dangling_link_is_refused(tmp_path: Path) -> None:
    """A link to a missing file inside the directory is a problem, not a silent skip."""
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    (problem,) = directory_problems(tmp_path)
    assert "cannot be read (No such file or directory)" in problem.message


def test_load_playbook_refuses_a_fifo_without_waiting(tmp_path: Path) -> None:
    """A FIFO named as the playbook file is a PlaybookError at once, not a read that hangs."""
    os.mkfifo(tmp_path / "pipe.yaml")
    err = promptly(lambda: load_playbook(tmp_path / "pipe.yaml"))
    assert isinstance(err, PlaybookError)
    assert "it is a FIFO (named pipe), not a regular file" in err.problems[0].message


def test_fixture_directories_refuse_links_out_and_fifos(tmp_path: Path) -> None:
    """Fixture files are listed the same way: a link to /etc/passwd and a FIFO are refused,
    by fixture_files and by run_directory, and neither is opened."""
    playbooks, tests = tmp_path / "playbooks", tmp_path / "playbooks" / "tests"
    tests.mkdir(parents=True)
    (playbooks / "limits.yaml").write_text(limits(), encoding="utf-8")
    (tests / "leak.yaml").symlink_to("/etc/passwd")
    os.mkfifo(tests / "pipe.yml")
    for call in (lambda: fixture_files(tests), lambda: run_directory(playbooks)):
        err = promptly(call)
        assert isinstance(err, FixtureError)
        found = [(Path(p.file).name, p.message.split(";")[0]) for p in err.problems]
        assert found == [
            ("leak.yaml", "is a symbolic link to /etc/passwd, outside " + str(tests.resolve())),
            ("pipe.yml", "is a FIFO (named pipe), not a regular file"),
        ]
    err = promptly(lambda: load_fixture_file(tests / "pipe.yml"))
    assert isinstance(err, FixtureError)
