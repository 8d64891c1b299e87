"""The delivery adapter after the outbox: it reads the runtime's published task events (from
its cursor on the embedded outbox, or from a `Feed`: the Kafka runtime's role topics in a
consumer group), queues one delivery per on-call responder and channel (durably, with the
cursor), and sends what is due: retried with backoff, dead-lettered with the reason after the
last try, and dropped once the task is acknowledged, finished or cancelled, or its incident
resolved (the ack stops the noise, what was queued included). In a drill namespace it only
records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from orchestrator.engine import Millis
from orchestrator.notify.channels import Channel, DeliveryFailed
from orchestrator.notify.links import LinkSigner, ack_url, console_url
from orchestrator.notify.messages import Links
from orchestrator.notify.store import Delivery, DeliveryStore, Status
from orchestrator.runtime import OutboxRow, Runtime
from schemas import IncidentStatus, TaskStatus, rosters

log = structlog.get_logger("orchestrator.notify")
PAGED = frozenset({"task.assigned", "task.escalated"})
ENDED = frozenset({"task.acknowledged", "task.done", "task.failed", "task.cancelled"})
CHANNELS = ("webhook", "email", "chat")
SETTING = {"webhook": "ORCH_WEBHOOK_SECRET", "email": "ORCH_SMTP_HOST", "chat": "-"}
"""The setting that turns each channel on."""
UNKNOWN = "unknown"
"""`_ended`'s answer for a task the runtime's reads do not have yet: try again next pass."""


@dataclass(frozen=True)
class Policy:
    """Retries: `attempts` tries in all, waiting `backoff` ms, doubled each time up to
    `backoff_max`; `record_only`: a drill's recording sink (nothing is sent)."""

    attempts: int = 6
    backoff: Millis = 5_000
    backoff_max: Millis = 600_000
    record_only: bool = False

    def wait(self, attempts: int) -> Millis:
        """How long after the `attempts`-th failed try the next one is due."""
        return int(min(self.backoff * 2 ** (attempts - 1), self.backoff_max))


class Feed(Protocol):
    """Task events from elsewhere than the runtime's outbox (the Kafka runtime's role topics):
    `read` the next ones, `commit` once their deliveries are queued durably (at least once:
    a crash before `commit` reads them again, and queueing them again is a no-op by key)."""

    def read(self) -> list[OutboxRow]:
        """The next task events (maybe none)."""
        ...

    def commit(self) -> None:
        """The events read so far are queued: do not read them again."""
        ...


