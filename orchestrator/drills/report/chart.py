"""The timeline chart of one incident as inline SVG: one swimlane row per assigned task.

Each row shows the task's bar on an event-time axis: assigned -> acknowledged (waiting, light),
acknowledged -> finished (working, dark), still-open work running to the right edge (dashed),
escalations as triangles and missed deadlines as red marks. The first row is the incident
itself: open until resolved, then resolved until closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from orchestrator.drills.report.shape import IncidentReport, TaskReport
from orchestrator.engine import DAY_MS, HOUR_MS, MINUTE_MS, Millis, parse_time

WIDTH = 1100
LABEL_WIDTH = 230
RIGHT_PAD = 44
AXIS_HEIGHT = 34
ROW_HEIGHT = 28
BAR_HEIGHT = 14
BOTTOM_PAD = 8
MAX_TICKS = 8
LABEL_CHARS = 30
TAIL_SHARE = 0.08
"""Room after the last activity, as a share of the incident's span, so late bars stay visible."""
TICK_STEPS: tuple[Millis, ...] = (
    MINUTE_MS,
    2 * MINUTE_MS,
    5 * MINUTE_MS,
    10 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    HOUR_MS,
    2 * HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    2 * DAY_MS,
    7 * DAY_MS,
    14 * DAY_MS,
    28 * DAY_MS,
)
"""Tick spacings to choose from: the smallest that gives at most MAX_TICKS ticks."""

CSS_CLASSES = {
    "waiting": "seg-wait",
    "working": "seg-work",
    "cancelled": "seg-cancel",
    "failed": "seg-fail",
}


@dataclass(frozen=True)
class Axis:
    """Maps event time onto the plot's x range."""

    start: Millis
    end: Millis

    def x(self, at: Millis) -> float:
        """The x coordinate of time `at` (clamped to the plot)."""
        share = (min(max(at, self.start), self.end) - self.start) / (self.end - self.start)
        return round(LABEL_WIDTH + share * (WIDTH - LABEL_WIDTH - RIGHT_PAD), 1)


def _ms(time: str | None) -> Millis | None:
    return parse_time(time) if time is not None else None


def _breach_times(task: TaskReport) -> list[tuple[Millis, str]]:
    marks: list[tuple[Millis, str]] = []
    if task.ack_breached and task.ack_due_at is not None:
        marks.append((parse_time(task.ack_due_at), f"ack deadline missed {task.ack_due_at}"))
    if task.complete_breached and task.complete_due_at is not None:
        due = task.complete_due_at
        marks.append((parse_time(due), f"completion deadline missed {due}"))
    return marks


def axis_for(incident: IncidentReport, now: Millis) -> Axis:
    """From the incident's opening to a little after its last activity (never past `now`),
    and far enough to show every missed deadline."""
    start = parse_time(incident.opened_at)
    last = parse_time(incident.last_activity_at)
    tail = max(round((last - start) * TAIL_SHARE), MINUTE_MS)
    end = max(last, min(now, last + tail))
    for task in incident.tasks:
        end = max([end, *(at for at, _ in _breach_times(task))])
    return Axis(start, max(end, start + MINUTE_MS))


