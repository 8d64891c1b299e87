"""Case 3, the Kafka path: worker throughput and latency on a real broker, beside a faust
pass-through agent on the same broker in the same run.

Throughput: the workers (or the pass-through) are started and assigned first, then the log is
produced as fast as the producer can; events/s = records / the span between the first and the
last record the workers produced (record timestamps), so process start and group joins are not
counted. Latency: one worker, events offered at a fixed rate, each opening an incident whose
first task goes to tasks.ops; latency = the task event's timestamp - the event's timestamp on
events.raw (both CreateTime, set by the producing client on this machine's clock).

The broker is $KAFKA_BOOTSTRAP_SERVERS when set, otherwise one started from
deploy/kafka-local.sh for the case (and stopped after it).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks import gcwatch
from benchmarks.base import BenchContext, BenchError, CaseResult, Figure, percentile
from benchmarks.data import mixed_lines
from orchestrator.adapters import cloudevent_data
from orchestrator.engine.clock import format_time, parse_time
from orchestrator.playbook import load_directory
from orchestrator.settings import Settings
from orchestrator.testing.servers import stop

if TYPE_CHECKING:
    from orchestrator.runtime.kafka.topics import TopicNames

# orchestrator.runtime.kafka (faust, aiokafka, kafka-python) is imported where it is used, so
# that the other cases' measuring processes (python -m benchmarks.worker) do not load it.

REPO = Path(__file__).resolve().parents[1]
LOCAL_BROKER = REPO / "deploy" / "kafka-local.sh"
BROKER_PORTS = ("29492", "29493")
THROUGHPUT_RECORDS = 20_000
LATENCY_RATE = 1_000
LATENCY_SECONDS = 15
RAW_PARTITIONS, PARTITIONS = 2, 4
READY_TIMEOUT_S = 90.0
DRAIN_TIMEOUT_S = 600.0
POLL_S = 0.2
TARGET_P99_MS = 50.0
TARGET_P99_RATIO = 2.0
GC_SUFFIX = ".gc"
"""A worker's full collections (benchmarks.gcwatch), beside its log."""
FAST_GROUP = {
    "ORCH_KAFKA_SESSION_TIMEOUT": "6",
    "ORCH_KAFKA_HEARTBEAT_INTERVAL": "1",
    "ORCH_KAFKA_REBALANCE_TIMEOUT": "10",
    "ORCH_KAFKA_COMMIT_INTERVAL": "0.5",
}
LATENCY_START = parse_time("2026-11-01T00:00:00Z")
PROBE_EVERY = 10
"""Every 10th event of the latency run is a probe (an opening alert); the rest is the mixed log."""
PROBE = "probe-"


@contextmanager
def broker(work: Path) -> Iterator[str]:
    """A broker's bootstrap address: $KAFKA_BOOTSTRAP_SERVERS, or a local one started here."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    if not LOCAL_BROKER.exists():
        raise BenchError("kafka: set KAFKA_BOOTSTRAP_SERVERS (deploy/kafka-local.sh not found)")
    env = {
        **os.environ,
        "KAFKA_LOCAL_PORT": BROKER_PORTS[0],
        "KAFKA_LOCAL_CONTROLLER_PORT": BROKER_PORTS[1],
        "KAFKA_LOCAL_HOME": str(work / "kafka"),
    }
    started = subprocess.run(
        ["bash", str(LOCAL_BROKER), "start"], env=env, capture_output=True, text=True, check=False
    )
    found = [line for line in started.stdout.splitlines() if "KAFKA_BOOTSTRAP_SERVERS=" in line]
    if started.returncode != 0 or not found:
        raise BenchError(f"kafka: could not start a local broker:\n{started.stderr[-2000:]}")
    try:
        yield found[-1].split("=", 1)[1].strip()
    finally:
        subprocess.run(["bash", str(LOCAL_BROKER), "stop"], env=env, capture_output=True)


@dataclass
class Process:
    """A worker or pass-through subprocess and its log file."""

    process: subprocess.Popen[bytes]
    log: Path

    def check(self) -> None:
        """Raise BenchError if the process has exited."""
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise BenchError(f"kafka: a process exited with {self.process.returncode}:\n{tail}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period."""
        stop(self.process)


