"""The report as GitHub-flavoured Markdown: summary, roles, follow-ups, then each incident."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from orchestrator.drills.report.columns import (
    ACK_HEADER,
    PAGE_HEADER,
    ROLE_HEADER,
    breaches,
    role_cells,
)
from orchestrator.drills.report.shape import Duration, FollowUp, IncidentReport, Report, TaskReport
from orchestrator.drills.report.timeline import EVENT_ROWS, FOLLOW_UP_LABELS, visible

NONE = "-"
_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def text(value: object) -> str:
    """Free text made inert in Markdown: no markup, no raw HTML, no table breaks."""
    if value is None:
        return NONE
    plain = " ".join(str(value).split())
    plain = plain.replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", plain)


def code(value: object) -> str:
    """An identifier as a code span (pipes escaped so it can sit in a table)."""
    if value is None:
        return NONE
    plain = " ".join(str(value).split())
    fence = "`" * (max((len(r) for r in re.findall("`+", plain)), default=0) + 1)
    pad = " " if plain.startswith("`") or plain.endswith("`") else ""
    return fence + pad + plain.replace("|", "\\|") + pad + fence


def dur(value: Duration | None) -> str:
    """A duration as people read it, or '-'."""
    return value.text if value is not None else NONE


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table; cells must already be escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{text(k)} {v}" for k, v in counts.items()) or NONE


def summary(report: Report) -> list[str]:
    """The run totals."""
    t = report.totals
    rows = [
        ["Events read", str(t.events_read)],
        [
            "Accepted / rejected / duplicates / late",
            f"{t.events_accepted} / {t.events_rejected} / {t.events_duplicate} / {t.events_late}",
        ],
        ["Commands (rejected)", f"{t.commands} ({t.commands_rejected})"],
        ["Incidents", str(t.incidents)],
        ["By playbook", _counts(t.by_playbook)],
        ["By severity", _counts(t.by_severity)],
        ["By status", _counts(t.by_status)],
    ]
    return ["## Summary", "", *table(["Measure", "Value"], rows)]


def overview(report: Report) -> list[str]:
    """One row per incident."""
    header = [
        "Incident",
        "Playbook",
        "Key",
        "Severity",
        "Status",
        "Opened",
        "Time to resolve",
        "Tasks open",
        "Breaches",
    ]
    rows = [
        [
            code(i.id),
            code(i.playbook),
            code(i.key),
            i.severity,
            i.status,
            i.opened_at,
            dur(i.time_to_resolve),
            str(sum(t.left_open for t in i.tasks)),
            str(breaches(i)),
        ]
        for i in report.incidents
    ]
    return ["## Incidents", "", *table(header, rows)] if rows else ["## Incidents", "", "None.", ""]


def roles(report: Report) -> list[str]:
    """MTTA and MTTR per role."""
    header = ROLE_HEADER
    note = (
        "Time to acknowledge (TTA) runs from assignment to acknowledgement; time to complete "
        "(TTC) from assignment to done. MTTA/MTTR are means; p50 is the lower median."
    )
    return [
        "## Response by role",
        "",
        note,
        "",
        *table(header, (role_cells(r, code, dur) for r in report.roles)),
    ]


def _follow_up_row(f: FollowUp) -> list[str]:
    return [
        f"**{FOLLOW_UP_LABELS[f.kind]}**",
        code(f.task),
        text(f.title),
        code(f.role),
        f.due_at or NONE,
        f.status,
        code(f.incident_id),
        text(f.note),
    ]


def follow_ups(report: Report) -> list[str]:
    """Breaches, reviews and open tasks, each with an owner role and a due time."""
    if not report.follow_ups:
        return ["## Follow-ups", "", "None.", ""]
    header = ["Kind", "Task", "What", "Owner", "Due", "Status", "Incident", "Note"]
    return ["## Follow-ups", "", *table(header, map(_follow_up_row, report.follow_ups))]


def _severity(incident: IncidentReport) -> str:
    steps = [f"{c.after} at {c.at}" for c in incident.severity_changes]
    history = f" (opened {incident.initial_severity}; rose to {', '.join(steps)})" if steps else ""
    return incident.severity + history


def _facts(i: IncidentReport) -> list[str]:
    return [
        f"- Playbook {code(i.playbook)} v{text(i.playbook_version)}, key {code(i.key)}, "
        f"trigger {code(i.trigger)}, mode {i.mode}",
        f"- Severity: {_severity(i)}",
        f"- Status: {i.status} (phase {i.phase}); opened {i.opened_at}, resolved "
        f"{i.resolved_at or NONE}, closed {i.closed_at or NONE}",
        f"- Time to resolve: {dur(i.time_to_resolve)}; time to close: {dur(i.time_to_close)}; "
        f"events: {i.events_total}",
        "",
    ]


def _deadline(due: str | None, breached: bool) -> str:
    if due is None:
        return NONE
    return f"**missed** {due}" if breached else due


def _task_row(t: TaskReport) -> list[str]:
    who = f" ({text(t.acknowledged_by)})" if t.acknowledged_by else ""
    return [
        code(t.name),
        code(t.role),
        t.status + (" (open)" if t.left_open else ""),
        t.assigned_at or NONE,
        (t.acknowledged_at or NONE) + who,
        t.finished_at or NONE,
        dur(t.time_to_ack),
        dur(t.time_to_complete),
        str(t.escalations),
        _deadline(t.ack_due_at, t.ack_breached),
        _deadline(t.complete_due_at, t.complete_breached),
    ]


def tasks(incident: IncidentReport) -> list[str]:
    """The incident's task table."""
    header = [
        "Task",
        "Role",
        "Status",
        "Assigned",
        "Acknowledged",
        "Finished",
        "TTA",
        "TTC",
        "Escalations",
        "Ack due",
        "Complete due",
    ]
    return ["### Tasks", "", *table(header, map(_task_row, incident.tasks))]


