"""Per-sender rate limiting of intake: a moving window per ingest token (or client address)."""

from __future__ import annotations

import hashlib
import math
import time
from typing import Annotated

from fastapi import Request, Security
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from orchestrator.api.problems import ProblemError
from orchestrator.api.security import INGEST_SCHEME, Credentials

KEY_HEX_CHARS = 16


class IntakeLimiter:
    """Allows each sender `limit` requests (e.g. "1000/second"); more get 429 + Retry-After."""

    def __init__(self, limit: str) -> None:
        self.text = limit
        self.item: RateLimitItem = parse(limit)
        self.window = MovingWindowRateLimiter(MemoryStorage())

    def check(self, sender: str) -> None:
        """Count one request from `sender`, refusing it when over the limit."""
        if self.window.hit(self.item, sender):
            return
        reset = self.window.get_window_stats(self.item, sender).reset_time
        retry = max(1, math.ceil(reset - time.time()))
        error = ProblemError(
            429, "Too many requests", f"intake allows {self.text} per sender; retry in {retry}s"
        )
        error.headers = {"Retry-After": str(retry)}
        raise error


def sender_of(request: Request, credentials: Credentials) -> str:
    """Who is sending: a digest of the bearer token, else the client address."""
    if credentials is not None:
        digest = hashlib.sha256(credentials.credentials.encode("utf-8")).hexdigest()
        return "token:" + digest[:KEY_HEX_CHARS]
    return "addr:" + (request.client.host if request.client else "unknown")


async def limit_intake(
    request: Request, credentials: Annotated[Credentials, Security(INGEST_SCHEME)]
) -> None:
    """Dependency: count the request against its sender's intake limit, if one is set (async:
    it never waits, so it runs on the event loop, not in the thread pool)."""
    limiter: IntakeLimiter | None = getattr(request.app.state, "intake_limiter", None)
    if limiter is not None:
        limiter.check(sender_of(request, credentials))
