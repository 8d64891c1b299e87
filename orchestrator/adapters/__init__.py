"""Adapters that turn foreign formats into event envelopes."""

from orchestrator.adapters.alertmanager import alertmanager_events

__all__ = [
    "alertmanager_events",
]
