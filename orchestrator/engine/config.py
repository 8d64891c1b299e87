"""The engine's tunables (EngineConfig): every one has a safe default."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from orchestrator.engine.clock import DAY_MS, HOUR_MS, MINUTE_MS, Millis
from orchestrator.engine.oncall import Rosters
from orchestrator.engine.validate import DEFAULT_MAX_EVENT_BYTES

LatePolicy = Literal["process", "dead_letter"]


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Tunables of the engine; every one has a safe default."""

    allowed_lateness: Millis = 5 * MINUTE_MS
    late_policy: LatePolicy = "process"
    dedupe_horizon: Millis = 7 * DAY_MS
    max_future_skew: Millis = 7 * DAY_MS
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    timeline_event_cap: int = 200
    open_signals_cap: int = 1_000
    """How many open signals (firing alert instances, ...) an incident, or a key without one,
    lists; beyond it they are counted (`open_signals_untracked`), so that a storm of instances
    costs memory per incident, not per alert."""
    sweep_every: Millis = HOUR_MS
    dedupe_max_entries: int = 500_000
    incident_retention: Millis = 0
    """How long a resolved or closed incident stays in memory after it resolved (or, when it
    was closed later, after it closed) before it is retired (emitted as `Retired` and
    forgotten); 0 keeps every incident."""
    command_retention: Millis = 0
    """How long the verdict on a command stays after it was taken, so that the command sent
    again with the same id is answered with it instead of applied again; 0 keeps every one."""
    drill: bool = False
    max_clock_skew: Millis = 5 * MINUTE_MS
    """How far a record from the network (HTTP, Kafka) may be ahead of the runtime's clock when
    it arrived (the `now` of its step). A record from a file is measured against the newest
    event instead (by `max_future_skew`): a replay keeps the log's own clock."""
    network_commands: bool = False
    """Take `orchestrator.command` events from the network too (the events topic of a drill
    namespace the operator fills from a recorded log); from files they are always taken."""
    source_claims: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Named ingest senders and the event sources (patterns) each may claim."""
    rosters: Rosters | None = field(default=None, hash=False)
    """Who is on call for each role when (the rosters file): assignments and escalations are
    addressed to them. None: task events are addressed to roles only, as before rosters."""
