"""The report as one self-contained HTML page: inline CSS and SVG, no scripts, fonts or links.

Every piece of text that comes from events, playbooks or responders goes through `html.escape`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape

from orchestrator.drills.report.chart import render_chart
from orchestrator.drills.report.columns import (
    ACK_HEADER,
    PAGE_HEADER,
    ROLE_HEADER,
    breaches,
    role_cells,
)
from orchestrator.drills.report.shape import Duration, FollowUp, IncidentReport, Report, TaskReport
from orchestrator.drills.report.style import STYLE
from orchestrator.drills.report.timeline import EVENT_ROWS, FOLLOW_UP_LABELS, visible
from orchestrator.engine import parse_time

NONE = "&ndash;"


LEGEND = (
    ("rect", "seg-wait", "assigned, waiting for ack"),
    ("rect", "seg-work", "acknowledged, working"),
    ("rect", "seg-cancel", "cancelled"),
    ("rect", "seg-fail", "failed"),
    ("rect", "seg-wait open-end", "still open"),
    ("rect", "inc-open", "incident open"),
    ("rect", "inc-resolved", "incident resolved"),
    ("tri", "escalation", "escalation"),
    ("line", "breach", "deadline missed"),
    ("diamond", "sev-change", "severity rose"),
)


def e(value: object) -> str:
    """Text from the outside world, escaped; '-' for nothing."""
    return NONE if value is None else escape(str(value))


def dur(value: Duration | None) -> str:
    """A duration as people read it, with the exact milliseconds as a tooltip."""
    if value is None:
        return NONE
    return f'<span title="{value.ms} ms">{escape(value.text)}</span>'


def badge(text: str, css: str) -> str:
    """A coloured pill."""
    return f'<span class="badge {escape(css)}">{escape(text)}</span>'


def table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    """A table from already-escaped cells; columns in `numeric` are right-aligned."""
    head = "".join(
        f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>"
        for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>" + "".join(_cell(c, i in numeric) for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _cell(content: str, numeric: bool) -> str:
    return f'<td class="num">{content}</td>' if numeric else f"<td>{content}</td>"


def time(value: str | None) -> str:
    """An event-time timestamp shown short ('2026-11-20 10:15'), exact in `datetime`."""
    if value is None:
        return NONE
    moment = datetime.fromtimestamp(parse_time(value) / 1000, tz=UTC)
    short = moment.strftime("%Y-%m-%d %H:%M" if moment.second == 0 else "%Y-%m-%d %H:%M:%S")
    return f'<time class="mono" datetime="{e(value)}" title="{e(value)}">{short}</time>'


def cards(report: Report) -> str:
    """The run at a glance."""
    t = report.totals
    breaches = sum(r.ack_breaches + r.complete_breaches for r in report.roles)
    items = [
        ("events read", t.events_read, False),
        ("accepted", t.events_accepted, False),
        ("rejected", t.events_rejected, t.events_rejected > 0),
        ("duplicates", t.events_duplicate, False),
        ("late", t.events_late, False),
        ("incidents", t.incidents, False),
        ("escalations", sum(r.escalations for r in report.roles), False),
        ("deadlines missed", breaches, breaches > 0),
        ("follow-ups", len(report.follow_ups), False),
    ]
    body = "".join(
        f'<div class="card{" bad" if bad else ""}"><b>{n}</b><span>{label}</span></div>'
        for label, n, bad in items
    )
    return f'<div class="cards">{body}</div>'


def _counts(counts: dict[str, int], css: str = "") -> str:
    return " ".join(badge(f"{k} {v}", f"{css}{k}" if css else "") for k, v in counts.items())


def summary(report: Report) -> str:
    """Run totals: cards, then the breakdown of incidents."""
    t = report.totals
    rows = [
        [
            "Commands applied / rejected",
            f"{t.commands - t.commands_rejected} / {t.commands_rejected}",
        ],
        ["Incidents by playbook", _counts(t.by_playbook) or NONE],
        ["Incidents by severity", _counts(t.by_severity, "sev-") or NONE],
        ["Incidents by status", _counts(t.by_status, "st-") or NONE],
    ]
    breakdown = table(["Measure", "Value"], rows, set()).replace(
        "<table>", '<table class="narrow">', 1
    )
    return f"<h2>Summary</h2>{cards(report)}{breakdown}"


def overview(report: Report) -> str:
    """One row per incident, linking to its section."""
    header = [
        "Incident",
        "Playbook",
        "Key",
        "Severity",
        "Status",
        "Opened",
        "Time to resolve",
        "Tasks open",
        "Deadlines missed",
    ]
    rows = [
        [
            f'<a href="#{e(i.id)}"><code>{e(i.id)}</code></a>',
            e(i.playbook),
            e(i.key),
            badge(i.severity, f"sev-{i.severity}"),
            badge(i.status, f"st-{i.status}"),
            time(i.opened_at),
            dur(i.time_to_resolve),
            str(sum(t.left_open for t in i.tasks)),
            str(breaches(i)),
        ]
        for i in report.incidents
    ]
    return "<h2>Incidents</h2>" + (table(header, rows, {7, 8}) if rows else "<p>None.</p>")


def roles(report: Report) -> str:
    """MTTA and MTTR per role."""
    header = ROLE_HEADER
    note = (
        '<p class="meta">Time to acknowledge (TTA): assignment to acknowledgement. Time to '
        "complete (TTC): assignment to done. MTTA / MTTR are means; p50 is the lower median.</p>"
    )
    rows = (role_cells(r, lambda name: f"<b>{e(name)}</b>", dur) for r in report.roles)
    return f"<h2>Response by role</h2>{note}{table(header, rows, set(range(1, 14)))}"


def _follow_up_row(f: FollowUp) -> list[str]:
    return [
        badge(FOLLOW_UP_LABELS[f.kind], f"fu-{f.kind}"),
        f"<code>{e(f.task)}</code>",
        f"{e(f.title)}<br><small>{e(f.note)}</small>",
        f"<b>{e(f.role)}</b>",
        time(f.due_at),
        e(f.status),
        f'<a href="#{e(f.incident_id)}"><code>{e(f.incident_id)}</code></a>',
    ]


def follow_ups(report: Report) -> str:
    """Breaches, reviews and open tasks, each with an owner role and a due time."""
    header = ["Kind", "Task", "What", "Owner", "Due", "Status", "Incident"]
    if not report.follow_ups:
        return "<h2>Follow-ups</h2><p>None.</p>"
    return f"<h2>Follow-ups</h2>{table(header, map(_follow_up_row, report.follow_ups), set())}"


def _severity(i: IncidentReport) -> str:
    text = badge(i.severity, f"sev-{i.severity}")
    if i.severity_changes:
        steps = ", ".join(
            f"{e(c.before)} &rarr; {e(c.after)} at {time(c.at)}" for c in i.severity_changes
        )
        text += f" <small>(opened {e(i.initial_severity)}; {steps})</small>"
    return text


def facts(i: IncidentReport) -> str:
    """The incident's identity and lifecycle as a definition grid."""
    pairs = [
        ("Playbook", f"{e(i.playbook)} v{e(i.playbook_version)}"),
        ("Key", f"<code>{e(i.key)}</code>"),
        ("Trigger", e(i.trigger)),
        ("Mode", e(i.mode)),
        ("Severity", _severity(i)),
        ("Status", f"{badge(i.status, f'st-{i.status}')} phase {e(i.phase)}"),
        ("Opened", time(i.opened_at)),
        ("Resolved", time(i.resolved_at)),
        ("Closed", time(i.closed_at)),
        ("Time to resolve", dur(i.time_to_resolve)),
        ("Time to close", dur(i.time_to_close)),
        ("Events", str(i.events_total)),
    ]
    body = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in pairs)
    return f'<dl class="facts">{body}</dl>'


