"""What a role agent is: a pure function from a task event and its incident to help text.

Agents follow their role's feed. For each task newly assigned to their role, while the task is
still open, they add a comment with role-specific help. They never act on a person's behalf:
only a task the playbook marks `automatic` is completed by the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from schemas import Incident, IncidentStatus, Task, TaskEvent, TaskStatus

OPEN_TASK_STATUSES = frozenset({TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED})


class Agent(Protocol):
    """A role agent: `role` names the tasks it helps with; `advise` writes the help."""

    @property
    def role(self) -> str:
        """The role whose tasks this agent helps with."""
        ...

    def advise(self, event: TaskEvent, incident: Incident) -> str:
        """The comment to add to the event's task, from the event and the incident's facts."""
        ...


@dataclass(frozen=True, slots=True)
class Help:
    """What an agent does for one task: comment, and complete it when it is automatic."""

    task_id: str
    comment: str
    complete: bool = False


def current_task(event: TaskEvent, incident: Incident) -> Task | None:
    """The event's task as the incident has it now (the event may be old)."""
    return next((t for t in incident.tasks if t.id == event.task.id), None)


def decide(agent: Agent, event: TaskEvent, incident: Incident) -> Help | None:
    """Help for a newly assigned task of the agent's role that is still open; else None."""
    if event.kind != "task.assigned" or event.task.role != agent.role:
        return None
    task = current_task(event, incident)
    if task is None or task.status not in OPEN_TASK_STATUSES:
        return None
    if incident.status == IncidentStatus.CLOSED:
        return None
    return Help(task.id, agent.advise(event, incident), complete=task.automatic)
