"""The raw-events topic takes the CloudEvents Kafka binding's structured and binary modes as the
official SDK produces them, with the same validation, dedupe and dead letters (a bad binary
record's dead letter keeps its headers; the worker goes on); what the workers emit on the role
and incidents topics reads back with the SDK as structured CloudEvents whose data is the
engine's own output."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from cloudevents.core.bindings.kafka import (
    KafkaMessage,
    from_kafka,
    from_structured,
    to_binary,
    to_structured,
)
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from kafka import KafkaProducer
from kafka_harness import Workers, core_run, names_for, records, values

from orchestrator.runtime.kafka.codec import INCIDENT_EVENT, KIND_HEADER, header
from orchestrator.runtime.kafka.readmodel import collect_summary, wait_idle
from orchestrator.runtime.kafka.topics import TopicNames
from tests.api.apikit import sdk_alert as alert

IDLE_TIMEOUT_S = 60.0
RAW_PARTITIONS = 3
FORMAT = JSONFormat()


def produce(
    bootstrap: str, names: TopicNames, messages: list[KafkaMessage], partitions: int = 1
) -> None:
    """Send the SDK's messages to events.raw as they are (headers, key: None, value), the n-th
    to partition n modulo `partitions`, whatever partition its (source, id) belongs on."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for n, message in enumerate(messages):
            key = message.key.encode() if isinstance(message.key, str) else message.key
            headers = list(message.headers.items())
            sent = producer.send(
                names.events_raw,
                value=message.value,
                key=key,
                headers=headers,
                partition=n % partitions,
            )
            sent.get(30)
    finally:
        producer.close()


def sdk_message(record: Any) -> KafkaMessage:
    """A consumed record as the SDK's KafkaMessage."""
    return KafkaMessage(dict(record.headers or []), record.key, record.value)


def test_sdk_structured_and_binary_records_open_incidents_and_dedupe_across_modes(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """A structured and a binary record each open their incident; the binary resend of the
    structured one's (source, id) is a duplicate: the same event whatever the mode. With three
    raw partitions, records sent round robin without a key (as the SDK makes them) are moved by
    intake to their own partition with their headers, and judged there."""
    names = names_for(topic_prefix)
    workers.start("w1", ORCH_KAFKA_RAW_PARTITIONS=str(RAW_PARTITIONS)).wait_rebalanced()
    events = [alert("s-1", "pay-s"), alert("b-1", "pay-b"), alert("s-1", "pay-other")]
    events += [alert(f"m-{n}", f"pay-{n}") for n in range(6)]
    messages = [
        to_structured(events[0], FORMAT),
        to_binary(events[1], FORMAT),
        to_binary(events[2], FORMAT),
        *(to_binary(e, FORMAT) for e in events[3:]),
    ]
    assert "ce_id" in messages[1].headers
    assert "ce_id" not in messages[0].headers

    produce(kafka_bootstrap, names, messages, RAW_PARTITIONS)
    wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)

    summary = collect_summary(kafka_bootstrap, names)
    assert summary["events"] == {"read": 9, "accepted": 8, "rejected": 0, "duplicates": 1}
    keys = sorted((i["playbook"], i["key"], i["severity"]) for i in summary["incidents"])
    services = ["pay-0", "pay-1", "pay-2", "pay-3", "pay-4", "pay-5", "pay-b", "pay-s"]
    assert keys == [("tech_outage", s, "high") for s in services]
    moved = [r for r in records(kafka_bootstrap, names.events_raw) if r.key]
    assert moved, "no record landed off its partition: the forwarding was not exercised"
    assert all(header(r.headers, "ce_id") for r in moved if b"b-1" in r.key or b"m-" in r.key)
    assert values(kafka_bootstrap, names.deadletter) == []


