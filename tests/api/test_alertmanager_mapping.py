"""What an Alertmanager notification leaves for responders: the instance, the links and the
annotations on the event and the incident; severities mapped by the built-in table and
ORCH_ALERT_SEVERITY_MAP, unmapped ones counted in /metrics; refused credentials counted and
logged with the sender's address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from apikit import INGEST_TOKEN, START, Api, auth_config
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from orchestrator.api import create_app
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock

HOOK = "/webhooks/alertmanager"
INGEST = {"Authorization": f"Bearer {INGEST_TOKEN}"}
RUNBOOK = "https://runbooks.example/payments-down"


def alert(severity: str = "critical", instance: str = "pay-1") -> dict[str, Any]:
    """A firing PaymentsDown alert of one instance, as Alertmanager 0.25 sends it."""
    return {
        "status": "firing",
        "labels": {
            "alertname": "PaymentsDown",
            "service": "payments",
            "instance": instance,
            "severity": severity,
        },
        "annotations": {"summary": "payments down", "runbook_url": RUNBOOK, "description": "x"},
        "startsAt": START,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": f"fp-{instance}",
    }


def notification(*alerts: dict[str, Any]) -> dict[str, Any]:
    """A v4 webhook body with the notification-level fields responders need."""
    return {
        "version": "4",
        "receiver": "orchestrator",
        "status": "firing",
        "alerts": list(alerts),
        "groupKey": '{}:{service="payments"}',
        "externalURL": "http://alertmanager:9093",
        "commonLabels": {"service": "payments"},
        "groupLabels": {"service": "payments"},
    }


def metric(api: Api, name: str, **labels: str) -> float:
    """One sample of the app's /metrics."""
    text = api.client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    raise AssertionError(f"no sample {name} {labels}")


@pytest.fixture
def mapped_api(runtime: EmbeddedRuntime, clock: ManualClock) -> Iterator[Api]:
    """The app with ORCH_ALERT_SEVERITY_MAP's P7=critical."""
    app = create_app(runtime, auth_config(), alert_severities={"P7": "critical"})
    with TestClient(app) as client:
        yield Api(client, runtime, clock)


def test_links_and_annotations_reach_the_event_and_the_incident(api: Api) -> None:
    """The incident keeps the runbook, description, Prometheus and Alertmanager links, the
    group key and common labels; the event data has the fingerprint and annotations."""
    response = api.client.post(HOOK, json=notification(alert()), headers=INGEST)
    assert response.status_code == 200, response.text
    [incident] = api.runtime.incidents()
    assert incident.details == {
        "runbook_url": RUNBOOK,
        "description": "x",
        "alert_url": "http://prometheus:9090/graph?g0.expr=up",
        "alertmanager_url": "http://alertmanager:9093",
        "group_key": '{}:{service="payments"}',
        "common_labels": {"service": "payments"},
    }
    assert incident.open_signals == ["fp-pay-1"]


@pytest.mark.parametrize(("label", "pages"), [("P1", True), ("page", True), ("P4", False)])
def test_common_severity_labels_are_mapped(api: Api, label: str, pages: bool) -> None:
    """P1 and page are critical (an incident opens), P4 a warning (none), none unmapped."""
    api.client.post(HOOK, json=notification(alert(label)), headers=INGEST)
    assert bool(api.runtime.incidents()) is pages
    assert metric(api, "orchestrator_alert_severity_unmapped_total") == 0


def test_an_unmapped_severity_is_a_counted_warning(api: Api) -> None:
    """P7 is in no table: a warning (no incident), counted and logged."""
    with capture_logs() as logs:
        api.client.post(HOOK, json=notification(alert("P7")), headers=INGEST)
    assert api.runtime.incidents() == []
    assert metric(api, "orchestrator_alert_severity_unmapped_total") == 1
    assert [e["severity"] for e in logs if e["event"] == "alert.severity_unmapped"] == ["P7"]


def test_the_operators_mapping_wins(mapped_api: Api) -> None:
    """ORCH_ALERT_SEVERITY_MAP P7=critical: the alert opens an incident, nothing unmapped."""
    mapped_api.client.post(HOOK, json=notification(alert("p7")), headers=INGEST)
    assert len(mapped_api.runtime.incidents()) == 1
    assert metric(mapped_api, "orchestrator_alert_severity_unmapped_total") == 0


def test_a_refused_credential_is_counted_by_route_and_logged_with_the_address(api: Api) -> None:
    """A wrong and a missing token: two 401s on the webhook's route, each logged with the
    client's address; other routes' counts stay at zero (present from the first scrape)."""
    assert metric(api, "orchestrator_auth_refused_total", route=HOOK) == 0
    with capture_logs() as logs:
        wrong = {"Authorization": "Bearer not-the-token"}
        assert api.client.post(HOOK, json=notification(alert()), headers=wrong).status_code == 401
        assert api.client.post(HOOK, json=notification(alert())).status_code == 401
    assert metric(api, "orchestrator_auth_refused_total", route=HOOK) == 2
    assert metric(api, "orchestrator_auth_refused_total", route="/events") == 0
    refused = [e for e in logs if e["event"] == "auth.refused"]
    assert [(e["route"], e["client"]) for e in refused] == [(HOOK, "testclient")] * 2
