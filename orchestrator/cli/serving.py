"""Serving the agent API from the command line: the one place uvicorn is built and run, for
`run` (embedded runtime or --kafka), the live drill of `replay --serve` and `demo --serve`."""

from __future__ import annotations

import gc
import json
import secrets
import signal
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from pydantic import SecretStr

if TYPE_CHECKING:
    from pathlib import Path

    import uvicorn

    from orchestrator.engine import Millis
    from orchestrator.runtime import Runtime
    from orchestrator.settings import Settings

DEMO_NAMESPACE = "demo"
DEMO_TOKEN_BYTES = 18


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


def serve_demo(log: Path, until: Millis, settings: Settings) -> None:
    """`demo --serve`: the demo's outcome in a drill namespace (its clock at `until`, then
    running at the wall clock's pace) with the agent API and the responder console in front.
    With no responders configured, one demo responder per role, whose fresh tokens are printed
    here (for this run only)."""
    from orchestrator.cli.common import load_playbooks, out
    from orchestrator.drills import settled
    from orchestrator.engine import INCIDENT_COMMANDER, Engine
    from orchestrator.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    engine = Engine(load_playbooks(None, settings), replace(settings.engine_config(), drill=True))
    drill = settled(engine, log, settings.data_dir, DEMO_NAMESPACE, until)
    if not settings.auth().enforced:
        tokens = {role: secrets.token_urlsafe(DEMO_TOKEN_BYTES) for role in drill.runtime.roles()}
        tokens.setdefault(INCIDENT_COMMANDER, secrets.token_urlsafe(DEMO_TOKEN_BYTES))
        people = [{"name": f"demo-{r}", "token": t, "roles": [r]} for r, t in tokens.items()]
        settings = settings.model_copy(update={"responders": SecretStr(json.dumps(people))})
        out.print("Demo responders for this run (sign in with a role's token):")
        for role, token in sorted(tokens.items()):
            out.print(f"  {role:<20} {token}")
    out.print(
        f"Responder console on the demo's data (drill incidents): "
        f"http://{settings.host}:{settings.port}/console ; Ctrl-C to stop"
    )
    stop = threading.Event()
    threading.Thread(target=drill.tick, args=(stop,), name="timers", daemon=True).start()
    exit_cleanly_on_sigterm()
    try:
        serve(api_server(drill.runtime, settings), stop)
    finally:
        stop.set()
        drill.runtime.close()
