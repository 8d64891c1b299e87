"""The console's routes in-process (no browser): its face, its headers, who may read its parts,
and escaping in the server-rendered HTML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import orchestrator.api.console
from orchestrator.api import create_app
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock, encode, event
from schemas import Origin
from tests.api.apikit import START, Api, auth_config, bearer, runtime_at

XSS = "<script>alert(1)</script>"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    clock = ManualClock(START)
    runtime: EmbeddedRuntime = runtime_at(tmp_path, clock)
    with TestClient(create_app(runtime, auth_config())) as client:
        yield Api(client, runtime, clock)
    runtime.close()


def test_console_exports() -> None:
    """orchestrator.api.console exports its installer and its Content-Security-Policy."""
    assert sorted(orchestrator.api.console.__all__) == [
        "CONTENT_SECURITY_POLICY",
        "install_console",
    ]


def test_pages_carry_a_strict_csp_and_the_api_does_not(api: Api) -> None:
    """/ and /console (and its static files) carry the CSP, nosniff and no framing; an API
    route is left as it was."""
    for path in ("/", "/console", "/console/static/console.js"):
        headers = api.client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert (headers["x-content-type-options"], headers["x-frame-options"]) == (
            "nosniff",
            "DENY",
        )
    assert "content-security-policy" not in api.client.get("/healthz").headers


def test_console_page_has_no_inline_script(api: Api) -> None:
    """Every script of the page is a file from this origin."""
    html = api.client.get("/console").text
    assert html.count("<script") == 2
    assert html.count('<script src="/console/static/') == 2


def test_parts_need_a_responder_token(api: Api) -> None:
    """The parts and the session answer 401 without a token, 200 with one."""
    for path in ("/console/session", "/console/parts/board", "/console/parts/incidents"):
        assert api.client.get(path).status_code == 401, path
        assert api.client.get(path, headers=bearer("ops")).status_code == 200, path


def test_an_unknown_filter_is_a_clear_422(api: Api) -> None:
    """A filter value that is no status is refused with what was wrong."""
    answer = api.client.get("/console/parts/incidents?severity=huge", headers=bearer("ops"))
    assert answer.status_code == 422
    assert answer.json()["detail"] == "severity 'huge' is not known"


def test_event_strings_are_escaped_in_every_part(api: Api) -> None:
    """A key, a source and an event id made of markup are escaped on the board, in the list and
    on the incident page (opened by, joined events, timeline)."""
    alert = {"alertname": "Down", "service": XSS, "status": "firing", "severity": "critical"}
    record = encode(event("ops.alert", START, source=XSS, id=XSS, **alert))
    (result,) = api.runtime.submit([record], Origin(kind="file"))
    assert result.status == "accepted", result
    task = api.task("tech_outage", XSS, "triage")
    for path in (
        "/console/parts/board",
        "/console/parts/incidents",
        f"/console/parts/incidents/{task.incident_id}",
    ):
        html = api.client.get(path, headers=bearer("ops")).text
        assert XSS not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    page = api.client.get(f"/console/parts/incidents/{task.incident_id}", headers=bearer("ops"))
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f"{escaped}/{escaped}" in page.text, "opened by source/id, escaped"


def test_session_says_which_feeds_to_follow(api: Api) -> None:
    """An ops responder follows the ops feed; the commander (every role) is polled instead."""
    ops = api.client.get("/console/session", headers=bearer("ops")).json()
    assert (ops["feeds"], ops["poll_seconds"]) == (["ops"], 0)
    chief = api.client.get("/console/session", headers=bearer("incident_commander")).json()
    assert chief["commander"] is True
    assert chief["feeds"] == []
    assert chief["poll_seconds"] > 0
