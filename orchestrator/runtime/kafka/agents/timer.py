"""The wall-clock timer: a tick for each owned shard whose earliest timer is due.

It only reads the shard table: the tick goes to the commands topic, and the partition's owner
applies it (the incident agent), so timers need no state of their own beyond a cache.
"""

from __future__ import annotations

import time
from typing import Any

from orchestrator.engine import Millis
from orchestrator.runtime.base import wall_clock
from orchestrator.runtime.kafka.agents.publisher import Publisher
from orchestrator.runtime.kafka.batches import Staged
from orchestrator.runtime.kafka.codec import Record, encode_tick, partition_for
from orchestrator.runtime.kafka.shards import is_shard_key, stored_next_due

RETICK_AFTER_S = 10.0
"""A due shard is ticked again if its timer is still due this long after the last tick."""


class EscalationTimer:
    """Publishes ticks for due shards of the partitions this worker owns."""

    def __init__(self, app: Any, publisher: Publisher, table: Staged, partitions: int) -> None:
        self.app = app
        self.publisher = publisher
        self.names = publisher.names
        self.table = table
        self.partitions = partitions
        self._due: dict[bytes, tuple[int, Millis | None]] = {}
        self._ticked: dict[bytes, tuple[Millis, float]] = {}

    async def tick_due_shards(self, *_app: Any) -> None:
        """Publish a tick for each shard this worker owns whose earliest timer is due."""
        now = wall_clock()
        owned = {
            tp.partition
            for tp in self.app.assignor.assigned_actives()
            if tp.topic == self.names.incidents_keyed
        }
        ticks = []
        for key, raw in list(self.table.items()):
            if not is_shard_key(key):
                continue
            partition = partition_for(key, self.partitions)
            due = self._next_due(key, raw)
            if partition in owned and due is not None and due <= now and self._may_tick(key, due):
                value = encode_tick(now)
                ticks.append(Record(self.names.commands, key, value, partition=partition))
        await self.publisher.publish(ticks)

    def _next_due(self, key: bytes, raw: bytes) -> Millis | None:
        cached = self._due.get(key)
        if cached is not None and cached[0] == hash(raw):
            return cached[1]
        due = stored_next_due(raw)
        self._due[key] = (hash(raw), due)
        return due

    def _may_tick(self, key: bytes, due: Millis) -> bool:
        last = self._ticked.get(key)
        if last is not None and last[0] == due and time.monotonic() - last[1] < RETICK_AFTER_S:
            return False
        self._ticked[key] = (due, time.monotonic())
        return True
