"""`orchestrator playbooks validate | test | schema`: check, exercise and describe playbooks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.common import EXIT_FINDINGS, fail, load_playbooks, out, read_settings

playbooks_app = typer.Typer(help="Validate, test and describe playbooks.", no_args_is_help=True)


@playbooks_app.command("validate")
def playbooks_validate(
    directory: Annotated[Path, typer.Argument(help="Playbook directory.")],
) -> None:
    """Load every playbook in DIR and report every problem with file:line and field."""
    found = load_playbooks(directory, read_settings())
    for pb in found:
        out.print(f"ok  {pb.id} v{pb.version} ({pb.mode}) {pb.source}")


@playbooks_app.command("test")
def playbooks_test(
    directory: Annotated[Path, typer.Argument(help="Playbook directory.")],
    fixtures: Annotated[Path | None, typer.Option(help="Fixture dir (default: DIR/tests).")] = None,
) -> None:
    """Run playbook fixtures (event sequences with expected incidents, tasks, escalations)."""
    from orchestrator.playbook import FixtureError, run_directory

    load_playbooks(directory, read_settings())
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


@playbooks_app.command("schema")
def playbooks_schema(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write into.")] = Path(
        "schemas/json"
    ),
) -> None:
    """Export JSON Schema for the event envelope, the event types, commands and playbooks."""
    from schemas import export_schemas

    for path in export_schemas(out_dir):
        out.print(f"wrote {path}")
