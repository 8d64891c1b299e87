"""The FastAPI application: intake, incidents, tasks and their commands, feeds, health, metrics.

It works over any `Runtime` (the embedded one today; the Kafka one serves the same app).
"""

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.middleware.cors import CORSMiddleware
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.responses import Response

from orchestrator.adapters import SOURCE_ROOT, source_of
from orchestrator.api.console import install_console
from orchestrator.api.feed import feed_router
from orchestrator.api.handlers import install_handlers
from orchestrator.api.hot import HotRoutes, Solver
from orchestrator.api.incidents import incidents_router
from orchestrator.api.intake import intake_arguments, intake_router
from orchestrator.api.limits import AuthBeforeBody, BodyLimitMiddleware, write_gates
from orchestrator.api.links import links_router
from orchestrator.api.metrics import (
    HttpCounters,
    LatencyMiddleware,
    latency_histogram,
    metrics_registry,
)
from orchestrator.api.models import problem_responses
from orchestrator.api.oncall import oncall_router
from orchestrator.api.openapi import install_openapi
from orchestrator.api.ratelimit import IntakeBudget
from orchestrator.api.security import Guard, Reader, require_ingest
from orchestrator.api.tasks import bodiless_command, tasks_router
from orchestrator.auth import AuthConfig
from orchestrator.engine import Rosters
from orchestrator.notify import AckLinks
from orchestrator.playbook import load_rosters
from orchestrator.runtime import Runtime
from orchestrator.settings import (
    DEFAULT_FEED_MAX_BEHIND,
    DEFAULT_FEEDS_PER_RESPONDER,
    DEFAULT_INTAKE_QUEUE_RECORDS,
    DEFAULT_MAX_WRITE_BYTES,
    MAX_BATCH_BYTES,
    MAX_BATCH_RECORDS,
    Settings,
)

log = structlog.get_logger("orchestrator.api")
TITLE = "Incident response orchestrator"
VERSION = "0.1.0"
DESCRIPTION = """Event intake, incidents, and the agent API responders and role agents use.

Reads need a responder's bearer token (when responders are configured); commands always do, and
a responder acts only on tasks of their roles (`incident_commander` on all). Intake needs the
ingest token when ORCH_INGEST_TOKEN is set. Writes answer 202 with the command id when the
engine accepts the command and 409 with its reason when it rejects it; send `Idempotency-Key`
to make retries safe. Errors are `application/problem+json`.
"""
INTAKE_PATHS = ("/events", "/webhooks/alertmanager")
HOT_ROUTES: dict[str, Solver] = {
    "/tasks/{task_id}/ack": bodiless_command,
    "/tasks/{task_id}/start": bodiless_command,
    **dict.fromkeys(INTAKE_PATHS, intake_arguments),
}
"""The routes a plain request reaches without FastAPI's per-request machinery."""
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's native OpenTelemetry off: this API has no tracing, and asking on every request
whether a global provider was configured costs about 3% of a request's CPU."""


