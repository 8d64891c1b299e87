"""The pure, deterministic core: validate -> match -> incident state -> tasks -> outputs.

Nothing here does I/O, reads the wall clock, or imports faust, kafka, asyncio or sqlite3.
"""

from orchestrator.engine.clock import Millis, format_time, parse_duration, parse_time, to_millis
from orchestrator.engine.outputs import Output
from orchestrator.engine.playbook import Playbook
from orchestrator.engine.state import Counters, EngineState, restore, snapshot
from orchestrator.engine.step import (
    CommandInput,
    Engine,
    EngineConfig,
    EventInput,
    Input,
    RawRecord,
    Tick,
)
from orchestrator.engine.summary import summary
from orchestrator.engine.validate import EventValidator, dead_letter

__all__ = [
    "CommandInput",
    "Counters",
    "Engine",
    "EngineConfig",
    "EngineState",
    "EventInput",
    "EventValidator",
    "Input",
    "Millis",
    "Output",
    "Playbook",
    "RawRecord",
    "Tick",
    "dead_letter",
    "format_time",
    "parse_duration",
    "parse_time",
    "restore",
    "snapshot",
    "summary",
    "to_millis",
]
