"""Trust boundaries on the Kafka runtime, against the real broker, with a live worker (the
default configuration: no ORCH_NETWORK_COMMANDS) and `orchestrator run --kafka` in front of it.

- A responder's action dressed as an `orchestrator.command` event on events.raw is
  dead-lettered with the reason and changes nothing; the same command on the commands topic
  (where the API puts a responder's authenticated action) is applied.
- Event times are measured against the worker's clock when the record arrives: a sender cannot
  walk time forward in steps each under the old bound (7 days after the newest event), and an
  event timed now is still taken afterwards.
- Every (identity, action) cell of SECURITY.md's trust matrix (tests/api/trust_matrix.py) gets
  its status over the Kafka-backed API, and only an accepted command changes an incident.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaProducer
from kafka_harness import Api, Workers, delete_topics, kafka_api, names_for, values, wait_for

from orchestrator.engine.admit import NETWORK_COMMAND_REFUSED
from orchestrator.engine.clock import DAY_MS, Millis, format_time
from orchestrator.runtime.kafka.drills import record_key, send_command
from orchestrator.runtime.kafka.readmodel import latest_incidents
from orchestrator.runtime.kafka.topics import TopicNames
from orchestrator.testing import command, encode, event
from schemas.commands import Command
from schemas.incidents import Incident

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from trust_matrix import CELLS, RESPONDERS, accepted_command, expected

INGEST = "ingest-trust-kafka-7c2d91"
MONITORING = {"name": "monitoring", "token": "monitoring-trust-kafka-5b18", "sources": ["am/*"]}
"""A named sender that may claim only sources under am/."""
WAIT_S = 30.0
SEND_TIMEOUT_S = 30.0
RATCHET_STEPS_DAYS = (6, 12, 18)
"""Each step is under 7 days after the one before: the old bound took every one of them."""
AHEAD = "ahead of this runtime's clock"


def token_of(identity: str) -> str:
    """The bearer token `identity` holds in this module."""
    return INGEST if identity == "sender" else f"token-{identity}-trust-kafka-4e9a"


def headers(identity: str) -> dict[str, str]:
    """The credential `identity` presents ("nobody" presents none)."""
    return {} if identity == "nobody" else {"Authorization": f"Bearer {token_of(identity)}"}


def responders() -> list[dict[str, Any]]:
    """The matrix's responders, each with the role it is named after (the viewer with none)."""
    return [
        {"name": n, "token": token_of(n), "roles": [] if n == "viewer" else [n]} for n in RESPONDERS
    ]


def at(offset_ms: Millis = 0) -> str:
    """The wall clock (the worker's), `offset_ms` ahead, as an event time."""
    return format_time(int(time.time() * 1000) + offset_ms)


@dataclass(frozen=True)
class Live:
    """A live namespace: its topics, one worker and the API in front of it."""

    bootstrap: str
    names: TopicNames
    api: Api

    def get(self, path: str) -> Any:
        """GET `path` as the incident commander; the JSON."""
        answer = httpx.get(self.api.url + path, headers=headers("incident_commander"), timeout=10)
        assert answer.status_code == httpx.codes.OK, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One live worker and one `run --kafka` API process on a fresh prefix, for the module."""
    base = tmp_path_factory.mktemp("trust-kafka")
    prefix = f"test-trust-kafka-{uuid.uuid4().hex[:8]}."
    workers = Workers(kafka_bootstrap, prefix, base)
    try:
        workers.start("w1").wait_rebalanced()
        with kafka_api(workers, responders(), INGEST, [MONITORING]) as api:
            yield Live(kafka_bootstrap, names_for(prefix), api)
    finally:
        workers.stop_all()
        delete_topics(kafka_bootstrap, prefix)


def produce(live: Live, records: list[dict[str, Any]]) -> None:
    """Produce `records` to events.raw in order, each acknowledged before the next, all to
    partition 0 (the only one by default), so that they meet one partition's watermark."""
    producer = KafkaProducer(
        bootstrap_servers=live.bootstrap, acks="all", max_in_flight_requests_per_connection=1
    )
    try:
        for record in records:
            raw = encode(record)
            sent = producer.send(live.names.events_raw, key=record_key(raw), value=raw, partition=0)
            sent.get(timeout=SEND_TIMEOUT_S)
    finally:
        producer.close(timeout=SEND_TIMEOUT_S)


def dead_letter_of(live: Live, event_id: str) -> dict[str, Any]:
    """The dead letter of the event `event_id`, once the worker has written it."""

    def found() -> dict[str, Any] | None:
        letters = values(live.bootstrap, live.names.deadletter)
        return next((d for d in letters if d.get("event_id") == event_id), None)

    letter: dict[str, Any] = wait_for(found, WAIT_S, f"the dead letter of {event_id}")
    return letter


def incident_for(live: Live, playbook: str, key: str) -> Incident:
    """The newest snapshot of the incident of `playbook` for `key`, once there is one."""

    def found() -> Incident | None:
        incidents = latest_incidents(live.bootstrap, live.names).values()
        return next((i for i in incidents if (i.playbook, i.key) == (playbook, key)), None)

    incident: Incident = wait_for(found, WAIT_S, f"an incident of {playbook} for {key}")
    return incident


