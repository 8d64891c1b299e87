"""Wire and file contracts: events, playbooks, incidents, tasks, commands, dead letters, and
the Kafka runtime's own record formats (records).

The playbook format's many models are offered as the namespace `playbook` (schemas.playbook),
the rosters format's as `rosters` (schemas.rosters).
"""

from schemas import playbook, rosters
from schemas.cloudevents import IncidentCloudEvent, NotificationCloudEvent, TaskCloudEvent
from schemas.commands import (
    COMMAND_EVENT_TYPE,
    TASK_COMMANDS,
    Command,
    CommandData,
    CommandKind,
    CommandResult,
)
from schemas.deadletter import DeadLetter, Origin
from schemas.events import (
    ALERT_SEVERITIES,
    CATALOGUE,
    EARLIEST_TIME,
    LATEST_TIME,
    RFC3339_START,
    Event,
    EventData,
)
from schemas.export import export_schemas
from schemas.incidents import (
    SEVERITY_ORDER,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Phase,
    Severity,
    TimelineEntry,
)
from schemas.playbook import EventTypeSpec, FieldTypeSpec, PlaybookSpec
from schemas.records import CommandRecord, ControlTick, EventRecord, ShardRecord, TickRecord
from schemas.tasks import (
    IN_HAND_STATUSES,
    TERMINAL_STATUSES,
    Notified,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskStatus,
)

__all__ = [
    "ALERT_SEVERITIES",
    "CATALOGUE",
    "COMMAND_EVENT_TYPE",
    "EARLIEST_TIME",
    "IN_HAND_STATUSES",
    "LATEST_TIME",
    "RFC3339_START",
    "SEVERITY_ORDER",
    "TASK_COMMANDS",
    "TERMINAL_STATUSES",
    "Command",
    "CommandData",
    "CommandKind",
    "CommandRecord",
    "CommandResult",
    "ControlTick",
    "DeadLetter",
    "Event",
    "EventData",
    "EventRecord",
    "EventTypeSpec",
    "FieldTypeSpec",
    "Incident",
    "IncidentCloudEvent",
    "IncidentEvent",
    "IncidentStatus",
    "NotificationCloudEvent",
    "Notified",
    "Origin",
    "Phase",
    "PlaybookSpec",
    "Severity",
    "ShardRecord",
    "Task",
    "TaskCloudEvent",
    "TaskEvent",
    "TaskEventKind",
    "TaskStatus",
    "TickRecord",
    "TimelineEntry",
    "export_schemas",
    "playbook",
    "rosters",
]
