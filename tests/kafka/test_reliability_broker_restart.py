"""Broker restart mid-stream: the producer and the worker resume, and nothing is lost.

The test runs its own broker (deploy/kafka-local.sh with a temporary KAFKA_LOCAL_HOME and free
ports; never the session's), starts one worker, produces a paced stream, stops the broker
mid-stream, starts it again on the same data and keeps producing. The producer retries every
record until the broker acknowledges it (kafka-python, idempotent, so a retried record is not
written twice). The final summary and task events must equal the core's for the same log.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaProducer
from kafka_harness import (
    Workers,
    assert_summary_matches,
    core_run,
    mixed_stream,
    names_for,
    task_events,
    wait_for,
)
from test_reliability_crash import SHARDS, START, STEP_S, committed_raw, group_reader

from orchestrator.runtime.kafka.codec import CONTROL_HEADER, CONTROL_TICK, encode_control_tick
from orchestrator.runtime.kafka.drills import record_key
from orchestrator.runtime.kafka.readmodel import collect_summary, wait_idle
from orchestrator.runtime.kafka.topics import TopicNames
from orchestrator.settings import default_app_id

LOCAL_BROKER = Path(__file__).resolve().parents[2] / "deploy" / "kafka-local.sh"
EVENTS = 1_500
RATE = 100  # records/s
STOP_AT = 500  # records sent when the broker is stopped
DOWN_S = 3.0  # the broker stays down at least this long (plus its stop and start)
BROKER_TIMEOUT_S = 300  # the first start may resolve the broker's jars with Maven
SEND_TIMEOUT_S = 150.0
RECOVERY_TIMEOUT_S = 120.0
IDLE_TIMEOUT_S = 180.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnBroker:
    """A deploy/kafka-local.sh broker of this test alone: its own state directory and ports."""

    def __init__(self, home: Path) -> None:
        port = _free_port()
        self.bootstrap = f"127.0.0.1:{port}"
        self.env = {
            **os.environ,
            # the script probes the broker with `python` if that one has kafka-python
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "KAFKA_LOCAL_HOME": str(home),
            "KAFKA_LOCAL_PORT": str(port),
            "KAFKA_LOCAL_CONTROLLER_PORT": str(_free_port()),
        }

    def run(self, command: str) -> None:
        """`kafka-local.sh start|stop` for this broker; fails the test with the script's output."""
        done = subprocess.run(
            ["bash", str(LOCAL_BROKER), command],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=BROKER_TIMEOUT_S,
            check=False,
        )
        assert done.returncode == 0, f"kafka-local.sh {command}: {done.stderr}"


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    """A broker started for this test and stopped after it, whatever happens."""
    broker = OwnBroker(tmp_path / "broker")
    broker.run("start")
    try:
        yield broker
    finally:
        broker.run("stop")


