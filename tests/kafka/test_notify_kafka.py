"""Delivery on the Kafka runtime: a worker process addresses the task events, `orchestrator run
--kafka` with rosters delivers them (consumer group `<prefix>notify` on the role topics, queued
in its notify.db), a real HTTP receiver takes the pages. Exactly once; an ack before the
delivery drops the queued page; the signed link acknowledges once over Kafka; SIGKILL between
consuming and delivering gives one delivery after the restart."""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata
from kafka_harness import FAST_GROUP, Api, Workers, delete_topics, kafka_api, names_for

from orchestrator.notify import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from orchestrator.testing.servers import free_port, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notify"))

from notifykit import post_alert, webhook_rosters
from receivers import http_receiver

INGEST = "ingest-notify-kafka-7a3c"
DANA = "dana-notify-kafka-token-1f2e"
WEBHOOK_SECRET = "webhook-secret-notify-kafka-9b8d"
WAIT_S = 60.0
PASSES_S = 3.0
"""Long enough for fifteen dispatcher passes (ORCH_NOTIFY_POLL_SECONDS=0.2)."""


@dataclass
class Setup:
    """One test's namespace: its workers, the API's environment and where its notify.db is."""

    workers: Workers
    env: dict[str, str]
    db: Path

    @contextmanager
    def api(self, data_dir: Path | None = None) -> Iterator[Api]:
        """`run --kafka` with rosters over the namespace, dana as a responder of ops (its
        notify.db in `data_dir`, else the one of `db`)."""
        dana = [{"name": "dana", "token": DANA, "roles": ["ops"]}]
        env = self.env if data_dir is None else {**self.env, "ORCH_DATA_DIR": str(data_dir)}
        with kafka_api(self.workers, dana, INGEST, extra=env) as api:
            yield api

    def statuses(self, db: Path | None = None) -> list[tuple[str, str, str | None]]:
        """Every delivery in notify.db (the one at `db`, else this setup's): key, status, reason."""
        db = db or self.db
        if not db.exists():
            return []
        with sqlite3.connect(db) as connection:
            try:
                return connection.execute(
                    "SELECT key, status, reason FROM deliveries ORDER BY rowid"
                ).fetchall()
            except sqlite3.OperationalError:  # not created yet
                return []

    def tried(self) -> bool:
        """A delivery is queued and its first try failed."""
        with sqlite3.connect(self.db) as connection:
            row = connection.execute("SELECT max(attempts) FROM deliveries").fetchone()
        return bool(row and row[0])


@pytest.fixture
def namespace(kafka_bootstrap: str, tmp_path: Path) -> Iterator[tuple[Workers, Path]]:
    """A fresh prefix with its workers (stopped, topics deleted at the end)."""
    prefix = f"test-notify-kafka-{uuid.uuid4().hex[:8]}."
    workers = Workers(kafka_bootstrap, prefix, tmp_path)
    try:
        yield workers, tmp_path
    finally:
        workers.stop_all()
        delete_topics(kafka_bootstrap, prefix)


def _setup(workers: Workers, tmp_path: Path, port: int) -> Setup:
    """One worker addressing with the rosters (the receiver's port), and the API's env."""
    rosters = str(webhook_rosters(tmp_path / "rosters.yaml", port))
    workers.start("w1", ORCH_ROSTERS_FILE=rosters).wait_rebalanced()
    env = {
        "ORCH_ROSTERS_FILE": rosters,
        "ORCH_DATA_DIR": str(tmp_path / "api"),
        "ORCH_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ORCH_LINK_SECRET": "link-secret-notify-kafka-4d5e",
        "ORCH_NOTIFY_BACKOFF": "1s",
        "ORCH_NOTIFY_BACKOFF_MAX": "1s",
        "ORCH_NOTIFY_ATTEMPTS": "1000",
        "ORCH_NOTIFY_POLL_SECONDS": "0.2",
        **FAST_GROUP,
    }
    return Setup(workers, env, tmp_path / "api" / "notify.db")


def _triage(api: Api) -> dict[str, Any]:
    tasks = httpx.get(api.url + "/roles/ops/tasks", headers={"Authorization": f"Bearer {DANA}"})
    found: list[dict[str, Any]] = [t for t in tasks.json() if t["name"] == "triage"]
    return found[0] if found else {}


def _acknowledged(api: Api) -> dict[str, Any]:
    task = _triage(api)
    return task if task.get("status") == "acknowledged" else {}


