"""Which shard each incident lives in, read by every worker from the incidents topic.

Intake needs it for recorded commands addressed by task or incident id (rather than by playbook
and key): their shard is the one of the incident. Every worker follows the whole incidents
topic without a consumer group (the one reader of that topic, orchestrator.runtime.kafka
.incidentlog, in a follower thread), so the answer does not depend on which worker owns which
partition.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog

from orchestrator.runtime.kafka.follow import Follower
from orchestrator.runtime.kafka.incidentlog import IncidentLog

log = structlog.get_logger("orchestrator.runtime.kafka")
POLL_S = 0.05
FETCH_MIN_BYTES = 256 * 1024
FETCH_MAX_WAIT_MS = 100
"""The index fetches the incidents topic in batches of about this size, or what came within
this wait: the worker itself writes a version of each incident it changes there, so fetching
every few records, as a consumer does by default, cost a worker more than its own processing.
An incident's shard is asked for by commands only, which wait for it (`wait_for`)."""


class IncidentIndex:
    """incident id -> shard, kept up to date from the incidents topic while the worker runs."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.incidents = IncidentLog()

    def get(self, incident_id: str) -> str | None:
        """The incident's shard, if the index has seen the incident."""
        return self.incidents.shard(incident_id)

    async def wait_for(self, incident_id: str, timeout_s: float) -> str | None:
        """The incident's shard, waiting up to `timeout_s` for its first snapshot."""
        deadline = time.monotonic() + timeout_s
        while incident_id not in self.incidents and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
        return self.get(incident_id)

    def learn(self, _topic: str, record: Any) -> None:
        """Take one record of the incidents topic (snapshots are decoded when asked for)."""
        self.incidents.take(record)

    async def run(self, *_app: Any) -> None:
        """Follow the incidents topic from its beginning until the worker stops."""
        follower = Follower(
            self.bootstrap,
            [self.topic],
            self.learn,
            name="incident-index",
            fetch_min_bytes=FETCH_MIN_BYTES,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )
        await asyncio.to_thread(follower.start, None)
        log.info("index.following", topic=self.topic)
        try:
            await asyncio.Event().wait()
        finally:
            follower.stop()  # within one poll
