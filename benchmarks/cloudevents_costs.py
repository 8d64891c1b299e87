"""CloudEvents on the Kafka path and on the way out: `python -m benchmarks.cloudevents_costs`.

No broker: the per-record work the worker adds, each beside what it did before in the same run.
In: reading an events.raw record's headers (none, a structured record's content-type, a binary
record's ce_* headers) and, for binary, building the JSON-format record. Out: a task event as
the role topics and the feed carry it (the CloudEvent) against its bare JSON, and reading it
back (the API's read model) against validating the bare JSON.
"""

from __future__ import annotations

import json
import sys
import timeit
from collections.abc import Callable

from benchmarks.intake_modes import START, _attributes, _data
from orchestrator.adapters import (
    kafka_binary_headers,
    kafka_binary_record,
    task_body_cloudevent,
    task_cloudevent,
)
from orchestrator.playbook import load_directory
from orchestrator.runtime.kafka.codec import decode_task_event
from orchestrator.settings import shipped_playbooks
from orchestrator.testing import Drill, event
from schemas import TaskEvent

LOOPS = 20_000
ROUNDS = 5
US = 1e6
SOURCE = "/orchestrator/orch"


def _us(work: Callable[[], object], loops: int) -> float:
    return min(timeit.repeat(work, number=loops, repeat=ROUNDS)) / loops * US


def _task_event() -> TaskEvent:
    """The first task event of a critical alert, as the engine emits it."""
    drill = Drill.of(load_directory(shipped_playbooks())).feed(
        event(
            "ops.alert",
            START,
            alertname="Down",
            service="pay",
            status="firing",
            severity="critical",
        )
    )
    return drill.task_events("task.assigned")[0]


def _intake(loops: int) -> dict[str, float]:
    value = json.dumps({"specversion": "1.0", **_attributes(1), "data": _data(1)}).encode()
    structured = (("content-type", b"application/cloudevents+json"),)
    binary = tuple((f"ce_{k}", v.encode()) for k, v in _attributes(1).items())
    binary += (("ce_specversion", b"1.0"), ("content-type", b"application/json"))
    body = json.dumps(_data(1), separators=(",", ":")).encode()

    def convert() -> None:
        found = kafka_binary_headers(binary)
        assert found is not None
        kafka_binary_record(found, body)

    return {
        "no headers": _us(lambda: kafka_binary_headers(()), loops),
        "structured (content-type)": _us(lambda: kafka_binary_headers(structured), loops),
        "binary (detect + build)": _us(convert, loops),
        "bare value (for scale)": _us(lambda: json.loads(value), loops),
    }


def _out(loops: int) -> dict[str, float]:
    task = _task_event()
    bare, wrapped = task.model_dump_json().encode(), task_cloudevent(task, SOURCE)
    body = json.loads(bare)
    return {
        "emit bare (model_dump_json)": _us(lambda: task.model_dump_json().encode(), loops),
        "emit CloudEvent (role topic)": _us(lambda: task_cloudevent(task, SOURCE), loops),
        "feed bare (json.dumps)": _us(lambda: json.dumps(body, separators=(",", ":")), loops),
        "feed CloudEvent": _us(lambda: task_body_cloudevent(body, SOURCE), loops),
        "read bare (validate)": _us(lambda: TaskEvent.model_validate_json(bare), loops),
        "read CloudEvent (data + validate)": _us(lambda: decode_task_event(wrapped), loops),
    }


def main(argv: list[str]) -> None:
    """Print each figure in microseconds per record (best of ROUNDS)."""
    loops = int(argv[0]) if argv else LOOPS
    for title, figures in (
        ("events.raw record in", _intake(loops)),
        ("task event out", _out(loops)),
    ):
        print(title)
        for label, value in figures.items():
            print(f"  {label:>34}: {value:7.2f} us")


if __name__ == "__main__":
    main(sys.argv[1:])
