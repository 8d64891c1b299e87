"""Logs are events: structlog, JSON in production, readable on a terminal."""

from __future__ import annotations

import logging
import sys

import structlog

from orchestrator.auth import redact_secrets

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
