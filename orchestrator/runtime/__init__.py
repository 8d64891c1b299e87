"""Runtimes around the core: embedded (one process, SQLite) and Kafka (faust workers)."""

from orchestrator.runtime.base import IntakeResult, Runtime
from orchestrator.runtime.embedded import EmbeddedRuntime

__all__ = ["EmbeddedRuntime", "IntakeResult", "Runtime"]