def test_a_page_is_delivered_once_and_its_link_acknowledges_once(
    namespace: tuple[Workers, Path],
) -> None:
    """The triage task assigned by the worker reaches dana's webhook once, signed, with the key
    `<task event id>:dana:webhook`; its link acknowledges the task over Kafka as dana, and a
    second use is refused."""
    workers, tmp_path = namespace
    with http_receiver() as receiver:
        setup = _setup(workers, tmp_path, int(receiver.url.rsplit(":", 1)[1]))
        with setup.api() as api:
            post_alert(api.url, INGEST)
            wait_for(lambda: receiver.posted, WAIT_S, "the page")
            time.sleep(PASSES_S)  # more passes: none may send it again
            task = wait_for(lambda: _triage(api), WAIT_S, "the triage task")
            (page,) = receiver.posted
            assert page.headers[KEY_HEADER] == f"{task['id']}:assigned:dana:webhook"
            stamp = int(page.headers[TIMESTAMP_HEADER])
            assert page.headers[SIGNATURE_HEADER] == signature(
                WEBHOOK_SECRET, int(stamp), page.body
            )
            link = urlsplit(json.loads(page.body)["data"]["links"]["acknowledge"])
            token = parse_qs(link.query)["token"][0]
            first = httpx.post(api.url + link.path, params={"token": token})
            second = httpx.post(api.url + link.path, params={"token": token})
            acked = wait_for(lambda: _acknowledged(api), WAIT_S, "the acknowledgement over Kafka")
    assert (first.status_code, second.status_code) == (202, 410), first.text
    assert acked["acknowledged_by"] == "dana"


def test_an_ack_before_the_delivery_drops_the_queued_page(
    namespace: tuple[Workers, Path],
) -> None:
    """The receiver refuses the page (it stays queued, retried); dana acknowledges through the
    API; the receiver comes back: the page is dropped, never delivered."""
    workers, tmp_path = namespace
    with http_receiver() as receiver:
        receiver.status = 503
        setup = _setup(workers, tmp_path, int(receiver.url.rsplit(":", 1)[1]))
        with setup.api() as api:
            post_alert(api.url, INGEST)
            wait_for(lambda: receiver.tries, WAIT_S, "a refused try")
            task = wait_for(lambda: _triage(api), WAIT_S, "the triage task")
            answer = httpx.post(
                f"{api.url}/tasks/{task['id']}/ack", headers={"Authorization": f"Bearer {DANA}"}
            )
            assert answer.status_code in (200, 202), answer.text
            key = f"{task['id']}:assigned:dana:webhook"
            wait_for(
                lambda: (key, "dropped", "acknowledged") in setup.statuses(),
                WAIT_S,
                "the queued page dropped",
            )
            receiver.status = 200
            time.sleep(PASSES_S)
    assert receiver.posted == []
    assert setup.statuses() == [(key, "dropped", "acknowledged")]


def _rewind(setup: Setup) -> None:
    """Commit offset 0 on every role partition for the group `<prefix>notify` (once the killed
    member has left it): the restarted notifier reads every task event again."""
    names = names_for(setup.workers.prefix)
    group = f"{names.prefix}notify"
    client = KafkaConsumer(
        bootstrap_servers=setup.workers.bootstrap, group_id=group, enable_auto_commit=False
    )
    try:
        tps = [
            TopicPartition(topic, p)
            for topic in (names.tasks(role) for role in names.roles)
            for p in sorted(client.partitions_for_topic(topic) or ())
        ]
        client.assign(tps)
        offsets = {tp: OffsetAndMetadata(0, "", -1) for tp in tps}
        wait_for(lambda: _committed(client, offsets), WAIT_S, "the group to be empty")
    finally:
        client.close()


def _committed(client: KafkaConsumer, offsets: dict[TopicPartition, Any]) -> bool:
    try:
        client.commit(offsets)
    except KafkaError:  # the broker refuses while the killed member still holds the group
        return False
    return True


def test_sigkill_between_consuming_and_delivering_gives_one_delivery(
    namespace: tuple[Workers, Path],
) -> None:
    """The page is consumed and queued but cannot go out (nobody listens); the API process is
    SIGKILLed; its group offsets are even rewound, so the restart consumes every task event
    again; the receiver comes up: one POST, with the page's key, and no second one."""
    workers, tmp_path = namespace
    port = free_port()
    setup = _setup(workers, tmp_path, port)
    with setup.api() as api:
        post_alert(api.url, INGEST)
        wait_for(lambda: setup.statuses() and setup.tried(), WAIT_S, "a failed first try")
        api.process.kill()
        api.process.wait()
    _rewind(setup)
    with http_receiver(port) as receiver, setup.api() as api:
        wait_for(lambda: receiver.posted, WAIT_S, "the page after the restart")
        time.sleep(PASSES_S)  # the re-read events queue nothing twice, nothing is sent again
        task = wait_for(lambda: _triage(api), WAIT_S, "the triage task")
    assert len(receiver.posted) == 1
    assert receiver.posted[0].headers[KEY_HEADER] == f"{task['id']}:assigned:dana:webhook"
    assert [s for _, s, _ in setup.statuses()] == ["sent"]


