"""What intake lets each sender send: records/s and bytes/s, and the refusal when it is too much.

A sender's budget is counted in what it costs the service: records (each alert or event is one
input to the engine and one row in the log) and body bytes (what has to be read and parsed).
Bytes are charged on the announced Content-Length before any body byte is read, records once the
body is split into them and before any of them is processed. Budgets are sliding windows
(`limits`), one per named sender, or per client address when intake is open. A named sender may
have budgets of its own in the responders file (`records_per_second`, `bytes_per_second`: one
busy Alertmanager may need more than the defaults give every sender).

A refusal carries Retry-After. Its status is 429, except on the Alertmanager webhook: Alertmanager
(0.25, measured) gives up on a notification answered with any 4xx, 429 included, and retries only
5xx, so there the same refusal is a 503, which it retries after backing off: a refusal never
drops alerts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.types import Scope

from orchestrator.api.problems import ProblemError
from orchestrator.auth import Sender

ALERTMANAGER_WEBHOOK = "/webhooks/alertmanager"
RETRY_STATUS = {ALERTMANAGER_WEBHOOK: 503}
"""The refusal status a sender of this path retries (429 for every other path)."""
TOO_MANY = 429


def refusal(path: str, title: str, detail: str, retry_s: float) -> ProblemError:
    """A refusal the sender of `path` retries: 429 (503 on the Alertmanager webhook) with
    Retry-After in whole seconds (at least 1)."""
    retry = max(1, math.ceil(retry_s))
    error = ProblemError(RETRY_STATUS.get(path, TOO_MANY), title, f"{detail}; retry in {retry}s")
    error.headers = {"Retry-After": str(retry)}
    return error


@dataclass(frozen=True)
class Budget:
    """One kind of budget: how much of `unit` a sender may spend per window."""

    item: RateLimitItem
    unit: str

    @classmethod
    def of(cls, limit: str, unit: str) -> Budget:
        """A budget from `limits` notation, e.g. "20000/second"."""
        return cls(parse(limit), unit)

    def describe(self) -> str:
        """The budget in words, e.g. "20000 records per 1 second"."""
        return (
            f"{self.item.amount} {self.unit} per {self.item.multiples} {self.item.GRANULARITY.name}"
        )


class IntakeBudget:
    """Each sender's records and bytes budgets: the intake's defaults (either may be absent:
    not limited), or a named sender's own (`Sender.records_per_second`, `bytes_per_second`)."""

    def __init__(self, records: Budget | None = None, bytes_: Budget | None = None) -> None:
        self.records, self.bytes = records, bytes_
        self.window = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._own: dict[tuple[str, int], Budget | None] = {}

    @classmethod
    def per_second(
        cls, records: int, bytes_: int, senders: Iterable[Sender] = ()
    ) -> IntakeBudget | None:
        """Budgets of `records` and `bytes_` a second (0 = not limited); None when neither is
        and no sender of `senders` has a budget of its own."""
        own = any(s.records_per_second or s.bytes_per_second for s in senders)
        if not records and not bytes_ and not own:
            return None
        return cls(_per_second(records, "records"), _per_second(bytes_, "bytes"))

    def charge_records(self, request: Request, sender: Sender | None, count: int) -> None:
        """Spend `count` records of the sender's budget, or refuse the request."""
        own = sender.records_per_second if sender is not None else None
        self._charge(self._budget(self.records, "records", own), request, sender, count)

    def charge_bytes(self, request: Request, sender: Sender | None, count: int) -> None:
        """Spend `count` body bytes of the sender's budget, or refuse the request."""
        own = sender.bytes_per_second if sender is not None else None
        self._charge(self._budget(self.bytes, "bytes", own), request, sender, count)

    def _budget(self, default: Budget | None, unit: str, own: int | None) -> Budget | None:
        """The default budget, or the sender's own one a second (parsed once per value)."""
        if own is None:
            return default
        key = (unit, own)
        if key not in self._own:
            self._own[key] = _per_second(own, unit)
        return self._own[key]

    def _charge(
        self, budget: Budget | None, request: Request, sender: Sender | None, count: int
    ) -> None:
        if budget is None or count <= 0:
            return
        bucket = f"{budget.unit}:{bucket_of(request, sender)}"
        cost = min(count, budget.item.amount)  # a request larger than a window takes a whole one
        if self.window.hit(budget.item, bucket, cost=cost):
            return
        reset = self.window.get_window_stats(budget.item, bucket).reset_time
        raise refusal(
            request.url.path,
            "Too many requests",
            f"intake allows {budget.describe()} per sender; this request holds {count}",
            reset - time.time(),
        )


def _per_second(amount: int, unit: str) -> Budget | None:
    """A budget of `amount` `unit` a second; None for 0 (not limited)."""
    return Budget.of(f"{amount}/second", unit) if amount else None


def bucket_of(request: Request, sender: Sender | None) -> str:
    """Whose budget a request spends: its named sender's, else its client address's."""
    if sender is not None:
        return "sender:" + sender.name
    return "addr:" + (request.client.host if request.client else "unknown")


def announced_bytes(scope: Scope) -> int:
    """The body size a request announces (Content-Length), 0 when it announces none."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0