def create_app(
    runtime: Runtime,
    auth: AuthConfig | None = None,
    *,
    cors_origins: Sequence[str] = (),
    max_write_bytes: int = DEFAULT_MAX_WRITE_BYTES,
    intake_budget: IntakeBudget | None = None,
    intake_queue_records: int = DEFAULT_INTAKE_QUEUE_RECORDS,
    feed_max_behind: int = DEFAULT_FEED_MAX_BEHIND,
    feeds_per_responder: int = DEFAULT_FEEDS_PER_RESPONDER,
    max_batch_records: int = MAX_BATCH_RECORDS,
    rosters: Rosters | None = None,
    links: AckLinks | None = None,
    alert_severities: Mapping[str, str] | None = None,
    event_source: str = SOURCE_ROOT,
    hot_routes: bool = True,
) -> FastAPI:
    """The HTTP API over `runtime`. Without `auth` no responders exist: reads and intake are
    open and commands are refused (401). CORS stays off unless origins are given. Each sender's
    intake spends `intake_budget` (records and bytes) when one is given, and intake refuses work
    while more than `intake_queue_records` records wait for their commit. A feed holds
    at most `feed_max_behind` events; a responder has at most `feeds_per_responder` open; its
    task events are CloudEvents from `event_source`. `alert_severities` adds to the
    Alertmanager adapter's severity mapping. With `hot_routes` (the default) plain requests to
    HOT_ROUTES skip FastAPI's per-request machinery (orchestrator.api.hot), with the same
    answers; without, FastAPI serves every request (the tests compare both)."""
    app = FastAPI(title=TITLE, version=VERSION, description=DESCRIPTION, telemetry=NO_TELEMETRY)
    if hot_routes:
        app.add_middleware(HotRoutes, owner=app, solvers=HOT_ROUTES)  # innermost: after checks
    app.state.alert_severities = dict(alert_severities or {})
    app.state.guard = Guard(auth or AuthConfig())
    app.state.intake_budget = intake_budget
    install_handlers(app)
    app.include_router(
        intake_router(runtime, max_records=max_batch_records, queue_records=intake_queue_records),
        dependencies=[Depends(require_ingest)],
        responses={
            200: {"description": "A duplicate, or a batch's results"},
            **problem_responses(401, 413, 422, 429, 503),
        },
    )
    app.include_router(incidents_router(runtime))
    app.include_router(_reads_router(runtime))
    app.include_router(tasks_router(runtime))
    app.include_router(oncall_router(rosters, lambda: runtime.now()))
    if links is not None:
        app.include_router(links_router(runtime, links))
    app.include_router(feed_router(runtime, feed_max_behind, feeds_per_responder, event_source))
    _health(app, runtime)
    registry = metrics_registry(runtime)
    gates = write_gates(app.routes)
    app.state.http_counters = counters = HttpCounters(registry, [gate[2] for gate in gates])
    _metrics(app, registry)
    install_console(app, runtime)
    app.add_middleware(
        BodyLimitMiddleware,
        default=max_write_bytes,
        limits=dict.fromkeys(INTAKE_PATHS, MAX_BATCH_BYTES),
    )
    app.add_middleware(
        AuthBeforeBody,
        guard=app.state.guard,
        gates=write_gates(app.routes),
        on_refused=counters.refused_credentials,
    )
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"],
        )
    install_openapi(app)
    return app


def _reads_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/summary",
        tags=["incidents"],
        summary="The contract summary (as replay --json)",
        responses=problem_responses(401),
    )
    def get_summary(_who: Reader) -> dict[str, Any]:
        return runtime.summary()

    @router.get(
        "/dead-letters",
        tags=["intake"],
        summary="Rejected records, oldest first",
        responses=problem_responses(401, 422),
    )
    def dead_letters(
        _who: Reader, limit: Annotated[int, Query(ge=1, le=10_000)] = 100
    ) -> list[dict[str, Any]]:
        return [d.model_dump(mode="json") for d in runtime.dead_letters(limit)]

    return router


def _health(app: FastAPI, runtime: Runtime) -> None:
    @app.get("/healthz", tags=["health"], summary="The process is up")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="The runtime answers")
    def readyz() -> dict[str, Any]:
        return {"status": "ready", "incidents": len(runtime.incidents())}


def _metrics(app: FastAPI, registry: CollectorRegistry) -> None:
    app.add_middleware(LatencyMiddleware, histogram=latency_histogram(registry))

    @app.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics (counts only, no incident content; open to scrapers)",
        response_class=Response,
        responses={
            200: {
                "content": {CONTENT_TYPE_LATEST.split(";")[0]: {}},
                "description": "Prometheus text format",
            }
        },
    )
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def app_from_settings(
    runtime: Runtime, settings: Settings, links: AckLinks | None = None
) -> FastAPI:
    """The app as `orchestrator run` serves it: auth, CORS and limits from ORCH_* settings."""
    auth = settings.auth()
    if not auth.enforced:
        log.warning(
            "auth.no_responders",
            detail="reads are open and commands are refused",
            fix="set ORCH_RESPONDERS_FILE or ORCH_RESPONDERS",
        )
    if auth.intake_open:
        log.warning(
            "auth.no_senders",
            detail="intake is open",
            fix="list senders in the responders file or set ORCH_INGEST_TOKEN",
        )
    return create_app(
        runtime,
        auth,
        cors_origins=settings.cors_origins,
        max_write_bytes=settings.max_write_bytes,
        intake_budget=IntakeBudget.per_second(
            settings.intake_records_per_second,
            settings.intake_bytes_per_second,
            auth.all_senders,
        ),
        intake_queue_records=settings.intake_queue_records,
        feed_max_behind=settings.feed_max_behind,
        feeds_per_responder=settings.feeds_per_responder,
        max_batch_records=settings.max_batch_records,
        rosters=load_rosters(settings.rosters_file).rosters if settings.rosters_file else None,
        links=links,
        alert_severities=settings.alert_severities(),
        event_source=source_of(settings.topic_prefix),
    )