def _deadline(due: str | None, missed: bool) -> str:
    if due is None:
        return NONE
    return f'<span class="miss" title="missed">{time(due)} &#9888;</span>' if missed else time(due)


def _task_row(t: TaskReport) -> list[str]:
    status = e(t.status) + (" <small>(open)</small>" if t.left_open else "")
    by = f"<br><small>by {e(t.acknowledged_by)}</small>" if t.acknowledged_by else ""
    task = f"<code>{e(t.name)}</code> <b>{e(t.role)}</b><br><small>{e(t.title)}</small>"
    return [
        task,
        status,
        time(t.assigned_at),
        time(t.acknowledged_at) + by,
        time(t.finished_at),
        dur(t.time_to_ack),
        dur(t.time_to_complete),
        str(t.escalations),
        _deadline(t.ack_due_at, t.ack_breached),
        _deadline(t.complete_due_at, t.complete_breached),
    ]


def tasks(incident: IncidentReport) -> str:
    """The incident's task table."""
    header = [
        "Task and role",
        "Status",
        "Assigned",
        "Acknowledged",
        "Finished",
        "TTA",
        "TTC",
        "Esc.",
        "Ack due",
        "Complete due",
    ]
    return f"<h3>Tasks</h3>{table(header, map(_task_row, incident.tasks), {5, 6, 7})}"


