"""The `orchestrator` command. Exit codes: 0 ok, 1 findings, 2 usage or input errors.

One module a command group, this facade wiring them into one typer app:

common     consoles, exit codes, `fail`, the --playbooks option, option times, summary output
serving    the one uvicorn set-up: build the API server and run it (SIGTERM, stop, gc freeze)
service    run (embedded, or --kafka: the API over Kafka workers), worker, agent
drills     replay (file, --serve live drill, --kafka), demo, backtest
playbooks  playbooks validate | test | schema
export     export a Kafka topic's records between two times
oncall     oncall who | export: who is on call for a role, and its calendar
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from orchestrator.cli.common import EXIT_USAGE, Command, err, out
from orchestrator.cli.drills import backtest, demo, replay
from orchestrator.cli.export import export
from orchestrator.cli.oncall import oncall_app
from orchestrator.cli.playbooks import playbooks_app
from orchestrator.cli.service import agent, run, worker
from orchestrator.errors import OrchestratorError

__all__ = ["app", "main"]

app = typer.Typer(
    help="Event-driven incident response orchestrator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def version() -> None:
    """Print the version."""
    from importlib.metadata import version as dist_version

    out.print(dist_version("incident-orchestrator"))


# In the order a newcomer meets them: the demo, drills, playbooks, the service, the rest.
for drill_command in (demo, replay, backtest):
    app.command(cls=Command)(drill_command)
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(oncall_app, name="oncall")
for other_command in (run, agent, worker, export, version):
    app.command(cls=Command)(other_command)


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="orchestrator")
    except OrchestratorError as problem:
        err.print(f"[bold red]error:[/] {escape(str(problem))}")
        sys.exit(EXIT_USAGE)
