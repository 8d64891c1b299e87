"""Failover time: SIGKILL of a Kafka worker -> the group's output resuming, with two workers.

    python -m benchmarks.failover [--kills 5] [--rate 50]

Two `orchestrator worker` processes with the default settings (ORCH_KAFKA_SESSION_TIMEOUT,
ORCH_KAFKA_HEARTBEAT_INTERVAL) share a fresh namespace on KAFKA_BOOTSTRAP_SERVERS while alerts
arrive at a steady rate, each joining its service's incident (40 services), so that each one
brings an `incident.joined` event naming it on the incidents topic. Each round SIGKILLs the
worker that owns events.raw (all intake stops until the survivor takes it over) and measures,
for every incidents.keyed partition the killed worker owned, the time from the kill to the first
output stamped after it for a shard of that partition (the killed process stamps nothing after
its death, so that output is the survivor's); the round's figure is the largest (all output has
resumed), and `new_input_s` the same for alerts sent after the kill (it adds the backlog the
survivor works off first). Also printed: the survivor's takeover (kill -> its rebalance done,
tables recovered).
A replacement worker joins before the next round. Prints JSON lines and the median. Not part
of `make bench` (it needs a broker and takes minutes).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from orchestrator.engine import shard_of
from orchestrator.runtime.kafka.codec import partition_for

REPO = Path(__file__).resolve().parents[1]
RESUME_TIMEOUT_S = 120.0
ASSIGN_TIMEOUT_S = 90.0
SERVICES = 40


def _start(bootstrap: str, prefix: str, directory: Path, name: str) -> tuple[Any, Path]:
    log = directory / f"{name}.log"
    env = {
        **os.environ,
        "ORCH_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "ORCH_TOPIC_PREFIX": prefix,
        "ORCH_KAFKA_DATA_DIR": str(directory / name),
        "ORCH_LOG_FORMAT": "json",
        "ORCH_WORKER_PORT": "0",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestrator", "worker"],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return process, log


def _rebalances(log: Path, since: float) -> list[dict[str, Any]]:
    """The worker's worker.rebalanced lines logged after `since` (epoch seconds)."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if '"worker.rebalanced"' in line:
            entry = json.loads(line)
            if datetime.fromisoformat(entry["timestamp"]).timestamp() > since:
                found.append(entry)
    return found


def _wait_pair(pair: list[tuple[Any, Path]], raw: str, since: float) -> int:
    """Wait until both workers have rebalanced since `since` and one owns events.raw:0 (the
    other not); its index."""
    deadline = time.monotonic() + ASSIGN_TIMEOUT_S
    while time.monotonic() < deadline:
        latest = [_rebalances(log, since)[-1:] for _process, log in pair]
        if all(latest):
            owners = [i for i, (entry,) in enumerate(latest) if f"{raw}:0" in entry["actives"]]
            if len(owners) == 1:
                return owners[0]
        time.sleep(0.2)
    raise TimeoutError("the two workers did not settle on an assignment")


def _taken_over(log: Path, killed_at: float) -> float:
    """Seconds from the kill to the survivor's next completed rebalance (tables recovered)."""
    deadline = time.monotonic() + RESUME_TIMEOUT_S
    while time.monotonic() < deadline:
        after = _rebalances(log, killed_at)
        if after:
            return datetime.fromisoformat(after[0]["timestamp"]).timestamp() - killed_at
        time.sleep(0.1)
    raise TimeoutError(f"the survivor did not take over within {RESUME_TIMEOUT_S}s")


def _alert(n: int) -> bytes:
    at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    data = {"alertname": f"Down{n}", "service": f"svc-{n % SERVICES}", "status": "firing"}
    data["severity"] = "critical"
    event = {"specversion": "1.0", "id": f"a{n}", "source": "bench", "type": "ops.alert"}
    return json.dumps({**event, "time": at, "data": data}).encode()


