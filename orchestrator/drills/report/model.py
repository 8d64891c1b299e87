"""The post-incident review / drill report as data: built from engine state, nothing else.

`build_report` is pure and deterministic: the same state gives the same report, and the only
"now" it knows is the engine clock. Renderers (Markdown, HTML) read a `Report`, never the state.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable

from orchestrator.drills.report.pages import ack_figures, pages_of
from orchestrator.drills.report.shape import (
    Duration,
    FollowUp,
    IncidentReport,
    Report,
    RoleReport,
    SeverityChange,
    Stats,
    TaskReport,
    Totals,
)
from orchestrator.drills.report.timeline import describe
from orchestrator.engine import EngineState, Millis, contract, format_time, ordered, parse_time
from schemas import (
    SEVERITY_ORDER,
    TERMINAL_STATUSES,
    Incident,
    IncidentStatus,
    Phase,
    Task,
    TaskStatus,
    TimelineEntry,
)


def _span(start: str | None, end: str | None) -> Duration | None:
    if start is None or end is None:
        return None
    return Duration.of(parse_time(end) - parse_time(start))


def _later(time: str | None, due: str | None) -> bool:
    return time is not None and due is not None and parse_time(time) > parse_time(due)


def ack_breached(task: Task, now: Millis) -> bool:
    """Acknowledged after the ack deadline, or not acknowledged while the deadline passed."""
    if task.ack_due_at is None or task.assigned_at is None:
        return False
    if task.acknowledged_at is not None:
        return _later(task.acknowledged_at, task.ack_due_at)
    end = task.finished_at or format_time(now)
    return _later(end, task.ack_due_at)


def _escalations(entries: Iterable[TimelineEntry], task_id: str) -> list[str]:
    return [e.at for e in entries if e.kind == "task.escalated" and e.ref == task_id]


def task_report(task: Task, timeline: list[TimelineEntry], now: Millis) -> TaskReport:
    """The report row of one task."""
    done = task.status == TaskStatus.DONE
    return TaskReport(
        id=task.id,
        name=task.name,
        title=task.title,
        role=task.role,
        phase=task.phase,
        status=task.status.value,
        assigned_at=task.assigned_at,
        acknowledged_at=task.acknowledged_at,
        acknowledged_by=task.acknowledged_by,
        finished_at=task.finished_at,
        finished_by=task.finished_by,
        ack_due_at=task.ack_due_at,
        complete_due_at=task.complete_due_at,
        time_to_ack=_span(task.assigned_at, task.acknowledged_at),
        time_to_complete=_span(task.assigned_at, task.finished_at) if done else None,
        escalations=task.escalations,
        escalated_at=_escalations(timeline, task.id),
        ack_breached=ack_breached(task, now),
        complete_breached=task.overdue,
        left_open=task.status not in TERMINAL_STATUSES,
        outcome=task.outcome,
    )


def severity_changes(incident: Incident) -> list[SeverityChange]:
    """Every rise of the incident's severity, from its timeline."""
    return [
        SeverityChange(
            at=e.at, before=str(e.detail["before"]), after=str(e.detail["after"]), ref=e.ref
        )
        for e in incident.timeline
        if e.kind == "incident.severity_changed"
    ]


def _initial_severity(incident: Incident, changes: list[SeverityChange]) -> str:
    for entry in incident.timeline:
        if entry.kind == "incident.opened" and "severity" in entry.detail:
            return str(entry.detail["severity"])
    return changes[0].before if changes else incident.severity.value


def _last_activity(incident: Incident) -> str:
    times = [incident.opened_at, *(e.at for e in incident.timeline)]
    times += [incident.resolved_at or "", incident.closed_at or ""]
    for task in incident.tasks:
        times += [task.assigned_at or "", task.acknowledged_at or "", task.finished_at or ""]
    return format_time(max(parse_time(t) for t in times if t))


def incident_report(incident: Incident, now: Millis) -> IncidentReport:
    """The report section of one incident."""
    changes = severity_changes(incident)
    return IncidentReport(
        id=incident.id,
        playbook=incident.playbook,
        playbook_version=incident.playbook_version,
        key=incident.key,
        mode=incident.mode,
        trigger=incident.trigger,
        severity=incident.severity.value,
        initial_severity=_initial_severity(incident, changes),
        severity_changes=changes,
        status=incident.status.value,
        phase=incident.phase.value,
        opened_at=incident.opened_at,
        resolved_at=incident.resolved_at,
        closed_at=incident.closed_at,
        last_activity_at=_last_activity(incident),
        time_to_resolve=_span(incident.opened_at, incident.resolved_at),
        time_to_close=_span(incident.opened_at, incident.closed_at),
        events_total=incident.events_total,
        events_unlisted=incident.timeline_events_dropped,
        timeline=[describe(e) for e in incident.timeline],
        tasks=[task_report(t, incident.timeline, now) for t in incident.tasks],
    )


def stats(values: list[int]) -> Stats:
    """Mean (rounded to the millisecond), p50 and max of `values`; empty stats for none."""
    if not values:
        return Stats()
    return Stats(
        count=len(values),
        mean=Duration.of(round(statistics.fmean(values))),
        p50=Duration.of(statistics.median_low(values)),
        max=Duration.of(max(values)),
    )


