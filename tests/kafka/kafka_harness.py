"""Helpers for the Kafka runtime's tests: real worker processes, topic reads, core expectations.

Workers are `python -m orchestrator worker` subprocesses with their own data directory and
short group timeouts; they are stopped by pid (SIGTERM, SIGKILL after a grace period).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.drills.pacing import Pacer
from orchestrator.drills.replay import numbered, replay_lines
from orchestrator.engine.clock import Millis, format_time, parse_time
from orchestrator.engine.outputs import Output
from orchestrator.engine.state import EngineState
from orchestrator.engine.step import Engine
from orchestrator.engine.summary import summary
from orchestrator.playbook import load_directory
from orchestrator.runtime.kafka.drills import produce_lines
from orchestrator.runtime.kafka.follow import read_topic
from orchestrator.runtime.kafka.topics import TopicNames
from orchestrator.settings import Settings
from orchestrator.testing import command, event
from orchestrator.testing.servers import free_port, stop, wait_for, wait_healthy

REPO = Path(__file__).resolve().parents[2]
ASSIGN_TIMEOUT_S = 60.0
API_START_TIMEOUT_S = 60.0
STOP_GRACE_S = 20.0
POLL_S = 0.2
MIXED_START = parse_time("2026-10-01T00:00:00Z")
# Short group timeouts, so that a dead worker's partitions move within seconds.
FAST_GROUP = {
    "ORCH_KAFKA_SESSION_TIMEOUT": "6",
    "ORCH_KAFKA_HEARTBEAT_INTERVAL": "1",
    "ORCH_KAFKA_REBALANCE_TIMEOUT": "10",
    "ORCH_KAFKA_COMMIT_INTERVAL": "0.5",
}


def playbooks() -> list[Any]:
    """The shipped playbooks."""
    return load_directory(Settings().playbooks)


def names_for(prefix: str) -> TopicNames:
    """The topics a worker with this prefix uses."""
    return TopicNames.of(Settings(topic_prefix=prefix), playbooks())


def lines(events: Iterable[dict[str, Any] | bytes]) -> list[bytes]:
    """Events as raw records (dicts as compact JSON, bytes as they are)."""
    return [e if isinstance(e, bytes) else json.dumps(e).encode() for e in events]


@dataclass
class WorkerProcess:
    """One `orchestrator worker` subprocess and its log file (JSON lines on stderr)."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    port: int
    """The worker's ORCH_WORKER_PORT (/healthz, /readyz, /metrics)."""

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.process.pid

    def log_events(self, event: str) -> list[dict[str, Any]]:
        """The worker's structured log entries named `event`."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if f'"event": "{event}"' in line:
                found.append(json.loads(line[line.index("{") :]))
        return found

    def wait_rebalanced(self, count: int = 1, timeout_s: float = ASSIGN_TIMEOUT_S) -> None:
        """Wait until the worker has finished `count` rebalances (and recovered its tables)."""
        deadline = time.monotonic() + timeout_s
        while len(self.log_events("worker.rebalanced")) < count:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited: {self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"worker {self.name} not assigned in {timeout_s}s: {self.tail()}"
                )
            time.sleep(POLL_S)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send `sig` and wait for the exit (SIGKILL after a grace period); the exit code."""
        if self.process.poll() is None:
            os.kill(self.pid, sig)
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def tail(self, lines_: int = 30, *, skip: tuple[str, ...] = ()) -> str:
        """The end of the worker's log, for failure messages; lines holding any of `skip`
        (repeated warnings) are left out."""
        kept = [
            line
            for line in self.log_path.read_text(errors="replace").splitlines()
            if not any(part in line for part in skip)
        ]
        return "\n".join(kept[-lines_:])


@dataclass
class Workers:
    """Starts workers for one test's namespace; stops whatever is left at the end."""

    bootstrap: str
    prefix: str
    directory: Path
    started: list[WorkerProcess] = field(default_factory=list)

    def start(self, name: str, *, drill: bool = False, **env: str) -> WorkerProcess:
        """Start a worker process named `name` (its own data dir); `env` adds ORCH_* vars.

        A worker is configured as a live one (orchestrator.command events from events.raw are
        dead-lettered) unless `drill`: then it serves a drill namespace filled from a recorded
        log, whose command lines it applies (ORCH_NETWORK_COMMANDS=true), as `replay --kafka`
        needs."""
        data_dir = self.directory / name
        data_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.directory / f"{name}.log"
        environment = {
            **os.environ,
            "ORCH_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "ORCH_TOPIC_PREFIX": self.prefix,
            "ORCH_KAFKA_DATA_DIR": str(data_dir),
            "ORCH_KAFKA_TIMER_INTERVAL": "0",
            "ORCH_LOG_FORMAT": "json",
            "ORCH_NETWORK_COMMANDS": "true" if drill else "false",
            "ORCH_WORKER_PORT": str(free_port()),
            **FAST_GROUP,
            **env,
        }
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "orchestrator", "worker"],
                cwd=REPO,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        worker = WorkerProcess(name, process, log_path, int(environment["ORCH_WORKER_PORT"]))
        self.started.append(worker)
        return worker

    def stop_all(self) -> None:
        """Stop every worker still running (SIGTERM, then SIGKILL)."""
        for worker in self.started:
            worker.stop()


