"""Incidents: read them (state, or the timeline alone), and resolve or close them (incident
commanders)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from fastapi.responses import JSONResponse

from orchestrator.api.commands import IdempotencyKeyHeader, build, issue
from orchestrator.api.models import CommandReceipt, NoteBody, problem_responses
from orchestrator.api.problems import ProblemError
from orchestrator.api.security import Actor, Reader, forbidden
from orchestrator.auth import Responder
from orchestrator.engine import INCIDENT_COMMANDER, incident_summary
from orchestrator.runtime import Runtime
from schemas import CommandKind, Incident, TimelineEntry

IncidentId = Annotated[str, Path(min_length=1, max_length=200, description="An incident id.")]


def incidents_router(runtime: Runtime) -> APIRouter:
    """Incident reads and the incident commands."""
    router = APIRouter(tags=["incidents"])

    @router.get(
        "/incidents",
        summary="Every incident, in the order they opened",
        responses=problem_responses(401),
    )
    def list_incidents(_who: Reader) -> list[dict[str, Any]]:
        return [incident_summary(i) for i in runtime.incidents()]

    @router.get(
        "/incidents/{incident_id}",
        response_model=Incident,
        summary="One incident: state, tasks and timeline",
        responses=problem_responses(401, 404, 422),
    )
    def get_incident(incident_id: IncidentId, _who: Reader) -> Incident:
        found = runtime.incident(incident_id)
        if found is None:
            raise ProblemError(404, "No such incident", f"no incident {incident_id}")
        return found

    @router.get(
        "/incidents/{incident_id}/timeline",
        response_model=list[TimelineEntry],
        summary="One incident's timeline, oldest first: every change with its actor",
        responses=problem_responses(401, 404, 422),
    )
    def get_timeline(incident_id: IncidentId, who: Reader) -> list[TimelineEntry]:
        return get_incident(incident_id, who).timeline

    def act(
        kind: CommandKind,
        incident_id: str,
        who: Responder,
        key: str | None,
        body: NoteBody | None,
    ) -> JSONResponse:
        if runtime.incident(incident_id) is None:
            raise ProblemError(404, "No such incident", f"no incident {incident_id}")
        if not who.commander:
            raise forbidden(who, f"{kind} incident {incident_id}", INCIDENT_COMMANDER)
        note = body.note if body else None
        return issue(runtime, build(runtime, who, kind, incident_id=incident_id, note=note), key)

    errors = problem_responses(400, 401, 403, 404, 409, 413, 422)

    @router.post(
        "/incidents/{incident_id}/resolve",
        status_code=202,
        response_model=CommandReceipt,
        responses=errors,
        summary="Resolve an incident (incident_commander): the review task follows",
    )
    def resolve(
        incident_id: IncidentId,
        who: Actor,
        key: IdempotencyKeyHeader = None,
        body: Annotated[NoteBody | None, Body()] = None,
    ) -> JSONResponse:
        return act("resolve", incident_id, who, key, body)

    @router.post(
        "/incidents/{incident_id}/close",
        status_code=202,
        response_model=CommandReceipt,
        responses=errors,
        summary="Close an incident (incident_commander): nothing stays open",
    )
    def close(
        incident_id: IncidentId,
        who: Actor,
        key: IdempotencyKeyHeader = None,
        body: Annotated[NoteBody | None, Body()] = None,
    ) -> JSONResponse:
        return act("close", incident_id, who, key, body)

    return router
