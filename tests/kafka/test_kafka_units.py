"""The Kafka runtime's pure parts, without a broker: wire format, shards, intake verdicts."""

from __future__ import annotations

import asyncio
import json

import pytest
from kafka.consumer.fetcher import ConsumerRecord
from kafka_harness import lines, mixed_stream, playbooks
from pydantic import TypeAdapter

import orchestrator.runtime.kafka
from orchestrator.engine.clock import format_time
from orchestrator.engine.contract import contract
from orchestrator.engine.ids import shard_of
from orchestrator.engine.step import CommandInput, Engine, EventInput, Tick
from orchestrator.errors import EventRejected
from orchestrator.runtime.kafka.batches import Staged, in_batch
from orchestrator.runtime.kafka.codec import (
    Record,
    ShardMessage,
    WireError,
    decode_shard_message,
    encode_command,
    encode_control_tick,
    encode_event,
    encode_tick,
    incident_record,
    output_record,
    partition_for,
)
from orchestrator.runtime.kafka.index import IncidentIndex
from orchestrator.runtime.kafka.intake import Intake, Seen, SeenExpiry
from orchestrator.runtime.kafka.shards import (
    UNROUTED,
    Applied,
    ShardStore,
    incident_key,
    is_shard_key,
)
from orchestrator.runtime.kafka.topics import TopicNames, roles_of
from orchestrator.settings import Settings
from orchestrator.testing import command, event
from schemas import ControlTick, DeadLetter, IncidentCloudEvent, ShardRecord, TaskCloudEvent
from schemas.commands import Command
from schemas.deadletter import Origin
from schemas.events import Event

# Kafka's Java client hashes this key to -985981536 (murmur2 test vector of Kafka's UtilsTest).
JAVA_KEY, JAVA_MURMUR2 = b"a-little-bit-long-string", -985981536
ALERT = event(
    "ops.alert",
    "2026-11-20T09:00:00Z",
    source="prom",
    id="a1",
    alertname="Down",
    service="checkout",
    status="firing",
    severity="critical",
)
SHARD = shard_of("tech_outage", "checkout")


def _engine() -> Engine:
    return Engine(playbooks(), Settings().engine_config())


def _event_message(record: dict[str, object], shard: str = SHARD) -> ShardMessage:
    return decode_shard_message(encode_event(Event.model_validate(record)), shard)


def test_the_package_exports_exactly_its_public_names() -> None:
    """The Kafka runtime's public face is pinned: adding or dropping a name is deliberate."""
    assert sorted(orchestrator.runtime.kafka.__all__) == [
        "KafkaRuntime",
        "TaskFeed",
        "TopicNames",
        "build_app",
        "collect_summary",
        "describe_topics",
        "ensure_topics",
        "export_topic",
        "latest_incidents",
        "prepare_topics",
        "produce_lines",
        "produce_log",
        "run_worker",
        "send_command",
        "wait_idle",
    ]


def test_the_agents_package_exports_exactly_its_agents() -> None:
    """The agents' public face is pinned: the three agents and what they share."""
    import orchestrator.runtime.kafka.agents as agents

    assert sorted(agents.__all__) == [
        "ErrorPolicy",
        "EscalationTimer",
        "IncidentAgent",
        "IntakeAgent",
        "Publisher",
        "dead_letter_on_error",
    ]


@pytest.mark.parametrize("partitions", [1, 3, 4, 7])
def test_shard_partition_is_the_java_clients(partitions: int) -> None:
    """Shards land where Kafka's default partitioner (Java, aiokafka, kafka-python) puts them."""
    assert partition_for(JAVA_KEY, partitions) == (JAVA_MURMUR2 & 0x7FFFFFFF) % partitions


def test_shard_messages_round_trip_events_commands_and_ticks() -> None:
    """What intake and the tools write is what the incident agent reads back."""
    cmd = Command(
        id="c1",
        kind="ack",
        actor="dana",
        time="2026-11-20T09:03:00Z",
        playbook="tech_outage",
        key="checkout",
        task="triage",
    )
    as_event = _event_message(ALERT)
    as_command = decode_shard_message(encode_command(cmd), SHARD)
    as_tick = decode_shard_message(encode_tick(1_000, broadcast=True), "*")

    assert as_event == ShardMessage(EventInput(Event.model_validate(ALERT), shard=SHARD))
    assert as_command == ShardMessage(CommandInput(cmd))
    assert as_tick == ShardMessage(Tick(), 1_000, broadcast=True)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "the record has no value"),
        (b"\xff", "not valid JSON"),
        (b"[]", "expected a JSON object, not list"),
        (b'{"kind": "nope"}', "unknown record kind 'nope'"),
        (b'{"kind": "event", "event": {"id": "x"}}', "bad event record"),
    ],
)
def test_records_that_are_not_shard_messages_are_refused_with_a_reason(
    value: bytes | None, reason: str
) -> None:
    """A foreign record on incidents.keyed or commands raises WireError saying what is wrong."""
    with pytest.raises(WireError, match=reason):
        decode_shard_message(value, SHARD)