@dataclass(frozen=True)
class Api:
    """An `orchestrator run --kafka` process's base URL, its log and the process."""

    url: str
    log: Path
    process: subprocess.Popen[bytes]


@contextmanager
def kafka_api(
    workers: Workers,
    responders: list[dict[str, Any]],
    ingest: str,
    senders: list[dict[str, Any]] | None = None,
    extra: dict[str, str] | None = None,
) -> Iterator[Api]:
    """`orchestrator run --kafka` on a free port for the namespace of `workers` (which must
    have one started), with `responders` (ORCH_RESPONDERS entries), the ingest token `ingest`,
    given `senders` those named senders too (then all go in a responders file), and the
    ORCH_* variables of `extra`; stopped at the end."""
    run_id = uuid.uuid4().hex[:6]
    port, log = free_port(), workers.directory / f"api-{run_id}.log"
    env = {
        **os.environ,
        "ORCH_KAFKA_BOOTSTRAP_SERVERS": workers.bootstrap,
        "ORCH_TOPIC_PREFIX": workers.prefix,
        "ORCH_RESPONDERS": json.dumps(responders),
        "ORCH_INGEST_TOKEN": ingest,
        "ORCH_LOG_FORMAT": "json",
        **(extra or {}),
    }
    if senders is not None:
        identities = workers.directory / f"identities-{run_id}.json"
        identities.write_text(json.dumps({"responders": responders, "senders": senders}))
        del env["ORCH_RESPONDERS"]
        env["ORCH_RESPONDERS_FILE"] = str(identities)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestrator", "run", "--kafka", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process, API_START_TIMEOUT_S)
        yield Api(url, log, process)
    finally:
        stop(process)


def delete_topics(bootstrap: str, prefix: str) -> None:
    """Delete every topic whose name starts with `prefix` (a test's namespace)."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tests-cleanup")
    try:
        leftovers = [topic for topic in admin.list_topics() if topic.startswith(prefix)]
        if leftovers:
            admin.delete_topics(leftovers)
    finally:
        admin.close()


def records(bootstrap: str, topic: str) -> list[Any]:
    """Every record of `topic` so far."""
    return list(read_topic(bootstrap, topic))


def values(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every record value of `topic` so far, as JSON."""
    return [json.loads(r.value) for r in read_topic(bootstrap, topic)]


@dataclass
class CoreRun:
    """What the core engine alone makes of the same records (the expectation)."""

    state: EngineState
    outputs: list[Output]

    def task_events(self, role: str) -> list[dict[str, Any]]:
        """The task events for `role`, as JSON."""
        return [
            o.model_dump(mode="json")
            for o in self.outputs
            if getattr(o, "role", None) == role and hasattr(o, "task")
        ]


def task_events(bootstrap: str, names: TopicNames) -> list[dict[str, Any]]:
    """Every task event published on the role topics, as JSON (the data of each record's
    structured CloudEvent)."""
    return [
        cloudevent_data_of(r.value)
        for role in names.roles
        for r in records(bootstrap, names.tasks(role))
    ]


def cloudevent_data_of(value: bytes) -> dict[str, Any]:
    """The `data` of a structured CloudEvent as the workers emit it (KeyError when the value
    is not one)."""
    envelope = json.loads(value)
    assert envelope["specversion"] == "1.0", envelope
    data: dict[str, Any] = envelope["data"]
    return data


def raw_duplicates(published: list[dict[str, Any]]) -> int:
    """How many of `published` repeat an event id seen before."""
    return sum(n - 1 for n in Counter(e["id"] for e in published).values())


def gaps_refilled(workers: Workers) -> list[dict[str, Any]]:
    """The stream gaps every worker started so far refilled from the broker (log entries)."""
    return [g for w in workers.started for g in w.log_events("stream.gap_filled")]


