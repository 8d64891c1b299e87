"""Playbooks that would break intake, loading or the file system are refused with file:line.

Durations are bounded (a deadline of 4,000,000 days validated, then every matching event failed
on a date past year 9999), hostile nesting and long dependency chains are refused or loaded
without recursion, and a playbook directory only yields regular files inside it.
"""

from __future__ import annotations

import pytest

from orchestrator.core.clock import (
    DAY_MS,
    parse_duration,
    parse_duration_at_most,
    parse_time,
)
from orchestrator.errors import PlaybookError, Problem
from orchestrator.playbook import load_playbook_text
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
