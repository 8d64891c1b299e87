"""Over a real socket: a write is refused on its headers, before the server reads its body."""

from __future__ import annotations

import json

import pytest
from apikit import INGEST_TOKEN, START, auth_config, token_of
from fastapi.routing import iter_route_contexts
from rawhttp import closed_by_server, connect, head, read_answer

from orchestrator.api import create_app
from orchestrator.api.limits import write_gates
from orchestrator.api.ratelimit import Budget, IntakeBudget
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import encode, event
from orchestrator.testing.servers import serve_app

HUGE = 5 * 1_048_576
"""Announced to intake, never sent: a server that waits for it answers nothing."""
UNDER_WRITE_LIMIT = 60_000
"""Announced to a responder write (its limit is 64 KiB), never sent."""
ANSWER_WITHIN = 3.0


def _announce(url: str, path: str, token: str, length: int = HUGE) -> tuple[int, bool]:
    """Send only the headers of a `length`-byte write; the status and whether it was closed."""
    with connect(url, timeout=ANSWER_WITHIN) as sock:
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Length": str(length),
        }
        sock.sendall(head("POST", path, headers))
        answer = read_answer(sock)
        assert answer.headers["content-type"].startswith("application/problem+json")
        return answer.status, closed_by_server(sock)


@pytest.mark.parametrize(
    ("path", "length"),
    [
        ("/events", HUGE),
        ("/webhooks/alertmanager", HUGE),
        ("/tasks/inc-x.triage/comment", UNDER_WRITE_LIMIT),
        ("/incidents/inc-x/close", UNDER_WRITE_LIMIT),
    ],
)
def test_wrong_token_is_401_before_the_body(
    runtime: EmbeddedRuntime, path: str, length: int
) -> None:
    """Headers announcing a body and a wrong token get 401 (and the connection is closed)
    although no body byte was sent."""
    with serve_app(create_app(runtime, auth_config())) as url:
        assert _announce(url, path, "not-a-token-4f1c", length) == (401, True)


def test_responder_token_is_no_ingest_token_before_the_body(runtime: EmbeddedRuntime) -> None:
    """Intake refuses a responder's token on the headers too."""
    with serve_app(create_app(runtime, auth_config())) as url:
        assert _announce(url, "/events", token_of("ops")) == (401, True)


def test_bytes_budget_is_charged_before_the_body(runtime: EmbeddedRuntime) -> None:
    """A sender whose bytes budget one batch spent gets 429 on the headers of its next one."""
    body = json.dumps(
        json.loads(
            encode(
                event(
                    "ops.alert",
                    START,
                    alertname="A",
                    service="s",
                    status="firing",
                    severity="critical",
                )
            )
        )
    )
    budget = IntakeBudget(bytes_=Budget.of(f"{len(body)}/minute", "bytes"))
    app = create_app(runtime, auth_config(), intake_budget=budget)
    with serve_app(app) as url, connect(url) as sock:
        headers = {
            "Authorization": f"Bearer {INGEST_TOKEN}",
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        }
        sock.sendall(head("POST", "/events", headers) + body.encode())
        assert read_answer(sock).status == 202
        status, _closed = _announce(url, "/events", INGEST_TOKEN)
        assert status == 429


def test_valid_token_over_the_limit_is_413_before_the_body(runtime: EmbeddedRuntime) -> None:
    """A responder's write announcing more than the write limit gets 413 at once."""
    with serve_app(create_app(runtime, auth_config())) as url:
        assert _announce(url, "/tasks/inc-x.triage/comment", token_of("ops")) == (413, True)


def test_every_write_route_is_gated(runtime: EmbeddedRuntime) -> None:
    """Each POST route of the app has its credential check run before the body."""
    app = create_app(runtime, auth_config())
    posts = [r for r in iter_route_contexts(app.routes) if "POST" in (r.methods or set())]
    assert len(write_gates(app.routes)) == len(posts) > 0