def _applied(store: ShardStore, message: ShardMessage, where: str, offset: int) -> Applied:
    applied = store.apply(SHARD.encode(), message, where, offset)
    assert applied is not None
    store.store(applied)
    return applied


def test_a_redelivered_record_changes_nothing_and_publishes_nothing() -> None:
    """Applying the same input offset twice: the second time is a no-op (at-least-once)."""
    store = ShardStore(_engine(), {})
    first = _applied(store, _event_message(ALERT), "keyed:0", 7)
    assert first.outputs

    assert store.apply(SHARD.encode(), _event_message(ALERT), "keyed:0", 7) is None
    assert store.apply(SHARD.encode(), _event_message(ALERT), "keyed:0", 6) is None


def test_only_incidents_a_record_changed_are_published_again() -> None:
    """A joining event republishes its incident; a record of another shard's key does not."""
    store = ShardStore(_engine(), {})
    opened = _applied(store, _event_message(ALERT), "keyed:0", 0)
    joined = _applied(store, _event_message({**ALERT, "id": "a2"}), "keyed:0", 1)
    idle = _applied(store, ShardMessage(Tick(), 0), "commands:0", 0)

    assert [i for i, _ in opened.changed] == [i for i, _ in joined.changed]
    assert json.loads(joined.changed[0][1])["events_total"] == 2
    assert (idle.outputs, idle.changed) == ([], [])


def test_a_record_rewrites_only_the_incidents_it_changed() -> None:
    """The shard's entry holds no incident: a record writes the versions of the incidents it
    changed and deletes the versions they replace, so resolved incidents are never rewritten."""
    table: dict[bytes, bytes] = {}
    store = ShardStore(_engine(), table)
    _applied(store, _event_message(ALERT), "keyed:0", 0)
    resolve = Command(
        id="r1",
        kind="resolve",
        actor="ic",
        time="2026-11-20T09:01:00Z",  # type: ignore[arg-type]
        playbook="tech_outage",
        key="checkout",
    )
    _applied(store, ShardMessage(CommandInput(resolve)), "keyed:0", 1)
    first = store.load(SHARD.encode()).state.incidents
    assert [i.status.value for i in first.values()] == ["resolved"]
    reopened = {**ALERT, "id": "a3", "time": "2026-11-20T09:30:00Z"}
    again = _applied(store, _event_message(reopened), "keyed:0", 2)
    joined = _applied(store, _event_message({**reopened, "id": "a4"}), "keyed:0", 3)

    (old_id,) = first
    (new_id,) = {i for i, _ in again.changed} - {old_id}
    assert [i for i, _ in joined.changed] == [new_id]
    assert [k for k, _ in joined.versions] == [incident_key(new_id, 4)]
    assert joined.superseded == [incident_key(new_id, 3)]
    incident_keys = sorted(k for k in table if not is_shard_key(k) and b"incident" in k)
    assert len(incident_keys) == 2  # one version each, the superseded ones deleted
    assert b"timeline" not in table[SHARD.encode()]


def test_a_worker_dying_between_the_writes_of_a_record_recovers_the_shard_before_it() -> None:
    """The changelog may keep a record's incident versions but not the shard's entry: the
    shard then reads as before the record, and applying it again gives the same result."""
    table: dict[bytes, bytes] = {}
    store = ShardStore(_engine(), table)
    _applied(store, _event_message(ALERT), "keyed:0", 0)
    before = dict(table)
    second = store.apply(SHARD.encode(), _event_message({**ALERT, "id": "a2"}), "keyed:0", 1)
    assert second is not None
    table.update(second.versions)  # died here: the shard entry and the deletes never written

    recovered = ShardStore(_engine(), table)
    assert recovered.load(SHARD.encode()).applied == {"keyed:0": 0}
    again = recovered.apply(SHARD.encode(), _event_message({**ALERT, "id": "a2"}), "keyed:0", 1)
    assert again is not None
    assert (again.outputs, again.changed, again.value) == (
        second.outputs,
        second.changed,
        second.value,
    )
    assert table[SHARD.encode()] == before[SHARD.encode()]


