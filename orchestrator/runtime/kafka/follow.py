"""Reading topics from their beginning without joining a consumer group (kafka-python).

Two ways, one consumer set-up: `read_topic` reads a topic once, to the end it had when asked
(the CLI's summaries, exports, tests), and a `Follower` keeps reading topics in a daemon thread
while its process runs, handing each record to a callback (the API's read model, a worker's
incident index). Neither commits offsets: every reader sees every record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from kafka import KafkaConsumer, TopicPartition

POLL_MS = 100
"""How long one poll waits for records."""
CATCH_UP_TIMEOUT_S = 60.0
"""How long a follower's start waits to have read what its topics held."""

Take = Callable[[str, Any], None]
"""What a follower does with one record (its topic, the kafka-python ConsumerRecord)."""


class Where(msgspec.Struct, frozen=True, gc=False):
    """A record's partition and offset on its topic (never tracked by the cyclic collector,
    nor then the (snapshot, where) pairs a follower keeps per incident: a worker's incident
    index holds one per incident ever published, which a slotted dataclass made a full
    collection walk)."""

    partition: int
    offset: int


@contextmanager
def consumer(bootstrap: str, group: str | None = None, **options: Any) -> Iterator[Any]:
    """A kafka-python consumer that commits nothing, closed on leaving the block."""
    client = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, **_quiet(options))
    try:
        yield client
    finally:
        client.close()


def _quiet(options: dict[str, Any]) -> dict[str, Any]:
    return {"enable_auto_commit": False, **options}


def partitions(client: Any, topic: str) -> list[TopicPartition]:
    """Every partition of `topic`, in order (none when the topic does not exist)."""
    found = client.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, p) for p in sorted(found)]


def read_topic(bootstrap: str, topic: str) -> Iterator[Any]:
    """Every record of `topic` from the beginning to its current end, partition by partition."""
    with consumer(bootstrap, consumer_timeout_ms=POLL_MS * 2) as client:
        tps = partitions(client, topic)
        if not tps:
            return
        ends = client.end_offsets(tps)
        client.assign(tps)
        client.seek_to_beginning(*tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            for tp, records in client.poll(timeout_ms=POLL_MS * 2).items():
                for record in records:
                    if record.offset < ends[tp]:
                        yield record
                if client.position(tp) >= ends[tp]:
                    remaining.discard(tp)


class Follower:
    """Follows topics from their beginning in a daemon thread; `take` gets each record with
    `changed` held, and `changed` is notified after each poll that brought records. `options`
    go to the kafka-python consumer (fetch sizes and waits)."""

    def __init__(
        self,
        bootstrap: str,
        topics: list[str],
        take: Take,
        changed: threading.Condition | None = None,
        name: str = "kafka-follower",
        **options: Any,
    ) -> None:
        self.topics = topics
        self.take = take
        self.changed = changed or threading.Condition()
        self.client = KafkaConsumer(bootstrap_servers=bootstrap, **_quiet(options))
        self.caught_up = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.ends: dict[TopicPartition, int] = {}

    def start(self, timeout_s: float | None = CATCH_UP_TIMEOUT_S) -> None:
        """Assign every partition of the topics and start reading; with a timeout, return once
        caught up with what they held (TimeoutError if that takes longer)."""
        tps = [tp for topic in self.topics for tp in partitions(self.client, topic)]
        self.client.assign(tps)
        self.client.seek_to_beginning(*tps)
        self.ends = self.client.end_offsets(tps)
        self.thread.start()
        if timeout_s is not None and not self.caught_up.wait(timeout_s):
            raise TimeoutError(f"did not catch up with {self.topics} in {timeout_s}s")

    def stop(self) -> None:
        """End the thread and close the consumer."""
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()
        self.client.close()

    def _run(self) -> None:
        while not self.stopping.is_set():
            batches = self.client.poll(timeout_ms=POLL_MS)
            with self.changed:
                for tp, records in batches.items():
                    for record in records:
                        self.take(tp.topic, record)
                if batches:
                    self.changed.notify_all()
            if not self.caught_up.is_set() and self._at_ends():
                self.caught_up.set()

    def _at_ends(self) -> bool:
        return all(self.client.position(tp) >= end for tp, end in self.ends.items())
