"""Test kit for the agents: task events and incidents from the real engine, no hand-made JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.engine.clock import HOUR_MS, format_time, parse_time
from orchestrator.playbook import load_directory
from orchestrator.testing import Drill, event
from schemas.incidents import Incident
from schemas.tasks import TaskEvent

START = "2026-11-20T10:00:00Z"
PLAYBOOKS = Path(__file__).parents[2] / "playbooks"
AGENTS = {
    "ops-agent": {"ops"},
    "pr-agent": {"pr"},
    "legal-agent": {"legal"},
    "logistics-agent": {"logistics"},
    "viewer": set(),
}
"""Test responders the agents run as, with their roles."""


def agent_token(name: str) -> str:
    """The bearer token of a test agent."""
    return f"agent-token-{name}-6c2f"


def drill(*events: dict[str, Any]) -> Drill:
    """The shipped playbooks fed with `events`."""
    return Drill.of(load_directory(PLAYBOOKS)).feed(*events)


def assigned(run: Drill, role: str, task: str) -> tuple[TaskEvent, Incident]:
    """The task.assigned event of `task` for `role`, and its incident as it is now."""
    found = [e for e in run.task_events("task.assigned") if e.role == role and e.task.name == task]
    assert found, f"no task.assigned for {role}/{task}"
    incident = next(i for i in run.incidents() if i.id == found[-1].incident_id)
    return found[-1], incident


def outage(service: str = "checkout", at: str = START) -> dict[str, Any]:
    """A critical firing alert: opens tech_outage with an ops triage task."""
    return event(
        "ops.alert",
        at,
        source="prometheus",
        alertname="CheckoutDown",
        service=service,
        status="firing",
        severity="critical",
    )


def breach(asset: str = "crm-db", at: str = START) -> dict[str, Any]:
    """Personal data exposed: opens data_breach with a legal assessment task."""
    return event(
        "security.alert", at, kind="exfiltration", asset=asset, records_exposed=12_000, pii=True
    )


def delay(supplier: str = "acme-parts", at: str = START) -> dict[str, Any]:
    """A 80-hour shipment delay: opens supply_chain with a logistics task."""
    return event(
        "supply.shipment_delayed", at, supplier=supplier, shipment_id="S-1", delay_hours=80
    )


def stock_out(sku: str = "SKU-1001", at: str = START) -> dict[str, Any]:
    """A SKU below safety stock: opens supply_chain keyed by the SKU."""
    return event(
        "supply.inventory_level", at, sku=sku, warehouse="Hamburg", on_hand=0, safety_stock=50
    )


def hours_after(start: str, hours: float) -> str:
    """An RFC 3339 time `hours` after `start`."""
    return format_time(parse_time(start) + round(hours * HOUR_MS))