def test_every_incident_a_step_changes_is_stored_and_decoding_restores_the_same_shards() -> None:
    """Over a stream of openings, joins, acks, resolutions and reopenings on many shards, after
    every record each incident's stored JSON is its current JSON (the store never misses a
    change), and shards decoded afresh from the table step exactly like the kept copies."""
    engine = _engine()
    intake = Intake(engine, TopicNames.of(Settings(topic_prefix="t."), playbooks()), 3)
    table: dict[bytes, bytes] = {}
    kept, fresh = ShardStore(engine, table), ShardStore(engine, dict(table))
    for offset, raw in enumerate(mixed_stream(1_500, shards=6)):
        try:
            event_ = engine.validator.parse(raw)
        except EventRejected:
            continue
        for record in intake.forwards(event_):
            message = decode_shard_message(record.value, record.key.decode())
            applied = kept.apply(record.key, message, "keyed:0", offset)
            assert applied is not None
            kept.store(applied)
            incidents = applied.entry.state.incidents
            stored = {i: table[incident_key(i, v)] for i, v in applied.entry.versions.items()}
            assert stored == {
                i: contract(incident).model_dump_json().encode()
                for i, incident in incidents.items()
            }
            if offset % 50 == 0:  # a cold copy of the same table steps the same way
                fresh.table = dict(table)
                fresh.forget()
                assert fresh.load(record.key).state.incidents == incidents


def test_task_events_go_to_their_role_topic_keyed_by_incident() -> None:
    """Every task event of a step is addressed to tasks.<role>, key = incident id."""
    engine = _engine()
    names = TopicNames.of(Settings(topic_prefix="t."), playbooks())
    applied = ShardStore(engine, {}).apply(SHARD.encode(), _event_message(ALERT), "keyed:0", 0)
    assert applied is not None
    records = [output_record(o, names) for o in applied.outputs if hasattr(o, "task")]

    assert {r.topic for r in records} == {"t.tasks.ops"}  # pr waits for the triage
    assert all(r.key == json.loads(r.value)["data"]["incident_id"].encode() for r in records)


def test_intake_tells_a_redelivery_from_a_duplicate() -> None:
    """The same record again is not a duplicate; the same (source, id) at another offset is."""
    engine = _engine()
    intake = Intake(engine, TopicNames.of(Settings(topic_prefix="t."), playbooks()), 4)
    (raw,) = lines([ALERT])
    origin = Origin(kind="kafka", name="t.events.raw", partition=0, offset=5)
    first = intake.judge(raw, origin, lambda _key: None)
    assert first.seen is not None
    stored = first.seen[1].dump()

    again = intake.judge(raw, origin, lambda _key: stored)
    later = intake.judge(raw, origin.model_copy(update={"offset": 9}), lambda _key: stored)

    assert (first.status, again.status, later.status) == ("accepted", "accepted", "duplicate")
    assert Seen.load(stored) == Seen(first.event_time or 0, 5)
    assert [r.key for r in first.forwards] == [SHARD.encode()]


def test_intake_sends_a_command_to_its_incident_shard() -> None:
    """A recorded command goes to its playbook+key shard, or to its incident's, if known."""
    engine = _engine()
    names = TopicNames.of(Settings(topic_prefix="t."), playbooks())
    known = {"inc-1": SHARD}
    intake = Intake(engine, names, 4, known.get)
    by_key = command(
        "ack", "2026-11-20T09:03:00Z", playbook="tech_outage", key="checkout", task="triage"
    )
    by_task = command("ack", "2026-11-20T09:03:00Z", task_id="inc-1.triage")
    unknown = command("ack", "2026-11-20T09:03:00Z", task_id="inc-2.triage")

    shards = [
        intake.shards(engine.validator.parse(raw)) for raw in lines([by_key, by_task, unknown])
    ]

    assert shards == [[SHARD], [SHARD], [UNROUTED]]


def test_roles_include_every_task_role_and_escalation_target() -> None:
    """Each role a task event can be addressed to gets a topic, escalation targets included."""
    roles = roles_of(playbooks())
    task_roles = {t.role for p in playbooks() for t in p.tasks}
    targets = {to for p in playbooks() for t in p.tasks for _after, to in t.ladder}

    assert task_roles | targets <= set(roles)
    assert {"ops", "pr", "legal", "logistics", "incident_commander"} <= set(roles)


def test_shard_state_remembers_a_bounded_number_of_event_keys() -> None:
    """A shard's own dedupe memory is capped, so updating a hot shard does not slow down."""
    from orchestrator.engine.step import EngineConfig
    from orchestrator.runtime.kafka.app import SHARD_DEDUPE_ENTRIES, shard_config

    assert shard_config(None).dedupe_max_entries == SHARD_DEDUPE_ENTRIES
    assert shard_config(EngineConfig(dedupe_max_entries=10)).dedupe_max_entries == 10
    assert shard_config(EngineConfig(allowed_lateness=1)).allowed_lateness == 1


