"""The hostile corpus through events.raw and a real worker: no crash, every record accounted.

Kafka bounds a record before the orchestrator sees it: the producer refuses a record larger
than its max_request_size (1 MiB, the broker's default message.max.bytes as well), so the
corpus' three records of 1 MiB and more never reach events.raw. The producer reports that
refusal per record, and it is part of the outcome: those cases are counted as refused at the
producer, the rest must get exactly the engine's outcome.
"""

from __future__ import annotations

import base64
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.errors import MessageSizeTooLargeError
from kafka_harness import Workers, core_run, names_for, playbooks, records

from orchestrator.core.clock import parse_time
from orchestrator.core.engine import Engine
from orchestrator.core.summary import summary
from orchestrator.kafka.drills import record_key
from orchestrator.kafka.intake import Intake
from orchestrator.kafka.readmodel import collect_summary, wait_idle
from orchestrator.kafka.topics import TopicNames
from schemas.deadletter import Origin

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))
from hostile_corpus import LIMIT, T, cases, dumps, envelope

CORPUS = cases()
SEND_TIMEOUT_S = 30.0
IDLE_TIMEOUT_S = 90.0
OUTCOME = {"accepted": "accepted", "rejected": "rejected", "duplicate": "duplicates"}

Case = tuple[str, bytes, str]


def produce(bootstrap: str, names: TopicNames, corpus: list[Case]) -> tuple[dict[int, Case], int]:
    """Send each case to events.raw in order, waiting for each acknowledgement: the cases by
    the offset they got, and how many the producer refused as too large."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_in_flight_requests_per_connection=1
    )
    produced: dict[int, Case] = {}
    refused = 0
    try:
        for case in corpus:
            _name, raw, _expect = case
            try:
                sent = producer.send(names.events_raw, key=record_key(raw), value=raw)
                produced[sent.get(timeout=SEND_TIMEOUT_S).offset] = case
            except MessageSizeTooLargeError:
                assert len(raw) >= LIMIT, _name
                refused += 1
    finally:
        producer.close(timeout=SEND_TIMEOUT_S)
    return produced, refused


def dead_letters(bootstrap: str, names: TopicNames) -> list[dict[str, Any]]:
    """Every dead letter so far, as JSON."""
    return [json.loads(r.value) for r in records(bootstrap, names.deadletter)]


def expected_counts(cases_: list[Case]) -> dict[str, int]:
    """read/accepted/rejected/duplicates for the given cases' expected outcomes."""
    counts = dict.fromkeys(OUTCOME.values(), 0)
    for _name, _raw, expect in cases_:
        counts[OUTCOME[expect]] += 1
    return {"read": len(cases_), **counts}


def test_hostile_corpus_through_kafka_is_accounted_and_idempotent(
    kafka_bootstrap: str,
    topic_prefix: str,
    workers: Workers,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every record gets the engine's outcome, read = accepted + rejected + duplicates, every
    reject is a dead letter with its bytes and a reason, and a second pass changes nothing."""
    names = names_for(topic_prefix)
    worker = workers.start("w1")
    worker.wait_rebalanced()

    produced, refused = produce(kafka_bootstrap, names, CORPUS)
    wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)
    first = collect_summary(kafka_bootstrap, names)
    cases_in = list(produced.values())
    want = expected_counts(cases_in)
    assert {k: first["events"][k] for k in want} == want
    assert first["events"]["read"] == sum(first["events"][k] for k in OUTCOME.values())
    raws = [raw for _n, raw, _e in cases_in]
    assert first["incidents"] == summary(core_run(raws).state)["incidents"]
    letters = dead_letters(kafka_bootstrap, names)
    assert len(letters) == want["rejected"]
    for letter in letters:
        name, raw, expect = produced[letter["origin"]["offset"]]
        assert expect == "rejected", name
        assert base64.b64decode(letter["raw_b64"]) == raw, name
        assert letter["reason"], name
        assert letter["origin"]["name"] == names.events_raw

    again, refused_again = produce(kafka_bootstrap, names, CORPUS)
    wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)
    second = collect_summary(kafka_bootstrap, names)
    assert (len(again), refused_again) == (len(produced), refused)
    assert second["incidents"] == first["incidents"]
    assert second["events"]["accepted"] == first["events"]["accepted"]
    assert second["events"]["rejected"] == 2 * want["rejected"]
    assert (
        second["events"]["duplicates"] == want["duplicates"] + want["accepted"] + want["duplicates"]
    )
    assert len(dead_letters(kafka_bootstrap, names)) == 2 * want["rejected"]
    assert worker.process.poll() is None, "the worker must survive the corpus"
    outcomes = Counter(expect for _n, _r, expect in cases_in)
    with capsys.disabled():
        print(
            f"\nreliability hostile (kafka): {len(CORPUS)} cases, {refused} refused by the "
            f"producer (over 1 MiB), {len(cases_in)} read: {outcomes['accepted']} accepted, "
            f"{outcomes['rejected']} rejected (dead-lettered), {outcomes['duplicate']} "
            f"duplicates; second pass: {second['events']} and incidents unchanged"
        )


@pytest.mark.parametrize(
    ("at", "status"),
    [(T, "accepted"), ("9999-12-31T23:59:59Z", "rejected"), ("1900-01-01T00:00:00Z", "rejected")],
)
def test_kafka_intake_refuses_the_event_times_the_engine_refuses(at: str, status: str) -> None:
    """Intake rejects events far ahead of or behind its watermark, as the engine does, so one
    bad clock cannot move the watermark past every dedupe entry."""
    intake = Intake(Engine(playbooks()), names_for("unit."), partitions=3)
    origin = Origin(kind="kafka", name="unit.events.raw", partition=0, offset=5)
    raw = dumps(envelope(id=f"at-{at}", time=at))
    verdict = intake.judge(raw, origin, lambda _key: None, watermark=parse_time(T))
    assert verdict.status == status
    assert (verdict.dead_letter is not None) == (status == "rejected")
