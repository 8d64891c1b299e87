"""The role feed in-process: server-sent task events from the outbox, resumable by seq."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from apikit import Api, bearer
from cloudevents.core.formats.json import JSONFormat


def _events(text: str) -> list[dict[str, Any]]:
    """Parse an event-stream body into its events (id, event, the CloudEvent as `cloudevent`
    and its data, the task event, as `data`)."""
    found = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            cloudevent = json.loads(fields["data"])
            found.append(
                {
                    "id": int(fields["id"]),
                    "event": fields["event"],
                    "cloudevent": fields["data"],
                    "data": cloudevent["data"],
                }
            )
    return found


def test_feed_events_are_cloudevents_the_sdk_reads(api: Api) -> None:
    """Each feed event's data is a structured CloudEvent: type orchestrator.<kind>, subject the
    task id, id and time the task event's, extension role, data the task event."""
    task = api.fresh_task("ops")
    response = api.client.get("/roles/ops/feed?follow=false", headers=bearer("ops"))
    (event,) = _events(response.text)
    read = JSONFormat().read(None, event["cloudevent"].encode())
    data = read.get_data()
    assert data == event["data"]
    assert (read.get_type(), read.get_subject()) == ("orchestrator.task.assigned", task.id)
    assert (read.get_id(), read.get_source()) == (data["id"], "/orchestrator")
    assert read.get_time() == datetime.fromisoformat(data["time"])
    assert read.get_extension("role") == "ops"
    assert data["task"]["id"] == task.id


def test_backlog_of_one_role_in_order(api: Api) -> None:
    """follow=false sends the role's task events so far, in outbox order, and ends."""
    first, second = api.fresh_task("ops"), api.fresh_task("ops")
    api.fresh_task("logistics")
    response = api.client.get("/roles/ops/feed?follow=false", headers=bearer("ops"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    assert [e["data"]["task"]["id"] for e in events] == [first.id, second.id]
    assert {e["event"] for e in events} == {"task.assigned"}
    assert {e["data"]["role"] for e in events} == {"ops"}
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)


def test_resume_after_last_event_id_or_after(api: Api) -> None:
    """Last-Event-ID (or ?after=) resumes right after that seq: nothing twice, nothing lost."""
    api.fresh_task("ops")
    seen = _events(api.client.get("/roles/ops/feed?follow=false", headers=bearer("ops")).text)
    newer = api.fresh_task("ops")
    headers = {**bearer("ops"), "Last-Event-ID": str(seen[-1]["id"])}
    resumed = _events(api.client.get("/roles/ops/feed?follow=false", headers=headers).text)
    assert [e["data"]["task"]["id"] for e in resumed] == [newer.id]
    by_query = api.client.get(
        f"/roles/ops/feed?follow=false&after={seen[-1]['id']}", headers=bearer("ops")
    )
    assert _events(by_query.text) == resumed


def test_feed_carries_commands_of_the_role(api: Api) -> None:
    """An ack through the API shows up on the role's feed as task.acknowledged with its actor."""
    task = api.fresh_task("logistics")
    api.client.post(f"/tasks/{task.id}/ack", headers=bearer("logistics"))
    events = _events(
        api.client.get("/roles/logistics/feed?follow=false", headers=bearer("logistics")).text
    )
    assert [e["event"] for e in events][-1] == "task.acknowledged"
    assert events[-1]["data"]["task"]["acknowledged_by"] == "logistics"


def test_feed_errors(api: Api) -> None:
    """Unknown role 404, no token 401, a negative seq 422: all problem+json."""
    assert (
        api.client.get("/roles/astronaut/feed?follow=false", headers=bearer("ops")).status_code
        == 404
    )
    assert api.client.get("/roles/ops/feed?follow=false").status_code == 401
    invalid = api.client.get("/roles/ops/feed?follow=false&after=-1", headers=bearer("ops"))
    assert invalid.status_code == 422
    assert invalid.headers["content-type"].startswith("application/problem+json")


def test_out_of_range_positions_are_refused_or_clamped(api: Api) -> None:
    """?after beyond the largest seq is a 422; a huge Last-Event-ID means 'nothing newer'."""
    api.fresh_task("ops")
    too_far = api.client.get(f"/roles/ops/feed?follow=false&after={2**63}", headers=bearer("ops"))
    assert too_far.status_code == 422
    huge = {**bearer("ops"), "Last-Event-ID": "9" * 20}
    response = api.client.get("/roles/ops/feed?follow=false", headers=huge)
    assert response.status_code == 200
    assert _events(response.text) == []
