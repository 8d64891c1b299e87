"""What the orchestrator emits, as CloudEvents 1.0 in JSON structured mode.

A task event or an incident event leaves a runtime wrapped in an envelope whose `data` is the
output exactly as it was before (TaskEvent, IncidentEvent), so a consumer that reads `data`
reads today's record and one on an event mesh can route on the attributes:

    specversion      "1.0"
    id               the output's own id (deterministic: a replay emits the same bytes)
    source           /orchestrator/<namespace> (`source_of`)
    type             orchestrator.<kind>, e.g. orchestrator.task.assigned,
                     orchestrator.incident.opened (`TYPE_PREFIX`)
    subject          the task id (task events) or the incident id (incident events)
    time             the output's event time
    datacontenttype  application/json
    role             extension, task events only: the role the event is for

`structured_event` wraps any JSON payload (notifications' webhook bodies use it too);
`cloudevent_data` reads the payload back (or a bare payload written before the envelope).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from pydantic import BaseModel

from orchestrator.adapters.cloudevents import with_data
from schemas import IncidentEvent, TaskEvent

SPECVERSION = "1.0"
TYPE_PREFIX = "orchestrator."
SOURCE_ROOT = "/orchestrator"
STRUCTURED_MEDIA_TYPE = "application/cloudevents+json"
"""The content type (HTTP Content-Type, Kafka content-type header) of a structured event."""
JSON_MEDIA_TYPE = "application/json"
Payload = bytes | BaseModel | Mapping[str, Any]
"""A JSON payload: already encoded, a pydantic model, or a JSON object."""


class _Envelope(msgspec.Struct):
    specversion: str | None = None
    data: msgspec.Raw = msgspec.Raw()


_ENVELOPE = msgspec.json.Decoder(_Envelope)


def source_of(namespace: str) -> str:
    """The `source` of what one deployment emits: `/orchestrator/<namespace>` (a topic prefix
    such as `orch.` names the namespace `orch`), or `/orchestrator` without one."""
    name = namespace.strip(".-_")
    return f"{SOURCE_ROOT}/{name}" if name else SOURCE_ROOT


def structured_event(
    payload: Payload,
    *,
    type_: str,
    source: str,
    id_: str,
    time: str,
    subject: str | None = None,
    extensions: Mapping[str, str] | None = None,
) -> bytes:
    """`payload` as the `data` of a structured-mode CloudEvent (JSON), the attributes first and
    in a fixed order, so the same arguments give the same bytes."""
    attributes = {
        "specversion": SPECVERSION,
        "id": id_,
        "source": source,
        "type": type_,
        **({"subject": subject} if subject is not None else {}),
        "time": time,
        "datacontenttype": JSON_MEDIA_TYPE,
        **(extensions or {}),
    }
    return with_data(msgspec.json.encode(attributes), _encoded(payload))


def _encoded(payload: Payload) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, BaseModel):
        return payload.model_dump_json().encode("utf-8")
    return msgspec.json.encode(payload)


def task_cloudevent(event: TaskEvent, source: str) -> bytes:
    """A task event as emitted: type orchestrator.<kind>, subject the task id, extension role."""
    return _task(event, source, event.kind, event.id, event.time, event.task.id, event.role)


def task_body_cloudevent(body: Mapping[str, Any], source: str) -> bytes:
    """`task_cloudevent` of a task event already dumped to JSON (an outbox row's body), without
    validating it again."""
    kind, id_, time, role = (str(body[name]) for name in ("kind", "id", "time", "role"))
    return _task(body, source, kind, id_, time, str(body["task"]["id"]), role)


def _task(
    payload: Payload, source: str, kind: str, id_: str, time: str, task_id: str, role: str
) -> bytes:
    return structured_event(
        payload,
        type_=TYPE_PREFIX + kind,
        source=source,
        id_=id_,
        time=time,
        subject=task_id,
        extensions={"role": role},
    )


def incident_cloudevent(event: IncidentEvent, source: str) -> bytes:
    """An incident event as emitted: type orchestrator.<kind>, subject the incident id."""
    return structured_event(
        event,
        type_=TYPE_PREFIX + event.kind,
        source=source,
        id_=event.id,
        time=event.time,
        subject=event.incident_id,
    )


def cloudevent_data(value: bytes) -> bytes:
    """The `data` of a structured CloudEvent as its JSON bytes; a value that is not one (a
    bare payload, as records were written before the envelope) is returned as it is.
    ValueError when `value` is not a JSON object."""
    envelope = _ENVELOPE.decode(value)
    if envelope.specversion is None or not len(envelope.data):
        return value
    return bytes(envelope.data)
