"""How the API is served: the one uvicorn set-up, with read timeouts and trusted proxies.

uvicorn closes kept-alive connections that idle between requests, but it has no deadline for a
request's headers or body (uvicorn issue #157, still open): a client that trickles them, or
connects and sends nothing, holds its connection for good. `TimedHttpProtocol` adds both
deadlines; `api_server` is what `orchestrator run` (embedded or --kafka) and the live drill use.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import structlog
import uvicorn
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from orchestrator.api.app import app_from_settings
from orchestrator.api.problems import PROBLEM_TYPE
from orchestrator.logs import LIBRARY_LEVEL, capture_library_logging
from orchestrator.notify import AckLinks
from orchestrator.runtime import Runtime
from orchestrator.settings import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_BODY_TOTAL_TIMEOUT,
    DEFAULT_HEADER_TIMEOUT,
    KEEP_ALIVE_TIMEOUT,
    Settings,
)

log = structlog.get_logger("orchestrator.api")
LOG_LEVEL = "warning"
"""uvicorn's own log level: the app logs requests and errors through structlog."""


@dataclass(frozen=True, slots=True)
class ReadTimeouts:
    """Seconds a client has for a request's headers, between two body chunks, and in all for
    a body."""

    header: float = DEFAULT_HEADER_TIMEOUT
    body_idle: float = DEFAULT_BODY_TIMEOUT
    body_total: float = DEFAULT_BODY_TOTAL_TIMEOUT

    @classmethod
    def of(cls, settings: Settings) -> ReadTimeouts:
        """The timeouts ORCH_HEADER_TIMEOUT, ORCH_BODY_TIMEOUT, ORCH_BODY_TOTAL_TIMEOUT set."""
        return cls(settings.header_timeout, settings.body_timeout, settings.body_total_timeout)


class TimedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for headers and one for a stalled body.

    Headers late: 408 and close (just close when a response is still being written). A body
    late while the app waits for it: 408, the app sees a disconnect. A body still trickling
    after the answer: close. A pause the server caused (flow control, 100-continue) is no stall.
    """

    timeouts: ClassVar[ReadTimeouts] = ReadTimeouts()

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.read_timer: asyncio.TimerHandle | None = None
        self.body_deadline = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = OneWritePerTurn(transport, self.loop)  # type: ignore[assignment]
        self._arm(self.timeouts.header, self._headers_late)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.read_timer is None:  # a kept-alive connection's next request
            self._arm(self.timeouts.header, self._headers_late)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self.body_deadline = self.loop.time() + self.timeouts.body_total
        self._arm_body()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm_body()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def _arm(self, delay: float, late: Any) -> None:
        self._disarm()
        self.read_timer = self.loop.call_later(max(delay, 0.0), late)

    def _arm_body(self) -> None:
        left = self.body_deadline - self.loop.time()
        self._arm(min(self.timeouts.body_idle, left), self._body_late)

    def _disarm(self) -> None:
        if self.read_timer is not None:
            self.read_timer.cancel()
            self.read_timer = None

    def _headers_late(self) -> None:
        self.read_timer = None
        if self.transport.is_closing():
            return
        log.info("request.timed_out", part="headers", client=_peer(self.client))
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()
            return
        self._answer_408(f"the request headers did not arrive within {self.timeouts.header:g}s")

    def _body_late(self) -> None:
        self.read_timer = None
        cycle = self.cycle
        if self.transport.is_closing():
            return
        if self.flow.read_paused or (cycle is not None and cycle.waiting_for_100_continue):
            self._arm(self.timeouts.body_idle, self._body_late)  # the server holds it back
            return
        log.info("request.timed_out", part="body", client=_peer(self.client))
        if cycle is None or cycle.response_started:
            self.transport.close()
            return
        cycle.disconnected = True  # the app's receive() answers http.disconnect, send() no-ops
        cycle.message_event.set()
        self._answer_408(
            f"the request body stalled for {self.timeouts.body_idle:g}s or took over "
            f"{self.timeouts.body_total:g}s in all"
        )

    def _answer_408(self, detail: str) -> None:
        body = json.dumps(
            {"type": "about:blank", "title": "Request timeout", "status": 408, "detail": detail}
        ).encode()
        head = [STATUS_LINE[408]]
        head += [
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        ]
        head += [
            b"content-type: " + PROBLEM_TYPE.encode() + b"\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()


class OneWritePerTurn:
    """A connection's transport whose writes within one turn of the event loop go out as one:
    uvicorn writes a response's head and its body apart, which costs two send calls and two
    packets (the socket has TCP_NODELAY) for one small answer. A write is held until the end
    of the turn it was made in, so a streamed response's head and events are not delayed
    beyond it; close sends what is held first."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop = transport, loop
        self._held: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        """Send `data` at the end of this turn, with the turn's other writes."""
        if self._held is None:
            self._held = [data]
            self._loop.call_soon(self._flush)
        else:
            self._held.append(data)

    def close(self) -> None:
        """Send what is held, then close."""
        self._flush()
        self._transport.close()

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held and not self._transport.is_closing():
            self._transport.write(b"".join(held))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "unknown"


def timed_protocol(timeouts: ReadTimeouts) -> type[TimedHttpProtocol]:
    """The protocol class with `timeouts` (uvicorn builds one instance per connection)."""
    return type("TimedHttpProtocol", (TimedHttpProtocol,), {"timeouts": timeouts})


def server_config(
    app: Any, host: str, port: int, settings: Settings | None = None
) -> uvicorn.Config:
    """uvicorn's configuration for `app`: read timeouts, and X-Forwarded-* believed only from
    ORCH_TRUSTED_PROXIES (uvicorn's own default believes them from 127.0.0.1); without
    `settings`, the default timeouts and no trusted proxy."""
    proxies = settings.proxies() if settings is not None else []
    timeouts = ReadTimeouts.of(settings) if settings is not None else ReadTimeouts()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=timed_protocol(timeouts),
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies,
        log_level=LOG_LEVEL,
        log_config=None,  # uvicorn's records go to the root logger: structlog renders them
        access_log=False,
        timeout_keep_alive=settings.keep_alive_timeout if settings else KEEP_ALIVE_TIMEOUT,
    )


def api_server(
    runtime: Runtime, settings: Settings, links: AckLinks | None = None
) -> uvicorn.Server:
    """The server of the API over `runtime` on ORCH_HOST:ORCH_PORT, everything else from the
    settings too; uvicorn's own records (and Python warnings) are rendered as the
    orchestrator's lines (JSON with ORCH_LOG_FORMAT=json)."""
    capture_library_logging(settings.log_format, LIBRARY_LEVEL)
    app = app_from_settings(runtime, settings, links)
    return uvicorn.Server(server_config(app, settings.host, settings.port, settings))
