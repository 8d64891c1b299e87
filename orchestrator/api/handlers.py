"""Every error the API answers is problem+json: routing, validation, auth and conflicts alike.

A bug in a route is answered 500 by `UnhandledErrors`, not by Starlette's outermost error
middleware: that one re-raises after answering, and uvicorn then closes the kept-alive
connection under the client's next request.
"""

from __future__ import annotations

from typing import Any, get_args

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.api.problems import ProblemError, problem
from orchestrator.errors import IdempotencyKeyReused, RuntimeUnavailable

log = structlog.get_logger("orchestrator.api")
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Request too large",
    415: "Unsupported media type",
}


async def on_problem(_request: Request, exc: Exception) -> JSONResponse:
    """A ProblemError as it was raised, headers (e.g. WWW-Authenticate) included."""
    assert isinstance(exc, ProblemError)
    response = problem(exc.status_code, exc.title, str(exc.detail), **exc.extra)
    response.headers.update(exc.headers or {})
    return response


async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (unknown path, wrong method) as problem+json."""
    assert isinstance(exc, HTTPException)
    title = _TITLES.get(exc.status_code, "Error")
    response = problem(exc.status_code, title, str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
    """422 with every validation error, each with where it is and what is wrong (all of them in
    the detail too); when the body
    is wrong, the fields the body takes (`accepted`) are named too."""
    assert isinstance(exc, RequestValidationError)
    errors = [_error(e) for e in exc.errors()]
    listed = errors or [{"loc": [], "msg": "invalid request"}]
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in listed)
    accepted = _body_fields(request) if any(_in_body(e) for e in errors) else None
    if accepted is None:
        return problem(422, "Invalid request", detail, errors=errors)
    takes = ", ".join(accepted) if accepted else "no fields (send no body, or {})"
    return problem(
        422,
        "Invalid request",
        f"{detail}; this body takes: {takes}",
        errors=errors,
        accepted=accepted,
    )


def _in_body(error: dict[str, Any]) -> bool:
    return bool(error["loc"]) and error["loc"][0] == "body"


def _body_fields(request: Request) -> list[str] | None:
    """The JSON fields the matched route's body model takes (None: it has no model body)."""
    route = request.scope.get("route")
    params = getattr(getattr(route, "dependant", None), "body_params", [])
    if len(params) != 1:
        return None
    models = [
        arg
        for arg in (params[0].field_info.annotation, *get_args(params[0].field_info.annotation))
        if isinstance(arg, type) and issubclass(arg, BaseModel)
    ]
    return [info.alias or name for name, info in models[0].model_fields.items()] if models else None


def _error(error: dict[str, Any]) -> dict[str, Any]:
    fields = {
        "loc": error.get("loc", []),
        "msg": error.get("msg", ""),
        "type": error.get("type", ""),
    }
    encoded: dict[str, Any] = jsonable_encoder(fields)
    return encoded


async def on_key_reused(_request: Request, exc: Exception) -> JSONResponse:
    """An Idempotency-Key sent again with a different request: 422, pick a new key."""
    assert isinstance(exc, IdempotencyKeyReused)
    return problem(422, "Idempotency-Key reused", str(exc))


async def on_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """The runtime did not answer in time: 503, retry with the same Idempotency-Key."""
    response = problem(503, "Service unavailable", f"{exc}; retry with the same Idempotency-Key")
    response.headers["Retry-After"] = "1"
    return response


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug: log it with the route (never the headers) and answer a bare 500 problem."""
    log.error(
        "request.failed",
        method=request.method,
        path=request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return problem(500, "Internal error", "the server failed; the error has been logged")


class UnhandledErrors:
    """Answer an exception no handler took as a logged 500 problem, and keep the connection;
    every line logged while a request runs carries its method and path.

    A client gone mid-request is no bug: it is logged at info, and nobody is answered. An
    exception after the answer started cannot be answered: it is raised on to the server,
    which closes that connection (the answer is broken)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        with structlog.contextvars.bound_contextvars(method=scope["method"], path=scope["path"]):
            try:
                await self.app(scope, receive, watched)
            except ClientDisconnect:
                log.info("request.disconnected")
            except Exception as exc:
                if started:
                    raise
                response = await on_unexpected(Request(scope), exc)
                await response(scope, receive, send)


def install_handlers(app: FastAPI) -> None:
    """Answer every error of `app` as problem+json (call it before adding other middleware:
    `UnhandledErrors` must sit inside them, next to the routes)."""
    app.add_middleware(UnhandledErrors)
    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(IdempotencyKeyReused, on_key_reused)
    app.add_exception_handler(RuntimeUnavailable, on_unavailable)
    app.add_exception_handler(Exception, on_unexpected)
