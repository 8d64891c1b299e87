"""`orchestrator export`: a Kafka topic's records between two times, as JSON Lines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.common import err, fail, option_time, read_settings


def export(
    topic: Annotated[
        str, typer.Argument(metavar="TOPIC", help="Full topic name, e.g. orch.events.raw.")
    ],
    start: Annotated[str, typer.Option("--from", metavar="TIME", help="RFC 3339 time, inclusive.")],
    end: Annotated[str, typer.Option("--to", metavar="TIME", help="RFC 3339 time, exclusive.")],
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="JSON Lines file to write.")],
) -> None:
    """Export a Kafka topic's records to JSON Lines.

    Records between two Kafka timestamps; an events.raw topic exported gives a drill log."""
    from orchestrator.runtime.kafka import export_topic

    first, last = option_time("--from", start), option_time("--to", end)
    bootstrap = read_settings().kafka_bootstrap_servers
    try:
        count = export_topic(bootstrap, topic, first, last, out)
    except LookupError as problem:
        raise fail(f"{problem}; list the topics with the prefix you deployed") from None
    err.print(f"wrote {count} records of {topic} to {out}")
