"""Who is on call through the API: for responders only, at a given time or the runtime's now,
and as an iCalendar feed; without rosters a 404 that says how to configure them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from apikit import auth_config, bearer
from fastapi.testclient import TestClient
from icalendar import Calendar

from orchestrator.api import create_app
from orchestrator.playbook import load_rosters
from orchestrator.runtime.embedded import EmbeddedRuntime

EXAMPLE = Path(__file__).parents[2] / "orchestrator" / "demo" / "rosters.yaml"


@pytest.fixture
def client(runtime: EmbeddedRuntime) -> Iterator[TestClient]:
    rosters = load_rosters(EXAMPLE).rosters
    with TestClient(create_app(runtime, auth_config(), rosters=rosters)) as served:
        yield served


def test_who_needs_a_token(client: TestClient) -> None:
    """No token, no answer."""
    assert client.get("/oncall/ops").status_code == 401


def test_who_answers_with_the_reason(client: TestClient) -> None:
    """At 12:10 the override of the override has dana.ops on call; at the runtime's now
    (10:00 on the test clock) the weekly layer does."""
    at = client.get("/oncall/ops", params={"at": "2026-11-20T12:10:00Z"}, headers=bearer("ops"))
    assert at.json() == {
        "role": "ops",
        "at": "2026-11-20T12:10:00Z",
        "responders": ["dana.ops"],
        "via": "override",
        "source": "overrides[1]",
    }
    now = client.get("/oncall/ops", headers=bearer("viewer")).json()
    assert (now["at"], now["via"], now["source"]) == ("2026-11-20T10:00:00Z", "layer", "weekly")


def test_a_bad_time_is_a_422_not_a_500(client: TestClient) -> None:
    """A time that is no RFC 3339 time is refused with what to send."""
    answer = client.get("/oncall/ops", params={"at": "soon"}, headers=bearer("ops"))
    assert answer.status_code == 422
    assert "RFC 3339" in answer.json()["detail"]


def test_calendar_is_icalendar_with_the_spans(client: TestClient) -> None:
    """The feed parses as iCalendar; its events are the ops spans of the day, the two
    overrides included."""
    answer = client.get(
        "/oncall/ops/calendar.ics",
        params={"from": "2026-11-20T00:00:00Z", "days": 1},
        headers=bearer("ops"),
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(answer.content).walk("VEVENT")
    summaries = [str(e["SUMMARY"]) for e in events]
    assert summaries == [
        "ops on call: dana.ops",
        "ops on call: alex.ic",
        "ops on call: dana.ops",
        "ops on call: alex.ic",
        "ops on call: dana.ops",
    ]


def test_without_rosters_the_answer_says_how_to_configure_them(
    runtime: EmbeddedRuntime,
) -> None:
    """No rosters file: 404 naming ORCH_ROSTERS_FILE."""
    with TestClient(create_app(runtime, auth_config())) as bare:
        answer = bare.get("/oncall/ops", headers=bearer("ops"))
    assert answer.status_code == 404
    assert "ORCH_ROSTERS_FILE" in answer.json()["detail"]
