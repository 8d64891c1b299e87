"""ORCH_LOG_FORMAT=json: every line `orchestrator run` prints is one JSON object, uvicorn's own
records (an invalid HTTP request), refusals and shutdown included; a library record logged
with a traceback carries it as a field, with the context bound where it was logged.
(`orchestrator worker`'s lines: tests/kafka/test_worker_port.py.)"""

from __future__ import annotations

import json
import logging
import socket
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import structlog

from orchestrator.logs import capture_library_logging, configure_logging
from orchestrator.testing.servers import serve, stop

INGEST = "json-lines-ingest-token-1"


def test_every_line_of_orchestrator_run_is_json(tmp_path: Path) -> None:
    """An event, a bad token, garbage instead of HTTP, then SIGTERM: each line parses, and
    uvicorn's warning about the garbage is one of them (logger uvicorn.error)."""
    env = {"ORCH_LOG_FORMAT": "json", "ORCH_INGEST_TOKEN": INGEST}
    with serve(tmp_path, env) as server:
        ok = {"Authorization": f"Bearer {INGEST}"}
        httpx.post(server.url + "/events", content=b"{not json", headers=ok, timeout=10)
        refused = httpx.post(server.url + "/events", content=b"{}", timeout=10)
        assert refused.status_code == 401
        address = urlsplit(server.url)
        with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
            raw.sendall(b"NOT HTTP AT ALL\x00\r\n\r\n")
            raw.recv(1024)
        stop(server.process)
        output = server.log_text()
    lines = [line for line in output.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line, or this raises
    assert all(isinstance(e, dict) and "event" in e for e in entries)
    events = [e["event"] for e in entries]
    assert "api.listening" in events
    assert "auth.refused" in events
    assert any(e.get("logger") == "uvicorn.error" for e in entries), events


def test_a_library_traceback_and_a_warning_are_fields_of_one_json_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """uvicorn's 'Exception in ASGI application' with its traceback, logged while a request's
    context is bound: one JSON line with the traceback in `exception` and the bound fields; a
    Python warning becomes a JSON line too."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("json", "info")
        capture_library_logging("json", "info")  # as the API's server does
        with structlog.contextvars.bound_contextvars(method="POST", path="/events"):
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            logging.captureWarnings(True)
            warnings.warn("old API", DeprecationWarning, stacklevel=1)
        sys.stderr.flush()
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    finally:
        structlog.reset_defaults()  # its stream (capsys') closes after this test
        logging.captureWarnings(False)
        root.handlers[:], level = saved
        root.setLevel(level)
    failed, warned = (json.loads(line) for line in lines)
    assert failed["event"] == "Exception in ASGI application"
    assert (failed["logger"], failed["level"]) == ("uvicorn.error", "error")
    assert "Traceback" in failed["exception"]
    assert "RuntimeError: boom" in failed["exception"]
    assert (failed["method"], failed["path"]) == ("POST", "/events")
    assert warned["logger"] == "py.warnings"
    assert "old API" in warned["event"]
