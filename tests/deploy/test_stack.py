"""The compose stack in containers on a real Docker engine: deploy/docker-compose.yml with CI's
override (host networking, local images), driven through testcontainers. Alert -> task -> ack
through the API container; one worker container killed, the other takes its partitions over
with nothing lost; the stack goes down. Counts are printed."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from docker_stack import UP_TIMEOUT_S, Images, Stack, api_ready, compose_stack, wait_for

from orchestrator.testing import event

INGEST = "ingest-deploy-token-7c2d"
TOKENS = {"alice": "alice-deploy-token-a1b2", "ivy": "ivy-deploy-token-c3d4"}
ROLES = {"alice": ["ops"], "ivy": ["incident_commander"]}
ALERTS_EACH_PHASE = 12  # services spread over the six shard partitions of two workers
SHARD_PARTITIONS = 6  # ORCH_KAFKA_PARTITIONS in deploy/docker-compose.yml
WAIT_S = 90.0
TIMEOUT_S = 30.0


def _as(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name]}"}


def _post_alert(stack: Stack, service: str) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = event(
        "ops.alert", now, source="prom", id=f"{service}-down", alertname="Down",
        service=service, status="firing", severity="critical",
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {INGEST}"}
    answer = httpx.post(f"{stack.api_url}/events", json=body, headers=headers, timeout=TIMEOUT_S)
    assert answer.status_code == httpx.codes.ACCEPTED, answer.text


def _incidents(stack: Stack) -> dict[str, dict[str, Any]]:
    """The open incidents by key, as the API container serves them."""
    answer = httpx.get(f"{stack.api_url}/incidents", headers=_as("ivy"), timeout=TIMEOUT_S)
    assert answer.status_code == httpx.codes.OK, answer.text
    return {incident["key"]: incident for incident in answer.json()}


def _triage_tasks(stack: Stack, services: list[str]) -> dict[str, str]:
    """Wait until every service has its incident with an assigned triage task: service -> id."""

    def all_there() -> dict[str, str] | None:
        found = _incidents(stack)
        if not all(s in found for s in services):
            return None
        return {s: f"{found[s]['id']}.triage" for s in services}

    tasks: dict[str, str] = wait_for(all_there, WAIT_S, f"incidents for {services}")
    return tasks


def _ack(stack: Stack, task_id: str) -> None:
    answer = httpx.post(f"{stack.api_url}/tasks/{task_id}/ack", headers=_as("alice"), timeout=60)
    assert answer.status_code == httpx.codes.ACCEPTED, f"{task_id}: {answer.text}"


def _triage_state(incident: dict[str, Any]) -> tuple[str, str | None]:
    triage = next(t for t in incident["tasks"] if t["name"] == "triage")
    return triage["status"], triage["acknowledged_by"]


def _responders() -> list[dict[str, Any]]:
    return [{"name": n, "token": TOKENS[n], "roles": r} for n, r in ROLES.items()]


# Setup counts: on a new machine the images fixture builds the base (debootstrap, ~2 min), the
# orchestrator's image (~1.5 min) and the Kafka image before the stack runs (~1.5 min).
@pytest.mark.timeout(1200)
def test_compose_stack_alert_ack_worker_killed_and_taken_over_then_down(
    images: Images, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Through the containers: alerts open incidents whose triage tasks are acked; after one
    worker container is killed the other owns every partition, and every incident, task and ack
    from before and after the kill is there exactly once; `down` leaves no container or volume."""
    with compose_stack(tmp_path, _responders(), INGEST) as stack:
        counts = _exercise(stack)
        containers, volumes = stack.of_project()
        assert (len(containers), len(volumes)) == (4, 4)  # the killed worker's too
        stack.compose.stop(down=True)
        assert stack.of_project() == ([], set())
    with capsys.disabled():
        builds = ", ".join(f"{name} {s:.0f} s" for name, s in images.seconds.items())
        print(f"\ndeploy smoke: image builds: {builds}; {counts}; stack down")


def _exercise(stack: Stack) -> str:
    """The smoke test's steps on a running stack; returns its counts as one line."""
    started = time.monotonic()
    wait_for(lambda: api_ready(stack.api_url), UP_TIMEOUT_S, "ready API container")
    workers = stack.containers("worker")
    assert len(workers) == 2, [w.name for w in workers]
    for worker in workers:
        stack.wait_rebalanced(worker)
    up_s = time.monotonic() - started

    before = [f"svc-{i:02d}" for i in range(ALERTS_EACH_PHASE)]
    for service in before:
        _post_alert(stack, service)
    tasks = _triage_tasks(stack, before)
    acked_before = before[: ALERTS_EACH_PHASE // 2]
    for service in acked_before:
        _ack(stack, tasks[service])

    killed, survivor = workers
    rebalances = len(stack.log_events(survivor, "worker.rebalanced"))
    killed.kill()
    killed.reload()
    assert killed.status == "exited"
    every_shard = {f"orch.incidents.keyed:{n}" for n in range(SHARD_PARTITIONS)}

    def took_over() -> bool:
        since_kill = stack.log_events(survivor, "worker.rebalanced")[rebalances:]
        return any(every_shard <= set(e["actives"]) for e in since_kill)

    wait_for(took_over, WAIT_S, f"{survivor.name} owning every shard partition")

    after = [f"svc-{i:02d}" for i in range(ALERTS_EACH_PHASE, 2 * ALERTS_EACH_PHASE)]
    for service in after:
        _post_alert(stack, service)
    tasks |= _triage_tasks(stack, after)
    for service in before[ALERTS_EACH_PHASE // 2 :] + after:
        _ack(stack, tasks[service])

    incidents = _incidents(stack)
    assert sorted(incidents) == sorted(before + after)
    assert all(incident["events"] == 1 for incident in incidents.values())
    acked = dict.fromkeys(before + after, ("acknowledged", "alice"))
    assert {s: _triage_state(incidents[s]) for s in incidents} == acked
    assert len(stack.containers("worker")) == 1
    tasks_total = sum(len(i["tasks"]) for i in incidents.values())
    return (
        f"stack up in {up_s:.0f} s; alerts {len(before)} before + {len(after)} after killing "
        f"{killed.name}; incidents {len(incidents)}; tasks {tasks_total}; triage acks "
        f"{len(acked_before)} before + {len(incidents) - len(acked_before)} after the kill; "
        f"{survivor.name} took over, owns all {SHARD_PARTITIONS} shard partitions"
    )
