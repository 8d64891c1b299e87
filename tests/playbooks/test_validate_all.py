"""Issue 21 points 5 and 6: `playbooks validate` reports every problem of a file in one run,
sorted by line, including the format's refusals and the compiler's findings together, and
catches conditions that can never hold: misspelt severity, status and enum literals, and fields
an event type does not have, each with a "did you mean"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.errors import PlaybookError, Problem
from orchestrator.playbook import load_playbook_text

PLANTED = """\
id: payment_fraud
version: 1
title: Payment fraud
mode: paused
key: [data.card]
event_types:
  payment.charge:
    fields:
      card: {type: string}
      amount: {type: number}
      channel: {type: string, enum: [web, pos]}
roles:
  fraud_desk: {title: Fraud desk, escalates_to: incident_commander}
triggers:
  - id: big_charge
    on: payment.charge
    when: data.amout >= 5000 and data.channel == "wbe"
    window: {kind: count, at_least: 3, within: 10 minutes}
join:
  - on: ops.alrt
tasks:
  - name: block_card
    role: fraud_desk
    title: Block the card
    phase: respond
    ack_within: 5 minutes
  - name: call_customer
    role: fraud_desk
    titel: Call the customer
    phase: respond
    depends_on: [block_card]
  - name: tell_pr
    role: pr
    title: Tell PR
    phase: respond
    depends_on: [blok_card]
    when: incident.severity >= "hihg" or incident.status == "opened"
"""
"""Ten mistakes: four the format refuses (mode, two durations, a misspelt field, which also
leaves `title` missing), six only the compiler finds (a field the type lacks, an enum value, an
unknown event type, an unknown task, a severity and a status that do not exist)."""


def _problems(text: str) -> list[Problem]:
    with pytest.raises(PlaybookError) as refused:
        load_playbook_text(text, "fraud.yaml")
    return refused.value.problems


def test_every_planted_mistake_is_reported_in_one_run_sorted_by_line() -> None:
    """Point 5: the format's and the compiler's problems together, in the order of the file."""
    problems = _problems(PLANTED)
    found = [(p.line, p.path) for p in problems]
    assert found == [
        (4, "mode"),
        (17, "triggers[0].when"),
        (17, "triggers[0].when"),
        (18, "triggers[0].window.within"),
        (20, "join[0].on"),
        (26, "tasks[0].ack_within"),
        (27, "tasks[1].title"),
        (29, "tasks[1].titel"),
        (36, "tasks[2].depends_on"),
        (37, "tasks[2].when"),
        (37, "tasks[2].when"),
    ], "\n".join(map(str, problems))
    assert [p.line or 0 for p in problems] == sorted(p.line or 0 for p in problems)


def test_a_file_the_format_refuses_still_gets_its_compiler_checks(tmp_path: Path) -> None:
    """Point 5 through the command: one run of `playbooks validate` prints every problem."""
    (tmp_path / "fraud.yaml").write_text(PLANTED)
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator", "playbooks", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "11 problems in playbooks" in result.stderr
    assert "did you mean 'high'?" in result.stderr


@pytest.mark.parametrize(
    ("needle", "advice"),
    [
        ("data.amout is not a field of this event type", "did you mean data.amount?"),
        ("data.channel is never 'wbe' (it is one of: web, pos)", "did you mean 'web'?"),
        ("unknown event type 'ops.alrt'", "did you mean 'ops.alert'?"),
        ("depends on unknown task 'blok_card'", "did you mean 'block_card'?"),
        ("incident.severity is never 'hihg'", "did you mean 'high'?"),
        ("incident.status is never 'opened'", "did you mean 'open'?"),
        ("unknown field", "did you mean 'title'?"),
    ],
)
def test_typos_are_caught_with_a_did_you_mean(needle: str, advice: str) -> None:
    """Point 6: each misspelling is named, with the closest right word."""
    messages = [p.message for p in _problems(PLANTED)]
    [message] = [m for m in messages if needle in m]
    assert advice in message


VALID_ALERT_PLAYBOOK = """\
id: alerts
version: 1
title: Alerts
key: [data.service]
triggers:
  - id: t
    on: ops.alert
    when: {when}
tasks:
  - name: look
    role: ops
    title: Look
    when: {task_when}
"""


def _alerts(when: str, task_when: str) -> str:
    return VALID_ALERT_PLAYBOOK.format(when=json.dumps(when), task_when=json.dumps(task_when))


@pytest.mark.parametrize(
    ("when", "task_when", "problem"),
    [
        ('data.status == "fireing"', "true", "data.status is never 'fireing'"),
        ('"critcal" == data.severity', "true", "data.severity is never 'critcal'"),
        ('data.severity in ["critical", "warnng"]', "true", "data.severity is never 'warnng'"),
        ("data.sevrity == 'critical'", "true", "did you mean data.severity?"),
        ("true", "incident.severity in ['high', 'critcal']", "incident.severity is never"),
    ],
)
def test_catalogue_types_are_checked_too(when: str, task_when: str, problem: str) -> None:
    """Point 6 on the catalogue: enum values of ops.alert, its fields, forward and backward."""
    text = _alerts(when, task_when)
    assert problem in str([p.message for p in _problems(text)])


@pytest.mark.parametrize(
    ("when", "task_when"),
    [
        ('data.status == "firing" and data.severity in ["critical", "warning"]', "true"),
        ('data.fingerprint == "abc"', "true"),
        ('upper(data.status) == "FIRING"', "true"),
        ('data.labels.team == "payments"', 'incident.severity >= "high"'),
    ],
)
def test_what_can_hold_is_not_refused(when: str, task_when: str) -> None:
    """No false alarms: right values, an extra field a catalogue event may carry (nothing close
    to a catalogue field), a value changed by a function, a nested label."""
    load_playbook_text(_alerts(when, task_when), "a.yaml")