class _LoggedTable(dict[bytes, bytes]):
    """A dict that records the writes made to it, in order (what a changelog would get)."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[bytes, bytes | None]] = []

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.log.append((key, value))
        super().__setitem__(key, value)

    def __delitem__(self, key: bytes) -> None:
        self.log.append((key, None))
        super().__delitem__(key)


def test_a_batch_reads_its_own_writes_and_stores_values_in_the_order_last_made_then_deletes() -> (
    None
):
    """Staged writes are visible at once and reach the table only on flush: each value once,
    at the place of its last write, then the deletes; keys created and deleted within the
    batch never reach it."""
    table = _LoggedTable()
    table.update({b"shard": b"names v1", b"v1": b"i1", b"old": b"x"})
    staged = Staged(table)
    for version in (2, 3):  # one incident changed by two records: v1 -> v2 -> v3
        staged[f"v{version}".encode()] = f"i{version}".encode()
        staged[b"shard"] = f"names v{version}".encode()
        del staged[f"v{version - 1}".encode()]
    staged[b"tmp"] = b"t"
    del staged[b"tmp"]
    del staged[b"old"]

    assert [staged.get(k) for k in (b"shard", b"v1", b"v2", b"tmp")] == [
        b"names v3",
        None,
        None,
        None,
    ]
    assert dict(staged.items()) == {b"shard": b"names v3", b"v3": b"i3"}
    assert table.log == []
    staged.flush()
    # values first (the shard after the version it names), deletes last: any prefix of this
    # leaves the table's shard entry naming a version that is there
    assert table.log == [(b"v3", b"i3"), (b"shard", b"names v3"), (b"v1", None), (b"old", None)]
    assert table == {b"v3": b"i3", b"shard": b"names v3"}


def test_a_failed_batch_leaves_the_table_as_it_was() -> None:
    """A batch whose outputs were not all acknowledged stores nothing (it is applied again)."""
    table = _LoggedTable()
    staged = Staged(table)

    async def work() -> None:
        staged[b"k"] = b"v"
        raise ConnectionError("broker gone")

    with pytest.raises(ConnectionError):
        asyncio.run(in_batch(work, [staged]))
    assert (table.log, staged.get(b"k")) == ([], None)


def test_dedupe_entries_expire_oldest_first_without_visiting_the_others() -> None:
    """The intake sweep gets exactly the entries older than the cutoff, loaded or added."""
    expiry = SeenExpiry()
    assert not expiry.knows(0)
    expiry.add(0, b"ignored", 1)  # before loading: the table scan will bring it
    expiry.load(0, [(b"a", Seen(300, 1).dump()), (b"b", Seen(100, 2).dump())])
    expiry.add(0, b"c", 200)
    expiry.add(1, b"other", 0)

    assert expiry.expired(0, 250) == [b"b", b"c"]
    assert expiry.expired(0, 250) == []
    assert expiry.expired(0, 301) == [b"a"]
    assert expiry.expired(1, 10**12) == []


def test_intake_judges_an_event_only_on_the_raw_partition_its_key_hashes_to() -> None:
    """On three events.raw partitions, an event is judged only on murmur2(source + id)'s
    partition; on the two others it is sent there unjudged (no dedupe entry, no forward to a
    shard), whatever partitioner put it where it is."""
    engine = _engine()
    intake = Intake(engine, TopicNames.of(Settings(topic_prefix="t."), playbooks()), 4, None, 3)
    (raw,) = lines([ALERT])
    key = f"{ALERT['source']}\x1f{ALERT['id']}".encode()
    home = partition_for(key, 3)

    verdicts = {
        p: intake.judge(
            raw, Origin(kind="kafka", name="t.events.raw", partition=p, offset=1), lambda _key: None
        )
        for p in range(3)
    }

    assert verdicts[home].status == "accepted"
    assert verdicts[home].home is None
    for partition in set(range(3)) - {home}:
        assert verdicts[partition].status is None
        assert verdicts[partition].home == (home, key)
        assert (verdicts[partition].forwards, verdicts[partition].seen) == ([], None)


def test_incident_topic_records_sit_on_their_incident_partition_under_keys_compaction_keeps() -> (
    None
):
    """Snapshots are keyed by incident id (compaction keeps the newest); incident events and
    command verdicts by incident id + their own id (compaction keeps each); all of an
    incident's records go to the partition its id hashes to."""
    engine = _engine()
    names = TopicNames.of(Settings(topic_prefix="t."), playbooks())
    applied = ShardStore(engine, {}).apply(SHARD.encode(), _event_message(ALERT), "keyed:0", 0)
    assert applied is not None
    (incident_id,) = applied.entry.state.incidents
    home = partition_for(incident_id.encode(), 5)

    history = [output_record(o, names, 5) for o in applied.outputs if not hasattr(o, "task")]
    snapshot = incident_record(incident_id, b"{}", names, 5)

    assert history
    assert {(r.topic, r.partition) for r in [*history, snapshot]} == {(names.incidents, home)}
    assert snapshot.key == incident_id.encode()
    own_ids = [json.loads(r.value)["id"] for r in history]
    assert [r.key for r in history] == [f"{incident_id}\x1f{i}".encode() for i in own_ids]


