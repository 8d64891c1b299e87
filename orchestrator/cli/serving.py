"""Serving the agent API from the command line: the one place uvicorn is built and run, for
`run` (embedded runtime or --kafka), the live drill of `replay --serve` and `demo --serve`."""

from __future__ import annotations

import signal
import socket
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

import structlog

from orchestrator.cli.common import engine_config, fail

if TYPE_CHECKING:
    from pathlib import Path

    import uvicorn

    from orchestrator.engine import Millis
    from orchestrator.notify import AckLinks
    from orchestrator.runtime import Runtime
    from orchestrator.settings import Settings

DEMO_NAMESPACE = "demo"


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


def api_server(
    runtime: Runtime, settings: Settings, links: AckLinks | None = None
) -> uvicorn.Server:
    """The uvicorn server of the agent API over `runtime`, on ORCH_HOST:ORCH_PORT."""
    from orchestrator.api import api_server as build

    return build(runtime, settings, links)


def serve(
    server: uvicorn.Server,
    sock: socket.socket,
    stop: threading.Event | None = None,
    *,
    freeze_gc: bool = False,
) -> None:
    """Run `server` on `sock` (from `listen`) until Ctrl-C or `stop` is set (and SIGTERM, once
    `exit_cleanly_on_sigterm` is in place), after logging the address it serves; `freeze_gc`
    for a long-lived service: what is loaded by then (code, app, the recovered state) is left
    out of full collections, which also run a tenth as often (orchestrator.runtime's
    `freeze_loaded`)."""
    if stop is not None:
        threading.Thread(target=_exit_when_set, args=(stop, server), daemon=True).start()
    if freeze_gc:
        from orchestrator.runtime import freeze_loaded

        server.config.load()  # import the event loop and protocol modules now, to freeze them too
        freeze_loaded()
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    log.info("api.listening", url=f"http://{shown}:{port}", docs=f"http://{shown}:{port}/docs")
    server.run(sockets=[sock])


def serve_api(
    runtime: Runtime, settings: Settings, sock: socket.socket, links: AckLinks | None = None
) -> None:
    """Serve the agent API over `runtime` on `sock` as a service, until SIGTERM or Ctrl-C."""
    exit_cleanly_on_sigterm()
    serve(api_server(runtime, settings, links), sock, freeze_gc=True)


def _exit_when_set(stop: threading.Event, server: uvicorn.Server) -> None:
    stop.wait()
    server.should_exit = True


def serve_demo(log: Path, until: Millis, settings: Settings, responders: Path) -> None:
    """`demo --serve`: the demo's outcome in a drill namespace (its clock at `until`, then
    running at the wall clock's pace) with the agent API and the responder console in front.
    With no responders configured, the demo's own (`responders`, public tokens) sign in."""
    from orchestrator.cli.common import load_playbooks, out
    from orchestrator.drills import settled
    from orchestrator.engine import Engine
    from orchestrator.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    if not settings.auth().enforced:
        settings = settings.model_copy(update={"responders_file": responders})
        out.print(
            f"sign in with a token of {responders}, e.g. dana-ops-demo-token (ops) or "
            "alex-ic-demo-token-0 (incident commander)",
            soft_wrap=True,
            markup=False,
        )
    sock = listen(settings)
    engine = Engine(load_playbooks(None, settings), replace(engine_config(settings), drill=True))
    drill = settled(engine, log, settings.data_dir, DEMO_NAMESPACE, until)
    out.print(
        f"responder console on the demo's data (drill incidents): "
        f"http://{settings.host}:{settings.port}/console ; Ctrl-C to stop",
        soft_wrap=True,
    )
    stop = threading.Event()
    threading.Thread(target=drill.tick, args=(stop,), name="timers", daemon=True).start()
    exit_cleanly_on_sigterm()
    try:
        serve(api_server(drill.runtime, settings), sock, stop)
    finally:
        stop.set()
        drill.runtime.close()
