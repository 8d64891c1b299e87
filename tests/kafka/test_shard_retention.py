"""Retention in the Kafka shard store: a retired incident's stored version leaves the shard's
table (its last snapshot is on the incidents topic already) and nothing is published for it."""

from __future__ import annotations

from kafka_harness import outage_alert, playbooks

from orchestrator.engine import HOUR_MS, Engine, EngineConfig, Retired, parse_time, shard_of
from orchestrator.engine.step import CommandInput, Tick
from orchestrator.runtime.kafka.codec import ShardMessage, decode_shard_message, encode_event
from orchestrator.runtime.kafka.shards import Applied, ShardStore, incident_key, is_shard_key
from schemas import Command, Event

SHARD = shard_of("tech_outage", "checkout")
ALERT = outage_alert(1, "checkout", "2026-11-20T09:00:00Z", "firing", "critical")
CLOSE = Command.model_validate(
    {
        "id": "r1",
        "kind": "close",
        "actor": "ic",
        "time": "2026-11-20T09:01:00Z",
        "playbook": "tech_outage",
        "key": "checkout",
    }
)


def applied(store: ShardStore, message: ShardMessage, offset: int) -> Applied:
    done = store.apply(SHARD.encode(), message, "keyed:0", offset)
    assert done is not None
    store.store(done)
    return done


def test_a_retired_incident_leaves_the_shard_table() -> None:
    """Opened, closed, then a tick past the one-hour retention: the tick emits Retired and
    publishes no incident; its version is superseded and deleted; the shard decodes empty."""
    table: dict[bytes, bytes] = {}
    store = ShardStore(Engine(playbooks(), EngineConfig(incident_retention=HOUR_MS)), table)
    message = decode_shard_message(encode_event(Event.model_validate(ALERT)), SHARD)
    applied(store, message, 0)
    closed = applied(store, ShardMessage(CommandInput(CLOSE)), 1)
    (incident_id,) = {i for i, _ in closed.changed}
    later = parse_time("2026-11-20T10:01:00Z")
    tick = applied(store, ShardMessage(Tick(), later), 2)

    assert [o.incident_id for o in tick.outputs if isinstance(o, Retired)] == [incident_id]
    assert tick.changed == []
    assert tick.superseded == [incident_key(incident_id, 2)]
    assert [k for k in table if not is_shard_key(k) and b"incident" in k] == []
    assert ShardStore(store.engine, table).load(SHARD.encode()).state.incidents == {}
