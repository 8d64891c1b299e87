"""Commands change incident state through the commands topic; bad records become dead letters."""

from __future__ import annotations

import base64
import json
from typing import Any

from kafka import KafkaProducer
from kafka_harness import (
    Workers,
    cloudevent_data_of,
    core_run,
    lines,
    names_for,
    records,
    values,
)

from orchestrator.engine.step import Engine
from orchestrator.engine.summary import incident_summary
from orchestrator.errors import EventRejected
from orchestrator.runtime.kafka.codec import COMMAND_RESULT, KIND_HEADER, header
from orchestrator.runtime.kafka.drills import produce_lines, send_command
from orchestrator.runtime.kafka.readmodel import collect_summary, latest_incidents, wait_idle
from orchestrator.settings import Settings
from orchestrator.testing import command, event
from schemas.commands import Command

IDLE_TIMEOUT_S = 60.0
BREACH = event(
    "security.alert",
    "2026-11-20T12:00:00Z",
    source="siem",
    id="s1",
    kind="exfiltration",
    asset="crm-db",
    records_exposed=25000,
    pii=True,
)


def _command_results(bootstrap: str, topic: str) -> dict[str, dict[str, Any]]:
    return {
        json.loads(r.value)["command_id"]: json.loads(r.value)
        for r in records(bootstrap, topic)
        if header(r.headers, KIND_HEADER) == COMMAND_RESULT.encode()
    }


def test_commands_on_the_commands_topic_change_the_incident_like_the_core(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """Acks and completions (by task id or by playbook+key) show in the incident snapshot."""
    names = names_for(topic_prefix)
    workers.start("w1").wait_rebalanced()
    produce_lines(kafka_bootstrap, names, lines([BREACH]))
    wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)
    (incident,) = latest_incidents(kafka_bootstrap, names).values()
    task_id = f"{incident.id}.legal_assessment"
    ack = Command(
        id="c1", kind="ack", actor="sam.legal", time="2026-11-20T12:10:00Z", task_id=task_id
    )
    done = Command(
        id="c2",
        kind="complete",
        actor="sam.legal",
        time="2026-11-20T13:00:00Z",
        playbook="data_breach",
        key="crm-db",
        task="legal_assessment",
        note="notify",
    )
    unknown = Command(
        id="c3",
        kind="ack",
        actor="sam.legal",
        time="2026-11-20T13:05:00Z",
        playbook="data_breach",
        key="crm-db",
        task="no_such_task",
    )

    for cmd in (ack, done, unknown, ack):  # the second ack is a replay of c1: no effect
        send_command(kafka_bootstrap, names, cmd)
    wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)

    (after,) = latest_incidents(kafka_bootstrap, names).values()
    assessment = next(t for t in after.tasks if t.id == task_id)
    assert (assessment.status.value, assessment.acknowledged_by) == ("done", "sam.legal")
    results = _command_results(kafka_bootstrap, names.incidents)
    assert (results["c1"]["accepted"], results["c2"]["accepted"]) == (True, True)
    assert results["c3"]["accepted"] is False
    assert "no_such_task" in results["c3"]["reason"]
    expected = core_run(
        lines(
            [
                BREACH,
                *(
                    command(
                        c.kind,
                        c.time.isoformat(),
                        actor=c.actor,
                        id=c.id,
                        **c.model_dump(
                            include={"task_id", "playbook", "key", "task", "note"},
                            exclude_none=True,
                        ),
                    )
                    for c in (ack, done, unknown)
                ),
            ]
        )
    )
    (core_incident,) = expected.state.incidents.values()
    assert incident_summary(after) == incident_summary(core_incident)
    pr_events = [cloudevent_data_of(r.value) for r in records(kafka_bootstrap, names.tasks("pr"))]
    assert [(e["task"]["name"], e["kind"]) for e in pr_events] == [
        ("holding_statement", "task.assigned")
    ]


def test_bad_records_go_to_the_dead_letter_topic_with_reason_raw_bytes_and_origin(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """Invalid raw events and a garbage command become dead letters; the stream goes on."""
    names = names_for(topic_prefix)
    workers.start("w1").wait_rebalanced()
    bad = [
        b'{"id": "broken-1", "source": "legacy/cron", "type": "ops.alert", "time": ',
        b"[1, 2, 3]",
        json.dumps({**BREACH, "id": "s2", "source": ""}).encode(),
        json.dumps(
            event(
                "supply.shipment_delayed",
                "2026-11-20T14:30:00Z",
                source="tms",
                id="d9",
                supplier="acme",
                shipment_id="SH-9",
                delay_hours=-3,
            )
        ).encode(),
        b"\xff\xfe not utf-8",
    ]
    raw = [*bad, *lines([BREACH])]
    produce_lines(kafka_bootstrap, names, raw)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    try:
        producer.send(names.commands, key=b"data_breach\x1fcrm-db", value=b"garbage").get(30)
    finally:
        producer.close()
    wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)

    letters = {
        (d["origin"]["name"], d["origin"]["offset"]): d
        for d in values(kafka_bootstrap, names.deadletter)
    }
    validator = Engine([], Settings().engine_config()).validator
    for offset, record in enumerate(bad):
        letter = letters.pop((names.events_raw, offset))
        assert letter["reason"] == _rejection(validator, record)
        assert base64.b64decode(letter["raw_b64"]) == record
        assert (letter["origin"]["kind"], letter["origin"]["partition"]) == ("kafka", 0)
    ((where, _offset), garbage) = letters.popitem()
    assert where == names.commands
    assert garbage["reason"].startswith("could not be processed: not valid JSON")
    assert not letters
    summary = collect_summary(kafka_bootstrap, names)
    assert summary["events"] == {"read": 6, "accepted": 1, "rejected": 5, "duplicates": 0}
    assert [i["playbook"] for i in summary["incidents"]] == ["data_breach"]


def _rejection(validator: Any, record: bytes) -> str:
    try:
        validator.parse(record)
    except EventRejected as err:
        return err.reason
    raise AssertionError(f"{record!r} is valid")


def test_a_recorded_command_by_task_id_finds_its_incident_shard(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """An `orchestrator.command` event in events.raw naming only a task id is routed through
    the workers' incident index and acknowledges the task, as in the core (a drill namespace's
    worker, which takes the recorded commands of a replayed log)."""
    names = names_for(topic_prefix)
    workers.start("w1", drill=True).wait_rebalanced()
    (incident_id,) = core_run(lines([BREACH])).state.incidents
    raw = lines(
        [
            BREACH,
            command(
                "ack",
                "2026-11-20T12:05:00Z",
                actor="sam.legal",
                id="r1",
                task_id=f"{incident_id}.legal_assessment",
            ),
        ]
    )

    produce_lines(kafka_bootstrap, names, raw)
    wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)

    (after,) = latest_incidents(kafka_bootstrap, names).values()
    (expected,) = core_run(raw).state.incidents.values()
    assert incident_summary(after) == incident_summary(expected)
    assessment = next(t for t in after.tasks if t.name == "legal_assessment")
    assert (assessment.status.value, assessment.acknowledged_by) == ("acknowledged", "sam.legal")
