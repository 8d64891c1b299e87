"""A worker's own HTTP port (ORCH_WORKER_PORT): /healthz, /readyz and /metrics.

    /healthz   200 while the worker's event loop answers (liveness: restart it when this fails)
    /readyz    200 once the worker is assigned its partitions and has recovered their tables;
               503 while it (re)joins the group or recovers (readiness)
    /metrics   the worker's counters and its consumer lag per input partition (Prometheus text)
               and the standard process_*, python_info and python_gc_* series

It runs on the worker's own event loop (aiohttp, faust's web library), so a stuck loop fails
the liveness probe too.
"""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from orchestrator.errors import OrchestratorError
from orchestrator.runtime.kafka.metrics import WorkerMetrics

__all__ = ["HealthServer", "PortUnavailable"]

log = structlog.get_logger("orchestrator.runtime.kafka")


class PortUnavailable(OrchestratorError):
    """The worker's port is taken (or not allowed): the worker stops, saying which setting."""


class HealthServer:
    """The three pages of one worker, served on `host`:`port` until cancelled."""

    def __init__(self, metrics: WorkerMetrics, host: str, port: int) -> None:
        self.metrics = metrics
        self.host = host
        self.port = port

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, _request: web.Request) -> web.Response:
        if self.metrics.is_ready:
            return web.json_response({"status": "ready"})
        return web.json_response({"status": "rebalancing"}, status=503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        await self.metrics.refresh()
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def serve(self) -> None:
        """Serve until cancelled (the worker stopping cancels it)."""
        runner = web.AppRunner(self._app(), access_log=None)
        await runner.setup()
        try:
            try:
                await web.TCPSite(runner, self.host, self.port).start()
            except OSError as error:
                raise PortUnavailable(
                    f"the worker cannot listen on {self.host}:{self.port} ({error}); set "
                    "ORCH_WORKER_PORT to a free port (0: no health and metrics port)"
                ) from None
            log.info("health.listening", host=self.host, port=self.port)
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
