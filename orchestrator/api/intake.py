"""Event intake over HTTP: CloudEvents (single or batch) and Alertmanager webhooks."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from orchestrator.adapters import alertmanager_events, binary_headers, binary_record
from orchestrator.api.problems import ProblemError, problem
from orchestrator.api.ratelimit import IntakeBudget, announced_bytes, refusal
from orchestrator.api.security import IntakeSender, sender_of
from orchestrator.auth import Sender
from orchestrator.runtime import AsyncWrites, Backlog, IntakeResult, Runtime
from orchestrator.settings import DEFAULT_INTAKE_QUEUE_RECORDS, MAX_BATCH_BYTES, MAX_BATCH_RECORDS
from schemas import Event, Origin

_COMPACT = json.JSONEncoder(separators=(",", ":"))
"""What `json.dumps(..., separators=(",", ":"))` writes, without a new encoder per call."""
_ANY = msgspec.json.Decoder()
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])
"""Splits a JSON array into its elements' raw bytes without decoding them."""
_BATCH: dict[str, Any] = {
    "type": "array",
    "description": "A batch of events: each record is validated on its own; invalid ones "
    "are dead-lettered and reported in the results, not refused.",
}
_ONE_OR_BATCH: dict[str, Any] = {"oneOf": [Event.model_json_schema(), _BATCH]}
EVENTS_BODY: dict[str, Any] = {
    "description": "CloudEvents in the HTTP binding's three content modes. Structured "
    "(`application/cloudevents+json`, or `application/json`): one event, or a JSON array "
    "of them. Batched (`application/cloudevents-batch+json`): a JSON array of events, "
    "answered per record. Binary (any `ce-` header, e.g. `ce-specversion`): the attributes "
    "in `ce-<name>` headers (percent-encoded), Content-Type as `datacontenttype`, the body "
    "as `data`; its dead letter keeps the headers.",
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _ONE_OR_BATCH},
            "application/cloudevents+json": {"schema": _ONE_OR_BATCH},
            "application/cloudevents-batch+json": {"schema": _BATCH},
        },
    },
}
"""OpenAPI: /events takes one CloudEvent or a batch (the handler reads the raw bytes)."""
ALERTMANAGER_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["alerts"],
                    "properties": {"version": {"enum": ["4", 4]}, "alerts": {"type": "array"}},
                }
            }
        },
    }
}
"""OpenAPI: what the Alertmanager adapter requires of a webhook body."""


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) anything over `limit` bytes, announced or not."""
    if announced_bytes(request.scope) > limit:
        raise ProblemError(413, "Request too large", f"the body is over {limit} bytes; split it")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise ProblemError(413, "Request too large", f"the body is over {limit} bytes")
    return bytes(body)


def parse_json(body: bytes) -> Any:
    """`json.loads(body)`, by msgspec where it parses the body (the same values, faster); what
    msgspec refuses, and `json` may take or refuses in its own words (NaN, lone surrogates,
    UTF-16, very deep nesting), goes to `json.loads`."""
    try:
        return _ANY.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return json.loads(body)


def split_records(body: bytes) -> tuple[list[bytes], bool]:
    """Records in a body: a JSON array is a batch, each element kept as the bytes sent (so one
    element nested too deep or holding a 5,000-digit number is dead-lettered alone, its
    neighbours unharmed); anything else is one record as sent."""
    try:
        items = _ARRAY.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return [body], False
    return [bytes(item) for item in items], True


def check_count(count: int, limit: int) -> None:
    """Refuse (413) a batch of more than `limit` records before any of them is processed."""
    if count > limit:
        raise ProblemError(
            413,
            "Too many records",
            f"the request holds {count} records; the limit is {limit} per request "
            "(ORCH_MAX_BATCH_RECORDS): split it",
        )


def _result_json(result: IntakeResult) -> dict[str, Any]:
    out: dict[str, Any] = {"status": result.status}
    if result.reason:
        out["reason"] = result.reason
    if result.dead_letter_id:
        out["dead_letter_id"] = result.dead_letter_id
    return out


def answer(results: list[IntakeResult], batch: bool) -> JSONResponse:
    """202 for one accepted record, 200 for a duplicate, 422 for a rejected one; batches 200."""
    if batch:
        counts = {
            s: sum(r.status == s for r in results) for s in ("accepted", "rejected", "duplicate")
        }
        return JSONResponse({**counts, "results": [_result_json(r) for r in results]})
    (result,) = results
    if result.status == "rejected":
        return problem(
            422,
            "Event rejected",
            result.reason or "invalid event",
            dead_letter_id=result.dead_letter_id,
        )
    return JSONResponse(
        _result_json(result), status_code=202 if result.status == "accepted" else 200
    )


def check_budget(request: Request, sender: Sender | None, body: bytes, records: int) -> None:
    """Charge a read body's records (and its bytes, when its size was not announced and so not
    charged before it was read) to the sender's budgets, before any record is processed."""
    budget: IntakeBudget | None = getattr(request.app.state, "intake_budget", None)
    if budget is None:
        return
    if not announced_bytes(request.scope):
        budget.charge_bytes(request, sender, len(body))
    budget.charge_records(request, sender, records)


