"""Over a real socket: slow headers and stalled bodies are answered 408 and closed; requests in
time, kept-alive connections and open feeds are not."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from apikit import auth_config, token_of
from rawhttp import closed_by_server, connect, head, read_answer

from orchestrator.api import create_app
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.settings import Settings
from orchestrator.testing.servers import serve_app

TIMEOUT = 0.5
TOTAL = 1.5
SETTINGS = Settings(header_timeout=TIMEOUT, body_timeout=TIMEOUT, body_total_timeout=TOTAL)
WITHIN = 4.0
"""Socket read timeout: well past the server's deadlines, well short of 'never'."""
BODY = {"Content-Type": "application/json", "Content-Length": "100"}


@pytest.fixture
def url(runtime: EmbeddedRuntime) -> Iterator[str]:
    with serve_app(create_app(runtime, auth_config()), SETTINGS) as running:
        yield running


def _408_and_closed(url: str, send: bytes, trickle: bytes = b"", every: float = 0.0) -> float:
    """Send `send`, then `trickle` a byte every `every` s; seconds until a 408 came, closed,
    counted from before the connection, since the server's clock starts at its accept."""
    began = time.monotonic()
    with connect(url, timeout=WITHIN) as sock:
        sock.sendall(send)
        for byte in trickle:
            time.sleep(every)
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
        answer = read_answer(sock)
        took = time.monotonic() - began
        assert answer.status == 408, answer
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert closed_by_server(sock)
        return took


def test_silent_connection_is_408_and_closed(url: str) -> None:
    """A connection that sends nothing is answered 408 and closed after the header timeout."""
    assert TIMEOUT <= _408_and_closed(url, b"") < WITHIN


def test_unfinished_headers_are_408_and_closed(url: str) -> None:
    """Headers that never end are answered 408 and closed."""
    assert _408_and_closed(url, b"GET /healthz HTTP/1.1\r\nHost: test\r\n") < WITHIN


def test_trickled_headers_do_not_reset_the_deadline(url: str) -> None:
    """A byte every 0.2 s does not keep the headers' deadline away."""
    took = _408_and_closed(url, b"GET /healthz HTTP/1.1\r\n", b"X-Slow: " + b"a" * 20, 0.2)
    assert took < TOTAL + TIMEOUT


def test_stalled_body_is_408_and_closed(url: str) -> None:
    """A body that stops halfway is answered 408 and closed after the body timeout."""
    start = head("POST", "/tasks/inc-x.triage/comment", {**BODY, **_as("ops")})
    assert _408_and_closed(url, start + b'{"note": "') < WITHIN


def test_trickled_body_is_cut_at_the_total(url: str) -> None:
    """A body trickled just under the idle timeout is cut at the total body timeout."""
    start = head("POST", "/tasks/inc-x.triage/comment", {**BODY, **_as("ops")})
    took = _408_and_closed(url, start, b"x" * 40, TIMEOUT / 2)
    assert TOTAL <= took < TOTAL + WITHIN


def test_kept_alive_connection_serves_requests_in_time(url: str) -> None:
    """Two requests on one connection, idle between them past the header timeout (the
    keep-alive timeout covers idling), are both answered."""
    with connect(url, timeout=WITHIN) as sock:
        sock.sendall(head("GET", "/healthz"))
        assert read_answer(sock).status == 200
        time.sleep(TIMEOUT * 2)
        sock.sendall(head("GET", "/healthz"))
        assert read_answer(sock).status == 200


def test_open_feed_outlives_the_timeouts(url: str) -> None:
    """A feed (a long response to a request whose headers came in time) stays open."""
    with connect(url, timeout=WITHIN) as sock:
        sock.sendall(head("GET", "/roles/ops/feed", _as("ops")))
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        time.sleep(TOTAL + TIMEOUT)
        sock.settimeout(0.2)
        assert not closed_by_server(sock)


def _as(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_of(name)}"}