def tick_step(span: Millis) -> Millis:
    """The tick spacing for a span of `span` milliseconds."""
    for step in TICK_STEPS:
        if span / step <= MAX_TICKS:
            return step
    return -(-span // MAX_TICKS // DAY_MS) * DAY_MS


def tick_label(at: Millis, step: Millis, multi_day: bool) -> str:
    """'10:30', or '11-20 10:30' when the axis spans several days, or '11-20' for day steps."""
    moment = datetime.fromtimestamp(at / 1000, tz=UTC)
    if step >= DAY_MS:
        return moment.strftime("%m-%d")
    return moment.strftime("%m-%d %H:%M" if multi_day else "%H:%M")


def ticks(axis: Axis, height: int) -> list[str]:
    """Grid lines down the chart, labelled along its top."""
    step = tick_step(axis.end - axis.start)
    first = -(-axis.start // step) * step
    multi_day = axis.start // DAY_MS != axis.end // DAY_MS
    day = datetime.fromtimestamp(axis.start / 1000, tz=UTC).strftime("%Y-%m-%d UTC")
    out = [f'<text class="tick day" x="8" y="{AXIS_HEIGHT - 12}">{day}</text>']
    for at in range(first, axis.end + 1, step):
        x = axis.x(at)
        out.append(f'<line class="grid" x1="{x}" x2="{x}" y1="{AXIS_HEIGHT - 6}" y2="{height}"/>')
        label = tick_label(at, step, multi_day)
        out.append(f'<text class="tick" x="{x}" y="{AXIS_HEIGHT - 12}">{label}</text>')
    return out


def _rect(axis: Axis, y: float, start: Millis, end: Millis, css: str, open_end: bool) -> str:
    x1, x2 = axis.x(start), axis.x(end)
    width = max(x2 - x1, 2.0)
    cls = css + (" open-end" if open_end else "")
    return (
        f'<rect class="{cls}" x="{x1}" y="{y}" width="{round(width, 1)}" '
        f'height="{BAR_HEIGHT}" rx="3"/>'
    )


def _css(task: TaskReport, segment: str) -> str:
    if task.status in {"cancelled", "failed"}:
        return CSS_CLASSES[task.status]
    return CSS_CLASSES[segment]


def _open_arrow(axis: Axis, y: float) -> str:
    x, mid = axis.x(axis.end), y + BAR_HEIGHT / 2
    return f'<path class="open-arrow" d="M{x},{mid - 6} L{x + 8},{mid} L{x},{mid + 6} Z"/>'


def task_segments(task: TaskReport, axis: Axis, y: float) -> list[str]:
    """The bar of one task: waiting for ack, then working; open work runs to the edge."""
    assigned = _ms(task.assigned_at)
    if assigned is None:
        return []
    acked, finished = _ms(task.acknowledged_at), _ms(task.finished_at)
    end = finished if finished is not None else axis.end
    is_open = finished is None
    if acked is None:
        return [_rect(axis, y, assigned, end, _css(task, "waiting"), is_open)] + (
            [_open_arrow(axis, y)] if is_open else []
        )
    parts = [_rect(axis, y, assigned, acked, CSS_CLASSES["waiting"], False)]
    if end > acked:
        parts.append(_rect(axis, y, acked, end, _css(task, "working"), is_open))
    return parts + ([_open_arrow(axis, y)] if is_open else [])


def markers(task: TaskReport, axis: Axis, y: float) -> list[str]:
    """Escalations (triangles above the bar) and missed deadlines (red marks across it)."""
    out: list[str] = []
    for number, when in enumerate(task.escalated_at, start=1):
        x = axis.x(parse_time(when))
        tip = escape(f"escalation #{number} at {when}")
        out.append(
            f'<path class="escalation" d="M{x - 5},{y - 8} L{x + 5},{y - 8} L{x},{y - 1} Z">'
            f"<title>{tip}</title></path>"
        )
    for at, what in _breach_times(task):
        x = axis.x(at)
        out.append(
            f'<g class="breach"><title>{escape(what)}</title>'
            f'<line x1="{x}" x2="{x}" y1="{y - 4}" y2="{y + BAR_HEIGHT + 4}"/>'
            f'<circle cx="{x}" cy="{y + BAR_HEIGHT + 5}" r="3"/></g>'
        )
    return out


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "\u2026"


def _tooltip(task: TaskReport) -> str:
    ack = task.time_to_ack.text if task.time_to_ack else "-"
    done = task.time_to_complete.text if task.time_to_complete else "-"
    return (
        f"{task.name} ({task.role}): {task.status}; assigned {task.assigned_at}; "
        f"time to ack {ack}; time to complete {done}; escalations {task.escalations}"
    )


def lane(label: str, role: str, index: int) -> str:
    """The background and label of swimlane `index` (0 is the incident's own row)."""
    top = AXIS_HEIGHT + index * ROW_HEIGHT
    css = "lane head" if index == 0 else "lane alt" if index % 2 else "lane"
    strong = " strong" if index == 0 else ""
    return (
        f'<rect class="{css}" x="0" y="{top}" width="{WIDTH}" height="{ROW_HEIGHT}"/>'
        f'<text class="label{strong}" x="8" y="{top + ROW_HEIGHT / 2 + 4}">'
        f'{escape(_short(label))}<tspan class="role"> {escape(role)}</tspan></text>'
    )


def _bar_y(index: int) -> float:
    return AXIS_HEIGHT + index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2


def task_row(task: TaskReport, axis: Axis, index: int) -> str:
    """One task's bar and markers in swimlane `index`, with a tooltip."""
    y = _bar_y(index)
    body = "".join(task_segments(task, axis, y) + markers(task, axis, y))
    return (
        f'<g class="task-bar" data-task="{escape(task.name)}" data-role="{escape(task.role)}">'
        f"<title>{escape(_tooltip(task))}</title>{body}</g>"
    )


def incident_row(incident: IncidentReport, axis: Axis) -> str:
    """The incident's own span: open until resolved, resolved until closed."""
    y = _bar_y(0)
    opened = parse_time(incident.opened_at)
    resolved, closed = _ms(incident.resolved_at), _ms(incident.closed_at)
    parts = [_rect(axis, y, opened, resolved or axis.end, "inc-open", resolved is None)]
    if resolved is not None:
        parts.append(_rect(axis, y, resolved, closed or axis.end, "inc-resolved", closed is None))
    for change in incident.severity_changes:
        x, mid = axis.x(parse_time(change.at)), y + BAR_HEIGHT / 2
        what = escape(f"severity {change.before} to {change.after} at {change.at}")
        parts.append(
            f'<path class="sev-change" d="M{x},{mid - 7} L{x + 6},{mid} L{x},{mid + 7} '
            f'L{x - 6},{mid} Z"><title>{what}</title></path>'
            f'<text class="sev-label" x="{x + 8}" y="{mid + 4}">{escape(change.after)}</text>'
        )
    tip = escape(
        f"incident {incident.id}: opened {incident.opened_at}, resolved "
        f"{incident.resolved_at or '-'}, closed {incident.closed_at or '-'}"
    )
    return f'<g class="incident-span"><title>{tip}</title>{"".join(parts)}</g>'


def render_chart(incident: IncidentReport, now: str) -> str:
    """The incident's timeline chart as one `<svg>` element, drawn as of `now`."""
    axis = axis_for(incident, parse_time(now))
    assigned = [t for t in incident.tasks if t.assigned_at is not None]
    height = AXIS_HEIGHT + (len(assigned) + 1) * ROW_HEIGHT + BOTTOM_PAD
    lanes = [lane("incident", incident.status, 0)]
    lanes += [lane(t.name, t.role, i) for i, t in enumerate(assigned, start=1)]
    bars = [incident_row(incident, axis)]
    bars += [task_row(t, axis, i) for i, t in enumerate(assigned, start=1)]
    label = escape(f"Timeline of incident {incident.id}")
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{label}" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet">'
        f"{''.join(lanes)}{''.join(ticks(axis, height))}{''.join(bars)}</svg>"
    )
