"""Per-sender rate limiting of intake: a moving window per named sender (or client address)."""

from __future__ import annotations

import math
import time

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from orchestrator.api.problems import ProblemError
from orchestrator.auth import Sender


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


def bucket_of(request: Request, sender: Sender | None) -> str:
    """Whose budget a request spends: its named sender's, else its client address's."""
    if sender is not None:
        return "sender:" + sender.name
    return "addr:" + (request.client.host if request.client else "unknown")
