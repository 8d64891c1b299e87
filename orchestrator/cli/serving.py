"""Serving the agent API from the command line: the one place uvicorn is built and run, for
`run` (embedded runtime or --kafka) and for the live drill of `replay --serve`."""

from __future__ import annotations

import gc
import signal
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

    from orchestrator.runtime import Runtime
    from orchestrator.settings import Settings


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
    server: uvicorn.Server, stop: threading.Event | None = None, *, freeze_gc: bool = False
) -> None:
    """Run `server` until Ctrl-C or `stop` is set (and SIGTERM, once `exit_cleanly_on_sigterm`
    is in place); `freeze_gc` for a long-lived service: what is loaded by then (code, app,
    state) is left out of full collections."""
    if stop is not None:
        threading.Thread(target=_exit_when_set, args=(stop, server), daemon=True).start()
    if freeze_gc:
        server.config.load()  # import the event loop and protocol modules now, to freeze them too
        gc.collect()
        gc.freeze()
    server.run()


def serve_api(runtime: Runtime, settings: Settings) -> None:
    """Serve the agent API over `runtime` as a service, until SIGTERM or Ctrl-C."""
    exit_cleanly_on_sigterm()
    serve(api_server(runtime, settings), freeze_gc=True)


def _exit_when_set(stop: threading.Event, server: uvicorn.Server) -> None:
    stop.wait()
    server.should_exit = True