def check_backlog(
    request: Request, backlog_of: Callable[[], Backlog] | None, records: int, limit: int
) -> None:
    """Refuse (429, 503 on the Alertmanager webhook, with Retry-After) records that would
    queue behind more than `limit` records not yet committed; never drop what was taken.
    `backlog_of` is the runtime's, when its writes queue (None: nothing to check)."""
    if backlog_of is None:
        return
    backlog = backlog_of()
    if backlog.records and backlog.records + records > limit:
        raise refusal(
            request.url.path,
            "Intake is behind",
            f"{backlog.records} records wait for their commit (the queue holds {limit}, "
            "ORCH_INTAKE_QUEUE_RECORDS)",
            backlog.seconds,
        )


async def intake_arguments(request: Request) -> dict[str, Any]:
    """The arguments of an intake route (orchestrator.api.hot): the request and its sender,
    whose announced bytes are charged to its budget as the route's dependency does."""
    return {"request": request, "sender": await sender_of(request)}


Submit = Callable[[list[bytes], Origin], Awaitable[list[IntakeResult]]]
"""Hands a request's records to the runtime and awaits their results."""


def submitter(runtime: Runtime) -> Submit:
    """`runtime.submit` without blocking the event loop for the commit's fsync: awaited when the
    runtime takes writes from a loop, else in the thread pool. Picked once per router (an
    isinstance check of a runtime-checkable Protocol costs more than a small request's parse)."""
    if isinstance(runtime, AsyncWrites):
        return runtime.submit_async

    async def in_thread(records: list[bytes], origin: Origin) -> list[IntakeResult]:
        return await run_in_threadpool(runtime.submit, records, origin)

    return in_thread


async def submitted(
    submit: Submit, records: list[bytes], origin: Origin, sender: Sender | None
) -> list[IntakeResult]:
    """`submit`, with the sender's name bound to the log context of what the runtime logs for
    these records (a rejected record's `event.rejected` names its event id and its sender)."""
    if sender is None:
        return await submit(records, origin)
    with structlog.contextvars.bound_contextvars(sender=sender.name):
        return await submit(records, origin)


def origin_of(
    endpoint: str, sender: Sender | None, headers: dict[str, str] | None = None
) -> Origin:
    """Where records of an intake request come from: the endpoint, the sender's name and a
    binary-mode event's CloudEvents headers."""
    name = sender.name if sender else None
    return Origin(kind="http", name=endpoint, sender=name, headers=headers)


def intake_router(
    runtime: Runtime,
    max_body: int = MAX_BATCH_BYTES,
    max_records: int = MAX_BATCH_RECORDS,
    queue_records: int = DEFAULT_INTAKE_QUEUE_RECORDS,
) -> APIRouter:
    """Routes that take events in: each request's records are counted against the request
    limit, the sender's budgets and the durable queue's backlog before any is processed."""
    router = APIRouter(tags=["intake"])
    backlog_of = runtime.backlog if isinstance(runtime, AsyncWrites) else None
    submit = submitter(runtime)

    @router.post(
        "/events",
        status_code=202,
        summary="Submit CloudEvents (one object or a batch)",
        openapi_extra=EVENTS_BODY,
    )
    async def post_events(request: Request, sender: IntakeSender) -> JSONResponse:
        body = await read_limited(request, max_body)
        headers = binary_headers(request.headers.raw)
        if headers is None:
            records, batch = split_records(body)
        else:
            records, batch = [binary_record(headers, body)], False
        check_count(len(records), max_records)
        check_budget(request, sender, body, len(records))
        check_backlog(request, backlog_of, len(records), queue_records)
        origin = origin_of("/events", sender, headers)
        return answer(await submitted(submit, records, origin, sender), batch)

    @router.post(
        "/webhooks/alertmanager",
        summary="Prometheus Alertmanager webhook (v4)",
        openapi_extra=ALERTMANAGER_BODY,
    )
    async def post_alertmanager(request: Request, sender: IntakeSender) -> JSONResponse:
        body = await read_limited(request, max_body)
        try:
            counters = request.app.state.http_counters
            severities = request.app.state.alert_severities
            alerts = alertmanager_events(parse_json(body), severities, counters.unmapped)
        except RecursionError:
            return problem(422, "Not an Alertmanager payload", "the body nests too deeply")
        except ValueError as err:  # not JSON, or an AlertmanagerPayloadError
            return problem(422, "Not an Alertmanager payload", str(err))
        check_budget(request, sender, body, len(alerts))
        check_backlog(request, backlog_of, len(alerts), queue_records)
        records = [_COMPACT.encode(a).encode() for a in alerts]
        origin = Origin(kind="http", name="/webhooks/alertmanager")
        return answer(await submitted(submit, records, origin, sender), batch=True)

    return router
