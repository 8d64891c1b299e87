"""Logs are events: structlog, JSON in production, readable on a terminal."""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import structlog

from orchestrator.auth import redact_secrets
from orchestrator.engine import split_task_id
from schemas import COMMAND_EVENT_TYPE

LIBRARY_LEVEL = "warning"
"""The level of the libraries' own records (uvicorn, faust, aiokafka) unless a command sets
another (`orchestrator worker --faust-log-level`)."""
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def _renderer(fmt: str) -> structlog.typing.Processor:
    """JSON lines, or readable ones (coloured only on a terminal)."""
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())


def configure_logging(fmt: str = "console", level: str = "info") -> None:
    """Set structlog up once for a process: `json` or `console` lines on stderr. The standard
    library's records join them where a command asks (`capture_library_logging`: the API's
    server for uvicorn's, a worker for faust's and the Kafka clients')."""
    renderer = _renderer(fmt)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def capture_library_logging(fmt: str, level: str) -> None:
    """Send the standard library's log records (faust, mode, aiokafka, kafka-python) through
    structlog's renderer, so that they come out as the orchestrator's own lines: JSON with
    `ORCH_LOG_FORMAT=json`, no terminal colours when stderr is not a terminal. Each record
    keeps its logger's name (`logger`) and level; `level` is theirs (the root logger's), the
    orchestrator's own structlog lines keep theirs. A record logged with exc_info (uvicorn's
    "Exception in ASGI application") carries its traceback as the `exception` field, and the
    context bound where it was logged (a request's method and path) as fields too; Python
    warnings come through as records of the `py.warnings` logger."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,
            _renderer(fmt),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LEVELS[level])
    logging.captureWarnings(True)


class _Envelope(msgspec.Struct):
    """What a log line names a raw record by (its other fields are skipped unread)."""

    id: Any = None
    source: Any = None
    type: Any = None
    data: Any = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)


def record_context(raw: bytes) -> dict[str, str]:
    """The log context of a raw record, as far as it has one: its `event_id` and `source`, and
    for a command the `incident_id` it addresses (nothing for bytes that are no JSON object).
    Read only off the hot path: for records intake did not accept, or whose step failed."""
    try:
        envelope = _ENVELOPE.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return {}
    found = {"event_id": envelope.id, "source": envelope.source}
    data = envelope.data
    if envelope.type == COMMAND_EVENT_TYPE and isinstance(data, dict):
        task = data.get("task_id")
        found["incident_id"] = data.get("incident_id") or (
            split_task_id(task)[0] if isinstance(task, str) else None
        )
    return {name: value for name, value in found.items() if isinstance(value, str) and value}


def log_intake(
    logger: Any,
    status: str,
    raw: bytes,
    reason: str | None = None,
    dead_letter_id: str | None = None,
) -> None:
    """Log a record intake did not accept, with its context (`record_context`) bound:
    `event.rejected` (info, with the reason and the dead letter's id) or `event.duplicate`
    (debug: senders resend on purpose, Alertmanager every group interval)."""
    with structlog.contextvars.bound_contextvars(**record_context(raw)):
        if status == "rejected":
            logger.info("event.rejected", reason=reason, dead_letter_id=dead_letter_id)
        elif status == "duplicate":
            logger.debug("event.duplicate")
