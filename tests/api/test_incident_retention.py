"""Retention in the embedded runtime: a closed incident leaves the engine's memory after
`incident_retention` and is still answered from the runtime's database, also after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from apikit import START, Api, auth_config, bearer
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.engine import HOUR_MS, Engine, EngineConfig
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock


def open_runtime(path: Path, clock: ManualClock) -> EmbeddedRuntime:
    """The shipped playbooks with a one-hour incident retention."""
    engine = Engine(load_directory("playbooks"), EngineConfig(incident_retention=HOUR_MS))
    return EmbeddedRuntime.open(engine, path, clock=clock.now, synchronous="normal")


@pytest.fixture
def retaining(tmp_path: Path) -> Iterator[Api]:
    clock = ManualClock(START)
    runtime = open_runtime(tmp_path, clock)
    with TestClient(create_app(runtime, auth_config())) as client:
        yield Api(client, runtime, clock)
    runtime.close()


def closed_and_retired(api: Api) -> str:
    """An incident closed by the commander, then retired by the clock an hour later."""
    incident_id = api.fresh_task("ops").incident_id
    ic = bearer("incident_commander")
    assert api.client.post(f"/incidents/{incident_id}/close", headers=ic).status_code == 202
    api.clock.advance(HOUR_MS + 1)
    api.runtime.tick()
    assert incident_id not in api.runtime.state.incidents
    return incident_id


def test_a_retired_incident_is_still_answered_from_the_database(retaining: Api) -> None:
    """GET /incidents/{id}, the incident list and the summary still show it as closed."""
    incident_id = closed_and_retired(retaining)
    viewer = bearer("viewer")
    body = retaining.client.get(f"/incidents/{incident_id}", headers=viewer).json()
    assert (body["id"], body["status"]) == (incident_id, "closed")
    assert "incident.closed" in [e["kind"] for e in body["timeline"]]
    listed = retaining.client.get("/incidents", headers=viewer).json()
    assert [(i["id"], i["status"]) for i in listed] == [(incident_id, "closed")]
    assert [i["id"] for i in retaining.runtime.summary()["incidents"]] == [incident_id]


def test_a_retired_incident_survives_a_restart(tmp_path: Path) -> None:
    """After close and reopen (recovery from the log), the retired incident reads the same."""
    clock = ManualClock(START)
    runtime = open_runtime(tmp_path, clock)
    with TestClient(create_app(runtime, auth_config())) as client:
        incident_id = closed_and_retired(Api(client, runtime, clock))
        before = runtime.incident(incident_id)
        assert before is not None
        assert before.status == "closed"
    runtime.store.close()  # no final snapshot: recovery replays the log
    again = open_runtime(tmp_path, clock)
    try:
        assert incident_id not in again.state.incidents
        assert again.incident(incident_id) == before
    finally:
        again.close()
