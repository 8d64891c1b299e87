"""Test kit for the agent API: responders per role, a real runtime, builders for fresh tasks."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cloudevents.core.v1.event import CloudEvent
from fastapi.testclient import TestClient

from orchestrator.auth import AuthConfig, Responder, hash_token
from orchestrator.engine.step import Engine
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock, encode, event
from schemas.commands import Command
from schemas.deadletter import Origin
from schemas.tasks import Task

START = "2026-11-20T10:00:00Z"
ROLES = ("ops", "pr", "legal", "logistics", "customer_service", "incident_commander")
INGEST_TOKEN = "ingest-token-0f27e8a7c3d1"
VIEWER = "viewer"
_keys = itertools.count(1)


def token_of(name: str) -> str:
    """The bearer token of a test responder (each role's lead is named after the role)."""
    return f"token-{name}-5b1e0c9d2f"


def bearer(name: str) -> dict[str, str]:
    """Authorization headers of a test responder."""
    return {"Authorization": f"Bearer {token_of(name)}"}


def responders() -> tuple[Responder, ...]:
    """One responder per role (named after it), a second ops responder, and a read-only viewer."""
    people = [(role, {role}) for role in ROLES] + [("ops2", {"ops"}), (VIEWER, set())]
    return tuple(
        Responder(name, frozenset(roles), hash_token(token_of(name))) for name, roles in people
    )


def auth_config() -> AuthConfig:
    """Responders plus an ingest token."""
    return AuthConfig(responders(), hash_token(INGEST_TOKEN))


def runtime_at(path: Path, clock: ManualClock) -> EmbeddedRuntime:
    """An embedded runtime over the shipped playbooks on a manual clock."""
    return EmbeddedRuntime.open(
        Engine(load_directory("playbooks")), path, clock=clock.now, synchronous="normal"
    )


@dataclass
class Api:
    """The app in-process, its runtime and clock, and builders for incidents and tasks."""

    client: TestClient
    runtime: EmbeddedRuntime
    clock: ManualClock

    def submit(self, type_: str, **data: Any) -> None:
        """Feed one event straight into the runtime (set-up, not under test)."""
        record = encode(event(type_, START, **data))
        (result,) = self.runtime.submit([record], Origin(kind="file"))
        assert result.status == "accepted", result

    def setup_command(self, kind: str, **target: Any) -> None:
        """Apply a command as a set-up actor, straight through the runtime."""
        command = Command(id=f"setup-{next(_keys)}", kind=kind, actor="setup", time=START, **target)
        assert self.runtime.command(command).accepted

    def task(self, playbook: str, key: str, name: str) -> Task:
        """A task of the newest incident of `playbook` for `key`."""
        found = [
            t
            for i in self.runtime.incidents()
            if (i.playbook, i.key) == (playbook, key)
            for t in i.tasks
            if t.name == name
        ]
        assert found, f"no task {name} in {playbook}/{key}"
        return found[-1]

    def fresh_task(self, role: str) -> Task:
        """A newly assigned task of `role`, in an incident of its own."""
        key = f"k{next(_keys)}"
        if role == "ops":
            self.submit(
                "ops.alert", alertname="Down", service=key, status="firing", severity="critical"
            )
            return self.task("tech_outage", key, "triage")
        if role == "legal":
            self.submit("security.alert", kind="intrusion", asset=key, records_exposed=10, pii=True)
            return self.task("data_breach", key, "legal_assessment")
        if role == "logistics":
            self.submit(
                "supply.shipment_delayed", supplier=key, shipment_id=f"S-{key}", delay_hours=80
            )
            return self.task("supply_chain", key, "assess_impact")
        if role == "pr":
            self.submit("social.mention", platform="x", reach=200_000, sentiment=-0.9, topic=key)
            return self.task("customer_service", key, "public_response")
        if role == "customer_service":
            self.submit("social.mention", platform="x", reach=2_000_000, sentiment=-0.9, topic=key)
            cause = self.task("customer_service", key, "investigate_cause")
            self.setup_command("complete", task_id=cause.id)
            return self.task("customer_service", key, "customer_outreach")
        assert role == "incident_commander", role
        self.submit(
            "ops.alert", alertname="Down", service=key, status="firing", severity="critical"
        )
        incident_id = self.task("tech_outage", key, "triage").incident_id
        self.setup_command("resolve", incident_id=incident_id)
        return self.task("tech_outage", key, "post_incident_review")


def sdk_alert(id_: str, service: str, **attributes: Any) -> CloudEvent:
    """A critical firing alert for `service` as an SDK CloudEvent (opens tech_outage), for the
    tests that send in each CloudEvents content mode (HTTP and Kafka)."""
    data = {"alertname": "Down", "service": service, "status": "firing", "severity": "critical"}
    return CloudEvent(
        attributes={
            "id": id_,
            "source": "monitoring/sdk",
            "type": "ops.alert",
            "time": datetime.fromisoformat(START),
            **attributes,
        },
        data=data,
    )