def test_emitted_task_and_incident_events_read_back_with_the_sdk(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """Each task event on tasks.ops is a structured CloudEvent (content-type header) that the
    SDK reads: type orchestrator.task.<kind>, subject the task id, id and time the task
    event's, source the deployment's, extension role; its data is the core's task event. The
    incident events on the incidents topic read the same way (orchestrator.incident.*)."""
    names = names_for(topic_prefix)
    workers.start("w1").wait_rebalanced()
    event = alert("e-1", "pay-e")
    produce(kafka_bootstrap, names, [to_binary(event, FORMAT)])
    wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)

    expected = core_run([to_structured(event, FORMAT).value])
    emitted = records(kafka_bootstrap, names.tasks("ops"))
    assert emitted
    read = [from_structured(sdk_message(r), FORMAT) for r in emitted]
    assert [from_kafka(sdk_message(r), FORMAT).get_id() for r in emitted] == [
        e.get_id() for e in read
    ]
    assert [e.get_data() for e in read] == expected.task_events("ops")
    source = "/orchestrator/" + topic_prefix.rstrip(".")
    for record, cloudevent in zip(emitted, read, strict=True):
        data = cloudevent.get_data()
        assert header(record.headers, "content-type") == b"application/cloudevents+json"
        assert cloudevent.get_type() == f"orchestrator.{data['kind']}"
        assert cloudevent.get_subject() == data["task"]["id"]
        assert (cloudevent.get_id(), cloudevent.get_source()) == (data["id"], source)
        assert cloudevent.get_time() == datetime.fromisoformat(data["time"])
        assert cloudevent.get_datacontenttype() == "application/json"
        assert cloudevent.get_extension("role") == "ops"
    assert {e.get_type() for e in read} == {"orchestrator.task.assigned"}

    incident_records = [
        r
        for r in records(kafka_bootstrap, names.incidents)
        if header(r.headers, KIND_HEADER) == INCIDENT_EVENT.encode()
    ]
    opened = [from_structured(sdk_message(r), FORMAT) for r in incident_records]
    assert opened[0].get_type() == "orchestrator.incident.opened"
    (incident,) = collect_summary(kafka_bootstrap, names)["incidents"]
    assert {e.get_subject() for e in opened} == {incident["id"]}
    assert opened[0].get_data()["key"] == "pay-e"


def _binary(event: CloudEvent, drop: str = "", **changes: bytes) -> KafkaMessage:
    """The SDK's binary message for `event`, header `drop` left out and `changes` made."""
    message = to_binary(event, FORMAT)
    headers = {k: v for k, v in message.headers.items() if k != drop} | changes
    return KafkaMessage(headers, message.key, message.value)


def test_bad_binary_records_are_dead_lettered_with_their_headers_and_the_worker_goes_on(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """A binary record without ce_id, with a bad ce_time, with a body that is not JSON under
    a JSON content type, or with text data: each is a dead letter whose reason says why and
    whose origin keeps the ce_*/content-type headers (the not-JSON body kept as sent); a good
    record after them is accepted."""
    names = names_for(topic_prefix)
    workers.start("w1").wait_rebalanced()
    json_type = {"content-type": b"application/json"}
    bad = {
        "ce_id missing": _binary(alert("x-1", "pay-x"), drop="ce_id", **json_type),
        "bad ce_time": _binary(alert("bt-1", "pay-x"), ce_time=b"yesterday"),
        "not JSON": KafkaMessage(_binary(alert("nj-1", "pay-x"), **json_type).headers, None, b"{x"),
        "text data": _binary(alert("tx-1", "pay-x"), **{"content-type": b"text/plain"}),
    }
    produce(kafka_bootstrap, names, [*bad.values(), to_binary(alert("ok-1", "pay-ok"), FORMAT)])
    wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)

    letters = {
        json.dumps(letter["origin"]["headers"], sort_keys=True): letter
        for letter in values(kafka_bootstrap, names.deadletter)
    }
    found = {}
    for name, message in bad.items():
        sent = {k: v.decode() for k, v in message.headers.items()}
        letter = letters.pop(json.dumps(sent, sort_keys=True))
        assert (letter["origin"]["kind"], letter["origin"]["name"]) == ("kafka", names.events_raw)
        found[name] = letter
    assert not letters
    assert found["ce_id missing"]["reason"].startswith("id: required field is missing")
    assert found["bad ce_time"]["reason"].startswith("time: Value error, expected an RFC 3339")
    assert found["not JSON"]["reason"].startswith("not valid JSON")
    assert base64.b64decode(found["not JSON"]["raw_b64"]) == b"{x"
    assert found["text data"]["reason"].startswith("data: Input should be a valid dictionary")
    summary = collect_summary(kafka_bootstrap, names)
    assert summary["events"] == {"read": 5, "accepted": 1, "rejected": 4, "duplicates": 0}
    assert [i["key"] for i in summary["incidents"]] == ["pay-ok"]
