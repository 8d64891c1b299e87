"""Who was (or in a drill, would have been) paged: every assignment and escalation addressed to
on-call responders by the rosters, read back from the incidents' timelines, with the time from
each page to the acknowledgement, per responder and per role."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from orchestrator.drills.report.shape import AckFigure, Duration, Page
from orchestrator.engine import EngineState, contract, ordered, parse_time
from schemas import Incident, Task

PAGED = frozenset({"task.assigned", "task.escalated"})


def _tta(task: Task | None, at: str) -> Duration | None:
    if task is None or task.acknowledged_at is None:
        return None
    span = parse_time(task.acknowledged_at) - parse_time(at)
    return Duration.of(span) if span >= 0 else None


def pages_of(incidents: Iterable[Incident]) -> list[Page]:
    """Every page on the incidents' timelines, in incident order then time."""
    found = []
    for incident in incidents:
        tasks = {t.id: t for t in incident.tasks}
        for entry in incident.timeline:
            if entry.kind not in PAGED or "notified" not in entry.detail:
                continue
            task = tasks.get(entry.ref or "")
            found.append(
                Page(
                    at=entry.at,
                    incident_id=incident.id,
                    task_id=entry.ref or "",
                    kind=entry.kind.removeprefix("task."),
                    escalation=int(entry.detail.get("escalation", 0)),
                    role=str(entry.detail.get("role")),
                    responders=str(entry.detail["notified"]),
                    via=str(entry.detail.get("notified_via", "")),
                    acknowledged_by=task.acknowledged_by if task else None,
                    time_to_ack=_tta(task, entry.at),
                )
            )
    return found


def ack_figures(pages: Iterable[Page]) -> tuple[list[AckFigure], list[AckFigure]]:
    """Per responder and per role: pages, how many were acknowledged (by anyone), and the mean
    time from the page to the ack."""
    by_person: dict[str, list[Page]] = defaultdict(list)
    by_role: dict[str, list[Page]] = defaultdict(list)
    for page in pages:
        for person in page.responders.split(", "):
            by_person[person].append(page)
        by_role[page.role].append(page)
    return _figures(by_person), _figures(by_role)


def _figures(groups: dict[str, list[Page]]) -> list[AckFigure]:
    rows = []
    for who in sorted(groups):
        spans = [p.time_to_ack.ms for p in groups[who] if p.time_to_ack is not None]
        mean = Duration.of(round(sum(spans) / len(spans))) if spans else None
        rows.append(
            AckFigure(
                who=who, pages=len(groups[who]), acknowledged=len(spans), mean_time_to_ack=mean
            )
        )
    return rows


def with_pages(summary: dict[str, Any], state: EngineState) -> dict[str, Any]:
    """The run's summary with `pages`: who was paged, when, why, and the time to ack."""
    listed = pages_of(ordered(contract(i) for i in state.incidents.values()))
    return {**summary, "pages": [page.model_dump(mode="json") for page in listed]}
