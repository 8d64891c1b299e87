"""Runtimes around the core: embedded (one process, SQLite) and Kafka (faust workers)."""

from orchestrator.runtime.base import (
    AsyncWrites,
    Backlog,
    CommandOutcome,
    IdempotencyKey,
    IntakeResult,
    OutboxRow,
    Runtime,
)
from orchestrator.runtime.collector import collector_paused, freeze_loaded
from orchestrator.runtime.embedded import EmbeddedRuntime

__all__ = [
    "AsyncWrites",
    "Backlog",
    "CommandOutcome",
    "EmbeddedRuntime",
    "IdempotencyKey",
    "IntakeResult",
    "OutboxRow",
    "Runtime",
    "collector_paused",
    "freeze_loaded",
]
