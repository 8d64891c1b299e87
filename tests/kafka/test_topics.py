"""The Kafka topics module against a real broker: creating, checking and using the topics."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

from orchestrator.errors import TopicLayoutError
from orchestrator.runtime.kafka import TopicNames, describe_topics, ensure_topics, prepare_topics
from orchestrator.runtime.kafka.topics import topic_drift
from orchestrator.settings import Settings

ROLES = ("analyst", "comms")
ROUND_TRIP_TIMEOUT_S = 30
RACE_ATTEMPTS = 8
RACE_ROLES = ("ops", "pr", "legal", "logistics")  # the shipped playbooks' roles: 9 topics
RACE_PARTITIONS = 6  # as deploy/docker-compose.yml: the window widens with the partitions
# Kafka's Java client hashes this key to -985981536 (murmur2, Kafka's UtilsTest vectors), so a
# producer that places keys as Java does puts it on partition (hash & 0x7fffffff) % partitions.
KEY = b"a-little-bit-long-string"
KEY_JAVA_MURMUR2 = -985981536


def test_ensure_topics_creates_every_topic_with_the_asked_partitions(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """ensure_topics creates each fixed and per-role topic with the partition count asked for."""
    names = TopicNames(topic_prefix, ROLES)

    created = ensure_topics(kafka_bootstrap, names, partitions=2)

    assert created == [
        f"{topic_prefix}events.raw",
        f"{topic_prefix}incidents.keyed",
        f"{topic_prefix}commands",
        f"{topic_prefix}incidents",
        f"{topic_prefix}deadletter",
        f"{topic_prefix}tasks.analyst",
        f"{topic_prefix}tasks.comms",
    ]
    assert describe_topics(kafka_bootstrap, names) == dict.fromkeys(created, 2)


def test_ensure_topics_twice_creates_nothing_the_second_time(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """A second ensure_topics creates nothing and leaves existing partition counts as they are."""
    names = TopicNames(topic_prefix, ROLES)
    ensure_topics(kafka_bootstrap, names, partitions=2)

    assert ensure_topics(kafka_bootstrap, names, partitions=5) == []
    assert describe_topics(kafka_bootstrap, names) == dict.fromkeys(names.all(), 2)


def test_a_process_refuses_topics_another_created_with_other_partition_counts(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """What a worker and `run --kafka` do first: with topics made by another process on 3
    partitions, a process whose settings say 6 stops with an error naming each topic (it would
    route records to partitions 3-5, which do not exist); with the same counts it goes on."""
    names = TopicNames(topic_prefix, ROLES)
    ensure_topics(kafka_bootstrap, names, partitions=3, overrides={names.events_raw: 1})
    same = Settings(kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix)
    assert prepare_topics(same.model_copy(update={"kafka_partitions": 3}), names) == []
    other = same.model_copy(update={"kafka_partitions": 6})
    with pytest.raises(TopicLayoutError) as refused:
        prepare_topics(other, names)
    message = str(refused.value)
    assert f"{topic_prefix}incidents.keyed has 3" in message
    assert f"{topic_prefix}tasks.comms has 3" in message
    assert f"{topic_prefix}events.raw" not in message.split(" partitions where")[0]
    assert "ORCH_KAFKA_PARTITIONS is 6" in message


def test_ensure_topics_tolerates_topics_created_by_someone_else_meanwhile(
    kafka_bootstrap: str, topic_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Topics that appear between ensure_topics' check and its create are not an error."""
    names = TopicNames(topic_prefix, ROLES)
    ensure_topics(kafka_bootstrap, names, partitions=2)
    # The check sees no topics, as if another process created them all right after it.
    monkeypatch.setattr(KafkaAdminClient, "list_topics", lambda self: [])

    assert ensure_topics(kafka_bootstrap, names, partitions=2) == []