def test_a_drill_namespace_records_its_pages_and_sends_nothing(
    namespace: tuple[Workers, Path],
) -> None:
    """With ORCH_NETWORK_COMMANDS=true (a drill namespace, as its workers run) the notifier
    records who would have been paged, on what, and the receiver gets nothing."""
    workers, tmp_path = namespace
    with http_receiver() as receiver:
        setup = _setup(workers, tmp_path, int(receiver.url.rsplit(":", 1)[1]))
        setup.env["ORCH_NETWORK_COMMANDS"] = "true"
        with setup.api() as api:
            post_alert(api.url, INGEST)
            recorded = wait_for(setup.statuses, WAIT_S, "the recorded page")
            time.sleep(PASSES_S)
            task = wait_for(lambda: _triage(api), WAIT_S, "the triage task")
    assert receiver.tries == 0
    assert recorded == [(f"{task['id']}:assigned:dana:recording", "recorded", None)]


def test_two_api_replicas_deliver_each_page_once_between_them(
    namespace: tuple[Workers, Path],
) -> None:
    """Two `run --kafka` processes (one consumer group, their own notify.db each) and pages for
    six incidents: six POSTs in all, one per key, not one per replica."""
    workers, tmp_path = namespace
    services = [f"svc-{n}" for n in range(6)]
    with http_receiver() as receiver:
        setup = _setup(workers, tmp_path, int(receiver.url.rsplit(":", 1)[1]))
        with setup.api() as first, setup.api(tmp_path / "api-2"):
            wait_for(lambda: _members(setup) == 2, WAIT_S, "both replicas in the group")
            for service in services:
                post_alert(first.url, INGEST, service)
            wait_for(lambda: len(receiver.posted) >= len(services), WAIT_S, "every page")
            time.sleep(PASSES_S)
    keys = [p.headers[KEY_HEADER] for p in receiver.posted]
    assert len(keys) == len(set(keys)) == len(services)
    second = setup.statuses(tmp_path / "api-2" / "notify.db")
    queued = [key for key, _, _ in setup.statuses() + second]
    assert sorted(queued) == sorted(keys)  # each page queued by one replica only


def test_sigkill_while_the_receiver_answers_sends_again_with_the_same_key(
    namespace: tuple[Workers, Path],
) -> None:
    """The receiver has the page but the API process dies before the answer: after the restart
    the page comes again with the same idempotency key (the receiver's to drop), then no more."""
    workers, tmp_path = namespace
    hold = threading.Event()
    with http_receiver() as receiver:
        receiver.hold = hold
        setup = _setup(workers, tmp_path, int(receiver.url.rsplit(":", 1)[1]))
        with setup.api() as api:
            post_alert(api.url, INGEST)
            wait_for(lambda: receiver.posted, WAIT_S, "the page to arrive")
            api.process.kill()
            api.process.wait()
        hold.set()
        with setup.api():
            wait_for(lambda: len(receiver.posted) == 2, WAIT_S, "the page after the restart")
            time.sleep(PASSES_S)
    keys = [p.headers[KEY_HEADER] for p in receiver.posted]
    assert len(keys) == 2
    assert keys[0] == keys[1]


def _members(setup: Setup) -> int:
    """Members of the group `<prefix>notify` once it is stable (0 while it rebalances): pages
    posted before then could be read twice across the handover (at least once, same key)."""
    name = f"{setup.workers.prefix}notify"
    admin = KafkaAdminClient(bootstrap_servers=setup.workers.bootstrap)
    try:
        group = admin.describe_groups([name])[name]
    finally:
        admin.close()
    return len(group["members"]) if group["group_state"] == "Stable" else 0


def test_a_link_used_through_one_replica_is_refused_by_the_other(
    namespace: tuple[Workers, Path],
) -> None:
    """Two `run --kafka` processes, each with its own notify.db: the page's link acknowledges
    through the first (202); once the second has read that acknowledgement, the same link is
    refused there as used (410), though its own used-link record never saw it."""
    workers, tmp_path = namespace
    with http_receiver() as receiver:
        setup = _setup(workers, tmp_path, int(receiver.url.rsplit(":", 1)[1]))
        with setup.api() as first, setup.api(tmp_path / "api-2") as second:
            post_alert(first.url, INGEST)
            wait_for(lambda: receiver.posted, WAIT_S, "the page")
            link = urlsplit(json.loads(receiver.posted[0].body)["data"]["links"]["acknowledge"])
            token = parse_qs(link.query)["token"][0]
            used = httpx.post(first.url + link.path, params={"token": token})
            wait_for(lambda: _acknowledged(second), WAIT_S, "the ack on the second replica")
            again = httpx.post(second.url + link.path, params={"token": token})
    assert (used.status_code, again.status_code) == (202, 410), again.text
