"""End to end through a real broker and a real worker process: events in, task events out.

For each shipped playbook, the task events on each role topic must be exactly those the core
engine emits for the same events (same ids, payloads, order per incident), keyed by incident.
"""

from __future__ import annotations

from typing import Any

import pytest
from kafka_harness import (
    Workers,
    cloudevent_data_of,
    core_run,
    lines,
    names_for,
    records,
    wait_for,
)

from orchestrator.runtime.kafka.drills import produce_lines
from orchestrator.runtime.kafka.readmodel import collect_summary, wait_idle
from orchestrator.testing import event

IDLE_TIMEOUT_S = 60.0

CASES: dict[str, list[dict[str, Any]]] = {
    "tech_outage": [
        event(
            "ops.alert",
            "2026-11-20T09:00:00Z",
            source="prom",
            id="a1",
            alertname="CheckoutDown",
            service="checkout",
            status="firing",
            severity="critical",
        ),
        event(
            "ops.alert",
            "2026-11-20T09:20:00Z",
            source="prom",
            id="a2",
            alertname="CheckoutDown",
            service="checkout",
            status="resolved",
            severity="critical",
        ),
    ],
    "supply_chain": [
        event(
            "supply.shipment_delayed",
            "2026-11-20T10:00:00Z",
            source="tms",
            id="d1",
            supplier="acme",
            shipment_id="SH-1",
            delay_hours=80,
        ),
    ],
    "data_breach": [
        event(
            "security.alert",
            "2026-11-20T12:00:00Z",
            source="siem",
            id="s1",
            kind="exfiltration",
            asset="crm-db",
            records_exposed=25000,
            pii=True,
        ),
    ],
    "customer_service": [
        event(
            "social.mention",
            "2026-11-20T15:45:00Z",
            source="social",
            id="m1",
            platform="x",
            reach=250000,
            sentiment=-0.7,
            topic="late-delivery",
        ),
    ],
    "sales_drop": [
        event(
            "biz.kpi",
            f"2026-11-{day}T00:30:00Z",
            source="erp",
            id=f"k{day}",
            kpi="sales",
            value=value,
            period=f"2026-11-{day - 1}",
            region="EU",
        )
        for day, value in ((17, 100000), (18, 94000), (19, 88000), (20, 82000))
    ],
}
ROLES_WITH_TASKS = {  # contracts section 3: who gets tasks (severity high or critical here)
    "tech_outage": {"ops", "pr", "incident_commander"},  # escalations; review once resolved
    "supply_chain": {"logistics"},  # the pr notice waits for the impact assessment
    "data_breach": {"ops", "legal"},  # pr statements wait for the legal assessment
    "customer_service": {"pr", "ops"},
    "sales_drop": {"ops"},  # pr and logistics tasks wait for the cause analysis
}


def _task_events(bootstrap: str, topic: str) -> list[tuple[bytes, dict[str, Any]]]:
    return [(r.key, cloudevent_data_of(r.value)) for r in records(bootstrap, topic)]


@pytest.mark.parametrize("playbook", sorted(CASES))
def test_events_become_task_events_on_role_topics_keyed_by_incident(
    playbook: str, kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """Each playbook's events give, on tasks.<role>, exactly the core's task events."""
    names = names_for(topic_prefix)
    workers.start("w1").wait_rebalanced()
    raw = lines(CASES[playbook])

    produce_lines(kafka_bootstrap, names, raw)
    wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)

    expected = core_run(raw)
    got_roles = set()
    for role in names.roles:
        published = _task_events(kafka_bootstrap, names.tasks(role))
        assert [value for _key, value in published] == expected.task_events(role), role
        assert all(key == value["incident_id"].encode() for key, value in published)
        if published:
            got_roles.add(role)
    assert got_roles == ROLES_WITH_TASKS[playbook]
    incidents = collect_summary(kafka_bootstrap, names)["incidents"]
    assert [i["playbook"] for i in incidents] == [playbook]


def test_wall_clock_timer_escalates_an_unacknowledged_task_without_further_events(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """With timers on, an overdue ack escalates on the wall clock: no later event is needed."""
    from datetime import UTC, datetime, timedelta

    names = names_for(topic_prefix)
    workers.start("w1", ORCH_KAFKA_TIMER_INTERVAL="0.5").wait_rebalanced()
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    produce_lines(
        kafka_bootstrap,
        names,
        lines(
            [
                event(
                    "ops.alert",
                    an_hour_ago,
                    source="prom",
                    id="late-1",
                    alertname="Down",
                    service="search",
                    status="firing",
                    severity="critical",
                ),
            ]
        ),
    )

    def escalated() -> list[dict[str, Any]]:
        return [
            v
            for _k, v in _task_events(kafka_bootstrap, names.tasks("incident_commander"))
            if v["kind"] == "task.escalated"
        ]

    found = wait_for(escalated, IDLE_TIMEOUT_S, "an escalation to incident_commander")
    assert {e["task"]["name"] for e in found} == {"triage"}
    ops = [v for _k, v in _task_events(kafka_bootstrap, names.tasks("ops"))]
    # the ladder's first step goes to the role's escalation target, not back to ops
    ops_kinds = [e["kind"] for e in ops if e["task"]["name"] == "triage"]
    assert ops_kinds[0] == "task.assigned"
    assert "task.escalated" not in ops_kinds