def _consumed(record: Record, offset: int = 0) -> ConsumerRecord:
    """A produced record as kafka-python hands it to a follower."""
    headers = [(k, bytes(v)) for k, v in record.headers]
    return ConsumerRecord(
        record.topic, record.partition, 0, offset, 0, 0, record.key, record.value, headers,
        None, len(record.key), len(record.value), -1,
    )  # fmt: skip


def test_the_incident_index_keeps_each_incidents_shard_from_its_snapshots_header() -> None:
    """A snapshot names its shard in a header, read without decoding the snapshot (here not
    even JSON); one without the header (written before it) is decoded once for its playbook
    and key; an unreadable one, incident events and verdicts teach nothing; nothing else of a
    snapshot is kept."""
    names = TopicNames.of(Settings(topic_prefix="t."), playbooks())
    applied = ShardStore(_engine(), {}).apply(SHARD.encode(), _event_message(ALERT), "keyed:0", 0)
    assert applied is not None
    ((opened, data),) = applied.changed
    other = shard_of("data_breach", "db-1")
    index = IncidentIndex("127.0.0.1:1", names.incidents)

    index.learn(names.incidents, _consumed(incident_record("inc-a", b"x", names, 3, b"pb\x1fk")))
    index.learn(names.incidents, _consumed(incident_record(opened, data, names, 3)))
    index.learn(names.incidents, _consumed(incident_record("inc-bad", b"{", names, 3)))
    events = [output_record(o, names, 3) for o in applied.outputs if not hasattr(o, "task")]
    for record in events:
        index.learn(names.incidents, _consumed(record))
    again = incident_record("inc-a", b"x", names, 3, other.encode())
    index.learn(names.incidents, _consumed(again))

    assert index.shards == {"inc-a": "pb\x1fk", opened: SHARD}
    assert (index.get("inc-bad"), index.get("inc-unknown")) == (None, None)
    assert asyncio.run(index.wait_for(opened, 0.0)) == SHARD


def test_every_record_the_codec_writes_is_what_its_exported_schema_describes() -> None:
    """incidents.keyed and commands values (event, command, tick, broadcast tick) validate as
    schemas.ShardRecord and a control record as schemas.ControlTick, the models whose JSON
    Schemas schemas/json holds (shard_record, control_tick; kept current by
    tests/cli's committed-schema test); each output record's value validates as the model its
    topic's schema is exported from."""
    engine = _engine()
    names = TopicNames.of(Settings(topic_prefix="t."), playbooks())
    event_ = engine.validator.parse(lines([ALERT])[0])
    order = Command(
        id="c1", kind="ack", actor="sam", time=ALERT["time"], task_id="i.triage", note=None
    )
    shard_values = [
        encode_event(event_),
        encode_command(order),
        encode_tick(5),
        encode_tick(5, True),
    ]
    kinds = [TypeAdapter(ShardRecord).validate_json(v).kind for v in shard_values]
    assert kinds == ["event", "command", "tick", "tick"]
    assert ControlTick.model_validate_json(encode_control_tick(5)).now == format_time(5)

    applied = ShardStore(engine, {}).apply(SHARD.encode(), _event_message(ALERT), "keyed:0", 0)
    assert applied is not None
    for output in applied.outputs:
        record = output_record(output, names, 3)
        if record.topic == names.deadletter:
            assert DeadLetter.model_validate_json(record.value).model_dump() == output.model_dump()
            continue
        model = IncidentCloudEvent if record.topic == names.incidents else TaskCloudEvent
        envelope = model.model_validate_json(record.value)
        assert envelope.data.model_dump() == output.model_dump()
        assert (envelope.id, envelope.source, envelope.time) == (
            output.id,
            "/orchestrator/t",
            output.time,
        )
