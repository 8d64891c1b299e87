"""What the Markdown and HTML reports both show, once: the role table's columns and cells."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.drills.report.shape import Duration, IncidentReport, RoleReport

ROLE_HEADER = (
    "Role",
    "Tasks",
    "Acked",
    "Done",
    "Open",
    "MTTA",
    "TTA p50",
    "TTA max",
    "MTTR",
    "TTC p50",
    "TTC max",
    "Escalations",
    "Ack missed",
    "Completion missed",
)
"""Columns of the per-role table (MTTA/MTTR and their spread, escalations, missed deadlines)."""


def role_cells(
    r: RoleReport, role: Callable[[str], str], dur: Callable[[Duration | None], str]
) -> list[str]:
    """One role's row; `role` and `dur` render the name and durations for the format."""
    a, c = r.time_to_ack, r.time_to_complete
    return [
        role(r.role),
        str(r.tasks),
        str(r.acknowledged),
        str(r.done),
        str(r.left_open),
        dur(a.mean),
        dur(a.p50),
        dur(a.max),
        dur(c.mean),
        dur(c.p50),
        dur(c.max),
        str(r.escalations),
        str(r.ack_breaches),
        str(r.complete_breaches),
    ]


def breaches(incident: IncidentReport) -> int:
    """Missed deadlines (ack and completion) of an incident's tasks."""
    return sum(t.ack_breached + t.complete_breached for t in incident.tasks)


PAGE_HEADER = ("Time", "Task", "Page", "Role", "Paged", "Why", "Acknowledged by", "TTA from page")
"""Columns of the pages table (who was paged, why, and the time to acknowledge from it)."""
ACK_HEADER = ("Pages", "Acknowledged", "Mean TTA")
"""Columns after the responder or role in those tables."""
