"""POST /events takes the CloudEvents HTTP binding's three content modes as the official SDK
sends them (structured, batched, binary), with the same validation, dedupe and dead letters;
a bad binary event is 422 with a dead letter that keeps its headers, never a 500."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apikit import INGEST_TOKEN, START, Api, auth_config, bearer, runtime_at
from apikit import sdk_alert as alert
from cloudevents.core.bindings.http import HTTPMessage, to_binary, to_structured
from cloudevents.core.formats.json import JSONFormat
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.testing import ManualClock

INGEST = {"Authorization": f"Bearer {INGEST_TOKEN}"}
BATCH_TYPE = "application/cloudevents-batch+json"


def post(api: Api, message: HTTPMessage) -> Any:
    return api.client.post("/events", content=message.body, headers={**message.headers, **INGEST})


def opened(api: Api, service: str) -> list[str]:
    """Severities of the tech_outage incidents open for `service`."""
    return [
        i.severity
        for i in api.runtime.incidents()
        if (i.playbook, i.key, i.status) == ("tech_outage", service, "open")
    ]


def test_structured_mode_from_the_sdk_opens_the_incident(api: Api) -> None:
    response = post(api, to_structured(alert("s-1", "pay-s"), JSONFormat()))
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "accepted"}
    assert opened(api, "pay-s") == ["high"]


def test_batched_mode_answers_per_record(api: Api) -> None:
    """A JSON Batch of SDK events: the good one opens the incident, the unknown type is
    dead-lettered and reported, the repeat is a duplicate."""
    events = [alert("b-1", "pay-b"), alert("b-2", "pay-b", type="no.such.type"), alert("b-1", "x")]
    bodies = [to_structured(e, JSONFormat()).body for e in events]
    response = api.client.post(
        "/events",
        content=b"[" + b",".join(bodies) + b"]",
        headers={"Content-Type": BATCH_TYPE, **INGEST},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["accepted"], answer["rejected"], answer["duplicate"]) == (1, 1, 1)
    assert [r["status"] for r in answer["results"]] == ["accepted", "rejected", "duplicate"]
    assert "no.such.type" in answer["results"][1]["reason"]
    assert opened(api, "pay-b") == ["high"]


def test_binary_mode_from_the_sdk_opens_the_incident_and_dedupes_with_structured(
    api: Api,
) -> None:
    """The binary event opens the incident; the same event sent structured is a duplicate."""
    event = alert("n-1", "pay-n", subject="Euro € 😀", region="eu")
    binary = to_binary(event, JSONFormat())
    assert binary.headers["ce-subject"] == "Euro%20%E2%82%AC%20%F0%9F%98%80"
    response = post(api, binary)
    assert response.status_code == 202, response.text
    assert opened(api, "pay-n") == ["high"]
    again = post(api, to_structured(event, JSONFormat()))
    assert again.status_code == 200, again.text
    assert again.json() == {"status": "duplicate"}
    assert api.runtime.dead_letters() == []


def test_task_events_of_an_sdk_event_read_back_with_the_sdk(api: Api) -> None:
    """A binary-mode event opens the incident; its ops task event comes back on the role feed
    as a structured CloudEvent that the SDK's JSON format reads: attributes and data."""
    assert post(api, to_binary(alert("r-1", "pay-r"), JSONFormat())).status_code == 202
    feed = api.client.get("/roles/ops/feed?follow=false", headers=bearer("ops")).text
    payloads = [line.removeprefix("data: ") for line in feed.splitlines() if line[:6] == "data: "]
    read = [JSONFormat().read(None, p.encode()) for p in payloads]
    (incident,) = [i for i in api.runtime.incidents() if i.key == "pay-r"]
    assert [e.get_data()["incident_id"] for e in read] == [incident.id]
    (event,) = read
    assert event.get_type() == "orchestrator.task.assigned"
    assert event.get_subject() == event.get_data()["task"]["id"] == incident.tasks[0].id
    assert event.get_extension("role") == "ops"


def test_binary_and_structured_runs_end_in_the_same_state(tmp_path: Path) -> None:
    """Two fresh runtimes, one fed binary and one structured: byte-identical summaries."""
    events = [alert("q-1", "pay-q"), alert("q-2", "pay-q", subject="second")]
    summaries = []
    for mode, convert in (("binary", to_binary), ("structured", to_structured)):
        clock = ManualClock(START)
        runtime = runtime_at(tmp_path / mode, clock)
        try:
            with TestClient(create_app(runtime, auth_config())) as client:
                api = Api(client, runtime, clock)
                for e in events:
                    assert post(api, convert(e, JSONFormat())).status_code == 202
            summaries.append(json.dumps(runtime.summary(), sort_keys=True))
        finally:
            runtime.close()
    assert summaries[0] == summaries[1]


def _bad_binary(api: Api, headers: dict[str, str], body: bytes) -> tuple[Any, Any]:
    """Post a binary event; return the 422 problem and its dead letter."""
    response = api.client.post("/events", content=body, headers={**headers, **INGEST})
    assert response.status_code == 422, response.text
    problem = response.json()
    (letter,) = [d for d in api.runtime.dead_letters() if d.id == problem["dead_letter_id"]]
    assert letter.origin.headers == {k.lower(): v for k, v in headers.items()}
    return problem, letter


def _binary_headers(**overrides: str) -> dict[str, str]:
    headers = to_binary(alert("bad-1", "pay-x"), JSONFormat()).headers
    headers["Content-Type"] = "application/json"
    return {k: v for k, v in {**headers, **overrides}.items() if v}


def test_binary_event_without_ce_id_is_422_and_its_dead_letter_keeps_the_headers(
    api: Api,
) -> None:
    problem, letter = _bad_binary(api, _binary_headers(**{"ce-id": ""}), b'{"service":"pay"}')
    assert problem["detail"].startswith("id: required field is missing")
    assert json.loads(letter.raw)["source"] == "monitoring/sdk"
    assert (letter.event_id, letter.source) == (None, "monitoring/sdk")


def test_binary_event_with_a_bad_ce_time_is_422(api: Api) -> None:
    problem, letter = _bad_binary(
        api, _binary_headers(**{"ce-time": "yesterday"}), b'{"service":"pay"}'
    )
    assert problem["detail"].startswith("time: Value error, expected an RFC 3339 timestamp")
    assert letter.event_id == "bad-1"


def test_binary_body_that_is_not_json_under_a_json_type_is_422_kept_as_sent(api: Api) -> None:
    """The dead letter holds the body as sent and the headers: the whole binary message."""
    problem, letter = _bad_binary(api, _binary_headers(), b"{service: pay")
    assert problem["detail"].startswith("not valid JSON")
    assert letter.raw == "{service: pay"
    assert (letter.event_id, letter.source) == ("bad-1", "monitoring/sdk")


def test_binary_data_of_a_non_json_type_is_422(api: Api) -> None:
    problem, letter = _bad_binary(api, _binary_headers(**{"Content-Type": "text/plain"}), b"hi")
    assert problem["detail"].startswith("data: Input should be a valid dictionary")
    assert json.loads(letter.raw)["datacontenttype"] == "text/plain"
