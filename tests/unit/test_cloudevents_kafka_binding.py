"""The CloudEvents Kafka binding's binary mode as a structured record, and the envelope of what
the orchestrator emits: which records are binary, where headers go, that any binary record is an
Event or a rejection (never an error the worker would stop on), and that the envelope is
deterministic, carries the output as data and reads back with the official SDK."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime

from cloudevents.core.formats.json import JSONFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.adapters import (
    cloudevent_data,
    kafka_binary_headers,
    kafka_binary_record,
    source_of,
    structured_event,
    task_body_cloudevent,
    task_cloudevent,
)
from orchestrator.engine.validate import EventValidator
from orchestrator.errors import EventRejected
from orchestrator.playbook import load_directory
from orchestrator.settings import shipped_playbooks
from orchestrator.testing import Drill, event
from schemas import TaskCloudEvent, TaskEvent

HEADERS = [
    ("ce_specversion", b"1.0"),
    ("ce_id", b"k-1"),
    ("ce_source", b"mon/prom"),
    ("ce_type", b"ops.alert"),
    ("ce_time", b"2026-11-20T10:00:00Z"),
]
DATA = b'{"alertname":"Down","service":"pay","status":"firing","severity":"critical"}'
VALIDATOR = EventValidator()


def test_only_records_with_ce_headers_outside_the_cloudevents_media_types_are_binary() -> None:
    """ce_ headers make a record binary unless content-type says structured; a record without
    them (plain JSON, or a structured one) stays on the path the topic always took."""
    json_type = [("content-type", b"application/json")]
    assert kafka_binary_headers([*HEADERS, *json_type, ("orch-x", b"1")]) == {
        **{k: v.decode() for k, v in HEADERS},
        "content-type": "application/json",
    }
    assert kafka_binary_headers(json_type) is None
    assert kafka_binary_headers(()) is None
    structured = [("content-type", b"application/cloudevents+json; charset=UTF-8")]
    assert kafka_binary_headers([*HEADERS, *structured]) is None


def test_binary_record_is_the_structured_event_with_utf8_values_as_sent() -> None:
    """Header values are UTF-8 with no percent-decoding (unlike HTTP); content-type becomes
    datacontenttype; ce_data cannot replace the value; the value is the data, as sent."""
    headers = kafka_binary_headers(
        [
            *HEADERS,
            ("CE_Subject", "Euro € 100%20".encode()),
            ("ce_data", b"{}"),
            ("content-type", b"application/json"),
        ]
    )
    assert headers is not None
    record = kafka_binary_record(headers, DATA)
    parsed = VALIDATOR.parse(record)
    assert (parsed.id, parsed.source, parsed.subject) == ("k-1", "mon/prom", "Euro € 100%20")
    assert parsed.data["service"] == "pay"
    assert json.loads(record)["datacontenttype"] == "application/json"
    assert record.endswith(b',"data":' + DATA + b"}")


@settings(max_examples=300, deadline=None)
@given(
    headers=st.lists(
        st.tuples(
            st.sampled_from(["ce_id", "ce_source", "ce_type", "ce_time", "ce_x", "content-type"]),
            st.binary(max_size=30),
        ),
        max_size=8,
    ),
    value=st.one_of(st.binary(max_size=60), st.just(DATA)),
)
def test_any_binary_record_is_an_event_or_a_rejection(
    headers: list[tuple[str, bytes]], value: bytes
) -> None:
    """Whatever the headers and value, the record made is an Event or an EventRejected with a
    reason: never an exception the worker would dead-letter as 'could not be processed'."""
    found = kafka_binary_headers([*HEADERS, *headers])
    assert found is not None or any(
        k == "content-type" and v.lower().startswith(b"application/cloudevents") for k, v in headers
    )
    if found is not None:
        with contextlib.suppress(EventRejected):
            VALIDATOR.parse(kafka_binary_record(found, value))


def _task_event() -> TaskEvent:
    drill = Drill.of(load_directory(shipped_playbooks())).feed(
        event(
            "ops.alert",
            "2026-11-20T10:00:00Z",
            alertname="Down",
            service="pay",
            status="firing",
            severity="critical",
        )
    )
    return drill.task_events("task.assigned")[0]


def test_task_envelope_is_deterministic_and_carries_the_task_event_as_data() -> None:
    """The same task event gives the same bytes, from the model and from its dumped row; the
    SDK reads the attributes; data is the task event; a bare record reads as itself."""
    task = _task_event()
    source = source_of("orch.")
    wrapped = task_cloudevent(task, source)
    assert wrapped == task_cloudevent(task, source)
    assert wrapped == task_body_cloudevent(json.loads(task.model_dump_json()), source)
    envelope = TaskCloudEvent.model_validate_json(wrapped)
    assert envelope.data == task
    read = JSONFormat().read(None, wrapped)
    assert (read.get_type(), read.get_source()) == (
        "orchestrator.task.assigned",
        "/orchestrator/orch",
    )
    assert (read.get_id(), read.get_subject()) == (envelope.data.id, envelope.data.task.id)
    assert read.get_time() == datetime.fromisoformat(envelope.data.time)
    assert read.get_extension("role") == "ops"
    assert cloudevent_data(wrapped) == task.model_dump_json().encode()
    assert cloudevent_data(task.model_dump_json().encode()) == task.model_dump_json().encode()


def test_structured_event_wraps_any_payload_for_webhooks() -> None:
    """A dict payload (a webhook body) with a subject; none without one; source_of names the
    namespace without its separator, or none."""
    wrapped = structured_event(
        {"text": "é"},
        type_="orchestrator.notification.sent",
        source="/orchestrator",
        id_="n-1",
        time="2026-11-20T10:00:00Z",
        subject="inc-1",
    )
    body = json.loads(wrapped)
    assert list(body) == [
        "specversion",
        "id",
        "source",
        "type",
        "subject",
        "time",
        "datacontenttype",
        "data",
    ]
    assert body["data"] == {"text": "é"}
    bare = structured_event(b"{}", type_="t", source="s", id_="i", time="2026-11-20T10:00:00Z")
    assert "subject" not in json.loads(bare)
    assert (source_of(""), source_of("drill-7.")) == ("/orchestrator", "/orchestrator/drill-7")
