"""`orchestrator oncall who | export`: who is on call for a role, and a role's calendar."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from orchestrator.cli.common import (
    Command,
    RostersOpt,
    err,
    fail,
    load_rosters_file,
    option_time,
    out,
    read_settings,
)
from orchestrator.engine import DAY_MS, Millis, Rosters, format_time
from orchestrator.notify import on_call_calendar
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from orchestrator.notify import Notifications
    from orchestrator.runtime.embedded import EmbeddedRuntime

oncall_app = typer.Typer(help="Who is on call for a role, and when.", no_args_is_help=True)
RoleArg = Annotated[str, typer.Argument(metavar="ROLE", help="A role, e.g. ops.")]


def _rosters(path: Path | None) -> Rosters:
    loaded = load_rosters_file(read_settings(rosters_file=path))
    if loaded is None:
        raise fail("no rosters file: give --rosters FILE or set ORCH_ROSTERS_FILE")
    return loaded.rosters


def _time(option: str, value: str | None) -> Millis:
    return option_time(option, value) if value is not None else round(time.time() * 1000)


@oncall_app.command("who", cls=Command)
def who(
    role: RoleArg,
    at: Annotated[str | None, typer.Option(metavar="TIME", help="When (default: now).")] = None,
    rosters: RostersOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Who is on call for ROLE at a time, and why (override, layer, fallback)."""
    moment = _time("--at", at)
    answer = _rosters(rosters).on_call(role, moment)
    if as_json:
        data = {
            "role": role,
            "at": format_time(moment),
            "responders": list(answer.responders),
            "via": answer.via,
            "source": answer.source,
        }
        sys.stdout.write(json.dumps(data) + "\n")
        return
    names = ", ".join(answer.responders) or "nobody"
    out.print(f"{role} at {format_time(moment)}: {names} ({answer.via} {answer.source})".strip())


@oncall_app.command("export", cls=Command)
def export(
    role: RoleArg,
    ics: Annotated[bool, typer.Option("--ics", help="As an iCalendar (.ics) feed.")] = False,
    start: Annotated[
        str | None, typer.Option("--from", metavar="TIME", help="From (default: now).")
    ] = None,
    days: Annotated[int, typer.Option(metavar="N", min=1, max=366, help="Days to cover.")] = 28,
    output: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write here (default: stdout).")
    ] = None,
    rosters: RostersOpt = None,
) -> None:
    """ROLE's on-call calendar from --from for --days days."""
    if not ics:
        raise fail("give --ics: the calendar is exported as iCalendar")
    begin = _time("--from", start)
    feed = on_call_calendar(_rosters(rosters), role, begin, begin + days * DAY_MS)
    if output is None:
        sys.stdout.buffer.write(feed)
    else:
        output.write_bytes(feed)


def drill_notifications(
    runtime: EmbeddedRuntime, settings: Settings, folder: Path, notify: bool
) -> Notifications | None:
    """A live drill's notifications (with rosters): recorded in the drill's namespace, never
    sent, unless the operator opts in with --notify (a game day)."""
    from orchestrator.notify import start_notifications

    rosters = load_rosters_file(settings)
    if rosters is None:
        return None
    scoped = settings.model_copy(update={"data_dir": folder})
    return start_notifications(runtime, scoped, rosters, runtime.now, record_only=not notify)


def print_recorded(notifications: Notifications | None) -> None:
    """The pages a drill recorded instead of sending: who, when, on what."""
    if notifications is None or not notifications.dispatcher.policy.record_only:
        return
    notifications.dispatcher.step()  # what the last moments of the drill queued
    recorded = notifications.dispatcher.store.all("recorded")
    err.print(f"pages recorded, not sent (drill): {len(recorded)}")
    for page in recorded:
        event = page.event
        err.print(
            f"  {event['time']} {page.responder} ({page.address}): {event['kind']} "
            f"{page.task_id} for {event['role']}",
            markup=False,
        )
