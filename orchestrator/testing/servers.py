"""A real `orchestrator run` on a free local port, for tests that need a socket (and for drills);
or an app of the test's own behind the same uvicorn set-up, in a thread of the test process.

with serve(tmp_path, env={"ORCH_RESPONDERS_FILE": str(path)}) as server:
    httpx.get(server.url + "/healthz")
with serve_app(create_app(runtime), settings) as url:
    ...
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI
from httpx_sse import connect_sse

from orchestrator.adapters import cloudevent_data
from orchestrator.api import server_config
from orchestrator.settings import Settings
from schemas import TaskEvent

T = TypeVar("T")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running server: its base URL, its process and where its log goes."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        """Everything the server wrote to stderr/stdout so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")


POLL_S = 0.2


def wait_for(check: Callable[[], T], timeout_s: float, what: str, poll_s: float = POLL_S) -> T:
    """The first truthy value `check` returns, polled every `poll_s` for up to `timeout_s`;
    AssertionError naming `what` if none came."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(poll_s)


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], timeout: float, path: str = "/healthz"
) -> None:
    """Return once `url` + `path` answers 200; AssertionError if the process dies or times
    out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode} before it was up")
        try:
            if httpx.get(url + path, timeout=1).status_code == httpx.codes.OK:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"the server did not answer {url}{path} within {timeout:.0f}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it does not exit in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def serve(
    data_dir: Path, env: Mapping[str, str] | None = None, playbooks: Path | None = None
) -> Iterator[Server]:
    """`python -m orchestrator run` on a free port with `env` added; stopped on exit."""
    port, log = free_port(), data_dir / "server.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        sys.executable,
        "-m",
        "orchestrator",
        "run",
        "--data-dir",
        str(data_dir / "db"),
        "--port",
        str(port),
    ]
    if playbooks is not None:
        args += ["--playbooks", str(playbooks)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            args, env={**os.environ, **(env or {})}, stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, START_TIMEOUT)
        yield Server(url, process, log)
    finally:
        stop(process)


def _wait_started(server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError(f"the in-process server did not start within {timeout:.0f}s")
        time.sleep(0.02)


@contextmanager
def serve_app(app: FastAPI, settings: Settings | None = None) -> Iterator[str]:
    """`app` served by uvicorn as `orchestrator run` configures it (timeouts, proxies from
    `settings`), on a free port in a thread; yields its base URL, stops it on exit."""
    port = free_port()
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, settings))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        _wait_started(server, thread, START_TIMEOUT)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)


def complete_at_once(
    url: str, task_id: str, tokens: dict[str, str], timeout: float = 10.0
) -> dict[str, Any]:
    """Each responder (name -> bearer token) POSTs /tasks/{task_id}/complete over its own
    connection at the same moment (threads released by one barrier): the answers by name."""
    barrier, answers = threading.Barrier(len(tokens)), {}

    def complete(name: str) -> None:
        with httpx.Client(timeout=timeout) as client:
            barrier.wait()
            answers[name] = client.post(
                f"{url}/tasks/{task_id}/complete",
                headers={"Authorization": f"Bearer {tokens[name]}"},
                json={"note": f"by {name}"},
            )

    threads = [threading.Thread(target=complete, args=(name,)) for name in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


class FeedFollower:
    """Follows a role's SSE feed in a thread until `done` says a received task event is the one
    awaited: `connected` is set once the feed is open, `arrived` once `done` held."""

    def __init__(self, url: str, role: str, token: str, done: Any, wait_s: float) -> None:
        self.received: list[Any] = []
        self.connected, self.arrived = threading.Event(), threading.Event()
        self.wait_s = wait_s
        self.thread = threading.Thread(
            target=self._follow, args=(f"{url}/roles/{role}/feed", token, done), daemon=True
        )
        self.thread.start()

    def _follow(self, feed: str, token: str, done: Any) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=self.wait_s)) as client,
            connect_sse(client, "GET", feed, headers=headers) as source,
        ):
            self.connected.set()
            for message in source.iter_sse():
                if message.data:
                    data = cloudevent_data(message.data.encode("utf-8"))
                    self.received.append(TaskEvent.model_validate_json(data))
                    if done(self.received[-1]):
                        self.arrived.set()
                        return
