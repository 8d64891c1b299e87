"""The task events of the role topics for delivery (orchestrator.notify's `Feed`), shared out by
a consumer group: `<prefix>notify`.

    <prefix>tasks.<role>  --(group <prefix>notify)-->  read -> queue in notify.db -> commit

Each task event goes to one member of the group (the API processes of `run --kafka` with
rosters), so several replicas deliver each page once between them, not once each. A role
topic's records are keyed by incident, so all the events of one task reach the same member in
order: the ack that stops a page is read by the member that queued it. The offsets are
committed only after the member has queued the deliveries (at least once: a member killed in
between reads the events again after the rebalance, and queueing them again is a no-op by the
deliveries' idempotency keys). A record that is no task event is logged and passed over.
"""

from __future__ import annotations

from typing import Any

import structlog
from kafka import ConsumerRebalanceListener, KafkaConsumer
from kafka.errors import CommitFailedError

from orchestrator.runtime.base import OutboxRow
from orchestrator.runtime.kafka.codec import WireError, decode_task_event
from orchestrator.runtime.kafka.topics import TopicNames
from orchestrator.settings import Settings

log = structlog.get_logger("orchestrator.runtime.kafka")

POLL_MS = 200
"""How long one read waits for records."""
MAX_RECORDS = 500
"""Task events read (and queued in one transaction) at most at once."""
MAX_POLL_INTERVAL_MS = 30 * 60 * 1000
"""How long a member may take between two reads before the group counts it gone: a pass sends
what is due between two reads, and a slow receiver takes up to the HTTP timeout per page."""


def notify_group(prefix: str) -> str:
    """The consumer group of the notifiers of a topic prefix."""
    return f"{prefix}notify"


class TaskFeed:
    """The role topics' task events, read in the consumer group `<prefix>notify`; one thread
    (the dispatcher's) reads and commits."""

    def __init__(self, settings: Settings, names: TopicNames) -> None:
        self.names = names
        self.roles = {names.tasks(role): role for role in names.roles}
        self.group = notify_group(names.prefix)
        self.client = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=int(settings.kafka_session_timeout * 1000),
            heartbeat_interval_ms=int(settings.kafka_heartbeat_interval * 1000),
            max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
        )
        self.client.subscribe(list(self.roles), listener=_Logged(self.group))

    def read(self) -> list[OutboxRow]:
        """The next task events of this member's partitions (none after POLL_MS)."""
        batches = self.client.poll(timeout_ms=POLL_MS, max_records=MAX_RECORDS)
        return [
            row
            for records in batches.values()
            for record in records
            if (row := self._row(record)) is not None
        ]

    def commit(self) -> None:
        """Commit the positions read so far (their deliveries are queued). A member the group
        dropped meanwhile commits nothing: the new owner reads those events again."""
        try:
            self.client.commit()
        except CommitFailedError as failed:
            log.warning("notify_feed.commit_failed", group=self.group, error=str(failed)[:300])

    def close(self) -> None:
        """Leave the group (its partitions move to the other members) and close."""
        self.client.close()

    def _row(self, record: Any) -> OutboxRow | None:
        if not record.value:
            return None
        try:
            event = decode_task_event(record.value)
        except WireError as error:
            log.warning(
                "notify_feed.skipped",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                error=str(error)[:300],
            )
            return None
        return OutboxRow(
            seq=record.offset,
            id=event.id,
            kind=event.kind,
            role=self.roles[record.topic],
            incident_id=event.incident_id,
            body=event.model_dump(mode="json"),
        )


class _Logged(ConsumerRebalanceListener):  # type: ignore[misc]
    """One log line per assignment: which role partitions this member now delivers."""

    def __init__(self, group: str) -> None:
        self.group = group

    def on_partitions_revoked(self, revoked: Any) -> None:
        """Nothing to hand over: what was read is committed after each pass."""

    def on_partitions_assigned(self, assigned: Any) -> None:
        """Log the partitions this member now owns."""
        owned = sorted(f"{tp.topic}:{tp.partition}" for tp in assigned)
        log.info("notify_feed.assigned", group=self.group, partitions=owned)
