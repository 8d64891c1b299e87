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
from kafka_harness import Workers, names_for, playbooks, records

from orchestrator.engine.admit import NETWORK_COMMAND_REFUSED
from orchestrator.engine.clock import DAY_MS, MINUTE_MS, Millis, format_time, parse_time
from orchestrator.engine.step import Engine, EngineConfig, RawRecord
from orchestrator.engine.summary import summary
from orchestrator.runtime.kafka.drills import record_key
from orchestrator.runtime.kafka.intake import Intake
from orchestrator.runtime.kafka.readmodel import collect_summary, wait_idle
from orchestrator.runtime.kafka.topics import TopicNames
from orchestrator.settings import Settings
from schemas.deadletter import Origin

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))
from hostile_corpus import LIMIT, T, cases, classes, dumps, envelope

CORPUS = cases()
SEND_TIMEOUT_S = 30.0
IDLE_TIMEOUT_S = 90.0
OUTCOME = {"accepted": "accepted", "rejected": "rejected", "duplicate": "duplicates"}

RECEIVED = parse_time(T)
"""The clock the core expectation and the unit cases receive records at: the corpus' time (the
worker receives them later, by its wall clock, and its shards run on event time: no timer of
the corpus' incidents falls due in either)."""

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


def core_incidents(raws: list[bytes], topic: str) -> list[dict[str, Any]]:
    """The incidents the core engine makes of `raws` received from `topic` (as records from the
    network, as the worker takes them: command events refused, times against the clock)."""
    engine = Engine(playbooks(), Settings().engine_config())
    state = engine.initial_state()
    for offset, raw in enumerate(raws):
        origin = Origin(kind="kafka", name=topic, partition=0, offset=offset)
        state, _ = engine.step(state, RawRecord(raw, origin), RECEIVED)
    incidents: list[dict[str, Any]] = summary(state)["incidents"]
    return incidents


def is_command_case(name: str) -> bool:
    """True for the corpus' command events sent to the intake (the _trust group)."""
    return name.startswith("command from the intake")


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
    """Every record gets the engine's outcome, read = accepted + rejected + duplicates after
    every class of the corpus, every reject is a dead letter with its bytes and a reason, and
    a second pass changes nothing."""
    names = names_for(topic_prefix)
    worker = workers.start("w1")
    worker.wait_rebalanced()

    produced: dict[int, Case] = {}
    refused = 0
    before = dict.fromkeys(("read", *OUTCOME.values()), 0)
    letters_before = 0
    lines = []
    for class_name, group in classes():
        sent, refused_here = produce(kafka_bootstrap, names, group)
        produced.update(sent)
        refused += refused_here
        wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)
        events = collect_summary(kafka_bootstrap, names)["events"]
        delta = {k: events[k] - before[k] for k in before}
        assert events["read"] == sum(events[k] for k in OUTCOME.values()), class_name
        assert delta == expected_counts(list(sent.values())), class_name
        lettered = len(dead_letters(kafka_bootstrap, names))
        assert lettered == events["rejected"], class_name
        assert worker.process.poll() is None, class_name
        lines.append(
            f"hostile class (kafka) {class_name!r}: {len(group)} cases, {refused_here} refused "
            f"by the producer, read {delta['read']}, accepted {delta['accepted']}, rejected "
            f"{delta['rejected']}, dead-lettered {lettered - letters_before}, duplicates "
            f"{delta['duplicates']}; totals {events}"
        )
        before = {k: events[k] for k in before}
        letters_before = lettered
    assert len(produced) + refused == len(CORPUS)
    first = collect_summary(kafka_bootstrap, names)
    cases_in = list(produced.values())
    want = expected_counts(cases_in)
    assert {k: first["events"][k] for k in want} == want
    assert first["events"]["read"] == sum(first["events"][k] for k in OUTCOME.values())
    raws = [raw for _n, raw, _e in cases_in]
    assert first["incidents"] == core_incidents(raws, names.events_raw)
    letters = dead_letters(kafka_bootstrap, names)
    assert len(letters) == want["rejected"]
    for letter in letters:
        name, raw, expect = produced[letter["origin"]["offset"]]
        assert expect == "rejected", name
        assert base64.b64decode(letter["raw_b64"]) == raw, name
        assert letter["reason"], name
        assert (letter["reason"] == NETWORK_COMMAND_REFUSED) == is_command_case(name), name
        assert letter["origin"]["name"] == names.events_raw
    refused_commands = [d for d in letters if d["reason"] == NETWORK_COMMAND_REFUSED]
    assert len(refused_commands) == sum(is_command_case(n) for n, _r, _e in cases_in) > 0

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
        print("", *lines, sep="\n")
        print(
            f"reliability hostile (kafka): {len(CORPUS)} cases, {refused} refused by the "
            f"producer (over 1 MiB), {len(cases_in)} read: {outcomes['accepted']} accepted, "
            f"{outcomes['rejected']} rejected (dead-lettered; {len(refused_commands)} of them "
            f"command events, refused from the network), {outcomes['duplicate']} duplicates; "
            f"second pass: {second['events']} and incidents unchanged"
        )


