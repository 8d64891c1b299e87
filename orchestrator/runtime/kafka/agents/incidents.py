"""The incident agent: incidents.keyed and commands -> tasks.<role>, incidents, deadletter.

Each record is applied to its shard (orchestrator.runtime.kafka.shards; a broadcast tick to
every shard of the partition); the shard table records the last offset applied per input
partition, so a redelivered record publishes nothing twice. The incidents topic gets each
incident the batch changed once, as the batch left it.
"""

from __future__ import annotations

from orchestrator.engine import Engine, Retired
from orchestrator.runtime.kafka.agents.publisher import Publisher
from orchestrator.runtime.kafka.batches import Staged, in_batch
from orchestrator.runtime.kafka.codec import (
    ShardMessage,
    decode_shard_message,
    incident_record,
    output_record,
    partition_for,
)
from orchestrator.runtime.kafka.gaps import Incoming
from orchestrator.runtime.kafka.shards import ShardStore, is_shard_key, progress_key


class IncidentAgent:
    """Applies shard inputs to the shards' engine state and publishes what the engine emits."""

    def __init__(
        self, publisher: Publisher, engine: Engine, table: Staged, partitions: int
    ) -> None:
        self.publisher = publisher
        self.names = publisher.names
        self.table = table
        self.partitions = partitions
        self.shards = ShardStore(engine, table)
        self._snapshots: dict[str, tuple[bytes, bytes]] = {}
        """The newest JSON of each incident the batch changed, and its shard's key."""

    async def batch(self, records: list[Incoming]) -> None:
        """A batch of incidents.keyed and commands records, applied in order, stored once
        acknowledged."""

        async def work() -> None:
            for record in records:
                self.table.partition = record.partition
                await self.take(record)
            snapshots, self._snapshots = self._snapshots, {}
            await self.publisher.publish(
                [
                    incident_record(i, data, self.names, self.partitions, shard)
                    for i, (data, shard) in snapshots.items()
                ]
            )

        try:
            await in_batch(work, [self.table])
        except BaseException:
            self.shards.forget()  # decoded shards may hold what was not stored
            self._snapshots.clear()
            raise

    async def take(self, record: Incoming) -> None:
        """A record of incidents.keyed or commands from the stream: skip it if applied, fill a
        gap before it."""
        last = self.applied(record.where)
        if record.offset <= last:
            self.publisher.skipped(record)
            return
        for item in [*await self.publisher.missed(record, last), record]:
            await self.publisher.guarded(self.on_input, item)
            self.table[progress_key(item.where)] = str(item.offset).encode()
            self.publisher.applied(item)

    def applied(self, where: str) -> int:
        """The last offset of input `where` ("topic:partition") applied (-1: none)."""
        stored = self.table.get(progress_key(where))
        return int(stored) if stored is not None else -1

    async def on_input(self, record: Incoming) -> None:
        """One record of incidents.keyed or commands: apply it to its shard (or all, for a
        broadcast tick) and publish what the engine emits."""
        shard = (record.key or b"").decode("utf-8")
        decoded = decode_shard_message(record.value, shard)
        home = partition_for(shard.encode(), self.partitions)
        if not decoded.broadcast and home != record.partition:
            await self.publisher.forward(record, home)  # applied there, by the shard's owner
            return
        keys = self._local_shards(record.partition) if decoded.broadcast else [shard.encode()]
        for key in keys:
            await self._apply(key, decoded, record.where, record.offset)

    async def _apply(self, key: bytes, decoded: ShardMessage, where: str, offset: int) -> None:
        applied = self.shards.apply(key, decoded, where, offset)
        if applied is None:
            return  # applied before this crash or rebalance: counted by take
        self.publisher.opened(applied.outputs)
        records = [
            output_record(o, self.names, self.partitions)
            for o in applied.outputs
            if not isinstance(o, Retired)
        ]
        await self.publisher.publish(records)
        self.shards.store(applied)
        for incident_id, data in applied.changed:  # published once, at the end of the batch
            self._snapshots[incident_id] = (data, key)

    def _local_shards(self, partition: int) -> list[bytes]:
        keys = [bytes(k) for k in list(self.table.keys()) if is_shard_key(k)]
        return sorted(k for k in keys if partition_for(k, self.partitions) == partition)