def role_report(role: str, tasks: list[TaskReport]) -> RoleReport:
    """One role's figures over the tasks handed to it."""
    return RoleReport(
        role=role,
        tasks=len(tasks),
        acknowledged=sum(t.acknowledged_at is not None for t in tasks),
        done=sum(t.status == TaskStatus.DONE for t in tasks),
        left_open=sum(t.left_open for t in tasks),
        time_to_ack=stats([t.time_to_ack.ms for t in tasks if t.time_to_ack]),
        time_to_complete=stats([t.time_to_complete.ms for t in tasks if t.time_to_complete]),
        escalations=sum(t.escalations for t in tasks),
        ack_breaches=sum(t.ack_breached for t in tasks),
        complete_breaches=sum(t.complete_breached for t in tasks),
    )


def role_reports(incidents: list[IncidentReport]) -> list[RoleReport]:
    """Per role (alphabetical), over every assigned task of every incident."""
    by_role: dict[str, list[TaskReport]] = {}
    for incident in incidents:
        for task in incident.tasks:
            if task.assigned_at is not None:
                by_role.setdefault(task.role, []).append(task)
    return [role_report(role, by_role[role]) for role in sorted(by_role)]


FOLLOW_UP_ORDER = ("ack_missed", "completion_missed", "review", "open_task")
"""Follow-up kinds, most urgent first: the order of the follow-up list."""


def _ack_note(task: TaskReport) -> str:
    late = _span(task.ack_due_at, task.acknowledged_at)
    said = f"acknowledged {late.text} late" if late is not None else "never acknowledged"
    return said + (f", {task.escalations} escalation(s)" if task.escalations else "")


def _note(task: TaskReport, kind: str) -> str:
    if kind == "ack_missed":
        note = _ack_note(task)
    elif kind == "completion_missed":
        note = "not done by its deadline"
    elif kind == "review":
        note = "post-incident review"
    else:
        return "not started: waits on other tasks" if task.status == "pending" else "not finished"
    return note + ("; still open" if task.left_open else "")


def _follow_up(incident: IncidentReport, task: TaskReport, kind: str, due: str | None) -> FollowUp:
    return FollowUp(
        kind=kind,
        incident_id=incident.id,
        task_id=task.id,
        task=task.name,
        title=task.title,
        role=task.role,
        status=task.status,
        due_at=due,
        note=_note(task, kind),
    )


def task_follow_ups(incident: IncidentReport, task: TaskReport) -> list[FollowUp]:
    """The task's missed deadlines; or, without any, its review or its being left open."""
    found: list[FollowUp] = []
    if task.ack_breached:
        found.append(_follow_up(incident, task, "ack_missed", task.ack_due_at))
    if task.complete_breached:
        found.append(_follow_up(incident, task, "completion_missed", task.complete_due_at))
    if task.phase == Phase.REVIEW.value:
        found.append(_follow_up(incident, task, "review", task.complete_due_at))
    elif task.left_open and not found:
        found.append(_follow_up(incident, task, "open_task", task.complete_due_at))
    return found


def _urgency(follow_up: FollowUp) -> tuple[int, float]:
    due = parse_time(follow_up.due_at) if follow_up.due_at else float("inf")
    return FOLLOW_UP_ORDER.index(follow_up.kind), due


def follow_ups(incidents: list[IncidentReport]) -> list[FollowUp]:
    """Every breach, review and open task of the run: breaches first, then by due time."""
    found = [f for i in incidents for t in i.tasks for f in task_follow_ups(i, t)]
    return sorted(found, key=_urgency)


def totals(state: EngineState) -> Totals:
    """Run totals from the engine's counters and incidents."""
    c = state.counters
    incidents = list(state.incidents.values())
    severities = Counter(i.severity for i in incidents)
    statuses = Counter(i.status.value for i in incidents)
    return Totals(
        events_read=c.read,
        events_accepted=c.accepted,
        events_rejected=c.rejected,
        events_duplicate=c.duplicates,
        events_late=c.late,
        commands=c.commands,
        commands_rejected=c.commands_rejected,
        incidents=len(incidents),
        by_playbook=dict(sorted(Counter(i.playbook for i in incidents).items())),
        by_severity={s.value: severities[s] for s in SEVERITY_ORDER if severities[s]},
        by_status={s.value: statuses[s.value] for s in IncidentStatus if statuses[s.value]},
    )


def build_report(state: EngineState, title: str, generated_for: str | None = None) -> Report:
    """The review report of everything the engine state holds, as of the engine clock."""
    everyone = ordered(contract(i) for i in state.incidents.values())
    incidents = [incident_report(i, state.clock) for i in everyone]
    pages = pages_of(everyone)
    by_responder, by_role = ack_figures(pages)
    return Report(
        title=title,
        generated_for=generated_for,
        generated_at=format_time(state.clock),
        totals=totals(state),
        roles=role_reports(incidents),
        incidents=incidents,
        follow_ups=follow_ups(incidents),
        pages=pages,
        acks_by_responder=by_responder,
        acks_by_role=by_role,
    )
