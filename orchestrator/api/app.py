"""The FastAPI application of the embedded runtime."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from orchestrator.api.intake import intake_router
from orchestrator.api.problems import ProblemError, problem
from orchestrator.core.summary import incident_summary
from orchestrator.runtime.embedded import EmbeddedRuntime
from schemas.incidents import Incident


def create_app(runtime: EmbeddedRuntime) -> FastAPI:
    """The HTTP API over an embedded runtime."""
    app = FastAPI(title="Incident response orchestrator", version="0.1.0")

    @app.exception_handler(ProblemError)
    async def on_problem(_request: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status_code, exc.title, str(exc.detail), **exc.extra)

    app.include_router(intake_router(runtime))

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> dict[str, Any]:
        return {"status": "ready", "incidents": len(runtime.incidents())}

    @app.get("/summary", tags=["incidents"], summary="The contract summary (as replay --json)")
    def get_summary() -> dict[str, Any]:
        return runtime.summary()

    @app.get("/incidents", tags=["incidents"])
    def list_incidents() -> list[dict[str, Any]]:
        return [incident_summary(i) for i in runtime.incidents()]

    @app.get("/incidents/{incident_id}", tags=["incidents"], response_model=Incident)
    def get_incident(incident_id: str) -> Incident:
        found = runtime.incident(incident_id)
        if found is None:
            raise ProblemError(404, "No such incident", f"no incident {incident_id}")
        return found

    @app.get("/dead-letters", tags=["intake"])
    def dead_letters(limit: int = 100) -> list[dict[str, Any]]:
        return [d.model_dump(mode="json") for d in runtime.dead_letters(limit)]

    return app
