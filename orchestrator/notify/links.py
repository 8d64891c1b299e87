"""Signed, expiring, single-use acknowledgement links (itsdangerous, with ORCH_LINK_SECRET).

A link's token holds the task id, the responder and a nonce (the delivery's idempotency key),
signed with a timestamp: it acknowledges that task as that responder, without a bearer token,
until it expires, once (the nonce is spent in notify.db). A token altered in any way, or put in
the path of another task, fails the signature or the task check. Tokens are secrets: they are
never logged (the API logs no request paths; orchestrator.logs redacts `token=` values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "orchestrator.ack-link"
Refusal = Literal["expired", "invalid", "other task", "used"]


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a valid link says: acknowledge `task_id` as `responder`; `nonce` spends it."""

    task_id: str
    responder: str
    nonce: str


class LinkRefused(Exception):
    """The link cannot be used: expired, invalid (altered or foreign), for another task, or
    used already."""

    def __init__(self, why: Refusal) -> None:
        self.why = why
        super().__init__(why)


class LinkSigner:
    """Makes and checks acknowledgement links' tokens."""

    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self.max_age = max_age_seconds

    def token(self, task_id: str, responder: str, nonce: str) -> str:
        """A token acknowledging `task_id` as `responder`, signed now."""
        return self._serializer.dumps({"t": task_id, "r": responder, "n": nonce})

    def check(self, token: str, task_id: str) -> LinkClaim:
        """The claim of a token for `task_id`; LinkRefused if expired, invalid or for another
        task (whether it was used is the store's to say)."""
        try:
            data = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            raise LinkRefused("expired") from None
        except BadSignature:
            raise LinkRefused("invalid") from None
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "trn"):
            raise LinkRefused("invalid")
        if data["t"] != task_id:
            raise LinkRefused("other task")
        return LinkClaim(data["t"], data["r"], data["n"])


def ack_url(base_url: str, task_id: str, token: str) -> str:
    """The link a notification carries: a page that acknowledges the task on a button press
    (a GET never acts, so mail scanners that open links acknowledge nothing)."""
    return f"{base_url.rstrip('/')}/links/tasks/{task_id}/ack?token={token}"


def console_url(base_url: str, incident_id: str) -> str:
    """The task's incident in the responder console."""
    return f"{base_url.rstrip('/')}/console#/incidents/{incident_id}"
