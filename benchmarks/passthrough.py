"""The Kafka case's baseline: a faust agent that only consumes a topic and produces each record
to another, on the same broker, with the same faust settings the worker uses.

    python -m benchmarks.passthrough BOOTSTRAP IN_TOPIC OUT_TOPIC APP_ID DATA_DIR
"""

from __future__ import annotations

import sys
from typing import Any

import faust
import mode


def build(bootstrap: str, source: str, target: str, app_id: str, data_dir: str) -> Any:
    """A faust app whose one agent sends every record of `source` to `target` unchanged."""
    app = faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        datadir=data_dir,
        key_serializer="raw",
        value_serializer="raw",
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        agent_supervisor=mode.CrashingSupervisor,
        web_enabled=False,
    )
    inbound = app.topic(source, key_type=bytes, value_type=bytes)
    outbound = app.topic(target, key_type=bytes, value_type=bytes)

    async def forward(stream: Any) -> None:
        async for event in stream.events():
            await outbound.send(key=event.key, value=event.value)

    app.agent(inbound, name="passthrough", concurrency=1)(forward)
    return app


def main(argv: list[str]) -> None:
    """Run the pass-through app until SIGTERM."""
    bootstrap, source, target, app_id, data_dir = argv
    app = build(bootstrap, source, target, app_id, data_dir)
    faust.Worker(
        app, loglevel="warning", redirect_stdouts=False, quiet=True
    ).execute_from_commandline()


if __name__ == "__main__":
    main(sys.argv[1:])
