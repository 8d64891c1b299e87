"""Issue 15's acceptance: Debian's real `prometheus` and `prometheus-alertmanager` on loopback
against a real `orchestrator run`, scraping targets that the tests stop and start so `up`
flips; short scrape, evaluation, group_wait and group_interval (1 s) and bounded waits.

Prometheus has two rules on `up{job="services"} == 0`: ServiceDown (critical) and
ServiceDegraded (warning); Alertmanager groups by service, so one notification carries both,
ServiceDegraded first (it sorts alerts by labels), and sends to the webhook with the ingest
token, except the billing service's, which goes out with a wrong one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.testing import servers
from orchestrator.testing.monitoring import Target, alertmanager, check_metrics, prometheus
from orchestrator.testing.servers import Server, free_port, serve

TOKEN = "monitoring-ingest-token-1"
HOOK = "/webhooks/alertmanager"
WAIT_S = 45.0
"""The longest any step waits: a scrape, an evaluation and group_wait take about 3 s."""
STILL_OPEN_S = 4.0
"""How long the incident is watched staying open after one instance recovered."""
SERVICES = {"payments": 2, "checkout": 1, "search": 1, "billing": 1}
T = TypeVar("T")
pytestmark = pytest.mark.slow


@dataclass
class Stack:
    """The orchestrator, Alertmanager, Prometheus and the scrape targets per service."""

    orchestrator: Server
    prometheus: Server
    targets: dict[str, list[Target]]

    def incidents(self, service: str) -> list[dict[str, Any]]:
        """The service's tech_outage incidents, full (state, tasks, timeline), oldest first."""
        found = httpx.get(self.orchestrator.url + "/incidents", timeout=10).json()
        ids = [i["id"] for i in found if (i["playbook"], i["key"]) == ("tech_outage", service)]
        url = self.orchestrator.url + "/incidents/"
        return [httpx.get(url + i, timeout=10).json() for i in ids]

    def metrics(self) -> str:
        """The orchestrator's /metrics, as text."""
        return httpx.get(self.orchestrator.url + "/metrics", timeout=10).text


def wait_for(what: str, probe: Callable[[], T]) -> T:
    """The first truthy value `probe` returns within WAIT_S (servers.wait_for)."""
    return servers.wait_for(probe, WAIT_S, what)


def prometheus_config(
    alertmanager_url: str, orchestrator_url: str, stack: dict[str, list[Target]]
) -> str:
    """Scrape every target (labelled with its service) and the orchestrator each second."""
    groups = [
        {"targets": [t.address for t in targets], "labels": {"service": service}}
        for service, targets in stack.items()
    ]
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "500ms", "evaluation_interval": "1s"},
        "rule_files": ["rules.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager_url[7:]]}]}]},
        "scrape_configs": [
            {"job_name": "services", "static_configs": groups},
            {"job_name": "orchestrator", "static_configs": [{"targets": [orchestrator_url[7:]]}]},
        ],
    }
    return json.dumps(config)  # JSON is YAML


def rules() -> str:
    """ServiceDown (critical) and ServiceDegraded (warning) for every down target."""
    annotations = {
        "summary": "{{ $labels.instance }} is down",
        "runbook_url": "https://runbooks.example/service-down",
        "description": "The target does not answer scrapes.",
    }
    alerts = [
        {
            "alert": name,
            "expr": 'up{job="services"} == 0',
            "labels": {"severity": severity},
            "annotations": annotations,
        }
        for name, severity in (("ServiceDown", "critical"), ("ServiceDegraded", "warning"))
    ]
    return json.dumps({"groups": [{"name": "services", "interval": "1s", "rules": alerts}]})


