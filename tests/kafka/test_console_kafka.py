"""The responder console in a real browser against the Kafka-backed API: a worker process and
`orchestrator run --kafka` on a real broker, headless chromium through chromedriver."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from kafka_harness import Api, Workers, delete_topics, kafka_api
from selenium.webdriver.common.by import By

from orchestrator.testing import event
from tests.console.browser_kit import Console, chromium, post_event

INGEST = "ingest-console-kafka-7a1c"
TOKENS = {"olga": "olga-console-kafka-token-1f", "ivy": "ivy-console-kafka-token-2e"}
ROLES = {"olga": ["ops"], "ivy": ["incident_commander"]}
WAIT_S = 30.0
"""A task travels intake -> events topic -> worker -> tasks topic -> the API's feed."""


@pytest.fixture(scope="module")
def api(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One worker and one `run --kafka` API process on a fresh prefix."""
    base = tmp_path_factory.mktemp("console-kafka")
    prefix = f"test-console-kafka-{uuid.uuid4().hex[:8]}."
    workers = Workers(kafka_bootstrap, prefix, base)
    responders = [{"name": n, "token": TOKENS[n], "roles": ROLES[n]} for n in TOKENS]
    try:
        workers.start("w1").wait_rebalanced()
        with kafka_api(workers, responders, INGEST) as running:
            yield running
    finally:
        workers.stop_all()
        delete_topics(kafka_bootstrap, prefix)


def test_console_over_kafka_shows_a_live_task_and_its_ack(api: Api) -> None:
    """Signed in as ops on the Kafka-backed API, a posted alert's task appears on the open board
    without a reload; acknowledging it shows the API's answer and the incident's timeline."""
    service = f"kafka-console-{uuid.uuid4().hex[:6]}"
    with chromium() as driver:
        console = Console(driver, api.url)
        console.open()
        console.sign_in(TOKENS["olga"])
        console.wait_feed_live()
        driver.execute_script("window.__same_page = true")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        alert = {"alertname": "Down", "status": "firing", "severity": "critical"}
        post_event(
            api.url,
            INGEST,
            event("ops.alert", now, source="prom", id=uuid.uuid4().hex, service=service, **alert),
        )
        console.card(service, timeout=WAIT_S)
        assert driver.execute_script("return window.__same_page") is True
        ack = By.CSS_SELECTOR, "button[data-act=ack]"
        console.press(lambda: console.card(service).find_element(*ack))
        assert "Accepted: ack recorded for olga" in console.answer("Accepted")
        console.press(lambda: console.card(service).find_element(By.CSS_SELECTOR, "h3 a"))
        console.wait(lambda d: "task.acknowledged" in console.timeline_kinds(), WAIT_S)
        console.screenshot("incident-kafka")
