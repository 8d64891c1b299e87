"""Over a real socket: a bug in a route is a logged 500 problem, and the kept-alive connection
it came on serves the next request."""

from __future__ import annotations

import json
from typing import Any

from rawhttp import connect, head, read_answer
from structlog.testing import capture_logs

from orchestrator.api import create_app
from orchestrator.runtime.base import Runtime
from orchestrator.testing.servers import serve_app

SECRET = "Bearer token-that-must-not-be-logged-9e1"


class FailsOnce:
    """A runtime whose first summary() is a bug (the API sees nothing else of it)."""

    def __init__(self) -> None:
        self.calls = 0

    def summary(self) -> dict[str, Any]:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("summary broke")
        return {"events": {}}


def test_500_keeps_the_connection_and_is_logged() -> None:
    """The first GET /summary fails (500 problem+json), the second, on the same connection,
    is answered 200; the failure is logged with its traceback and without the token."""
    runtime: Runtime = FailsOnce()  # type: ignore[assignment]
    with capture_logs() as logs, serve_app(create_app(runtime)) as url, connect(url) as sock:
        sock.sendall(head("GET", "/summary", {"Authorization": SECRET}))
        failed = read_answer(sock)
        sock.sendall(head("GET", "/summary"))
        second = read_answer(sock)
    assert failed.status == 500
    assert failed.headers["content-type"].startswith("application/problem+json")
    assert json.loads(failed.body)["title"] == "Internal error"
    assert failed.headers.get("connection") != "close"
    assert (second.status, json.loads(second.body)) == (200, {"events": {}})
    (entry,) = [e for e in logs if e["event"] == "request.failed"]
    assert (entry["path"], entry["log_level"]) == ("/summary", "error")
    assert entry["exc_info"][0] is RuntimeError
    assert SECRET not in repr(logs)