def _at(offset_ms: Millis) -> str:
    return format_time(RECEIVED + offset_ms)


@pytest.mark.parametrize(
    ("at", "refusal"),
    [
        (T, None),
        (_at(4 * MINUTE_MS), None),
        (_at(6 * MINUTE_MS), "ahead of this runtime's clock"),
        (_at(6 * DAY_MS), "ahead of this runtime's clock"),  # the old bound took it
        (_at(-8 * DAY_MS), "older than the dedupe horizon"),
        ("9999-12-31T23:59:59Z", "outside the supported range"),
        ("1900-01-01T00:00:00Z", "outside the supported range"),
    ],
)
def test_kafka_intake_refuses_the_event_times_the_engine_refuses(
    at: str, refusal: str | None
) -> None:
    """Intake measures an event's time against the worker's clock when it arrived (plus the
    allowed skew) and the partition's watermark (the dedupe horizon), as the engine does, and
    refuses years outside the range at validation: no sender moves the clock forward."""
    intake = Intake(Engine(playbooks()), names_for("unit."), partitions=3)
    origin = Origin(kind="kafka", name="unit.events.raw", partition=0, offset=5)
    raw = dumps(envelope(id=f"at-{at}", time=at))
    verdict = intake.judge(raw, origin, lambda _key: None, RECEIVED, received=RECEIVED)
    assert verdict.status == ("accepted" if refusal is None else "rejected")
    if refusal is None:
        assert verdict.dead_letter is None
    else:
        assert verdict.dead_letter is not None
        assert refusal in verdict.dead_letter.reason, verdict.dead_letter.reason


def test_drill_intake_holds_a_record_to_the_log_s_newest_event_and_keeps_its_watermark() -> None:
    """A drill worker's intake (a namespace filled from a recorded log) refuses a record 9 days
    ahead of the partition's newest event, though in the worker's past, with the engine's reason
    for a file's record (216h ahead of the newest event), and gives it no event time, so the
    watermark does not move; the log's next record in its own time is accepted."""
    drill = Engine(playbooks(), EngineConfig(network_commands=True))
    intake = Intake(drill, names_for("unit."), partitions=3)
    origin = Origin(kind="kafka", name="unit.events.raw", partition=0, offset=5)
    newest = RECEIVED - 30 * DAY_MS
    ahead = dumps(envelope(id="ahead", time=format_time(newest + 9 * DAY_MS + 14 * MINUTE_MS)))
    next_in_log = dumps(envelope(id="next", time=format_time(newest + 4 * MINUTE_MS)))

    refused = intake.judge(ahead, origin, lambda _key: None, newest, received=RECEIVED)
    taken = intake.judge(next_in_log, origin, lambda _key: None, newest, received=RECEIVED)

    assert refused.status == "rejected"
    assert refused.dead_letter is not None
    assert refused.dead_letter.reason.endswith(
        "is 216h ahead of the newest event; check the sender's clock"
    ), refused.dead_letter.reason
    assert refused.event_time is None
    assert refused.seen is None
    assert taken.status == "accepted"
