"""The pure, deterministic core: validate -> match -> incident state -> tasks -> outputs.

Nothing here does I/O, reads the wall clock, or imports faust, kafka, asyncio or sqlite3.
"""

from orchestrator.core.clock import Millis, format_time, parse_duration, parse_time, to_millis
from orchestrator.core.engine import (
    CommandInput,
    Engine,
    EngineConfig,
    EventInput,
    Input,
    RawRecord,
    Tick,
)
from orchestrator.core.intake import EventValidator, dead_letter
from orchestrator.core.outbox import Output
from orchestrator.core.playbook import Playbook
from orchestrator.core.state import Counters, EngineState, restore, snapshot
from orchestrator.core.summary import summary

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