class Alerts:
    """Sends alert a0, a1, ... at a steady rate in a thread; `sent` is how many so far."""

    def __init__(self, bootstrap: str, topic: str, rate: float) -> None:
        self.sent = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(bootstrap, topic, rate))

    def _run(self, bootstrap: str, topic: str, rate: float) -> None:
        producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        while not self.stop.is_set():
            n = self.sent
            producer.send(topic, key=f"bench\x1fa{n}".encode(), value=_alert(n))
            self.sent = n + 1
            time.sleep(1 / rate)
        producer.close()


def _partition_of_service(n: int, partitions: int) -> int:
    return partition_for(shard_of("tech_outage", f"svc-{n % SERVICES}").encode(), partitions)


def _resumed_after(
    bootstrap: str, topic: str, killed_at: float, first_new: int, owned: set[int]
) -> float:
    """Seconds from `killed_at` until every incidents.keyed partition in `owned` has given an
    output (incident.joined) stamped after it for an alert numbered `first_new` or later."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    waiting, resumed = set(owned), 0.0
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        stamps = consumer.offsets_for_times({tp: int(killed_at * 1000) for tp in tps})
        for tp in tps:
            found = stamps.get(tp)
            consumer.seek(tp, found.offset) if found else consumer.seek_to_end(tp)
        deadline = time.monotonic() + RESUME_TIMEOUT_S
        while waiting and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                for record in batch:
                    ref = json.loads(record.value).get("ref") or ""
                    n = int(ref.rsplit("a", 1)[-1]) if ref.rsplit("a", 1)[-1].isdigit() else -1
                    partition = _partition_of_service(n, len(tps))
                    stamped = float(record.timestamp) / 1000
                    if n >= first_new and partition in waiting and stamped > killed_at:
                        waiting.discard(partition)
                        resumed = max(resumed, stamped - killed_at)
    finally:
        consumer.close()
    if waiting:
        raise TimeoutError(f"partitions {waiting} gave no new output in {RESUME_TIMEOUT_S}s")
    return resumed


def main(
    kills: Annotated[int, typer.Option(min=1)] = 5,
    rate: Annotated[float, typer.Option(min=1.0, help="Events per second.")] = 50.0,
    settle: Annotated[
        float, typer.Option(min=0.0, help="Seconds between a replacement joining and a kill.")
    ] = 15.0,
    logs: Annotated[Path | None, typer.Option(help="Keep the workers' logs here.")] = None,
) -> None:
    """Measure SIGKILL -> output resuming, `kills` times; print JSON."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    prefix = f"failover-{uuid.uuid4().hex[:8]}."
    raw, incidents = f"{prefix}events.raw", f"{prefix}incidents"
    rounds: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = logs or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        since = time.time()
        pair = [_start(bootstrap, prefix, directory, f"w{i}") for i in range(2)]
        alerts = Alerts(bootstrap, raw, rate)
        try:
            _wait_pair(pair, raw, since)
            alerts.thread.start()
            for round_ in range(kills):
                time.sleep(settle)
                owner = _wait_pair(pair, raw, since)
                actives = _rebalances(pair[owner][1], since)[-1]["actives"]
                keyed = f"{prefix}incidents.keyed:"
                owned = {int(a[len(keyed) :]) for a in actives if a.startswith(keyed)}
                killed_at, first_new = time.time(), alerts.sent
                pair[owner][0].send_signal(signal.SIGKILL)
                pair[owner][0].wait()
                resumed = _resumed_after(bootstrap, incidents, killed_at, 0, owned)
                new_input = _resumed_after(bootstrap, incidents, killed_at, first_new, owned)
                takeover = _taken_over(pair[1 - owner][1], killed_at)
                rounds.append(round(resumed, 2))
                line = {"kill": round_ + 1, "resumed_after_s": rounds[-1]}
                line |= {"new_input_s": round(new_input, 2), "takeover_s": round(takeover, 2)}
                print(json.dumps(line), flush=True)
                since = time.time()
                pair[owner] = _start(bootstrap, prefix, directory, f"r{round_}")
        finally:
            alerts.stop.set()
            for process, _log in pair:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
    median = statistics.median(rounds)
    print(json.dumps({"kills": kills, "rate": rate, "settle_s": settle, "median_s": median}))


if __name__ == "__main__":
    typer.run(main)
