"""Who is calling: bearer tokens checked against the configured responders and intake's token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from orchestrator.api.problems import ProblemError
from orchestrator.api.ratelimit import IntakeBudget, announced_bytes
from orchestrator.auth import AuthConfig, Responder, Sender
from orchestrator.engine import INCIDENT_COMMANDER

RESPONDER_SCHEME = HTTPBearer(
    auto_error=False,
    scheme_name="responder",
    description="A responder's token (ORCH_RESPONDERS_FILE / ORCH_RESPONDERS).",
)
INGEST_SCHEME = HTTPBearer(
    auto_error=False,
    scheme_name="ingest",
    description="An ingest sender's token (the responders file's `senders`, or "
    "ORCH_INGEST_TOKEN), when any is configured.",
)
Credentials = HTTPAuthorizationCredentials | None
CHECKED = "orchestrator.credentials"
"""Scope key: what a write's credential check before the body (limits.AuthBeforeBody)
returned, e.g. the acting responder."""
ANONYMOUS = Responder("anonymous", frozenset(), token_sha256="")
"""The reader when no responders are configured (reads are open then; commands are not)."""


def unauthorized(detail: str) -> ProblemError:
    """A 401 problem that tells the client how to authenticate."""
    error = ProblemError(401, "Unauthorized", detail)
    error.headers = {"WWW-Authenticate": 'Bearer realm="orchestrator"'}
    return error


def forbidden(responder: Responder, action: str, role: str | None = None) -> ProblemError:
    """A 403 problem naming who tried what, and which roles they have."""
    roles = ", ".join(sorted(responder.roles)) or "none"
    needed = ""
    if role is not None:
        needed = (
            f" (needs role {role})"
            if role == INCIDENT_COMMANDER
            else (f" (needs role {role} or {INCIDENT_COMMANDER})")
        )
    return ProblemError(
        403, "Forbidden", f"{responder.name} (roles: {roles}) may not {action}{needed}"
    )


class Guard:
    """FastAPI dependencies that authenticate a request; one per app, over its AuthConfig."""

    def __init__(self, auth: AuthConfig) -> None:
        self.auth = auth

    def _known(self, credentials: Credentials) -> Responder:
        if credentials is None:
            raise unauthorized("send Authorization: Bearer <your responder token>")
        responder = self.auth.responder(credentials.credentials)
        if responder is None:
            raise unauthorized("the bearer token belongs to no configured responder")
        return responder

    def reader(self, credentials: Annotated[Credentials, Security(RESPONDER_SCHEME)]) -> Responder:
        """Any configured responder (or anyone, when no responders are configured)."""
        if not self.auth.enforced:
            return ANONYMOUS
        return self._known(credentials)

    def actor(self, credentials: Annotated[Credentials, Security(RESPONDER_SCHEME)]) -> Responder:
        """A configured responder: commands are always recorded with who sent them."""
        if not self.auth.enforced:
            raise unauthorized(
                "no responders are configured; set ORCH_RESPONDERS_FILE or "
                "ORCH_RESPONDERS to send commands"
            )
        return self._known(credentials)

    def ingest(self, credentials: Credentials) -> Sender | None:
        """The sender of an intake request; None when intake is open (no sender configured).
        A responder's token is no ingest credential, and a sender's is no responder's."""
        if self.auth.intake_open:
            return None
        sender = self.auth.sender(credentials.credentials) if credentials is not None else None
        if sender is None:
            raise unauthorized("intake needs Authorization: Bearer <a sender's ingest token>")
        return sender


def _guard(request: Request) -> Guard:
    guard = request.app.state.guard
    assert isinstance(guard, Guard), "create_app sets app.state.guard"
    return guard


async def _reader(
    request: Request, credentials: Annotated[Credentials, Security(RESPONDER_SCHEME)]
) -> Responder:
    return _guard(request).reader(credentials)


async def _actor(
    request: Request, credentials: Annotated[Credentials, Security(RESPONDER_SCHEME)]
) -> Responder:
    return _guard(request).actor(credentials)


async def require_ingest(
    request: Request, credentials: Annotated[Credentials, Security(INGEST_SCHEME)]
) -> Sender | None:
    """Dependency: the sender of an intake request (None when intake is open), its announced
    body size charged to its bytes budget before any body byte is read: a named sender's, or
    the client address's when intake is open (a made-up token then buys no budget of its own).

    The dependencies here are `async def` although they never wait: FastAPI would otherwise
    run each in the thread pool, one more thread hop per request."""
    sender = _guard(request).ingest(credentials)
    budget: IntakeBudget | None = getattr(request.app.state, "intake_budget", None)
    if budget is not None:
        budget.charge_bytes(request, sender, announced_bytes(request.scope))
    return sender


async def actor_of(request: Request) -> Responder:
    """The `Actor` dependency solved without FastAPI (orchestrator.api.hot): the responder the
    same check found before the body was read, else the check made now."""
    checked = request.scope.get(CHECKED)
    if isinstance(checked, Responder):
        return checked
    return await _actor(request, await RESPONDER_SCHEME(request))


async def sender_of(request: Request) -> Sender | None:
    """The `IntakeSender` dependency solved without FastAPI (orchestrator.api.hot)."""
    return await require_ingest(request, await INGEST_SCHEME(request))


IntakeSender = Annotated[Sender | None, Depends(require_ingest)]
"""A route parameter: who submits events (None when intake is open)."""
Reader = Annotated[Responder, Depends(_reader)]
"""A route parameter: the responder reading (any valid token; anyone when none configured)."""
Actor = Annotated[Responder, Depends(_actor)]
"""A route parameter: the responder sending a command (always a configured responder)."""