def alert(service: str, when: str, id: str | None = None, source: str = "prom") -> dict[str, Any]:
    """A critical alert for `service`: tech_outage opens an incident with a triage task."""
    return event(
        "ops.alert",
        when,
        source=source,
        id=id or f"{service}-{uuid.uuid4().hex[:6]}",
        alertname="Down",
        service=service,
        status="firing",
        severity="critical",
    )


def breach(asset: str) -> dict[str, Any]:
    """An exfiltration of PII from `asset`: data_breach opens with a legal assessment task."""
    return event(
        "security.alert",
        at(),
        source="siem",
        id=f"breach-{asset}",
        kind="exfiltration",
        asset=asset,
        records_exposed=25000,
        pii=True,
    )


def test_a_live_worker_dead_letters_a_command_event_and_applies_the_same_from_the_commands_topic(
    live: Live,
) -> None:
    """ "Complete the legal task as alice" on events.raw is dead-lettered with the reason and
    leaves the incident as it was; the same command on the commands topic is applied."""
    asset = f"crm-{uuid.uuid4().hex[:6]}"
    produce(live, [breach(asset)])
    before = incident_for(live, "data_breach", asset)
    legal = next(t for t in before.tasks if t.name == "legal_assessment")
    assert legal.status.value == "assigned"
    forged = command("complete", at(), actor="alice", id=f"forged-{asset}", task_id=legal.id)

    produce(live, [forged])
    letter = dead_letter_of(live, forged["id"])

    assert letter["reason"] == NETWORK_COMMAND_REFUSED
    assert (letter["origin"]["kind"], letter["origin"]["name"]) == ("kafka", live.names.events_raw)
    after = incident_for(live, "data_breach", asset)
    assert after == before, "a refused command event changed the incident"
    assert "alice" not in {e.actor for e in after.timeline}

    applied = Command(
        id=f"api-{asset}", kind="complete", actor="alice", time=at(), task_id=legal.id
    )
    send_command(live.bootstrap, live.names, applied)

    def done() -> Incident | None:
        now = incident_for(live, "data_breach", asset)
        task = next(t for t in now.tasks if t.id == legal.id)
        return now if task.status.value == "done" else None

    finished = wait_for(done, WAIT_S, f"{legal.id} done through the commands topic")
    task = next(t for t in finished.tasks if t.id == legal.id)
    assert task.finished_by == "alice"
    done_entries = [e for e in finished.timeline if e.kind == "task.done"]
    assert [(e.actor, e.ref) for e in done_entries] == [("alice", legal.id)]


def test_events_timed_days_ahead_cannot_ratchet_time_and_an_event_timed_now_is_taken(
    live: Live,
) -> None:
    """Events at now + 6, 12 and 18 days (each under 7 days after the one before) are all
    dead-lettered as ahead of the worker's clock; an alert timed now then opens its incident
    (once the old bound had taken the three, it was dead-lettered as older than the dedupe
    horizon)."""
    service = f"ratchet-{uuid.uuid4().hex[:6]}"
    ahead = [alert(service, at(days * DAY_MS), f"{service}-{days}d") for days in RATCHET_STEPS_DAYS]
    current = alert(service, at(), f"{service}-now")

    produce(live, [*ahead, current])

    opened = incident_for(live, "tech_outage", service)
    for record in ahead:
        letter = dead_letter_of(live, record["id"])
        assert AHEAD in letter["reason"], letter["reason"]
    refs = {e.ref for e in opened.timeline if e.kind == "event"}
    assert refs == {f"prom/{current['id']}"}, "the incident holds the event timed now only"
    letters = values(live.bootstrap, live.names.deadletter)
    assert current["id"] not in {d.get("event_id") for d in letters}
    incidents = latest_incidents(live.bootstrap, live.names).values()
    assert [i.id for i in incidents if i.key == service] == [opened.id]


# -- the trust matrix over the Kafka-backed API ---------------------------------------------


@dataclass(frozen=True)
class Scene:
    """The incidents the matrix acts on: one shared by every cell that must change nothing,
    and one of its own for each cell that applies a command."""

    shared: str
    own: dict[tuple[str, str], str]

    def incident_of(self, identity: str, action: str) -> str:
        """The incident the cell acts on."""
        return self.own.get((identity, action), self.shared)


def _post_alert(live: Live, service: str) -> None:
    answer = httpx.post(
        f"{live.api.url}/events", json=alert(service, at()), headers=headers("sender"), timeout=10
    )
    assert answer.status_code == httpx.codes.ACCEPTED, answer.text


def _incident_id_for(live: Live, service: str) -> str:
    def found() -> str | None:
        ids = [i["id"] for i in live.get("/incidents") if i["key"] == service]
        return ids[0] if ids else None

    incident_id: str = wait_for(found, WAIT_S, f"an incident for {service}")
    return incident_id