@dataclass
class Dispatcher:
    """Reads the outbox (or a `feed`), queues and sends deliveries; `step` is one pass, `start`
    a thread."""

    runtime: Runtime
    store: DeliveryStore
    contacts: Mapping[str, rosters.Contact]
    channels: Mapping[str, Channel]
    signer: LinkSigner
    base_url: str
    clock: Callable[[], Millis]
    policy: Policy = field(default_factory=Policy)
    feed: Feed | None = None
    """None: the runtime's outbox, read from the cursor kept in notify.db."""

    def step(self) -> int:
        """Queue what the outbox added, then send what is due; how many were sent."""
        self.scan()
        return self.deliver()

    def scan(self) -> None:
        """Queue the deliveries of newly published task events; drop those of ended tasks."""
        now = self.clock()
        if self.feed is None:
            rows = self.runtime.outbox_after(self.store.cursor())
            cursor = rows[-1].seq if rows else None
        else:
            rows, cursor = self.feed.read(), None
        if not rows:
            return
        queued = [d for row in rows for d in self._deliveries(row, now)]
        self.store.queue(queued, cursor, now)
        for row in rows:
            if row.kind in ENDED:
                self._drop(row.body["task"]["id"], now, row.kind.removeprefix("task."))
        if self.feed is not None:
            self.feed.commit()

    def _deliveries(self, row: OutboxRow, now: Millis) -> list[Delivery]:
        notified = row.body.get("notified") if row.kind in PAGED else None
        if not notified:
            return []
        found = []
        for responder in notified["responders"]:
            contact = self.contacts.get(responder)
            reach = [(c, getattr(contact, c)) for c in CHANNELS if getattr(contact, c, None)]
            if self.policy.record_only:  # a drill: who would have been paged, on what
                ways = ", ".join(c for c, _ in reach) or "no contact"
                found.append(_delivery(row, responder, "recording", ways, "recorded", now))
                continue
            found += [_delivery(row, responder, c, a, "pending", now) for c, a in reach]
        return found

    def _drop(self, task_id: str, now: Millis, why: str) -> None:
        dropped = self.store.drop_pending(task_id, now, why)
        if dropped:
            log.info("notify.dropped", task_id=task_id, deliveries=dropped, reason=why)

    def deliver(self) -> int:
        """Send every due delivery once; how many were sent."""
        sent = 0
        for delivery in self.store.due(self.clock()):
            sent += self._send(delivery)
        return sent

    def _send(self, delivery: Delivery) -> int:
        now = self.clock()
        ended = self._ended(delivery, now)
        if ended == UNKNOWN:
            return 0  # the runtime's reads have not seen the task yet: the next pass
        if ended is not None:
            self.store.finish(delivery.key, "dropped", now, ended)
            log.info("notify.dropped", key=delivery.key, task_id=delivery.task_id, reason=ended)
            return 0
        token = self.signer.token(delivery.task_id, delivery.responder, delivery.key)
        links = Links(
            ack_url(self.base_url, delivery.task_id, token),
            console_url(self.base_url, delivery.incident_id),
        )
        attempt = delivery.attempts + 1
        channel = self.channels.get(delivery.channel)
        if channel is None:
            why = f"the {delivery.channel} channel is not configured ({SETTING[delivery.channel]})"
            self.store.finish(delivery.key, "dead", now, why)
            log.error("notify.dead_lettered", key=delivery.key, reason=why)
            return 0
        try:
            channel.send(delivery, links, now // 1000)
        except DeliveryFailed as failed:
            self._failed(delivery, attempt, failed.reason, now)
            return 0
        self.store.finish(delivery.key, "sent", now)
        log.info(
            "notify.sent",
            key=delivery.key,
            channel=delivery.channel,
            attempt=attempt,
            task_id=delivery.task_id,
            responder=delivery.responder,
        )
        return 1

    def _failed(self, delivery: Delivery, attempt: int, reason: str, now: Millis) -> None:
        fields: dict[str, Any] = {
            "key": delivery.key,
            "channel": delivery.channel,
            "attempt": attempt,
            "reason": reason,
        }
        if attempt >= self.policy.attempts:
            why = f"gave up after {attempt} tries; last: {reason}"
            self.store.finish(delivery.key, "dead", now, why)
            log.error("notify.dead_lettered", **fields)
            return
        self.store.retry(delivery.key, attempt, now + self.policy.wait(attempt), reason)
        log.warning("notify.retrying", **fields)

    def _ended(self, delivery: Delivery, now: Millis) -> str | None:
        """Why the delivery is no longer wanted (the task was acknowledged, finished or
        cancelled; its incident resolved), None to send it, or UNKNOWN: the runtime's reads
        do not have the task yet (the Kafka read model lags the feed by a moment)."""
        task = self.runtime.task(delivery.task_id)
        if task is None:
            waited = now - delivery.due_at > self.policy.backoff_max
            return "task gone" if waited else UNKNOWN
        if task.status != TaskStatus.ASSIGNED:
            return str(task.status.value)
        incident = self.runtime.incident(delivery.incident_id)
        ended = incident is not None and incident.status != IncidentStatus.OPEN
        return "incident resolved" if ended and task.phase != "review" else None

    def start(self, every: float) -> Callable[[], None]:
        """Run `step` on a thread every `every` seconds; returns the stop function."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every):
                try:
                    self.step()
                except Exception:  # one bad pass must not end delivery; the next one retries
                    log.exception("notify.pass_failed")

        thread = threading.Thread(target=loop, name="notify", daemon=True)
        thread.start()

        def halt() -> None:
            stop.set()
            thread.join(timeout=10)

        return halt


def _delivery(
    row: OutboxRow, responder: str, channel: str, address: str, status: Status, now: Millis
) -> Delivery:
    task = row.body["task"]
    return Delivery(
        key=f"{row.id}:{responder}:{channel}",
        task_id=task["id"],
        incident_id=task["incident_id"],
        responder=responder,
        channel=channel,
        address=address,
        event=row.body,
        status=status,
        due_at=now,
    )
