"""/metrics: counts from the runtime's state, and request latency by route."""

from __future__ import annotations

from apikit import Api, bearer
from prometheus_client.parser import text_string_to_metric_families


def _samples(api: Api) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = api.client.get("/metrics", headers=bearer("viewer"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples[name, frozenset(labels.items())]


def test_metrics_follow_events_commands_incidents_and_tasks(api: Api) -> None:
    """Accepted/rejected/duplicate events, applied/rejected commands, open incidents, tasks."""
    task = api.fresh_task("ops")
    api.fresh_task("legal")
    ingest = {"Authorization": "Bearer ingest-token-0f27e8a7c3d1"}
    api.client.post("/events", headers=ingest, content=b"{broken")
    api.client.post(f"/tasks/{task.id}/ack", headers=bearer("ops"))
    api.client.post(f"/tasks/{task.id}/ack", headers=bearer("ops2"))
    samples = _samples(api)
    assert _value(samples, "orchestrator_events_total", outcome="accepted") == 2
    assert _value(samples, "orchestrator_events_total", outcome="rejected") == 1
    assert _value(samples, "orchestrator_events_total", outcome="duplicates") == 0
    assert _value(samples, "orchestrator_commands_total", verdict="applied") == 1
    assert _value(samples, "orchestrator_commands_total", verdict="rejected") == 1
    assert (
        _value(samples, "orchestrator_open_incidents", playbook="tech_outage", severity="high") == 1
    )
    assert (
        _value(samples, "orchestrator_open_incidents", playbook="data_breach", severity="low") == 0
    )
    assert _value(samples, "orchestrator_tasks", role="ops", status="acknowledged") == 1
    assert _value(samples, "orchestrator_tasks", role="legal", status="assigned") == 1
    assert (
        _value(samples, "orchestrator_escalations_total", playbook="tech_outage", role="ops") == 0
    )


def test_escalations_are_counted(api: Api) -> None:
    """An unacknowledged task past its ack deadline escalates, and the counter shows it."""
    api.fresh_task("ops")
    api.clock.advance(6 * 60_000)
    api.runtime.tick()
    samples = _samples(api)
    assert (
        _value(samples, "orchestrator_escalations_total", playbook="tech_outage", role="ops") >= 1
    )


def test_request_latency_is_labelled_by_route_template(api: Api) -> None:
    """Latency histograms use the route template (no task ids in labels)."""
    task = api.fresh_task("ops")
    api.client.get(f"/tasks/{task.id}", headers=bearer("ops"))
    samples = _samples(api)
    count = _value(
        samples,
        "orchestrator_http_request_duration_seconds_count",
        method="GET",
        route="/tasks/{task_id}",
        status="200",
    )
    assert count == 1
    assert not any(task.id in str(labels) for _, labels in samples)


def test_standard_series_and_every_label_set_are_there_before_any_event(api: Api) -> None:
    """process_* and python_* series; open incidents per playbook x severity, escalations per
    playbook x role of its tasks, all zero on a fresh runtime; outcomes add up to the
    records read, late is its own family."""
    samples = _samples(api)
    names = {name for name, _ in samples}
    assert {"process_cpu_seconds_total", "python_info", "python_gc_collections_total"} <= names
    for playbook in ("tech_outage", "supply_chain", "data_breach", "customer_service"):
        assert (
            _value(samples, "orchestrator_open_incidents", playbook=playbook, severity="low") == 0
        )
    assert (
        _value(samples, "orchestrator_escalations_total", playbook="data_breach", role="legal") == 0
    )
    outcomes = {
        dict(labels)["outcome"] for name, labels in samples if name == "orchestrator_events_total"
    }
    assert outcomes == {"accepted", "rejected", "duplicates"}
    assert _value(samples, "orchestrator_events_late_total") == 0


def test_odd_methods_and_unknown_paths_add_no_label_values(api: Api) -> None:
    """Fifty made-up methods and paths leave one OTHER method and one unmatched route."""
    for n in range(50):
        api.client.request(f"BREW{n}", f"/nowhere/{n}")
        api.client.get(f"/nowhere/{n}")
    samples = _samples(api)
    latency = [
        dict(labels)
        for name, labels in samples
        if name == "orchestrator_http_request_duration_seconds_count"
    ]
    methods = {labels["method"] for labels in latency if labels["route"] == "unmatched"}
    assert methods == {"OTHER", "GET"}
    assert {labels["route"] for labels in latency} <= {"unmatched", "/metrics"}
