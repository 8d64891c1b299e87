"""`orchestrator playbooks validate | test | schema`: check, exercise and describe playbooks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.common import EXIT_FINDINGS, Command, fail, load_playbooks, out, read_settings

DIRECTORY_ARGUMENT = "the DIR argument (the folder of your playbook files)"

playbooks_app = typer.Typer(help="Validate, test and describe playbooks.", no_args_is_help=True)


@playbooks_app.command("validate", cls=Command)
def playbooks_validate(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Playbook directory.")],
) -> None:
    """Check every playbook in DIR.

    Reports every problem of every file in one run, as file:line: field: message, sorted by
    line."""
    found = load_playbooks(directory, read_settings(), DIRECTORY_ARGUMENT)
    for pb in found:
        out.print(f"ok  {pb.id} v{pb.version} ({pb.mode}) {pb.source}")


@playbooks_app.command("test", cls=Command)
def playbooks_test(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Playbook directory.")],
    fixtures: Annotated[
        Path | None, typer.Option(metavar="DIR", help="Fixture dir (default: DIR/tests).")
    ] = None,
) -> None:
    """Run the playbooks' fixtures.

    Each fixture is an event sequence with the incidents, tasks and escalations it expects
    (the format: docs/playbooks.md)."""
    from orchestrator.playbook import FixtureError, run_directory

    load_playbooks(directory, read_settings(), DIRECTORY_ARGUMENT)
    try:
        results = run_directory(directory, fixtures or directory / "tests")
    except FixtureError as problem:
        raise fail(str(problem)) from None
    failed = [r for r in results if not r.passed]
    for r in results:
        mark = "[green]pass[/]" if r.passed else "[red]FAIL[/]"
        out.print(f"{mark} {r.name}")
        for message in getattr(r, "messages", []):
            out.print(f"     {message}")
    out.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(EXIT_FINDINGS)


@playbooks_app.command("schema", cls=Command)
def playbooks_schema(
    out_dir: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Directory to write into.")
    ] = Path("schemas/json"),
) -> None:
    """Export the JSON Schemas.

    The event envelope, the event types, commands and the playbook format."""
    from schemas import export_schemas

    for path in export_schemas(out_dir):
        out.print(f"wrote {path}")
