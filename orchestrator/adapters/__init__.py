"""Adapters that turn foreign formats into event envelopes."""

from orchestrator.adapters.alertmanager import alertmanager_events
from orchestrator.adapters.cloudevents import binary_headers, binary_record
from orchestrator.adapters.cloudevents_kafka import kafka_binary_headers, kafka_binary_record
from orchestrator.adapters.cloudevents_out import (
    SOURCE_ROOT,
    STRUCTURED_MEDIA_TYPE,
    TYPE_PREFIX,
    cloudevent_data,
    incident_cloudevent,
    source_of,
    structured_event,
    task_body_cloudevent,
    task_cloudevent,
)

__all__ = [
    "SOURCE_ROOT",
    "STRUCTURED_MEDIA_TYPE",
    "TYPE_PREFIX",
    "alertmanager_events",
    "binary_headers",
    "binary_record",
    "cloudevent_data",
    "incident_cloudevent",
    "kafka_binary_headers",
    "kafka_binary_record",
    "source_of",
    "structured_event",
    "task_body_cloudevent",
    "task_cloudevent",
]
