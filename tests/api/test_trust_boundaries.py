"""The intake's trust boundaries, one test per finding of the attacker's report: the intake never
acts as a responder, event time cannot be pushed, and no request crashes or swamps the service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apikit import INGEST_TOKEN, START, Api, runtime_at
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.api.intake import MAX_BATCH_RECORDS
from orchestrator.auth import AuthConfig, Sender, hash_token
from orchestrator.engine.clock import DAY_MS, format_time, parse_time
from orchestrator.engine.state import DEDUPE_KEY_CHARS
from orchestrator.testing import ManualClock, event
from schemas.tasks import TaskStatus

INGEST = {"Authorization": f"Bearer {INGEST_TOKEN}"}


def alert(service: str, time: str = START, **over: Any) -> dict[str, Any]:
    return event(
        "ops.alert",
        time,
        alertname="Down",
        service=service,
        status="firing",
        severity="critical",
        **over,
    )


def counts(api: Api) -> dict[str, int]:
    found: dict[str, int] = api.runtime.summary()["events"]
    assert found["read"] == found["accepted"] + found["rejected"] + found["duplicates"]
    return found


def test_the_ingest_token_cannot_close_or_ack_as_anyone(api: Api) -> None:
    """Finding 1: a command event through /events is dead-lettered, and nothing changes."""
    task = api.fresh_task("ops")
    as_alice = event("orchestrator.command", START, kind="ack", actor="alice", task_id=task.id)
    as_ceo = event(
        "orchestrator.command", START, kind="close", actor="ceo", incident_id=task.incident_id
    )
    for body in (as_alice, as_ceo):
        response = api.client.post("/events", json=body, headers=INGEST)
        assert response.status_code == 422
        assert "agent API" in response.json()["detail"]
    incident = api.runtime.incident(task.incident_id)
    assert incident is not None
    assert incident.status.value == "open"
    assert api.runtime.task(task.id).status == TaskStatus.ASSIGNED  # type: ignore[union-attr]
    actors = {e.actor for e in incident.timeline}
    assert not actors & {"alice", "ceo"}
    letters = api.runtime.dead_letters()
    assert len(letters) == 2
    assert {d.origin.sender for d in letters} == {"ingest"}


def test_an_open_intake_takes_no_cross_origin_text_plain_command(open_api: Api) -> None:
    """Finding 1, open intake: a form-like text/plain POST with a command event is refused."""
    task = open_api.fresh_task("ops")
    body = event("orchestrator.command", START, kind="ack", actor="alice", task_id=task.id)
    response = open_api.client.post(
        "/events",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
    )
    assert response.status_code == 422
    assert open_api.runtime.task(task.id).status == TaskStatus.ASSIGNED  # type: ignore[union-attr]


def test_event_time_cannot_be_ratcheted_forward(api: Api) -> None:
    """Finding 2: each step under 7 days ahead of the last is still refused against the
    runtime's clock; afterwards an alert timed now is accepted and no escalation fired."""
    task = api.fresh_task("ops")
    now = parse_time(START)
    steps = [9, 6, 12, 18, 24, 30]
    codes = [
        api.client.post(
            "/events", json=alert(f"r{d}", format_time(now + d * DAY_MS)), headers=INGEST
        ).status_code
        for d in steps
    ]
    assert codes == [422] * len(steps)
    assert api.runtime.state.clock == now
    assert api.client.post("/events", json=alert("fresh"), headers=INGEST).status_code == 202
    assert api.runtime.task(task.id).escalations == 0  # type: ignore[union-attr]
    assert "ahead of this runtime's clock" in api.runtime.dead_letters()[0].reason


def test_times_outside_the_supported_range_are_422_and_spare_their_batch(api: Api) -> None:
    """Finding 3: year 0 and year 10000 in UTC are dead-lettered; the valid event beside them
    in the batch is accepted; nothing is a 500."""
    batch = [
        alert("y0", "0001-01-01T00:00:00+01:00"),
        alert("ok"),
        alert("y10000", "9999-12-31T23:59:59-01:00"),
    ]
    response = api.client.post("/events", json=batch, headers=INGEST)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["rejected", "accepted", "rejected"]
    single = api.client.post("/events", json=batch[0], headers=INGEST)
    assert single.status_code == 422
    assert "outside the supported range" in single.json()["detail"]


def test_a_megabyte_of_ones_is_refused_whole_before_any_dead_letter(api: Api) -> None:
    """Finding 4: [1,1,...] of 500,000 records is 413 and creates no dead letter."""
    body = b"[" + b",".join([b"1"] * 500_000) + b"]"
    response = api.client.post(
        "/events", content=body, headers={**INGEST, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert str(MAX_BATCH_RECORDS) in response.json()["detail"]
    assert api.runtime.dead_letters() == []
    assert counts(api)["read"] == 0


def test_one_unparseable_item_does_not_sink_its_neighbours(api: Api) -> None:
    """Finding 10: an item nested 955 deep and one holding a 5,000-digit number are rejected
    on their own; the valid items beside them are accepted."""
    good = [json.dumps(alert(f"g{i}")).encode() for i in range(2)]
    deep = b"[" * 955 + b"]" * 955
    digits = b"9" * 5000
    body = b"[" + b",".join([good[0], deep, digits, good[1]]) + b"]"
    response = api.client.post(
        "/events", content=body, headers={**INGEST, "Content-Type": "application/json"}
    )
    assert response.status_code == 200
    results = [r["status"] for r in response.json()["results"]]
    assert results == ["accepted", "rejected", "rejected", "accepted"]
    kept = [d.raw_b64 for d in api.runtime.dead_letters()]
    assert len(kept) == 2


def test_dedupe_memory_is_bounded_in_bytes_not_by_what_ids_hold(api: Api) -> None:
    """Finding 11: ids over 512 characters are refused; long accepted ones are remembered by
    a fixed-size digest, and still deduplicate."""
    huge = api.client.post("/events", json=alert("h", id="x" * 1_000_000), headers=INGEST)
    assert huge.status_code in (413, 422)
    long_id = alert("l", id="y" * 500)
    assert api.client.post("/events", json=long_id, headers=INGEST).status_code == 202
    assert api.client.post("/events", json=long_id, headers=INGEST).status_code == 200
    assert max(len(key) for key in api.runtime.state.seen) <= DEDUPE_KEY_CHARS


def test_a_sender_may_claim_only_its_own_sources(tmp_path: Path) -> None:
    """Named senders: one limited to alertmanager/* has another source dead-lettered, with
    its name on the dead letter's origin."""
    token = "monitoring-token-0123456789"
    auth = AuthConfig(senders=(Sender("monitoring", hash_token(token), ("alertmanager/*",)),))
    runtime = runtime_at(tmp_path, ManualClock(START))
    runtime.engine = type(runtime.engine)(
        list(runtime.engine.playbooks.values()),
        type(runtime.engine.config)(source_claims=auth.source_claims()),
    )
    sent = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(runtime, auth)) as client:
        ours = client.post("/events", json=alert("a", source="alertmanager/prod"), headers=sent)
        theirs = client.post("/events", json=alert("b", source="crm/payments"), headers=sent)
    (letter,) = runtime.dead_letters()
    runtime.close()
    assert (ours.status_code, theirs.status_code) == (202, 422)
    assert "may not send events of source 'crm/payments'" in theirs.json()["detail"]
    assert letter.origin.sender == "monitoring"
