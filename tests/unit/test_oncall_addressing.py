"""Assignments and escalations are addressed to the target role's on-call responders at that
event time; the task event and the timeline say who and why; without rosters nothing changes."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from orchestrator.engine import EngineConfig
from orchestrator.playbook import load_directory, load_rosters_text
from orchestrator.settings import shipped_playbooks
from orchestrator.testing.fakes import Drill, event

ROOT = Path(__file__).parents[2]
ROSTERS = """\
roles:
  ops:
    layers:
      - {name: days, members: [dana, eli], start: "2026-11-20T10:03", zone: UTC, shift: 1d}
  incident_commander:
    layers:
      - name: shifts
        members: [ic-early, ic-late]
        start: "2026-11-19T10:06"
        zone: UTC
        shift: 1d
    overrides:
      - {responder: ic-cover, from: "2026-11-20T10:07:00Z", until: "2026-11-20T11:00:00Z"}
fallback: [alex]
"""


def _drill(rosters: bool) -> Drill:
    config = EngineConfig()
    if rosters:
        config = replace(config, rosters=load_rosters_text(ROSTERS, "r.yaml").rosters)
    drill = Drill.of(load_directory(shipped_playbooks()), config)
    alert = event(
        "ops.alert",
        "2026-11-20T10:00:00Z",
        alertname="CheckoutDown",
        service="checkout",
        status="firing",
        severity="critical",
    )
    return drill.feed(alert).until("2026-11-20T10:30:00Z")


def test_assignment_and_each_escalation_go_to_who_is_on_call_then() -> None:
    """triage is assigned at 10:00 (before the ops rotation starts: the file's fallback), and
    escalates to the incident commander at 10:05 (the layer) and on (the override from 10:07)."""
    drill = _drill(rosters=True)
    triage = [e for e in drill.task_events() if e.task.name == "triage"]
    paged = [(e.kind, e.role, e.notified) for e in triage if e.notified is not None]
    assert [(kind, role) for kind, role, _ in paged][:2] == [
        ("task.assigned", "ops"),
        ("task.escalated", "incident_commander"),
    ]
    first, second = paged[0][2], paged[1][2]
    assert first is not None
    assert second is not None
    assert (first.responders, first.via, first.source) == (["alex"], "fallback", "rosters")
    assert (second.responders, second.via, second.source) == (["ic-early"], "layer", "shifts")
    later = [n for _, _, n in paged[2:] if n is not None]
    assert later
    assert all(n.responders == ["ic-cover"] and n.via == "override" for n in later)


def test_timeline_records_who_was_notified_and_why() -> None:
    """The incident's timeline carries the same names and reasons as the task events."""
    incident = _drill(rosters=True).incident("tech_outage", "checkout")
    assigned = [e for e in incident.timeline if e.kind == "task.assigned"]
    assert assigned
    assert all("notified" in e.detail and "notified_via" in e.detail for e in assigned)
    escalated = next(e for e in incident.timeline if e.kind == "task.escalated")
    assert escalated.detail["notified"] == "ic-early"
    assert escalated.detail["notified_via"] == "layer shifts"


def test_without_rosters_task_events_and_timeline_are_as_before() -> None:
    """No rosters: no task event is addressed to anyone, no timeline entry names anyone."""
    drill = _drill(rosters=False)
    assert all(e.notified is None for e in drill.task_events())
    incident = drill.incident("tech_outage", "checkout")
    assert all("notified" not in e.detail for e in incident.timeline)


def _replay(rosters: Path) -> bytes:
    log = ROOT / "tests" / "golden" / "tech-outage" / "events.jsonl"
    command = [sys.executable, "-m", "orchestrator", "replay", str(log), "--json"]
    command += ["--until", "2026-11-20T12:00:00Z", "--rosters", str(rosters)]
    return subprocess.run(command, check=True, capture_output=True, timeout=120).stdout


def test_two_replays_with_rosters_are_byte_identical(tmp_path: Path) -> None:
    """The same log and rosters print the same summary twice, pages and all."""
    rosters = tmp_path / "rosters.yaml"
    rosters.write_text(ROSTERS, encoding="utf-8")
    first, second = _replay(rosters), _replay(rosters)
    assert first == second
    assert b'"pages": [' in first
    assert b'"responders": "ic-cover"' in first
