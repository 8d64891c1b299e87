"""Which shard each incident lives in, read by every worker from the incidents topic.

Intake needs it for recorded commands addressed by task or incident id (rather than by playbook
and key): their shard is the one of the incident. Every worker follows the whole incidents
topic without a consumer group (in a follower thread, read by orchestrator.runtime.kafka
.incidentlog), so the answer does not depend on which worker owns which
partition.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog

from orchestrator.runtime.kafka.codec import WireError
from orchestrator.runtime.kafka.follow import Follower
from orchestrator.runtime.kafka.incidentlog import snapshot_shard

log = structlog.get_logger("orchestrator.runtime.kafka")
POLL_S = 0.05
FETCH_MIN_BYTES = 256 * 1024
FETCH_MAX_WAIT_MS = 100
"""The index fetches the incidents topic in batches of about this size, or what came within
this wait: the worker itself writes a version of each incident it changes there, so fetching
every few records, as a consumer does by default, cost a worker more than its own processing.
An incident's shard is asked for by commands only, which wait for it (`wait_for`)."""


class IncidentIndex:
    """incident id -> shard, kept up to date from the incidents topic while the worker runs.

    It keeps the shard of each incident and nothing else (incidentlog.snapshot_shard reads it
    from a snapshot's header, without decoding the snapshot). Keeping each incident's newest
    snapshot instead, as a read model does, made a worker hold every incident it ever
    published, several KB each."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.shards: dict[str, str] = {}
        self._names: dict[bytes, str] = {}
        """Each shard's name once (a shard has many incidents over time)."""

    def get(self, incident_id: str) -> str | None:
        """The incident's shard, if the index has seen the incident."""
        return self.shards.get(incident_id)

    async def wait_for(self, incident_id: str, timeout_s: float) -> str | None:
        """The incident's shard, waiting up to `timeout_s` for its first snapshot."""
        deadline = time.monotonic() + timeout_s
        while incident_id not in self.shards and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
        return self.get(incident_id)

    def learn(self, _topic: str, record: Any) -> None:
        """Take one record of the incidents topic: a snapshot tells its incident's shard."""
        try:
            found = snapshot_shard(record)
        except WireError as error:
            log.warning("index.unreadable_snapshot", offset=record.offset, error=str(error))
            return
        if found is None or found[0] in self.shards:
            return  # not a snapshot, or an incident known already (it never changes shards)
        incident_id, named = found
        shard = self._names.get(named)
        if shard is None:
            shard = self._names[named] = named.decode()
        self.shards[incident_id] = shard

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