def timeline(incident: IncidentReport, event_rows: int = EVENT_ROWS) -> list[str]:
    """The incident's timeline, with raw events capped at `event_rows`."""
    shown, hidden = visible(incident.timeline, event_rows)
    rows = [[e.at, text(e.text), text(e.actor)] for e in shown]
    lines = ["### Timeline", "", *table(["Time", "What", "By"], rows)]
    more = hidden + incident.events_unlisted
    if more:
        lines += [f"... and {more} more events not listed here.", ""]
    return lines


def pages(report: Report) -> list[str]:
    """Who was paged (with rosters), and time to acknowledge from the page."""
    if not report.pages:
        return []
    rows = [
        [
            p.at,
            code(p.task_id),
            p.kind + (f" #{p.escalation}" if p.escalation else ""),
            code(p.role),
            text(p.responders),
            text(p.via),
            text(p.acknowledged_by),
            dur(p.time_to_ack),
        ]
        for p in report.pages
    ]
    lines = ["## Pages", "", *table(PAGE_HEADER, rows)]
    for title, figures in (("responder", report.acks_by_responder), ("role", report.acks_by_role)):
        cells = [
            [text(f.who), str(f.pages), str(f.acknowledged), dur(f.mean_time_to_ack)]
            for f in figures
        ]
        lines += [f"### Time to acknowledge from the page, by {title}", ""]
        lines += table([title.capitalize(), *ACK_HEADER], cells)
    return lines


def incident_section(incident: IncidentReport, event_rows: int = EVENT_ROWS) -> list[str]:
    """Everything about one incident."""
    heading = f"## Incident {code(incident.id)}: {code(incident.playbook)} / {code(incident.key)}"
    return [heading, "", *_facts(incident), *tasks(incident), *timeline(incident, event_rows)]


def render_markdown(report: Report, event_rows: int = EVENT_ROWS) -> str:
    """The whole report as Markdown text."""
    by = f" for {text(report.generated_for)}" if report.generated_for else ""
    lines = [
        f"# {text(report.title)}",
        "",
        f"_Generated at {report.generated_at} (event time){by}._",
        "",
    ]
    lines += [*summary(report), *overview(report), *roles(report), *follow_ups(report)]
    lines += pages(report)
    for incident in report.incidents:
        lines += incident_section(incident, event_rows)
    return "\n".join(lines).rstrip() + "\n"
