"""CloudEvents' Kafka protocol binding (1.0): a binary-mode record as a structured record.

A structured-mode record (header `content-type: application/cloudevents+json`) carries a
JSON-format event in its value, the record the raw-events topic has always taken. A binary-mode
record carries the attributes in `ce_<name>` headers (UTF-8 values, no percent-encoding, unlike
HTTP), `datacontenttype` in the `content-type` header and the data as its value;
`kafka_binary_record` turns it into the JSON-format record a structured one would carry (with
the HTTP binding's `attributes_record`), so validation, dedupe and dead letters are the same
for every mode and both bindings.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.adapters.cloudevents import (
    CLOUDEVENTS_MEDIA_TYPE,
    CONTENT_TYPE,
    NOT_HEADERS,
    attributes_record,
)

KAFKA_CE_PREFIX = "ce_"
KafkaHeaders = Sequence[tuple[str, bytes]]
"""A record's headers as the clients give them: (name, value) pairs."""


def kafka_binary_headers(headers: KafkaHeaders) -> dict[str, str] | None:
    """The CloudEvents headers (`ce_*` and content-type, names in lower case, values decoded
    as UTF-8) of a binary-mode record; None for any other record (structured, or plain JSON
    with no `ce_` header, which the raw-events topic has always read as structured)."""
    for name, _ in headers:  # a loop, not any(): most records have no header at all
        if name[:3].lower() == KAFKA_CE_PREFIX:
            break
    else:
        return None
    found = {
        lowered: value.decode("utf-8", errors="replace") if value else ""
        for lowered, value in ((name.lower(), value) for name, value in headers)
        if lowered.startswith(KAFKA_CE_PREFIX) or lowered == CONTENT_TYPE
    }
    if found.get(CONTENT_TYPE, "").lower().startswith(CLOUDEVENTS_MEDIA_TYPE):
        return None
    return found


def kafka_binary_record(headers: dict[str, str], value: bytes) -> bytes:
    """The JSON-format record of a binary-mode Kafka event: every `ce_<name>` header as
    attribute `<name>`, content-type as `datacontenttype` and the value as `data`."""
    attributes = {
        name[len(KAFKA_CE_PREFIX) :]: text
        for name, text in headers.items()
        if name.startswith(KAFKA_CE_PREFIX) and name[len(KAFKA_CE_PREFIX) :] not in NOT_HEADERS
    }
    return attributes_record(attributes, headers.get(CONTENT_TYPE), value)