def timeline(incident: IncidentReport, event_rows: int) -> str:
    """The incident's timeline, with raw events capped at `event_rows`."""
    shown, hidden = visible(incident.timeline, event_rows)
    rows = [[time(i.at), e(i.kind), e(i.text), e(i.actor)] for i in shown]
    more = hidden + incident.events_unlisted
    tail = f'<p class="more">&hellip; and {more} more events not listed here.</p>' if more else ""
    return f"<h3>Timeline</h3>{table(['Time', 'Kind', 'What', 'By'], rows, set())}{tail}"


def legend() -> str:
    """What the chart's shapes and colours mean."""
    shapes = {
        "rect": '<rect class="{}" x="1" y="3" width="24" height="10" rx="2"/>',
        "tri": '<path class="{}" d="M8,3 L18,3 L13,12 Z"/>',
        "line": '<g class="{}"><line x1="13" x2="13" y1="1" y2="15"/></g>',
        "diamond": '<path class="{}" d="M13,2 L18,8 L13,14 L8,8 Z"/>',
    }
    items = "".join(
        f'<span><svg width="26" height="16" viewBox="0 0 26 16">{shapes[kind].format(css)}</svg>'
        f"{label}</span>"
        for kind, css, label in LEGEND
    )
    return f'<div class="legend">{items}</div>'


def incident_section(incident: IncidentReport, now: str, event_rows: int = EVENT_ROWS) -> str:
    """Everything about one incident as of `now`: facts, chart, tasks, timeline."""
    title = f"{e(incident.playbook)} / {e(incident.key)}"
    return (
        f'<section class="incident" id="{e(incident.id)}"><h2>{title} '
        f"<small><code>{e(incident.id)}</code></small></h2>{facts(incident)}"
        f"<h3>Timeline chart</h3>{legend()}{render_chart(incident, now)}"
        f"{tasks(incident)}{timeline(incident, event_rows)}</section>"
    )


def pages(report: Report) -> str:
    """Who was paged (with rosters), and time to acknowledge from the page."""
    if not report.pages:
        return ""
    rows = [
        [
            e(p.at),
            f"<code>{e(p.task_id)}</code>",
            e(p.kind) + (f" #{p.escalation}" if p.escalation else ""),
            e(p.role),
            e(p.responders),
            e(p.via),
            e(p.acknowledged_by),
            dur(p.time_to_ack),
        ]
        for p in report.pages
    ]
    html = f"<h2>Pages</h2>{table(PAGE_HEADER, rows, {7})}"
    for title, figures in (("responder", report.acks_by_responder), ("role", report.acks_by_role)):
        cells = [
            [e(f.who), str(f.pages), str(f.acknowledged), dur(f.mean_time_to_ack)] for f in figures
        ]
        html += f"<h3>Time to acknowledge from the page, by {title}</h3>"
        html += table([title.capitalize(), *ACK_HEADER], cells, {1, 2, 3})
    return html


def render_html(report: Report, event_rows: int = EVENT_ROWS) -> str:
    """The whole report as one self-contained HTML page."""
    by = f" for {e(report.generated_for)}" if report.generated_for else ""
    sections = "".join(
        incident_section(i, report.generated_at, event_rows) for i in report.incidents
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(report.title)}</title><style>{STYLE}</style></head><body><main>"
        f'<h1>{e(report.title)}</h1><p class="meta">Generated at {e(report.generated_at)} '
        f"(event time){by}.</p>{summary(report)}{overview(report)}{roles(report)}"
        f"{follow_ups(report)}{pages(report)}{sections}<footer>All times are event time (UTC). "
        "Generated by the incident orchestrator from recorded engine state.</footer>"
        "</main></body></html>\n"
    )
