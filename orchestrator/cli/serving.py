"""Serving the agent API from the command line: the one place uvicorn is built and run, for
`run` (embedded runtime or --kafka) and for the live drill of `replay --serve`."""

from __future__ import annotations

import gc
import signal
import socket
import threading
from typing import TYPE_CHECKING

import structlog

from orchestrator.cli.common import fail

if TYPE_CHECKING:
    import uvicorn

    from orchestrator.runtime import Runtime
    from orchestrator.settings import Settings


log = structlog.get_logger("orchestrator.cli")
BACKLOG = 2048
"""Connections the kernel queues before the server accepts them (uvicorn's default)."""


def listen(settings: Settings) -> socket.socket:
    """The API's socket on ORCH_HOST:ORCH_PORT, bound and listening: call it before storage or
    the broker is touched, so a port in use ends the command with nothing created."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
        sock.listen(BACKLOG)
    except OSError as problem:
        sock.close()
        raise fail(
            f"cannot listen on {settings.host}:{settings.port}: {problem.strerror}; "
            "give another --port (ORCH_PORT), or stop what listens there"
        ) from None
    sock.set_inheritable(True)
    return sock


def exit_cleanly_on_sigterm() -> None:
    """Make SIGTERM end the process through `finally` blocks (uvicorn re-raises it after its
    graceful shutdown), so the runtime writes its snapshot and the exit code is 0."""

    def stop(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def api_server(runtime: Runtime, settings: Settings) -> uvicorn.Server:
    """The uvicorn server of the agent API over `runtime`, on ORCH_HOST:ORCH_PORT."""
    from orchestrator.api import api_server as build

    return build(runtime, settings)


def serve(
    server: uvicorn.Server,
    sock: socket.socket,
    stop: threading.Event | None = None,
    *,
    freeze_gc: bool = False,
) -> None:
    """Run `server` on `sock` (from `listen`) until Ctrl-C or `stop` is set (and SIGTERM, once
    `exit_cleanly_on_sigterm` is in place), after logging the address it serves; `freeze_gc`
    for a long-lived service: what is loaded by then (code, app, state) is left out of full
    collections."""
    if stop is not None:
        threading.Thread(target=_exit_when_set, args=(stop, server), daemon=True).start()
    if freeze_gc:
        server.config.load()  # import the event loop and protocol modules now, to freeze them too
        gc.collect()
        gc.freeze()
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    log.info("api.listening", url=f"http://{shown}:{port}", docs=f"http://{shown}:{port}/docs")
    server.run(sockets=[sock])


def serve_api(runtime: Runtime, settings: Settings, sock: socket.socket) -> None:
    """Serve the agent API over `runtime` on `sock` as a service, until SIGTERM or Ctrl-C."""
    exit_cleanly_on_sigterm()
    serve(api_server(runtime, settings), sock, freeze_gc=True)


def _exit_when_set(stop: threading.Event, server: uvicorn.Server) -> None:
    stop.wait()
    server.should_exit = True
