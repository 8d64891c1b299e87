"""What a write must pass before any byte of its body is read: its credentials, then its size.

FastAPI reads a route's body before it solves the route's dependencies, so a token checked by
a dependency comes too late to spare the server an unauthenticated upload. `AuthBeforeBody`
runs each write route's own credential check (the Guard dependency found in the route) on the
headers alone; `BodyLimitMiddleware` refuses an announced size over the limit at once and
counts a streamed body as the handler reads it, never reading ahead of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, get_args

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.api.handlers import on_problem
from orchestrator.api.problems import PROBLEM_TYPE, ProblemError
from orchestrator.api.ratelimit import announced_bytes
from orchestrator.api.security import (
    CHECKED,
    RESPONDER_SCHEME,
    Actor,
    Credentials,
    Guard,
    Reader,
    require_ingest,
)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CLOSE = (b"connection", b"close")
UNAUTHORIZED = 401
"""Sent with an answer given before the body was read: the rest of it is not wanted."""
Check = Callable[[Guard, Credentials], object]
"""A Guard method that raises a 401/403 ProblemError for credentials that may not write."""


def _dependency(alias: object) -> object:
    return get_args(alias)[1].dependency


CHECKS: dict[object, Check] = {
    require_ingest: Guard.ingest,
    _dependency(Actor): Guard.actor,
    _dependency(Reader): Guard.reader,
}
"""Each credential dependency a route may declare, and the Guard check it runs."""
Matcher = Callable[[Scope], bool]
"""Whether a request is for one route (as the router would find it)."""
Gate = tuple[Matcher, Check, str]
"""A write route (its matcher), the credential check it makes and its path template."""
Refusal = Callable[[Request, str, ProblemError], None]
"""Hears of a write refused for its credentials: the request, its route template, the 401."""


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def write_gates(routes: Sequence[BaseRoute]) -> list[Gate]:
    """Each write route with a credential dependency, and the check that dependency makes
    (routes of included routers as FastAPI serves them, their router's dependencies added)."""
    gates: list[Gate] = []
    for route in iter_route_contexts(routes):
        dependant: Dependant | None = getattr(route, "dependant", None)
        if dependant is None or not (route.methods or set()) & WRITE_METHODS:
            continue
        checks = [CHECKS[call] for call in _calls(dependant) if call in CHECKS]
        if checks:
            gates.append((_matcher(route), checks[0], getattr(route, "path", "")))
    return gates


def _matcher(route: Any) -> Matcher:
    """The route's full match: its method and its path regex (what its `matches` computes, with
    no child scope built), or `matches` itself when the app is served under a root path."""
    regex, methods, matches = route.path_regex, route.methods, route.matches

    def full(scope: Scope) -> bool:
        if scope.get("root_path"):
            return bool(matches(scope)[0] == Match.FULL)
        return scope["method"] in methods and regex.match(scope["path"]) is not None

    return full


class AuthBeforeBody:
    """Refuse a write whose bearer token its route would refuse, before its body is read.

    The route's dependency checks the token again afterwards (and charges intake's announced
    bytes to the sender's budget, which needs no body either); the answer here carries
    `Connection: close`."""

    def __init__(
        self, app: ASGIApp, guard: Guard, gates: list[Gate], on_refused: Refusal | None = None
    ) -> None:
        self.app = app
        self.guard = guard
        self.gates = gates
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gate = self._gate_of(scope)
        if gate is not None:
            request = Request(scope)
            try:
                scope[CHECKED] = gate[1](self.guard, await RESPONDER_SCHEME(request))
            except ProblemError as refused:
                if self.on_refused is not None and refused.status_code == UNAUTHORIZED:
                    self.on_refused(request, gate[2], refused)
                response = await on_problem(request, refused)
                response.headers["Connection"] = "close"
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _gate_of(self, scope: Scope) -> Gate | None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            return None
        for gate in self.gates:
            if gate[0](scope):
                return gate
        return None


class BodyTooLarge(HTTPException):
    """A streamed body went over its limit (FastAPI passes HTTPExceptions from a body read
    on to the handlers, which answer 413 problem+json)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is over {limit} bytes")


class BodyLimitMiddleware:
    """Refuse (413 problem+json) a write whose body is over its limit, announced or streamed.

    `limits` maps exact paths to their own limit (intake takes large batches); every other write
    gets `default`. An announced size is checked on the headers; a streamed body is counted as
    the app reads it, so nothing is read before the route's own checks have run.
    """

    def __init__(self, app: ASGIApp, default: int, limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.limits = limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        if announced_bytes(scope) > limit:
            await _too_large(send, limit)
            return
        counted = _Counted(receive, send, limit)
        try:
            await self.app(scope, counted.receive, counted.send)
        except BodyTooLarge:
            if counted.started:
                raise
            await _too_large(send, limit)


class _Counted:
    """A request's receive and send: the body counted against `limit` as it is read, and the
    answer to a cut-off body marked `Connection: close`."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive, self._send, self.limit = receive, send, limit
        self.total, self.cut, self.started = 0, False, False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.total += len(message.get("body", b""))
            if self.total > self.limit:
                self.cut = True
                raise BodyTooLarge(self.limit)
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            if self.cut:
                message = {**message, "headers": [*message.get("headers", []), CLOSE]}
        await self._send(message)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Request too large",
            "status": 413,
            "detail": f"the body is over {limit} bytes",
        }
    ).encode()
    headers: list[Any] = [
        (b"content-type", PROBLEM_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        CLOSE,
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
