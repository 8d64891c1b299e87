"""The responder console's routes: the page shell at /console, its static files, the HTML parts
it swaps in (board, incident list, incident), and `/` linking to it.

The shell and the static files need no credential. Every part is read with the responder's
bearer token, exactly like the agent API's reads: the console's script sends it from the tab's
sessionStorage in the Authorization header, no cookie is set, so no request can be forged
from another site (there is nothing ambient to ride on). Actions go to the agent API itself.
Every console response carries a strict Content-Security-Policy (scripts and styles from this
origin only, no inline script, no eval, no framing).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.api.console import views
from orchestrator.api.problems import ProblemError
from orchestrator.api.security import Reader
from orchestrator.engine import format_time
from orchestrator.runtime import Runtime
from schemas import IncidentStatus, Severity

PREFIX = "/console"
STATIC = f"{PREFIX}/static"
MAX_FEEDS = 2
"""A tab follows at most this many role feeds (a browser keeps ~6 connections per host); a
responder with more roles (an incident commander sees every role) gets a polled board."""
POLL_SECONDS = 5
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
)
Choice = TypeVar("Choice", bound=StrEnum)
IncidentId = Annotated[str, Path(min_length=1, max_length=200)]


class ConsoleHeaders:
    """ASGI middleware: the console's security headers on `/` and everything under /console
    (other paths pass straight through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/" or path.startswith(PREFIX)):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _templates() -> Jinja2Templates:
    env = Environment(
        loader=PackageLoader("orchestrator.api.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    return Jinja2Templates(env=env)


def _choice(kind: type[Choice], value: str | None, name: str) -> Choice | None:
    """A filter's value, None for "any" (an empty field); 422 for an unknown one."""
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise ProblemError(422, "Invalid filter", f"{name} {value!r} is not known") from None


def install_console(app: FastAPI, runtime: Runtime) -> None:
    """Serve the console on `app`: /, /console, its static files and parts."""
    app.mount(STATIC, StaticFiles(packages=[("orchestrator.api.console", "static")]), "static")
    app.include_router(_router(runtime, _templates()))
    app.add_middleware(ConsoleHeaders)


def _router(runtime: Runtime, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page(request: Request, name: str, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context)

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        return page(request, "home.html")

    @router.get(PREFIX, response_class=HTMLResponse)
    def shell(request: Request) -> HTMLResponse:
        return page(request, "console.html")

    @router.get(f"{PREFIX}/session")
    def session(who: Reader) -> dict[str, Any]:
        roles = views.board_roles(runtime, who)
        follow = len(roles) <= MAX_FEEDS
        return {
            "name": who.name,
            "roles": sorted(who.roles),
            "commander": who.commander,
            "board_roles": list(roles),
            "feeds": list(roles) if follow else [],
            "poll_seconds": 0 if follow else POLL_SECONDS,
        }

    @router.get(f"{PREFIX}/parts/board", response_class=HTMLResponse)
    def board(request: Request, who: Reader) -> HTMLResponse:
        return page(request, "board.html", board=views.board(runtime, who))

    @router.get(f"{PREFIX}/parts/incidents", response_class=HTMLResponse)
    def incidents(
        request: Request,
        _who: Reader,
        status: Annotated[str | None, Query(max_length=20)] = None,
        playbook: Annotated[str | None, Query(max_length=200)] = None,
        severity: Annotated[str | None, Query(max_length=20)] = None,
        kind: Annotated[str | None, Query(max_length=10)] = None,
    ) -> HTMLResponse:
        filters = views.Filters(
            status=_choice(IncidentStatus, status, "status"),
            playbook=playbook or None,
            severity=_choice(Severity, severity, "severity"),
            drill=kind == "drill",
        )
        return page(
            request,
            "incidents.html",
            filters=filters,
            incidents=views.incident_list(runtime, filters),
            other_kind=len(views.incident_list(runtime, views.Filters(drill=not filters.drill))),
            playbooks=views.playbooks_of(runtime),
            statuses=list(IncidentStatus),
            severities=list(Severity),
        )

    @router.get(PREFIX + "/parts/incidents/{incident_id}", response_class=HTMLResponse)
    def incident(request: Request, incident_id: IncidentId, who: Reader) -> HTMLResponse:
        found = runtime.incident(incident_id)
        if found is None:
            raise ProblemError(404, "No such incident", f"no incident {incident_id}")
        return page(
            request,
            "incident.html",
            incident=found,
            who=who,
            now=format_time(runtime.now()),
            severity_history=views.severity_history(found),
            events=views.joined_events(found),
            holders=views.holders(found),
            names={t.name: t.title for t in found.tasks},
            actionable=views.ACTIONABLE,
        )

    return router
