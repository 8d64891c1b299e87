"""A task the playbook marks `automatic` is completed by its agent, after the comment."""

from __future__ import annotations

from pathlib import Path

import pytest
from agentkit import PLAYBOOKS, agent_token, outage
from fastapi.testclient import TestClient

from agents import AgentLoop, ApiClient, agent_for
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import encode
from schemas.deadletter import Origin
from schemas.tasks import TaskEvent


@pytest.fixture
def playbooks_dir(tmp_path: Path) -> Path:
    """tech_outage with its triage task marked automatic."""
    text = (PLAYBOOKS / "tech_outage.yaml").read_text()
    marked = text.replace(
        "    title: Triage the outage\n", "    title: Triage the outage\n    automatic: true\n", 1
    )
    assert marked != text
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "tech_outage.yaml").write_text(marked)
    return folder


def test_automatic_task_is_completed_by_the_agent(
    runtime: EmbeddedRuntime, app_client: TestClient
) -> None:
    """The ops agent comments, then completes the automatic triage; mitigate follows."""
    runtime.submit([encode(outage())], Origin(kind="file"))
    app_client.headers["Authorization"] = f"Bearer {agent_token('ops-agent')}"
    (row,) = [r for r in runtime.outbox_after(0, "ops") if r.kind == "task.assigned"]
    event = TaskEvent.model_validate(row.body)
    assert event.task.automatic
    helped = AgentLoop(agent_for("ops"), ApiClient(app_client)).handle(event)
    assert helped is not None
    assert helped.complete
    triage = runtime.task(event.task.id)
    assert triage is not None
    assert (triage.status, triage.finished_by) == ("done", "ops-agent")
    assert triage.outcome == "completed automatically by the ops agent"
    incident = runtime.incident(event.incident_id)
    assert incident is not None
    kinds = [e.kind for e in incident.timeline if e.ref == event.task.id]
    assert kinds[-2:] == ["task.commented", "task.done"]
    mitigate = next(t for t in incident.tasks if t.name == "mitigate")
    assert mitigate.status == "assigned"
