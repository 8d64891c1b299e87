"""`python -m benchmarks` (what `make bench` runs): every case beside its same-run baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from benchmarks import BenchConfig, BenchError, run_bench, summary_table

EXIT_USAGE = 2
out = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def bench(
    events: Annotated[
        int, typer.Option(min=1000, help="Events in the generated logs.")
    ] = 1_000_000,
    keys: Annotated[int, typer.Option(min=10, help="Distinct correlation keys.")] = 10_000,
    open_incidents: Annotated[
        int, typer.Option(min=100, help="Incidents held open in the memory case.")
    ] = 100_000,
    api_seconds: Annotated[float, typer.Option(min=1.0, help="Length of the API run.")] = 30.0,
    api_clients: Annotated[int, typer.Option(min=1, help="Concurrent API clients.")] = 50,
    storm_seconds: Annotated[
        float, typer.Option(min=1.0, help="Length of each alert-storm run.")
    ] = 20.0,
    storm_runs: Annotated[
        int, typer.Option(min=1, help="Alert-storm runs per system and batch size.")
    ] = 3,
    only: Annotated[
        list[str] | None, typer.Option(help="Run only this case (repeatable): engine, ...")
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where benchmarks.md and benchmarks.json go.")
    ] = Path("docs"),
) -> None:
    """Run the benchmarks beside same-run baselines; write docs/benchmarks.md and .json."""
    config = BenchConfig(
        events,
        keys,
        open_incidents,
        api_seconds,
        api_clients,
        tuple(only or ()),
        out_dir,
        storm_seconds=storm_seconds,
        storm_runs=storm_runs,
    )
    try:
        run = run_bench(config, err)
    except BenchError as problem:
        err.print(f"[bold red]error:[/] {escape(str(problem))}")
        raise typer.Exit(EXIT_USAGE) from None
    out.print(summary_table(run))
    err.print(f"wrote {out_dir / 'benchmarks.md'} and {out_dir / 'benchmarks.json'}")


if __name__ == "__main__":
    typer.run(bench)