def assert_summary_matches(got: dict[str, Any], expected: CoreRun, tmp_path: Path) -> None:
    """The Kafka summary `got` has the core's incidents and counters (both summaries are kept
    in `tmp_path` for a failure's post-mortem)."""
    want = summary(expected.state)
    for name, data in (("kafka", got), ("core", want)):
        (tmp_path / f"summary-{name}.json").write_text(json.dumps(data, indent=1))
    assert got["incidents"] == want["incidents"], f"compare the summaries in {tmp_path}"
    assert got["events"] == {k: want["events"][k] for k in got["events"]}


def core_run(raw: list[bytes], until: Millis | None = None) -> CoreRun:
    """Replay `raw` through the core engine in-process, collecting every output."""
    outputs: list[Output] = []
    engine = Engine(playbooks(), Settings().engine_config())
    state = replay_lines(engine, numbered(raw), until=until, sink=outputs.append).state
    return CoreRun(state, outputs)


def outage_alert(i: int, key: str, at: str, status: str, severity: str) -> dict[str, Any]:
    """Alert p<i> of service `key` (tech_outage's signal)."""
    return event(
        "ops.alert",
        at,
        source="prom",
        id=f"p{i}",
        alertname="Down",
        service=key,
        status=status,
        severity=severity,
    )


def breach_alert(i: int, key: str, at: str, exposed: int) -> dict[str, Any]:
    """Security alert s<i> on asset `key`: an exfiltration of PII when `exposed`, else malware."""
    return event(
        "security.alert",
        at,
        source="siem",
        id=f"s{i}",
        kind="exfiltration" if exposed else "malware",
        asset=key,
        records_exposed=exposed,
        pii=bool(exposed),
    )


def _alert(i: int, key: str, at: str, phase: int) -> dict[str, Any]:
    status = "resolved" if phase == 2 else "firing"
    return outage_alert(i, key, at, status, "warning" if phase == 3 else "critical")


def _security(i: int, key: str, at: str, phase: int) -> dict[str, Any]:
    if phase in (1, 3):
        task = "legal_assessment" if phase == 1 else "contain"
        return command(
            "ack", at, actor="sec-bot", id=f"c{i}", playbook="data_breach", key=key, task=task
        )
    return breach_alert(i, key, at, 40000 if phase == 0 else 0)


def mixed_stream(
    count: int, shards: int = 60, step_s: int = 15, start: Millis = MIXED_START
) -> list[bytes]:
    """A log of `count` records: outages and breaches opened, acked, resolved and reopened
    across `shards` keys, `step_s` seconds of event time apart; every 41st record repeats an
    earlier one, every 89th is not JSON."""
    made: list[dict[str, Any] | bytes] = []
    for i in range(count):
        at = format_time(start + i * step_s * 1000)
        rnd, slot = divmod(i, shards)
        if i and i % 89 == 0:
            made.append(b"not json " + str(i).encode())
        elif i > 40 and i % 41 == 0:
            made.append(made[i - 25])
        elif slot % 2:
            made.append(_alert(i, f"svc-{slot}", at, rnd % 5))
        else:
            made.append(_security(i, f"asset-{slot}", at, rnd % 5))
    return lines(made)


class PacedProducer:
    """Produces raw records into events.raw in a thread, `speed` times faster than their event
    time (produce_lines), counting what it has handed to the producer."""

    def __init__(
        self,
        bootstrap: str,
        names: TopicNames,
        raw: list[bytes],
        speed: float,
        until: Millis,
        timeout_s: float,
    ) -> None:
        self.sent = 0
        self.error: BaseException | None = None
        self.timeout_s = timeout_s
        self.thread = threading.Thread(
            target=self._run, args=(bootstrap, names, raw, speed, until), daemon=True
        )

    def _count(self, raw: list[bytes]) -> Iterator[bytes]:
        for record in raw:
            yield record
            self.sent += 1

    def _run(
        self, bootstrap: str, names: TopicNames, raw: list[bytes], speed: float, until: Millis
    ) -> None:
        try:
            pace = Pacer(speed).wait_for if speed else None
            produce_lines(bootstrap, names, self._count(raw), pace, until)
        except BaseException as exc:  # reported by the test thread
            self.error = exc

    def reach(self, count: int) -> None:
        """Wait until `count` records have been sent (fails on the thread's error)."""
        wait_for(lambda: self.sent >= count or self.error, self.timeout_s, f"{count} sent")
        assert self.error is None, self.error

    def finish(self) -> None:
        """Wait for the rest of the records to be sent (fails on the thread's error)."""
        self.thread.join(self.timeout_s)
        assert self.error is None, self.error
