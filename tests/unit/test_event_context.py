"""The event context leaves out `time` only for playbooks that never read it."""

from __future__ import annotations

from pathlib import Path

import playbooks
from orchestrator.engine.step import Engine
from orchestrator.playbook import load_directory, load_playbook_text
from orchestrator.testing import Drill, event

AFTERNOON = """\
id: afternoon
version: 1
title: Afternoon alerts
key: [data.service]
triggers:
  - {id: late, on: ops.alert, when: time >= "2026-11-20T12:00:00"}
tasks:
  - {name: look, role: ops, title: Look}
"""


def test_a_playbook_that_reads_time_sees_it() -> None:
    """A trigger on `time` opens an incident only for the afternoon event."""
    playbook = load_playbook_text(AFTERNOON, "afternoon.yaml")
    assert playbook.reads("time")
    alert = {"alertname": "A", "status": "firing", "severity": "info"}
    run = Drill.of([playbook]).feed(
        event("ops.alert", "2026-11-20T09:00:00Z", service="morning", **alert),
        event("ops.alert", "2026-11-20T13:00:00Z", service="afternoon", **alert),
    )
    assert [i.key for i in run.state.incidents.values()] == ["afternoon"]


def test_the_shipped_playbooks_do_not_read_time() -> None:
    """None of the shipped playbooks reads `time`, so their engine leaves it out."""
    shipped = load_directory(Path(playbooks.__file__).parent)
    assert not any(pb.reads("time") for pb in shipped)
    assert not Engine(shipped).matcher.reads_time