@pytest.fixture(scope="module")
def scene(live: Live) -> Scene:
    """Opens the shared incident and one per applying cell, all at once over the API."""
    run = uuid.uuid4().hex[:6]
    applying = [cell for cell in CELLS if accepted_command(*cell)]
    services = {cell: f"matrix-{cell[1]}-{cell[0]}-{run}" for cell in applying}
    shared = f"matrix-shared-{run}"
    for service in (shared, *services.values()):
        _post_alert(live, service)
    own = {cell: _incident_id_for(live, service) for cell, service in services.items()}
    return Scene(_incident_id_for(live, shared), own)


def command_event(incident_id: str) -> dict[str, Any]:
    """A responder action dressed as an event: closing an incident 'as ceo'."""
    return command(
        "close", at(), actor="ceo", id=f"ceo-{uuid.uuid4().hex[:6]}", incident_id=incident_id
    )


def act(live: Live, identity: str, action: str, incident_id: str) -> httpx.Response:
    """Perform `action` as `identity` over HTTP on `incident_id` (its triage task)."""
    url, sent = live.api.url, headers(identity)
    if action == "submit_event":
        metric = event("ops.metric", at(), source="prom", service="s", metric="m", value=1.0)
        return httpx.post(f"{url}/events", json=metric, headers=sent, timeout=10)
    if action == "submit_command_event":
        return httpx.post(
            f"{url}/events", json=command_event(incident_id), headers=sent, timeout=10
        )
    if action == "read_incidents":
        return httpx.get(f"{url}/incidents", headers=sent, timeout=10)
    if action == "ack_ops_task":
        return httpx.post(f"{url}/tasks/{incident_id}.triage/ack", headers=sent, timeout=WAIT_S)
    assert action == "resolve_incident", action
    return httpx.post(f"{url}/incidents/{incident_id}/resolve", headers=sent, timeout=WAIT_S)


@pytest.mark.parametrize(
    ("identity", "action"),
    CELLS,
)
def test_every_cell_of_the_trust_matrix_over_kafka(
    live: Live, scene: Scene, identity: str, action: str
) -> None:
    """The status of each identity x action is SECURITY.md's; an applied command is recorded
    as the caller, and nothing else changes an incident."""
    incident_id = scene.incident_of(identity, action)
    response = act(live, identity, action, incident_id)
    assert response.status_code == expected(identity, action), response.text
    timeline = live.get(f"/incidents/{incident_id}")["timeline"]
    acted = {e["actor"] for e in timeline if e["kind"].startswith(("task.", "incident.resolved"))}
    acted.discard(None)
    if accepted_command(identity, action):
        assert acted == {identity}
    else:
        assert acted == set(), "no command was applied"
    assert "ceo" not in {e["actor"] for e in timeline}


def test_a_command_event_posted_to_the_kafka_api_is_refused_with_its_dead_letter(
    live: Live, scene: Scene
) -> None:
    """A sender's command event (close the incident as ceo) is answered 422 by the API with the
    admission rule's reason, as on the embedded runtime, and its dead letter names the sender;
    the incident stays open and ceo is nowhere on it."""
    forged = command_event(scene.shared)
    url = f"{live.api.url}/events"
    answer = httpx.post(url, json=forged, headers=headers("sender"), timeout=10)
    assert answer.status_code == 422
    assert answer.json()["detail"] == NETWORK_COMMAND_REFUSED

    def letter() -> dict[str, Any] | None:
        letters = live.get("/dead-letters?limit=10000")
        return next((d for d in letters if d["event_id"] == forged["id"]), None)

    found = wait_for(letter, WAIT_S, f"the dead letter of {forged['id']}")
    assert found["reason"] == NETWORK_COMMAND_REFUSED
    assert (found["origin"]["kind"], found["origin"]["sender"]) == ("http", "ingest")
    incident = live.get(f"/incidents/{scene.shared}")
    assert incident["status"] == "open"
    assert "ceo" not in {e["actor"] for e in incident["timeline"]}


def test_a_named_sender_may_claim_only_its_sources_over_kafka(live: Live) -> None:
    """The monitoring sender (sources am/*) has an event of another source answered 422 by the
    API with its dead letter naming it, as on the embedded runtime; its own source is queued."""
    sent = {"Authorization": f"Bearer {MONITORING['token']}"}
    url = f"{live.api.url}/events"
    ours = alert(f"claims-{uuid.uuid4().hex[:6]}", at(), source="am/prod")
    theirs = alert(f"claims-{uuid.uuid4().hex[:6]}", at(), source="crm/payments")
    answers = [httpx.post(url, json=e, headers=sent, timeout=10) for e in (ours, theirs)]
    assert [a.status_code for a in answers] == [202, 422]
    assert "may not send events of source 'crm/payments'" in answers[1].json()["detail"]
    letter = dead_letter_of(live, theirs["id"])
    assert (letter["origin"]["kind"], letter["origin"]["sender"]) == ("http", "monitoring")
