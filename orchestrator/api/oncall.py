"""Who is on call: `GET /oncall/{role}` (at a time, default now) and the role's calendar
`GET /oncall/{role}/calendar.ics`, for responders (the rosters file, ORCH_ROSTERS_FILE)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from orchestrator.api.models import problem_responses
from orchestrator.api.problems import ProblemError
from orchestrator.api.security import Reader
from orchestrator.engine import DAY_MS, Clock, Millis, Rosters, format_time, parse_time
from orchestrator.notify import on_call_calendar

RoleName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
TimeQuery = Annotated[str | None, Query(max_length=40, description="RFC 3339 (default: now).")]
ICS = "text/calendar"


def _when(value: str | None, clock: Clock) -> Millis:
    if value is None:
        return clock()
    try:
        return parse_time(value)
    except ValueError:
        raise ProblemError(
            422, "Not a time", f"{value!r} is no RFC 3339 time, e.g. 2026-11-20T10:00:00Z"
        ) from None


def oncall_router(rosters: Rosters | None, clock: Clock) -> APIRouter:
    """The on-call reads over `rosters` (none: 404 saying how to configure them)."""
    router = APIRouter(tags=["on-call"])

    def loaded() -> Rosters:
        if rosters is None:
            raise ProblemError(404, "No rosters", "no rosters file: set ORCH_ROSTERS_FILE")
        return rosters

    @router.get(
        "/oncall/{role}",
        summary="Who is on call for a role at a time, and why",
        responses=problem_responses(401, 404, 422),
    )
    def who(role: RoleName, _who: Reader, at: TimeQuery = None) -> dict[str, Any]:
        moment = _when(at, clock)
        answer = loaded().on_call(role, moment)
        return {
            "role": role,
            "at": format_time(moment),
            "responders": list(answer.responders),
            "via": answer.via,
            "source": answer.source,
        }

    @router.get(
        "/oncall/{role}/calendar.ics",
        summary="A role's on-call calendar (iCalendar)",
        response_class=Response,
        responses={200: {"content": {ICS: {}}}, **problem_responses(401, 404, 422)},
    )
    def calendar(
        role: RoleName,
        _who: Reader,
        start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
        days: Annotated[int, Query(ge=1, le=366)] = 28,
    ) -> Response:
        begin = _when(start, clock)
        feed = on_call_calendar(loaded(), role, begin, begin + days * DAY_MS)
        return Response(feed, media_type=ICS)

    return router
