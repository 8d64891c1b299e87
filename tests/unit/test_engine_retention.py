"""Retention: resolved and closed incidents leave the engine's memory `incident_retention` after
they ended, emitted once more as `Retired` (a resolved one only once no task of it is in
someone's hands); a drill still reports every incident."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.drills import replay_file
from orchestrator.engine import (
    DAY_MS,
    HOUR_MS,
    Engine,
    EngineConfig,
    Retired,
    format_time,
    parse_time,
    summary,
)
from orchestrator.engine.clock import MINUTE_MS
from orchestrator.playbook import load_directory
from orchestrator.settings import shipped_playbooks
from orchestrator.testing import Drill, command, event
from schemas import IN_HAND_STATUSES, CommandResult, Incident, IncidentStatus

OPENED = "2026-11-20T10:00:00Z"
RETENTION = HOUR_MS
GOLDEN = Path(__file__).parents[1] / "golden"
PLAYBOOKS = [p for p in load_directory(shipped_playbooks()) if p.id == "tech_outage"]


def at(minutes: float) -> str:
    """The time `minutes` after the first incident opened."""
    return format_time(parse_time(OPENED) + round(minutes * MINUTE_MS))


def alert(minutes: float, service: str = "checkout") -> dict[str, object]:
    """A firing ops.alert at `minutes` (its id, and so its incident's, fixed by both)."""
    return event(
        "ops.alert",
        at(minutes),
        id=f"alert-{service}-{minutes}",
        alertname="HighErrorRate",
        service=service,
        status="firing",
        severity="critical",
    )


AFTER_RESOLVE = ("verify_recovery", "post_incident_review")
"""The tasks tech_outage assigns when an incident resolves."""


def finish(run: Drill, minutes: float, *names: str) -> Drill:
    """Complete the named tasks of the checkout incident at `minutes`."""
    incident = run.incident("tech_outage", "checkout")
    for task in (t for t in incident.tasks if t.name in names):
        run.feed(command("complete", at(minutes), task_id=task.id, note="done"))
    return run


def drill(retention: int = RETENTION, finished: bool = False) -> Drill:
    """A drill with one incident opened at 0 and resolved by a command at 10 minutes; with
    `finished`, the tasks the resolve assigned are completed at 20, which closes it."""
    run = Drill.of(PLAYBOOKS, EngineConfig(incident_retention=retention)).feed(alert(0))
    run.feed(command("resolve", at(10), id="resolve", playbook="tech_outage", key="checkout"))
    return finish(run, 20, *AFTER_RESOLVE) if finished else run


def in_hand(incident: Incident) -> bool:
    """Whether a task of the incident is assigned or acknowledged."""
    return any(t.status in IN_HAND_STATUSES for t in incident.tasks)


def retired(run: Drill) -> list[Retired]:
    """The Retired outputs so far."""
    return [o for o in run.outputs if isinstance(o, Retired)]


def test_a_resolved_incident_stays_until_the_retention_has_passed() -> None:
    """One minute before the retention ends the incident is still in memory, untouched."""
    run = drill().until(at(10 + 59))
    assert retired(run) == []
    assert run.incident("tech_outage", "checkout").status == IncidentStatus.RESOLVED


def test_an_ended_incident_is_retired_with_its_tasks_once_the_retention_has_passed() -> None:
    """Its work done (which closes it at 20), it leaves the state and the task index an hour
    later, emitted as it last was; a command on its task is then refused as for an unknown
    task."""
    run = drill(finished=True)
    incident = run.incident("tech_outage", "checkout")
    assert incident.status == IncidentStatus.CLOSED
    task_id = incident.tasks[0].id
    run.until(at(20 + 59))
    assert retired(run) == []
    run.until(at(20 + 60))
    [gone] = retired(run)
    assert gone.incident == incident
    assert gone.incident_id == incident.id
    assert run.state.incidents == {}
    assert task_id not in run.state.task_index
    ack = command("ack", at(90), task_id=task_id)
    run.feed(ack)
    [verdict] = [
        o for o in run.outputs if isinstance(o, CommandResult) and o.command_id == ack["id"]
    ]
    assert not verdict.accepted


def test_a_resolved_incident_with_work_in_hand_stays_until_that_work_is_done() -> None:
    """Its post-incident review still assigned at resolve + retention, the incident stays (the
    review can still be completed, and is at 90, which closes it); it is retired an hour
    after that."""
    run = drill().until(at(10 + 60))
    assert retired(run) == []
    assert in_hand(run.incident("tech_outage", "checkout"))
    finish(run, 90, *AFTER_RESOLVE)
    assert run.incident("tech_outage", "checkout").status == IncidentStatus.CLOSED
    run.until(at(90 + 59))
    assert retired(run) == []
    run.until(at(90 + 60))
    assert [r.incident.status for r in retired(run)] == [IncidentStatus.CLOSED]


def test_a_closed_incident_is_retired_whatever_its_tasks() -> None:
    """Closed while its review was still assigned, it is retired an hour after the close."""
    run = drill()
    assert in_hand(run.incident("tech_outage", "checkout"))
    run.feed(command("close", at(15), playbook="tech_outage", key="checkout"))
    run.until(at(15 + 60))
    assert [r.incident.status for r in retired(run)] == [IncidentStatus.CLOSED]


def test_an_incident_closed_after_it_resolved_counts_from_the_close() -> None:
    """Closed 30 minutes after it resolved: still there an hour after the resolve, retired an
    hour after the close."""
    run = drill().feed(command("close", at(40), playbook="tech_outage", key="checkout"))
    run.until(at(10 + 60))
    assert retired(run) == []
    assert run.incident("tech_outage", "checkout").status == IncidentStatus.CLOSED
    run.until(at(40 + 60))
    assert [r.incident.status for r in retired(run)] == [IncidentStatus.CLOSED]


def test_open_incidents_and_a_retention_of_zero_are_never_retired() -> None:
    """An open incident stays however old; with retention 0 a resolved one stays too."""
    run = drill(retention=0).feed(alert(20, service="cart")).until(at(60 * 24 * 30))
    assert retired(run) == []
    assert {i.status for i in run.incidents()} == {IncidentStatus.RESOLVED, IncidentStatus.OPEN}


def test_the_summary_lists_retired_incidents_beside_those_in_memory() -> None:
    """summary(state, retired) is the summary of the run without retention."""
    kept = drill(retention=0, finished=True).feed(alert(20, service="cart")).until(at(200))
    run = drill(finished=True).feed(alert(20, service="cart")).until(at(200))
    assert len(run.state.incidents) == 1
    assert summary(run.state, [r.incident for r in retired(run)]) == kept.summary()


def test_a_replay_reports_every_incident_whatever_the_retention(tmp_path: Path) -> None:
    """A golden drill log (1.5 hours) replayed to 30 days later with a one-day retention
    retires its ended incidents with no work in hand on the way (those with a task still in
    hand stay) and gives the summary and the outputs of a replay that keeps every incident."""
    log = GOLDEN / "tech-outage" / "events.jsonl"
    playbooks = load_directory(shipped_playbooks())
    until = parse_time(json.loads(log.read_text().splitlines()[-1])["time"]) + 30 * DAY_MS
    kept = replay_file(Engine(playbooks), log, until=until)
    short = replay_file(Engine(playbooks, EngineConfig(incident_retention=DAY_MS)), log, until)
    ended = [
        i
        for i in kept.state.incidents.values()
        if i.status == IncidentStatus.CLOSED
        or (i.status == IncidentStatus.RESOLVED and not in_hand(i))
    ]
    assert sorted(short.retired) == sorted(i.id for i in ended) != []
    assert summary(short.state) == summary(kept.state)
    assert short.outputs == kept.outputs


def test_a_command_verdict_is_forgotten_once_the_command_retention_has_passed() -> None:
    """The verdict on a command id answers a repeat until `command_retention` after it was
    taken; then the id is forgotten (the memory it held is free)."""
    config = EngineConfig(command_retention=RETENTION)
    run = Drill.of(PLAYBOOKS, config).feed(alert(0))
    task_id = run.incident("tech_outage", "checkout").tasks[0].id
    run.feed(command("ack", at(1), id="ack-1", task_id=task_id))
    run.until(at(1 + 59))
    assert run.state.commands["ack-1"].accepted
    run.until(at(1 + 60))
    assert "ack-1" not in run.state.commands