def _spawn(command: list[str], env: dict[str, str], log: Path) -> Process:
    with log.open("ab") as handle:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=handle,
        )
    return Process(process, log)


def _wait(check: Any, what: str, processes: list[Process], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        for process in processes:
            process.check()
        if time.monotonic() > deadline:
            raise BenchError(f"kafka: timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(POLL_S)


class Namespace:
    """One measurement's topics (a fresh prefix) and the worker settings for them."""

    def __init__(self, bootstrap: str, work: Path, label: str) -> None:
        from orchestrator.runtime.kafka.topics import TopicNames, ensure_topics

        self.bootstrap = bootstrap
        self.prefix = f"bench-{label}-{uuid.uuid4().hex[:8]}."
        self.dir = work / self.prefix.rstrip(".")
        self.dir.mkdir(parents=True)
        self.gc_logs: list[Path] = []
        playbooks = load_directory(Settings().playbooks)
        self.settings = Settings(
            kafka_bootstrap_servers=bootstrap,
            topic_prefix=self.prefix,
            kafka_partitions=PARTITIONS,
            kafka_raw_partitions=RAW_PARTITIONS,
        )
        self.names: TopicNames = TopicNames.of(self.settings, playbooks)
        ensure_topics(
            bootstrap,
            self.names,
            partitions=PARTITIONS,
            replication=1,
            overrides={self.names.events_raw: RAW_PARTITIONS},
        )

    def worker(self, name: str) -> Process:
        """Start one `orchestrator worker` for this namespace."""
        env = {
            "ORCH_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "ORCH_TOPIC_PREFIX": self.prefix,
            "ORCH_KAFKA_DATA_DIR": str(self.dir / name),
            "ORCH_KAFKA_PARTITIONS": str(PARTITIONS),
            "ORCH_KAFKA_RAW_PARTITIONS": str(RAW_PARTITIONS),
            "ORCH_KAFKA_TIMER_INTERVAL": "0",
            "ORCH_LOG_FORMAT": "json",
            "ORCH_LOG_LEVEL": "info",
            "ORCH_WORKER_PORT": "0",  # no health port: two workers of one run share a host
            **FAST_GROUP,
            **gcwatch.env(self.dir / f"{name}{GC_SUFFIX}"),
        }
        self.gc_logs.append(self.dir / f"{name}{GC_SUFFIX}")
        command = [sys.executable, "-m", "orchestrator", "worker"]
        return _spawn(command, env, self.dir / f"{name}.log")

    def loaded(self) -> None:
        """The load begins: mark the workers' collection logs (benchmarks.gcwatch)."""
        for path in self.gc_logs:
            gcwatch.mark(path)

    def outputs(self) -> list[Any]:
        """Every record the workers produced (incidents, tasks, dead letters)."""
        from orchestrator.runtime.kafka.readmodel import read_topic

        topics = [self.names.incidents, self.names.deadletter]
        topics += [self.names.tasks(role) for role in self.names.roles]
        return [r for topic in topics for r in read_topic(self.bootstrap, topic)]


def _actives(worker: Process) -> set[str] | None:
    """The input partitions a worker says it owns after its latest rebalance (None: none yet)."""
    found = None
    for line in worker.log.read_text(errors="replace").splitlines():
        if '"worker.rebalanced"' in line:
            found = set(json.loads(line[line.index("{") :])["actives"])
    return found


def _started(workers: list[Process], names: TopicNames) -> None:
    """Wait until the workers' latest assignments split every input partition between them."""
    wanted = {f"{names.events_raw}:{p}" for p in range(RAW_PARTITIONS)}
    wanted |= {
        f"{t}:{p}" for t in (names.incidents_keyed, names.commands) for p in range(PARTITIONS)
    }

    def split() -> bool:
        owned = [_actives(w) for w in workers]
        if any(not o for o in owned):
            return False
        together = [p for o in owned for p in o or () if p in wanted]
        return len(together) == len(set(together)) == len(wanted)

    _wait(split, f"{len(workers)} worker(s) to be assigned", workers, READY_TIMEOUT_S)


def _span_rate(records: int, timestamps: list[int]) -> float:
    span_ms = max(timestamps) - min(timestamps)
    return records / (span_ms / 1000) if span_ms > 0 else float("inf")


def worker_throughput(
    ctx: BenchContext, bootstrap: str, lines: list[bytes], workers: int, label: str
) -> float:
    """Events/s of `workers` worker processes over `lines`."""
    from orchestrator.runtime.kafka.drills import produce_lines
    from orchestrator.runtime.kafka.readmodel import wait_idle

    space = Namespace(bootstrap, ctx.work, f"w{workers}")
    count = len(lines)
    step = ctx.reporter.step(f"kafka: {workers} worker(s), {count:,} {label}", count)
    with ExitStack() as stack:
        started = [space.worker(f"w{n}") for n in range(workers)]
        for process in started:
            stack.callback(process.stop)
        _started(started, space.names)
        space.loaded()
        produce_lines(bootstrap, space.names, lines)
        wait_idle(bootstrap, space.names, space.settings.app_id, timeout_s=DRAIN_TIMEOUT_S)
        step(count)
        stamps = [r.timestamp for r in space.outputs()]
    if not stamps:
        raise BenchError("kafka: the workers produced nothing")
    return _span_rate(count, stamps)


WARM_UP = b"warm-up"


def run_passthrough(
    ctx: BenchContext, bootstrap: str, lines: list[bytes], probed: list[bytes], rate: int
) -> tuple[float, list[float]]:
    """The faust pass-through agent's records/s over `lines` (produced at once), and its
    milliseconds from each probe of `probed` (offered at `rate`/s) on the input topic to the
    same record on the output topic."""
    from orchestrator.runtime.kafka.readmodel import read_topic

    space = Namespace(bootstrap, ctx.work, "pass")
    source, target = space.prefix + "pass.in", space.prefix + "pass.out"
    _create(bootstrap, [source, target])
    step = ctx.reporter.step(f"kafka: faust pass-through, {len(lines):,} records", 2)
    command = [
        sys.executable,
        "-m",
        "benchmarks.passthrough",
        bootstrap,
        source,
        target,
        space.prefix + "pass",
        str(space.dir / "pass"),
    ]
    process = _spawn(command, {}, space.dir / "pass.log")

    def forwarded(count: int, what: str) -> None:
        _wait(lambda: _count(bootstrap, target) >= count, what, [process], DRAIN_TIMEOUT_S)

    try:
        _produce(bootstrap, source, [WARM_UP])
        forwarded(1, "the pass-through to start")
        _produce(bootstrap, source, lines)
        forwarded(1 + len(lines), "the pass-through to forward every record")
        stamps = [r.timestamp for r in read_topic(bootstrap, target) if r.value != WARM_UP]
        step(1)
        _paced(bootstrap, source, probed, rate)
        forwarded(1 + len(lines) + len(probed), "the pass-through to forward the paced records")
    finally:
        process.stop()
    step(2)
    marker = b'"service":"' + PROBE.encode()
    sent = {r.value: r.timestamp for r in read_topic(bootstrap, source) if marker in r.value}
    arrived = {r.value: r.timestamp for r in read_topic(bootstrap, target) if marker in r.value}
    return _span_rate(len(lines), stamps), [float(arrived[v] - at) for v, at in sent.items()]


def _create(bootstrap: str, topics: list[str]) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics(
            [NewTopic(t, num_partitions=RAW_PARTITIONS, replication_factor=1) for t in topics]
        )
    finally:
        admin.close()


def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    try:
        for value in values:
            producer.send(topic, value=value)
        producer.flush()
    finally:
        producer.close()


def _count(bootstrap: str, topic: str) -> int:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(parts).values())
    finally:
        consumer.close()


def _opening_alert(service: str, event_id: str, at: str) -> bytes:
    """A critical alert for a service never seen before: it opens an incident whose first
    task (triage) goes to tasks.ops at once."""
    envelope = {
        "specversion": "1.0",
        "id": event_id,
        "source": "alertmanager",
        "type": "ops.alert",
        "time": at,
        "data": {
            "alertname": "Down",
            "service": service,
            "status": "firing",
            "severity": "critical",
        },
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def opening_lines(count: int) -> Iterator[bytes]:
    """`count` opening alerts, each for its own service, a millisecond apart."""
    for i in range(count):
        yield _opening_alert(f"svc-{i}", f"open{i}", format_time(LATENCY_START + i))


def probed_lines(count: int, keys: int) -> Iterator[bytes]:
    """The mixed log with every PROBE_EVERY-th line replaced by an opening alert for service
    probe-<n> at that line's time (the probes whose latency is measured)."""
    at = format_time(LATENCY_START)
    for i, line in enumerate(mixed_lines(count, keys)):
        with contextlib.suppress(ValueError, KeyError, TypeError):  # a bad line: keep the time
            at = json.loads(line)["time"]
        if i % PROBE_EVERY == 0:
            yield _opening_alert(f"{PROBE}{i}", f"probe{i}", at)
        else:
            yield line


def _paced(bootstrap: str, topic: str, lines: list[bytes], rate: int) -> None:
    from kafka import KafkaProducer

    from orchestrator.runtime.kafka.drills import record_key

    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, acks="all")
    try:
        started = time.perf_counter()
        for i, line in enumerate(lines):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            producer.send(topic, key=record_key(line), value=line)
        producer.flush()
    finally:
        producer.close()


def latency(ctx: BenchContext, bootstrap: str, lines: list[bytes], rate: int) -> list[float]:
    """Milliseconds from each probe on events.raw to its incident's first task event, with
    `lines` (probed_lines) offered at `rate` events/s to one worker."""
    from orchestrator.runtime.kafka.readmodel import read_topic, wait_idle

    space = Namespace(bootstrap, ctx.work, "lat")
    step = ctx.reporter.step(f"kafka: latency at {rate:,} events/s, {len(lines):,} events", 1)
    worker = space.worker("w0")
    try:
        _started([worker], space.names)
        space.loaded()
        producer = threading.Thread(
            target=_paced, args=(bootstrap, space.names.events_raw, lines, rate)
        )
        producer.start()
        producer.join()
        wait_idle(bootstrap, space.names, space.settings.app_id, timeout_s=DRAIN_TIMEOUT_S)
    finally:
        worker.stop()
    step(1)
    sent: dict[str, int] = {}
    for record in read_topic(bootstrap, space.names.events_raw):
        if b'"service":"' + PROBE.encode() in record.value:
            sent[json.loads(record.value)["data"]["service"]] = record.timestamp
    keys = {}
    for record in read_topic(bootstrap, space.names.incidents):
        body = json.loads(cloudevent_data(record.value))  # an incident event's CloudEvent
        if body.get("kind") == "incident.opened" and body["key"] in sent:
            keys[body["incident_id"]] = body["key"]
    first: dict[str, int] = {}
    for record in read_topic(bootstrap, space.names.tasks("ops")):
        incident = json.loads(cloudevent_data(record.value))["incident_id"]
        if incident in keys:
            first[incident] = min(first.get(incident, record.timestamp), record.timestamp)
    found = [float(at - sent[keys[i]]) for i, at in first.items()]
    if not sent or len(found) != len(sent):
        raise BenchError(f"kafka: {len(found)} of {len(sent)} probes reached a task event")
    return found


def _p99_met(lags: list[float], base_lags: list[float]) -> bool:
    """Issue 18: p99 at most 50 ms and at most twice the pass-through's p99 in the same run."""
    p99 = percentile(lags, 0.99)
    return p99 <= TARGET_P99_MS and p99 <= TARGET_P99_RATIO * percentile(base_lags, 0.99)


class KafkaPath:
    """Throughput (1 and 2 workers) beside a faust pass-through; latency at a fixed load."""

    name = "kafka"
    title = "3. Kafka path (real broker)"

    def run(self, ctx: BenchContext) -> CaseResult:
        result = CaseResult(self.name, self.title)
        count = min(THROUGHPUT_RECORDS, ctx.config.events)
        seconds = LATENCY_SECONDS if ctx.config.events >= THROUGHPUT_RECORDS else 2
        with broker(ctx.work) as bootstrap:
            mixed = list(mixed_lines(count, ctx.config.keys))
            probed = list(probed_lines(LATENCY_RATE * seconds, ctx.config.keys))
            baseline, base_lags = run_passthrough(ctx, bootstrap, mixed, probed, LATENCY_RATE)
            one = worker_throughput(ctx, bootstrap, mixed, 1, "events")
            two = worker_throughput(ctx, bootstrap, mixed, 2, "events")
            openings = worker_throughput(
                ctx, bootstrap, list(opening_lines(count)), 1, "opening alerts"
            )
            lags = latency(ctx, bootstrap, probed, LATENCY_RATE)
        collections = gcwatch.read(sorted(ctx.work.glob(f"bench-*/*{GC_SUFFIX}")))
        passthrough = "faust pass-through agent (consume, produce)"
        result.figures += [
            Figure(
                "events/s, one worker",
                one,
                "events/s",
                baseline,
                passthrough,
                ">= 0.5x the pass-through",
                one >= 0.5 * baseline,
            ),
            Figure("events/s, two workers", two, "events/s", one, "one worker"),
            Figure(
                "events/s, one worker, opening alerts only",
                openings,
                "events/s",
                baseline,
                passthrough,
            ),
            *(
                Figure(
                    f"latency p{p}, {LATENCY_RATE:,} events/s offered",
                    percentile(lags, p / 100),
                    "ms",
                    percentile(base_lags, p / 100),
                    "faust pass-through, same events and pace",
                    "<= 50 ms and <= 2x baseline" if p == 99 else "",
                    _p99_met(lags, base_lags) if p == 99 else None,
                    higher_is_better=False,
                )
                for p in (50, 95, 99)
            ),
            gcwatch.figure(collections, "workers, every run of this case"),
        ]
        result.details.update(
            {
                "records": count,
                "passthrough": baseline,
                "one_worker": one,
                "two_workers": two,
                "one_worker_openings": openings,
                "latency_ms": {"probes": len(lags), "max": max(lags)},
                "passthrough_latency_ms": {
                    "probes": len(base_lags),
                    "p50": percentile(base_lags, 0.5),
                    "p99": percentile(base_lags, 0.99),
                },
                "gc": collections,
                "rate": LATENCY_RATE,
                "seconds": seconds,
                "partitions": {"events.raw": RAW_PARTITIONS, "keyed": PARTITIONS},
            }
        )
        result.notes += [
            f"throughput: {count:,} lines of the mixed log produced at once after the workers "
            "were assigned; events/s = lines / span of the outputs' record timestamps",
            "opening alerts only: every event opens an incident and assigns its first task (the "
            "heaviest event kind), produced at once the same way",
            f"latency: {LATENCY_RATE * seconds:,} events at {LATENCY_RATE:,}/s to one worker, the "
            f"mixed log with every {PROBE_EVERY}th event a probe (an opening alert); probe on "
            "events.raw -> its incident's first task event on tasks.ops (CreateTime of both); "
            "the pass-through's latency: the same events at the same pace, probe on its input "
            "topic -> the same record on its output topic",
            f"topics: events.raw {RAW_PARTITIONS} partitions, the others {PARTITIONS}; one broker "
            "on this machine, sharing its cores with the workers and the producer",
        ]
        return result
