"""What every command shares: the two consoles, exit codes, errors that say what to do, the
`--playbooks` option and its loading, times given as options, and printing a summary."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperArgument, TyperCommand

from orchestrator.engine import EngineConfig, Millis, Playbook, parse_time
from orchestrator.errors import PlaybookError, RostersError
from orchestrator.playbook import RostersFile, load_directory, load_rosters
from orchestrator.settings import Settings

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
PLAIN_WIDTH = 160
"""Columns of the tables when stdout is not a terminal (a file or a pipe)."""

out = Console(highlight=False, width=None if sys.stdout.isatty() else PLAIN_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True)

PlaybooksOpt = Annotated[
    Path | None,
    typer.Option(
        "--playbooks",
        "-p",
        metavar="DIR",
        help="Directory of playbooks (default: the shipped ones).",
    ),
]

RostersOpt = Annotated[
    Path | None,
    typer.Option(
        "--rosters",
        metavar="FILE",
        help="Rosters file: who is on call when (default: ORCH_ROSTERS_FILE; none: roles only).",
    ),
]


class Command(TyperCommand):
    """A command whose usage line names its arguments as `LOG` and `[LOG]` (typer writes a
    required one as `{LOG}`, which reads like a placeholder to fill in)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:  # typer's own (vendored) click Context
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.display_name_raw
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print an error with what to do next, and give the exit to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def read_settings(**options: object) -> Settings:
    """The process's settings: the ORCH_* environment, read once by the command that starts
    the process, with the command's options that were given (not None) on top."""
    given = {name: value for name, value in options.items() if value is not None}
    return Settings().model_copy(update=given)


def load_playbooks(
    directory: Path | None, settings: Settings, given_as: str = "--playbooks DIR"
) -> list[Playbook]:
    """The playbooks of `directory` (default: ORCH_PLAYBOOKS); a usage error if any is refused.

    `given_as` is how the command takes the directory, which the error tells to correct."""
    folder = directory or settings.playbooks
    if not folder.is_dir():
        raise fail(f"{folder} is not a directory of playbooks; give an existing one as {given_as}")
    try:
        return load_directory(folder)
    except PlaybookError as problem:
        raise fail(str(problem)) from None


def load_rosters_file(settings: Settings) -> RostersFile | None:
    """The rosters of ORCH_ROSTERS_FILE (or --rosters), if given; a usage error if refused."""
    if settings.rosters_file is None:
        return None
    try:
        return load_rosters(settings.rosters_file)
    except RostersError as problem:
        raise fail(str(problem)) from None


def engine_config(settings: Settings) -> EngineConfig:
    """The engine's tunables, with the rosters of the settings' rosters file when there is one."""
    loaded = load_rosters_file(settings)
    config = settings.engine_config()
    return config if loaded is None else replace(config, rosters=loaded.rosters)


def option_time(option: str, value: str) -> Millis:
    """The time `value` given to `option`; a usage error naming the option if it is not one."""
    try:
        return parse_time(value)
    except ValueError:
        raise fail(
            f"{option} {value!r} is not an RFC 3339 time with offset, e.g. 2026-11-20T18:00:00Z"
        ) from None


def until_time(value: str | None) -> Millis | None:
    """The `--until` time, if one was given."""
    return None if value is None else option_time("--until", value)


def require_log(log: Path) -> None:
    """A usage error unless `log` is a file."""
    if not log.is_file():
        raise fail(f"{log} is not a file; give the path of a JSON Lines event log")


def print_json(data: object) -> None:
    """`data` as indented JSON on stdout (the contract form: byte-identical for equal data)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_tables(data: dict[str, Any]) -> None:
    """The summary as readable tables: counts, incidents, and each incident's tasks."""
    ev = data["events"]
    out.print(
        f"events: read {ev['read']}, accepted {ev['accepted']}, rejected {ev['rejected']}, "
        f"duplicates {ev['duplicates']}, late {ev['late']}"
    )
    out.print(_incidents_table(data["incidents"]))
    out.print(_tasks_table(data["incidents"]))


def print_summary(data: dict[str, Any], as_json: bool) -> None:
    """The summary as JSON (`--json`) or as tables."""
    if as_json:
        print_json(data)
    else:
        print_tables(data)


def _incidents_table(incidents: list[dict[str, Any]]) -> Table:
    table = Table(title="Incidents", title_justify="left")
    for column in ("playbook", "key", "severity", "status", "phase", "opened", "events", "id"):
        table.add_column(column)
    for inc in incidents:
        table.add_row(
            inc["playbook"],
            inc["key"],
            inc["severity"],
            inc["status"],
            inc["phase"],
            inc["opened_at"],
            str(inc["events"]),
            inc["id"],
        )
    return table


def _tasks_table(incidents: list[dict[str, Any]]) -> Table:
    table = Table(title="Tasks", title_justify="left")
    for column in ("incident", "task", "role", "status", "due", "escalations"):
        table.add_column(column)
    for inc in incidents:
        for task in inc["tasks"]:
            table.add_row(
                f"{inc['playbook']}/{inc['key']}",
                task["name"],
                task["role"],
                task["status"],
                task["due_at"] or "-",
                str(task["escalations"]),
            )
    return table
