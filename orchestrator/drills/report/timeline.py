"""Timeline entries in words: one sentence per entry, the same in every rendering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

from schemas import TimelineEntry

EVENT_KIND = "event"
"""Timeline kind of a raw event that opened or joined the incident."""


class TimelineItem(BaseModel):
    """One timeline entry as the report shows it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: str
    kind: str
    actor: str | None
    ref: str | None
    task: str | None
    role: str | None
    text: str


def _task_text(entry: TimelineEntry) -> str:
    verb = entry.kind.removeprefix("task.")
    task, role = entry.detail.get("task"), entry.detail.get("role")
    if verb == "assigned":
        text = f"{task} assigned to {role}"
    elif verb == "attached":
        text = f"{task} attached for {role}"
    elif verb == "escalated":
        text = f"{task} escalated to {role} (#{entry.detail.get('escalation', 1)})"
    elif verb == "overdue":
        text = f"{task} is overdue"
    else:
        text = f"{task} {verb}"
    if entry.detail.get("notified"):
        text += f", paging {entry.detail['notified']} ({entry.detail.get('notified_via')})"
    if entry.detail.get("note"):
        text += f": {entry.detail['note']}"
    return text


def _opened(d: dict[str, Any]) -> str:
    return f"incident opened by trigger {d.get('trigger')} at severity {d.get('severity')}"


def _rejected(d: dict[str, Any]) -> str:
    return f"command {d.get('command')} rejected: {d.get('reason')}"


_INCIDENT_TEXT: dict[str, Callable[[dict[str, Any]], str]] = {
    "incident.opened": _opened,
    "incident.severity_changed": lambda d: f"severity {d.get('before')} \u2192 {d.get('after')}",
    "incident.phase_changed": lambda d: f"phase \u2192 {d.get('phase')}",
    "incident.resolved": lambda d: f"incident resolved: {d.get('reason')}",
    "incident.closed": lambda d: f"incident closed: {d.get('reason')}",
    "command.rejected": _rejected,
}


def _generic(entry: TimelineEntry) -> str:
    details = ", ".join(f"{k}={v}" for k, v in sorted(entry.detail.items()))
    return f"{entry.kind} {details}".strip()


def text_of(entry: TimelineEntry) -> str:
    """What the entry says, in one line."""
    if entry.kind.startswith("task."):
        return _task_text(entry)
    if entry.kind == EVENT_KIND:
        return f"{entry.detail.get('type')} event {entry.ref or ''}".strip()
    describe_incident = _INCIDENT_TEXT.get(entry.kind)
    return describe_incident(entry.detail) if describe_incident else _generic(entry)


def describe(entry: TimelineEntry) -> TimelineItem:
    """The report form of one timeline entry."""
    task, role = entry.detail.get("task"), entry.detail.get("role")
    return TimelineItem(
        at=entry.at,
        kind=entry.kind,
        actor=entry.actor,
        ref=entry.ref,
        task=str(task) if task is not None else None,
        role=str(role) if role is not None else None,
        text=text_of(entry),
    )


EVENT_ROWS = 10
"""Raw `event` entries listed per incident; the rest are counted, so the timeline stays readable."""

FOLLOW_UP_LABELS = {
    "ack_missed": "ack deadline missed",
    "completion_missed": "completion deadline missed",
    "review": "review",
    "open_task": "left open",
}
"""How each follow-up kind is named in a rendered report."""


def visible(
    items: list[TimelineItem], event_rows: int = EVENT_ROWS
) -> tuple[list[TimelineItem], int]:
    """Every non-event entry and the first `event_rows` events; and how many events are left out."""
    shown: list[TimelineItem] = []
    events = 0
    for item in items:
        if item.kind == EVENT_KIND:
            events += 1
            if events > event_rows:
                continue
        shown.append(item)
    return shown, max(0, events - event_rows)
