"""The pure, deterministic core: validate -> match -> incident state -> tasks -> outputs.

Nothing here does I/O, reads the wall clock, or imports faust, kafka, asyncio or sqlite3.
"""

from orchestrator.engine.admit import claim_refusal, command_refusal, time_refusal
from orchestrator.engine.clock import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    Clock,
    Millis,
    format_duration,
    format_time,
    parse_duration,
    parse_duration_at_most,
    parse_time,
    to_millis,
)
from orchestrator.engine.config import EngineConfig
from orchestrator.engine.contract import build, contract, record_of
from orchestrator.engine.expr import Expression, compile_expression
from orchestrator.engine.ids import SEP, shard_of, split_task_id
from orchestrator.engine.inputs import CommandInput, EventInput, Input, RawRecord, Tick
from orchestrator.engine.oncall import Hours, Layer, OnCall, Override, Roster, Rosters
from orchestrator.engine.outputs import Output, Retired
from orchestrator.engine.playbook import (
    EVENT_ROOTS,
    INCIDENT_COMMANDER,
    INCIDENT_ROOTS,
    Deadline,
    KeyFn,
    Playbook,
    Resolution,
    Role,
    Selector,
    SeverityRule,
    Signals,
    TaskDef,
    Trigger,
)
from orchestrator.engine.records import EntryRecord, IncidentRecord, TaskRecord, VerdictRecord
from orchestrator.engine.severity import DEFAULT_INITIAL, Matrix
from orchestrator.engine.state import (
    Counters,
    EngineState,
    dedupe_key_of,
    restore,
    snapshot,
)
from orchestrator.engine.stateview import (
    SnapshotView,
    encode_chunks,
    encode_snapshot,
    snapshot_view,
)
from orchestrator.engine.step import Engine
from orchestrator.engine.summary import incident_summary, ordered, summary
from orchestrator.engine.timerqueue import TimerEntry
from orchestrator.engine.validate import EventValidator, dead_letter
from orchestrator.engine.windows import (
    DAY_SLACK,
    AggregateWindow,
    BaselineWindow,
    ConsecutiveWindow,
    CountWindow,
    SamplesWindow,
    Window,
)

__all__ = [
    "DAY_MS",
    "DAY_SLACK",
    "DEFAULT_INITIAL",
    "EVENT_ROOTS",
    "HOUR_MS",
    "INCIDENT_COMMANDER",
    "INCIDENT_ROOTS",
    "MINUTE_MS",
    "SEP",
    "AggregateWindow",
    "BaselineWindow",
    "Clock",
    "CommandInput",
    "ConsecutiveWindow",
    "CountWindow",
    "Counters",
    "Deadline",
    "Engine",
    "EngineConfig",
    "EngineState",
    "EntryRecord",
    "EventInput",
    "EventValidator",
    "Expression",
    "Hours",
    "IncidentRecord",
    "Input",
    "KeyFn",
    "Layer",
    "Matrix",
    "Millis",
    "OnCall",
    "Output",
    "Override",
    "Playbook",
    "RawRecord",
    "Resolution",
    "Retired",
    "Role",
    "Roster",
    "Rosters",
    "SamplesWindow",
    "Selector",
    "SeverityRule",
    "Signals",
    "SnapshotView",
    "TaskDef",
    "TaskRecord",
    "Tick",
    "TimerEntry",
    "Trigger",
    "VerdictRecord",
    "Window",
    "build",
    "claim_refusal",
    "command_refusal",
    "compile_expression",
    "contract",
    "dead_letter",
    "dedupe_key_of",
    "encode_chunks",
    "encode_snapshot",
    "format_duration",
    "format_time",
    "incident_summary",
    "ordered",
    "parse_duration",
    "parse_duration_at_most",
    "parse_time",
    "record_of",
    "restore",
    "shard_of",
    "snapshot",
    "snapshot_view",
    "split_task_id",
    "summary",
    "time_refusal",
    "to_millis",
]
