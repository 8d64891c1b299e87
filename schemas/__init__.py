"""Wire and file contracts: events, playbooks, incidents, tasks, commands, dead letters."""

from schemas.commands import (
    COMMAND_EVENT_TYPE,
    TASK_COMMANDS,
    Command,
    CommandData,
    CommandKind,
    CommandResult,
)
from schemas.deadletter import DeadLetter, Origin
from schemas.events import CATALOGUE, Event, EventData
from schemas.incidents import (
    SEVERITY_ORDER,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Phase,
    Severity,
    TimelineEntry,
)
from schemas.playbook import PlaybookSpec
from schemas.tasks import TERMINAL_STATUSES, Task, TaskEvent, TaskStatus

__all__ = [
    "CATALOGUE",
    "COMMAND_EVENT_TYPE",
    "SEVERITY_ORDER",
    "TASK_COMMANDS",
    "TERMINAL_STATUSES",
    "Command",
    "CommandData",
    "CommandKind",
    "CommandResult",
    "DeadLetter",
    "Event",
    "EventData",
    "Incident",
    "IncidentEvent",
    "IncidentStatus",
    "Origin",
    "Phase",
    "PlaybookSpec",
    "Severity",
    "Task",
    "TaskEvent",
    "TaskStatus",
    "TimelineEntry",
]
