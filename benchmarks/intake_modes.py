"""What CloudEvents binary mode costs on POST /events: `python -m benchmarks.intake_modes [N]`.

Same run, same events, two ways in: structured (the envelope as the body) and binary (the
attributes in `ce-*` headers, the data as the body, as the SDKs send them). Prints, per event,
the request-path binding work alone (mode detection plus splitting the body, or plus building
the record from the headers) and whole requests through the in-process ASGI app into an
embedded runtime, the two modes alternating request by request so drift hits both alike.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import timeit
from pathlib import Path

from fastapi.testclient import TestClient

from orchestrator.adapters import binary_headers, binary_record
from orchestrator.api import create_app
from orchestrator.api.intake import split_records
from orchestrator.engine.step import Engine
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.settings import shipped_playbooks
from orchestrator.testing import ManualClock

START = "2026-11-20T10:00:00Z"
DEFAULT_EVENTS = 2_000
ROUNDS = 5
WARM_UP = 50
BINDING_LOOPS = 20_000
US = 1e6
Request = tuple[dict[str, str], bytes]


def _attributes(number: int) -> dict[str, str]:
    return {"id": f"m-{number}", "source": "bench/modes", "type": "ops.metric", "time": START}


def _data(number: int) -> dict[str, object]:
    return {"service": f"svc-{number % 50}", "metric": "latency_p99_ms", "value": number % 97}


def structured(number: int) -> Request:
    """One event in structured mode: the envelope as the body."""
    envelope = {"specversion": "1.0", **_attributes(number), "data": _data(number)}
    headers = {"content-type": "application/cloudevents+json"}
    return headers, json.dumps(envelope, separators=(",", ":")).encode()


def binary(number: int) -> Request:
    """The same event in binary mode: ce-* headers and the data as the body."""
    headers = {f"ce-{k}": v for k, v in _attributes(number).items()}
    headers |= {"ce-specversion": "1.0", "content-type": "application/json"}
    return headers, json.dumps(_data(number), separators=(",", ":")).encode()


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    common = {"host": "testserver", "user-agent": "bench", "content-length": "120"}
    return [(k.encode(), v.encode()) for k, v in {**common, **headers}.items()]


def _binding_us(request: Request) -> float:
    """Microseconds of intake's binding work for one request (as post_events does it)."""
    raw, body = _raw(request[0]), request[1]

    def work() -> None:
        found = binary_headers(raw)
        if found is None:
            split_records(body)
        else:
            binary_record(found, body)

    return min(timeit.repeat(work, number=BINDING_LOOPS, repeat=ROUNDS)) / BINDING_LOOPS * US


def _post_us(client: TestClient, request: Request) -> float:
    headers, body = request
    began = timeit.default_timer()
    response = client.post("/events", content=body, headers=headers)
    took = timeit.default_timer() - began
    if response.status_code != 202:
        raise SystemExit(f"{headers}: {response.text}")
    return took * US


def _requests_us(events: int, base: Path) -> dict[str, float]:
    """Median microseconds per whole request, per mode, the modes alternating request by
    request (each event once per mode, under distinct ids)."""
    runtime = EmbeddedRuntime.open(
        Engine(load_directory(shipped_playbooks())),
        base,
        clock=ManualClock(START).now,
        synchronous="normal",
    )
    timings: dict[str, list[float]] = {"structured": [], "binary": []}
    try:
        with TestClient(create_app(runtime)) as client:
            for number in range(WARM_UP):
                _post_us(client, structured(-1 - number))
            for number in range(events):
                timings["structured"].append(_post_us(client, structured(2 * number)))
                timings["binary"].append(_post_us(client, binary(2 * number + 1)))
    finally:
        runtime.close()
    return {mode: statistics.median(values) for mode, values in timings.items()}


def main(argv: list[str]) -> None:
    """Print the comparison for N events per mode (default DEFAULT_EVENTS)."""
    events = int(argv[0]) if argv else DEFAULT_EVENTS
    binding = {"structured": _binding_us(structured(1)), "binary": _binding_us(binary(1))}
    with tempfile.TemporaryDirectory() as tmp:
        whole = _requests_us(events, Path(tmp))
    print(f"{events} events per mode, alternating, through the in-process ASGI app (median)")
    for label, figures in (("binding work", binding), ("whole request", whole)):
        extra = figures["binary"] - figures["structured"]
        print(
            f"{label:>14}: structured {figures['structured']:8.1f} us, "
            f"binary {figures['binary']:8.1f} us, binary costs {extra:+.1f} us "
            f"({extra / figures['structured']:+.1%})"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
