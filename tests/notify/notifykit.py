"""Test kit for notifications: rosters with contacts, a real embedded runtime on a manual clock
with them, and a task paged to ops."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from orchestrator.engine import Engine, EngineConfig
from orchestrator.notify import (
    Dispatcher,
)
from orchestrator.playbook import RostersFile, load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.settings import shipped_playbooks
from orchestrator.testing import ManualClock, encode, event
from schemas import Origin

START = "2026-11-20T10:00:00Z"
WEBHOOK_SECRET = "webhook-secret-for-tests-3f9a"
LINK_SECRET = "link-secret-for-tests-8c2d"
SMTP_USER, SMTP_PASSWORD = "orchestrator", "smtp-password-5e1b"
BASE_URL = "http://orchestrator.test"


def rosters_text(webhook: str = "", email: str = "", chat: str = "") -> str:
    """ops on call: dana (reached as given); the incident commander: alex (webhook only)."""
    reach = ", ".join(
        f"{k}: {v!r}" for k, v in (("webhook", webhook), ("email", email), ("chat", chat)) if v
    )
    return f"""
roles:
  ops:
    layers:
      - {{name: days, members: [dana], start: "2026-11-01T00:00", zone: UTC, shift: 1d}}
  incident_commander:
    fallback: [alex]
contacts:
  dana: {{{reach}}}
  alex: {{webhook: {webhook or "http://127.0.0.1:9/none"!r}}}
"""


def webhook_rosters(path: Path, port: int) -> Path:
    """A rosters file at `path`: dana always on call for ops, reached by webhook on `port`."""
    path.write_text(
        f"""roles:
  ops:
    layers:
      - {{name: all, members: [dana], start: "2026-01-01T00:00", zone: UTC, shift: 7d}}
contacts:
  dana: {{webhook: "http://127.0.0.1:{port}/hook"}}
""",
        encoding="utf-8",
    )
    return path


def open_runtime(path: Path, clock: ManualClock, rosters: RostersFile) -> EmbeddedRuntime:
    """An embedded runtime over the shipped playbooks with the rosters."""
    config = replace(EngineConfig(), rosters=rosters.rosters)
    engine = Engine(load_directory(shipped_playbooks()), config)
    return EmbeddedRuntime.open(engine, path, clock=clock.now, synchronous="normal")


def page_ops(runtime: EmbeddedRuntime, service: str = "checkout") -> str:
    """A critical alert: the tech_outage triage task is assigned to ops; its id."""
    record = encode(
        event(
            "ops.alert",
            START,
            alertname="Down",
            service=service,
            status="firing",
            severity="critical",
        )
    )
    (result,) = runtime.submit([record], Origin(kind="file"))
    assert result.status == "accepted", result
    incident = next(i for i in runtime.incidents() if i.key == service)
    return next(t.id for t in incident.tasks if t.name == "triage")


Build = Callable[..., tuple[EmbeddedRuntime, Dispatcher]]
"""build(rosters_text, policy=..., smtp=...) -> (runtime, dispatcher)."""


def post_alert(url: str, ingest: str, service: str = "checkout") -> None:
    """A critical alert for `service`, now, into a running service's intake."""
    alert = event(
        "ops.alert",
        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        source="monitoring/test",
        alertname="Down",
        service=service,
        status="firing",
        severity="critical",
    )
    answer = httpx.post(url + "/events", json=alert, headers={"Authorization": f"Bearer {ingest}"})
    assert answer.status_code in (200, 202), answer.text