def _broker_configs(bootstrap: str, topics: list[str]) -> dict[str, dict[str, str]]:
    """The cleanup policy and retention the broker reports for `topics` (read with the admin
    client here, not through the module under test)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tests-configs")
    try:
        keys = {"cleanup.policy": None, "retention.ms": None}
        asked = [ConfigResource(ConfigResourceType.TOPIC, t, configs=dict(keys)) for t in topics]
        found = admin.describe_configs(asked, config_filter="all")["topic"]
    finally:
        admin.close()
    return {t: {k: str(c["value"]) for k, c in found[t].items()} for t in topics}


def test_ensure_topics_compacts_the_state_topic_and_gives_streams_their_retention(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """Read back from the broker: incidents is compacted; events.raw, incidents.keyed,
    commands, deadletter and each tasks.<role> delete after the retention asked for."""
    names = TopicNames(topic_prefix, ROLES)
    day_ms = 86_400_000
    ensure_topics(kafka_bootstrap, names, partitions=2, retention_ms=3 * day_ms)

    configs = _broker_configs(kafka_bootstrap, list(names.all()))

    assert configs.pop(names.incidents)["cleanup.policy"] == "compact"
    stream = {"cleanup.policy": "delete", "retention.ms": str(3 * day_ms)}
    assert sorted(configs) == sorted(set(names.all()) - {names.incidents})
    assert all(config == stream for config in configs.values()), configs


def test_drift_names_each_topic_whose_configuration_was_changed_by_hand(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """After someone turns compaction off on incidents, topic_drift reports exactly that topic
    and key with the command that fixes it; before, it reports nothing."""
    names = TopicNames(topic_prefix, ROLES)
    ensure_topics(kafka_bootstrap, names, partitions=1)
    wanted = {names.incidents: {"cleanup.policy": "compact"}, names.commands: {}}
    assert topic_drift(kafka_bootstrap, wanted) == []

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id="tests-configs")
    try:
        changed = {"cleanup.policy": "delete"}
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, names.incidents, changed)])
    finally:
        admin.close()

    drift = topic_drift(kafka_bootstrap, wanted)
    assert len(drift) == 1
    assert drift[0].startswith(f"{names.incidents}: cleanup.policy=delete, expected compact")
    assert "--add-config cleanup.policy=compact" in drift[0]


def test_ensure_topics_returns_when_topics_another_process_just_created_are_readable(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """Right after another process created the topics (a worker and the API starting together),
    ensure_topics returns only once a consumer sees every partition of every topic: the API's
    read model lists them next and never follows a topic it did not see."""
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id="tests-other-process")
    try:
        for attempt in range(RACE_ATTEMPTS):  # the window is short: a few tries catch it
            names = TopicNames(f"{topic_prefix}r{attempt}.", RACE_ROLES)
            admin.create_topics([NewTopic(name, RACE_PARTITIONS, 1) for name in names.all()])

            assert ensure_topics(kafka_bootstrap, names, partitions=RACE_PARTITIONS) == []
            consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap)
            try:
                seen = {t: consumer.partitions_for_topic(t) for t in names.all()}
            finally:
                consumer.close()
            every = set(range(RACE_PARTITIONS))
            unseen = {topic: found for topic, found in seen.items() if found != every}
            assert unseen == {}, f"attempt {attempt}"
    finally:
        admin.close()


def test_describe_topics_omits_topics_that_do_not_exist(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """describe_topics reports only existing topics, so a missing one shows as absent."""
    assert describe_topics(kafka_bootstrap, TopicNames(topic_prefix, ROLES)) == {}


def test_keyed_record_lands_on_the_java_partition_and_reads_back_byte_for_byte(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """A keyed record lands on the partition Kafka's Java client picks and reads back intact."""
    partitions = 3
    names = TopicNames(topic_prefix, ROLES)
    ensure_topics(kafka_bootstrap, names, partitions=partitions)
    topic = names.incidents_keyed
    value = bytes(range(256)) + "incident é 🔥".encode()
    expected_partition = (KEY_JAVA_MURMUR2 & 0x7FFFFFFF) % partitions

    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    try:
        sent = producer.send(topic, key=KEY, value=value).get(timeout=ROUND_TRIP_TIMEOUT_S)
    finally:
        producer.close()

    assert sent.partition == expected_partition
    record = _read_one(kafka_bootstrap, TopicPartition(topic, expected_partition), sent.offset)
    assert (record.key, record.value) == (KEY, value)


def _read_one(bootstrap: str, partition: TopicPartition, offset: int) -> Any:
    """The record at `offset` of `partition`, read without a consumer group."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        consumer.assign([partition])
        consumer.seek(partition, offset)
        deadline = time.monotonic() + ROUND_TRIP_TIMEOUT_S
        while time.monotonic() < deadline:
            for record in consumer.poll(timeout_ms=500).get(partition, []):
                return record
    finally:
        consumer.close()
    pytest.fail(f"nothing read from {partition} at offset {offset} in {ROUND_TRIP_TIMEOUT_S}s")


@pytest.mark.parametrize("prefix", ["orch/", "drill 2026.", "événements.", "team:a."])
def test_prefix_with_illegal_characters_is_refused(prefix: str) -> None:
    """A prefix Kafka would refuse in topic names is rejected up front with a clear ValueError."""
    with pytest.raises(ValueError, match="characters Kafka refuses in topic names"):
        TopicNames(prefix, ROLES)
