"""Which shard each incident lives in, read by every worker from the incidents topic.

Intake needs it for recorded commands addressed by task or incident id (rather than by playbook
and key): their shard is the one of the incident. Every worker reads the whole incidents topic
without a consumer group (a read model, not a table), so the answer does not depend on which
worker owns which partition.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer

from orchestrator.engine.ids import shard_of
from orchestrator.runtime.kafka.codec import INCIDENT, KIND_HEADER, header

log = structlog.get_logger("orchestrator.runtime.kafka")
FETCH_TIMEOUT_MS = 500
POLL_S = 0.05


class IncidentIndex:
    """incident id -> shard, kept up to date from the incidents topic while the worker runs."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.shards: dict[str, str] = {}

    def get(self, incident_id: str) -> str | None:
        """The incident's shard, if the index has seen the incident."""
        return self.shards.get(incident_id)

    async def wait_for(self, incident_id: str, timeout_s: float) -> str | None:
        """The incident's shard, waiting up to `timeout_s` for its first snapshot."""
        deadline = time.monotonic() + timeout_s
        while incident_id not in self.shards and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
        return self.shards.get(incident_id)

    def learn(self, record: Any) -> None:
        """Take the shard of an incident snapshot record; ignore other records."""
        if header(record.headers, KIND_HEADER) != INCIDENT.encode() or not record.value:
            return
        incident = json.loads(record.value)
        self.shards[str(incident["id"])] = shard_of(str(incident["playbook"]), str(incident["key"]))

    async def run(self, *_app: Any) -> None:
        """Follow the incidents topic from its beginning until the worker stops.

        Without a consumer group, aiokafka assigns every partition of the topic and, having no
        committed offsets, starts each at its earliest record.
        """
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        log.info("index.following", topic=self.topic)
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=FETCH_TIMEOUT_MS)
                for records in batches.values():
                    for record in records:
                        self.learn(record)
        finally:
            await consumer.stop()
