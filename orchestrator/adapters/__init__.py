"""Adapters that turn foreign formats into event envelopes."""

from orchestrator.adapters.alertmanager import alertmanager_events
from orchestrator.adapters.cloudevents import binary_headers, binary_record

__all__ = [
    "alertmanager_events",
    "binary_headers",
    "binary_record",
]
