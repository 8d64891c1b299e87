"""The hot routes, called without FastAPI's per-request machinery when a request is plain.

A task ack and an intake POST cross FastAPI's routing, its dependency solving and its
exception wrappers on every request; under load that costs more CPU than the command or the
alert itself (docs/benchmarks.md, "Optimisation log: agent API"). `HotRoutes` sits inside every
other middleware of the app (credentials checked before the body, body limits, latency,
unhandled errors), so a hot request passes all of them as before; it then matches the path
the way the router would, asks the route's `Solver` for the arguments FastAPI would solve, and
calls the route's own endpoint with them. A solver answers None for anything but the plain
case (a body where none is expected, a header FastAPI would refuse): the request then goes
through FastAPI exactly as before. The routes stay FastAPI routes, so the OpenAPI document and
every other request are unchanged. Errors the endpoint raises go to the app's exception
handlers, as FastAPI's `ExceptionMiddleware` would send them.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

Solver = Callable[[Request], Awaitable[dict[str, Any] | None]]
"""A hot route's arguments from a request (its path parameters are in the scope), or None
when the request is not plain and FastAPI should solve them (and refuse what it refuses). A
solver that answers None has read no body byte and charged no budget."""
Endpoint = Callable[..., Awaitable[Response]]
Handler = Callable[[Request, Any], Response | Awaitable[Response]]
Candidate = tuple[re.Pattern[str], Any, Endpoint | None, Solver | None]
"""A path a POST may match, in the router's order: its route and, for a hot route, its endpoint
and solver."""
HOT_METHOD = "POST"


def candidates(app: FastAPI, solvers: Mapping[str, Solver]) -> list[Candidate]:
    """Every route a POST may match, in the order the router tries them; routes whose path
    template `solvers` names are hot."""
    found: list[Candidate] = []
    for route in iter_route_contexts(app.routes):
        regex = getattr(route, "path_regex", None)
        methods = getattr(route, "methods", None) or set()
        if regex is None or not (HOT_METHOD in methods or isinstance(route, Mount)):
            continue
        original = getattr(route, "original_route", route)
        solver = solvers.get(getattr(route, "path", ""))
        endpoint = getattr(route, "endpoint", None) if solver is not None else None
        found.append((regex, original, endpoint, solver))
    return found


class HotRoutes:
    """Serve plain requests to the hot routes by calling their endpoints directly (the app's
    innermost middleware); everything else goes on to FastAPI. Routes are looked up on the
    first request, when every router is included."""

    def __init__(self, app: ASGIApp, owner: FastAPI, solvers: Mapping[str, Solver]) -> None:
        self.app = app
        self.owner = owner
        self.solvers = solvers
        self._candidates: list[Candidate] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == HOT_METHOD and not scope.get("root_path"):
            hot = self._match(scope)
            if hot is not None and await self._serve(hot, scope, receive, send):
                return
        await self.app(scope, receive, send)

    def _match(self, scope: Scope) -> Candidate | None:
        if self._candidates is None:
            self._candidates = candidates(self.owner, self.solvers)
        path = scope["path"]
        for candidate in self._candidates:
            found = candidate[0].match(path)
            if found is not None:
                if candidate[3] is None:
                    return None
                convertors = candidate[1].param_convertors
                params = {k: convertors[k].convert(v) for k, v in found.groupdict().items()}
                scope["path_params"] = params
                return candidate
        return None

    async def _serve(self, hot: Candidate, scope: Scope, receive: Receive, send: Send) -> bool:
        _, route, endpoint, solver = hot
        assert endpoint is not None
        assert solver is not None
        request = Request(scope, receive, send)
        try:
            arguments = await solver(request)
            if arguments is None:
                return False
            scope["route"], scope["endpoint"] = route, endpoint
            response = await endpoint(**arguments)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            answered = handler(request, exc)
            response = await answered if inspect.isawaitable(answered) else answered
        await response(scope, receive, send)
        return True

    def _handler(self, exc: Exception) -> Handler | None:
        """The app's handler of `exc` as FastAPI's ExceptionMiddleware finds it (by class, most
        specific first; a handler of Exception is the last resort of the outer layers)."""
        handlers = self.owner.exception_handlers
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in handlers:
                handler: Handler = handlers[cls]
                return handler
        return None