def alertmanager_config(orchestrator_url: str) -> str:
    """Group by service, 1 s waits; billing's notifications carry a wrong token."""

    def receiver(name: str, token: str) -> dict[str, Any]:
        auth = {"authorization": {"type": "Bearer", "credentials": token}}
        hook = {"url": orchestrator_url + HOOK, "send_resolved": True, "http_config": auth}
        return {"name": name, "webhook_configs": [hook]}

    config = {
        "route": {
            "receiver": "orchestrator",
            "group_by": ["service"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
            "routes": [{"matchers": ['service="billing"'], "receiver": "wrong-token"}],
        },
        "receivers": [receiver("orchestrator", TOKEN), receiver("wrong-token", "not-the-token")],
    }
    return json.dumps(config)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("monitoring")
    targets = {s: [Target.start_on(free_port()) for _ in range(n)] for s, n in SERVICES.items()}
    env = {"ORCH_INGEST_TOKEN": TOKEN, "ORCH_LOG_FORMAT": "json"}
    try:
        with (
            serve(work / "orchestrator", env) as orchestrator,
            alertmanager(work / "am", alertmanager_config(orchestrator.url)) as am,
            prometheus(
                work / "prom", prometheus_config(am.url, orchestrator.url, targets), rules()
            ) as prom,
        ):
            yield Stack(orchestrator, prom, targets)
    finally:
        for each in targets.values():
            for target in each:
                target.stop()


def test_kickoff_then_one_instance_recovering_keeps_the_incident_open(stack: Stack) -> None:
    """Both payments instances down: an incident with triage assigned, every alert instance a
    signal; one recovers: it stays open (triage still assigned) while the other is down; the
    other recovers: resolved."""
    first, second = stack.targets["payments"]
    first.stop()
    second.stop()
    opened = wait_for(
        "the payments incident with four firing instances",
        lambda: [i for i in stack.incidents("payments") if len(i["open_signals"]) == 4],
    )[0]
    assert opened["status"] == "open"
    assert {t["name"]: t["status"] for t in opened["tasks"]}["triage"] == "assigned"
    assert opened["details"]["runbook_url"] == "https://runbooks.example/service-down"

    first.start()
    wait_for(
        "the first instance's alerts resolving",
        lambda: [i for i in stack.incidents("payments") if len(i["open_signals"]) == 2],
    )
    time.sleep(STILL_OPEN_S)  # notifications keep coming each group_interval meanwhile
    [incident] = stack.incidents("payments")
    assert incident["status"] == "open"
    assert {t["name"]: t["status"] for t in incident["tasks"]}["triage"] == "assigned"

    second.start()
    resolved = wait_for(
        "the payments incident resolving",
        lambda: [i for i in stack.incidents("payments") if i["status"] == "resolved"],
    )
    assert len(stack.incidents("payments")) == 1
    assert resolved[0]["open_signals"] == []


def test_a_flap_inside_the_window_reopens_one_incident(stack: Stack) -> None:
    """checkout goes down and up three times: one incident, flap count 2, resolved."""
    [target] = stack.targets["checkout"]
    for flap in range(3):
        for status, change in (("open", target.stop), ("resolved", target.start)):
            change()
            wait_for(
                f"checkout {status} (flap {flap})",
                lambda status=status, flap=flap: [
                    i
                    for i in stack.incidents("checkout")
                    if (i["status"], i["flap_count"]) == (status, flap)
                ],
            )
    [incident] = stack.incidents("checkout")
    assert incident["flap_count"] == 2
    reopened = [e for e in incident["timeline"] if e["kind"] == "incident.reopened"]
    assert [e["detail"]["flap_count"] for e in reopened] == [1, 2]


def test_a_notification_with_the_warning_first_puts_both_alerts_on_the_incident(
    stack: Stack,
) -> None:
    """search down: one notification [ServiceDegraded, ServiceDown]; the warning, seen before
    the critical alert opened the incident, is gathered onto it: two events, two signals."""
    [target] = stack.targets["search"]
    target.stop()
    [incident] = wait_for(
        "the search incident with both alerts",
        lambda: [i for i in stack.incidents("search") if i["events_total"] == 2],
    )
    assert len(incident["open_signals"]) == 2
    # (with gather_within: 0m this waits in vain: the warning is left off, as in the issue)
    listed = [e for e in incident["timeline"] if e["kind"] == "event"]
    assert [e["detail"]["type"] for e in listed] == ["ops.alert", "ops.alert"]
    assert incident["details"]["group_key"].endswith('{service="search"}')
    target.start()


def test_a_bad_credential_is_refused_and_counted(stack: Stack) -> None:
    """billing's notification carries a wrong token: 401, no incident, counted in /metrics
    under the webhook's route and logged with the sender's address."""

    def refused() -> float:
        for family in text_string_to_metric_families(stack.metrics()):
            for sample in family.samples:
                if sample.name == "orchestrator_auth_refused_total" and sample.labels == {
                    "route": HOOK
                }:
                    return float(sample.value)
        return 0.0

    before = refused()
    [target] = stack.targets["billing"]
    target.stop()
    wait_for("a refused webhook credential counted", lambda: refused() > before)
    assert stack.incidents("billing") == []
    lines = [json.loads(line) for line in stack.orchestrator.log_text().splitlines() if line]
    logged = [e for e in lines if e["event"] == "auth.refused" and e["route"] == HOOK]
    assert logged
    assert logged[0]["client"] == "127.0.0.1"
    target.start()


def test_promtool_accepts_the_metrics_after_that_traffic(stack: Stack, tmp_path: Path) -> None:
    """`promtool check metrics` on a scrape taken now; Prometheus scrapes the orchestrator."""
    scrape = stack.metrics()
    assert "orchestrator_events_total" in scrape
    assert "process_cpu_seconds_total" in scrape
    assert check_metrics(scrape) == ""
    query = stack.prometheus.url + '/api/v1/query?query=up{job="orchestrator"}'
    answer = httpx.get(query, timeout=10).json()
    assert [r["value"][1] for r in answer["data"]["result"]] == ["1"]