class Feeder:
    """A producer process (this file run as a script) sending the log; `sent` follows the
    acknowledgements it reports. In its own process because kafka-python 3.0 leaks the socket
    of every failed connect while the broker is down (ResourceWarnings at collection)."""

    def __init__(
        self, bootstrap: str, names: TopicNames, raw: list[bytes], until: int, path: Path
    ) -> None:
        self.sent = 0
        self.error: str | None = None
        self.path = path
        self.path.write_bytes(b"\n".join(raw) + b"\n")
        self.process = subprocess.Popen(
            [sys.executable, __file__, bootstrap, names.events_raw, str(self.path), str(until)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.sent = int(line)
        if self.process.wait() != 0:
            assert self.process.stderr is not None
            self.error = self.process.stderr.read().decode(errors="replace")[-2000:]

    def reach(self, count: int) -> None:
        """Wait until `count` records have been acknowledged."""
        wait_for(lambda: self.sent >= count or self.error, SEND_TIMEOUT_S, f"{count} sent")
        assert self.error is None, self.error

    def stop(self) -> None:
        """Stop the producer process (by its pid) if it still runs."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.thread.join(SEND_TIMEOUT_S)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


def produce_acknowledged(bootstrap: str, topic: str, path: str, until: str) -> None:
    """The producer process: send each line of `path` to `topic` at RATE records/s, waiting
    for each acknowledgement (kafka-python retries while the broker is away), print the count
    of acknowledged records after each, then the control tick at `until`."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        max_in_flight_requests_per_connection=1,
        reconnect_backoff_max_ms=1000,
        delivery_timeout_ms=int(SEND_TIMEOUT_S * 1000),
    )
    try:
        with open(path, "rb") as lines:
            for sent, line in enumerate(lines, start=1):
                record = line.rstrip(b"\n")
                producer.send(topic, key=record_key(record), value=record).get(SEND_TIMEOUT_S)
                print(sent, flush=True)
                time.sleep(1 / RATE)
        tick = encode_control_tick(int(until))
        headers = [(CONTROL_HEADER, CONTROL_TICK)]
        producer.send(topic, value=tick, partition=0, headers=headers).get(SEND_TIMEOUT_S)
    finally:
        producer.close(timeout=SEND_TIMEOUT_S)


def test_broker_stop_and_start_mid_stream_loses_nothing(
    own_broker: OwnBroker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Producer and worker resume after the broker restarts; the summary and the task events
    (deduplicated by id) equal the core's, and the worker commits again after the restart."""
    bootstrap, prefix = own_broker.bootstrap, "restart."
    names = names_for(prefix)
    workers = Workers(bootstrap, prefix, tmp_path / "workers")
    feeder: Feeder | None = None
    try:
        worker = workers.start("w1", drill=True, ORCH_KAFKA_PARTITIONS="3")
        worker.wait_rebalanced()
        raw = mixed_stream(EVENTS, shards=SHARDS, step_s=STEP_S, start=START)
        until = START + EVENTS * STEP_S * 1000
        feeder = Feeder(bootstrap, names, raw, until, tmp_path / "raw.log")
        feeder.reach(STOP_AT)
        down = time.monotonic()
        own_broker.run("stop")
        stopped_at = feeder.sent
        time.sleep(DOWN_S)  # let the producer and the worker meet a dead broker
        own_broker.run("start")
        up = time.monotonic()
        outage = up - down
        with group_reader(bootstrap, default_app_id(prefix)) as reader:
            at_start = committed_raw(reader, names)
            wait_for(
                lambda: committed_raw(reader, names) > at_start,
                RECOVERY_TIMEOUT_S,
                "the worker to commit again after the restart",
            )
        recovery = time.monotonic() - up
        feeder.thread.join(SEND_TIMEOUT_S)
        assert (feeder.error, feeder.process.returncode) == (None, 0)
        assert stopped_at < EVENTS, "the broker must stop mid-stream"
        assert worker.process.poll() is None, f"the worker died: {worker.tail()}"
        wait_idle(bootstrap, names, timeout_s=IDLE_TIMEOUT_S)
        got = collect_summary(bootstrap, names)
        published = task_events(bootstrap, names)
    finally:
        if feeder is not None:
            feeder.stop()
        workers.stop_all()

    expected = core_run(raw, until=until)
    assert_summary_matches(got, expected, tmp_path)
    by_id = {e["id"]: e for e in published}
    assert by_id == {e["id"]: e for role in names.roles for e in expected.task_events(role)}
    with capsys.disabled():
        print(
            f"\nreliability broker restart: {EVENTS} records, broker stopped after {stopped_at} "
            f"and restarted ({outage:.1f}s from stop to answering again); worker survived; tasks "
            f"lost 0; {len(published) - len(by_id)} raw duplicate task events; broker up -> "
            f"worker commits again in {recovery:.1f}s"
        )


if __name__ == "__main__":  # the producer process of Feeder
    produce_acknowledged(*sys.argv[1:])
