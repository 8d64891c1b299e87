"""The dispatcher fed from elsewhere than the outbox (as on Kafka): a feed's events are queued
before the feed commits, read again they queue nothing twice, and a task the runtime's reads
do not know yet waits instead of being dropped (until it has been unknown too long)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from notifykit import Build, page_ops, rosters_text
from receivers import http_receiver

from orchestrator.notify import DeliveryStore
from orchestrator.runtime import OutboxRow
from orchestrator.testing import ManualClock


@dataclass
class ListFeed:
    """A feed of given rows; `commit` notes which deliveries were queued by then."""

    rows: list[OutboxRow]
    queued_at_commit: list[list[str]] = field(default_factory=list)
    store: DeliveryStore | None = None

    def read(self) -> list[OutboxRow]:
        taken, self.rows = self.rows, []
        return taken

    def commit(self) -> None:
        assert self.store is not None
        self.queued_at_commit.append([d.key for d in self.store.all()])


def test_a_feeds_events_are_queued_before_it_commits_and_once_only(build: Build) -> None:
    """The page goes out once; the feed committed after its delivery was queued; the same
    events read again (a crash before the commit) queue and send nothing more; the outbox
    cursor is not the feed's and stays at 0."""
    with http_receiver() as receiver:
        runtime, dispatcher = build(rosters_text(webhook=receiver.url))
        task_id = page_ops(runtime)
        rows = runtime.outbox_after(0)
        feed = ListFeed(list(rows), store=dispatcher.store)
        fed = replace(dispatcher, feed=feed)
        fed.step()
        feed.rows = list(rows)
        fed.step()
    key = f"{task_id}:assigned:dana:webhook"
    assert [p.headers["Idempotency-Key"] for p in receiver.posted] == [key]
    assert key in feed.queued_at_commit[0]
    assert fed.store.cursor() == 0


def test_a_task_not_known_yet_waits_then_is_dropped_as_gone(
    build: Build, clock: ManualClock
) -> None:
    """A page for a task the runtime does not have (its reads lag the feed) is neither sent
    nor dropped on the next passes; once unknown for longer than the longest backoff it is
    dropped as gone."""
    with http_receiver() as receiver:
        runtime, dispatcher = build(rosters_text(webhook=receiver.url))
        page_ops(runtime)
        row = next(r for r in runtime.outbox_after(0) if r.kind == "task.assigned")
        task = {**row.body["task"], "id": "task-from-the-future"}
        ghost = replace(row, id="task-from-the-future:assigned", body={**row.body, "task": task})
        fed = replace(dispatcher, feed=ListFeed([ghost], store=dispatcher.store))
        fed.step()
        clock.advance(fed.policy.backoff_max)
        fed.step()
        assert [d.status for d in fed.store.all()] == ["pending"]
        clock.advance(1)
        fed.step()
    assert receiver.tries == 0
    (gone,) = fed.store.all("dropped")
    assert (gone.task_id, gone.reason) == ("task-from-the-future", "task gone")
