"""The post-incident review / drill report: figures derived from a drill over the shipped
playbooks, and the Markdown and HTML renderings of them.

The drill: a data breach opens at 10:00 (high), rises to critical at 10:05; legal acknowledges its
assessment after 10 minutes and completes it after 2 hours; ops never acknowledges `contain`; PR
acknowledges its holding statement 15 minutes late. A checkout outage opens at 11:00, ops and PR
work it, and it resolves at 12:10. The clock then runs to 15:00.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import orchestrator.drills.report as report_package
from orchestrator.drills.report import (
    Report,
    build_report,
    render_html,
    render_markdown,
    write_report,
)
from orchestrator.drills.report.shape import RoleReport, Stats, TaskReport
from orchestrator.engine.clock import HOUR_MS, MINUTE_MS, format_time, parse_time
from orchestrator.playbook import load_directory
from orchestrator.testing import Drill, command, event

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
BREACH_AT = "2026-11-20T10:00:00Z"
OUTAGE_AT = "2026-11-20T11:00:00Z"
END = "2026-11-20T15:00:00Z"
ASSET = "crm-db"
SERVICE = "checkout"
HOSTILE = "<script>alert(1)</script>"


def at(start: str, minutes: float) -> str:
    """`minutes` after `start`."""
    return format_time(parse_time(start) + round(minutes * MINUTE_MS))


def breach(minutes: float, records: int) -> dict[str, Any]:
    """A security alert on the asset, exposing personal data."""
    return event(
        "security.alert",
        at(BREACH_AT, minutes),
        kind="exfiltration",
        asset=ASSET,
        records_exposed=records,
        pii=True,
    )


def alert(minutes: float, status: str, service: str = SERVICE) -> dict[str, Any]:
    """A critical ops alert, `minutes` after the outage starts."""
    return event(
        "ops.alert",
        at(OUTAGE_AT, minutes),
        alertname="HighErrorRate",
        service=service,
        status=status,
        severity="critical",
    )


def act(kind: str, when: str, playbook: str, key: str, task: str, **more: Any) -> dict[str, Any]:
    """A responder command on a task named by playbook, key and task name."""
    return command(kind, when, playbook=playbook, key=key, task=task, **more)


def drill_records() -> list[dict[str, Any]]:
    """The drill's log, in order."""
    db, to = "data_breach", "tech_outage"
    return [
        breach(0, 500),
        breach(5, 25_000),
        act("ack", at(BREACH_AT, 10), db, ASSET, "legal_assessment", actor="lena"),
        alert(0, "firing"),
        act("ack", at(OUTAGE_AT, 2), to, SERVICE, "triage", actor="omar"),
        act("complete", at(OUTAGE_AT, 20), to, SERVICE, "triage", actor="omar"),
        act("ack", at(OUTAGE_AT, 25), to, SERVICE, "status_page", actor="pia"),
        act("ack", at(OUTAGE_AT, 26), to, SERVICE, "mitigate", actor="omar"),
        act("complete", at(OUTAGE_AT, 40), to, SERVICE, "status_page", actor="pia"),
        act("complete", at(OUTAGE_AT, 50), to, SERVICE, "mitigate", actor="omar"),
        act("complete", at(BREACH_AT, 120), db, ASSET, "legal_assessment", actor="lena"),
        alert(70, "resolved"),
        act("ack", at(BREACH_AT, 165), db, ASSET, "holding_statement", actor="pia"),
    ]


def run_drill(*extra: dict[str, Any]) -> Drill:
    """The drill over the shipped playbooks, plus `extra` records, with the clock run to 15:00."""
    return Drill.of(load_directory(PLAYBOOKS)).feed(*drill_records(), *extra).until(END)


@pytest.fixture(scope="module")
def drill() -> Drill:
    """One run of the drill for the tests that only read it."""
    return run_drill()


@pytest.fixture(scope="module")
def report(drill: Drill) -> Report:
    """The report of the drill."""
    return build_report(drill.state, "Drill 2026-11-20", generated_for="test drill")


def role(report: Report, name: str) -> RoleReport:
    """The report's figures for one role."""
    return next(r for r in report.roles if r.role == name)


def task(report: Report, playbook: str, name: str) -> TaskReport:
    """One task's report row."""
    incident = next(i for i in report.incidents if i.playbook == playbook)
    return next(t for t in incident.tasks if t.name == name)


# -- the figures --------------------------------------------------------------------------------


def figures(stats: Stats) -> tuple[int | None, ...]:
    """Mean, p50 and max in milliseconds (None where there is no value)."""
    return tuple(d.ms if d else None for d in (stats.mean, stats.p50, stats.max))


def test_legal_mtta_and_mttr_are_ten_minutes_and_two_hours(report: Report) -> None:
    legal = role(report, "legal")
    assert (legal.tasks, legal.acknowledged, legal.done) == (2, 1, 1)
    assert figures(legal.time_to_ack) == (10 * MINUTE_MS,) * 3
    assert figures(legal.time_to_complete) == (2 * HOUR_MS,) * 3
    assert legal.time_to_ack.mean is not None
    assert legal.time_to_ack.mean.text == "10m"
    assert legal.time_to_complete.mean is not None
    assert legal.time_to_complete.mean.text == "2h"


def test_ops_mtta_is_the_mean_of_its_acked_tasks_and_p50_the_lower_median(report: Report) -> None:
    """Triage acked after 2m and done after 20m, mitigate after 6m and 30m; contain never acked."""
    ops = role(report, "ops")
    assert ops.time_to_ack.count == ops.time_to_complete.count == 2
    assert figures(ops.time_to_ack) == (4 * MINUTE_MS, 2 * MINUTE_MS, 6 * MINUTE_MS)
    assert figures(ops.time_to_complete) == (25 * MINUTE_MS, 20 * MINUTE_MS, 30 * MINUTE_MS)


def test_a_late_ack_counts_in_mtta_and_as_an_ack_breach(report: Report) -> None:
    """PR acked status_page after 5m and the holding statement 45m after assignment (due 30m)."""
    pr = role(report, "pr")
    assert figures(pr.time_to_ack) == (25 * MINUTE_MS, 5 * MINUTE_MS, 45 * MINUTE_MS)
    holding = task(report, "data_breach", "holding_statement")
    assert holding.ack_breached
    assert holding.escalations == 1
    assert not holding.complete_breached
    assert pr.ack_breaches == 1
    note = next(f.note for f in report.follow_ups if f.task == "holding_statement")
    assert note == "acknowledged 15m late, 1 escalation(s); still open"


def test_a_task_never_acked_escalates_and_breaches_both_deadlines(report: Report) -> None:
    """contain: ack due 10:15, ladder 0m then every 15m x3, completion due 14:00."""
    contain = task(report, "data_breach", "contain")
    assert contain.acknowledged_at is None
    assert contain.time_to_ack is None
    assert contain.escalations == 4
    assert contain.escalated_at == [at(BREACH_AT, m) for m in (15, 30, 45, 60)]
    assert contain.ack_breached
    assert contain.complete_breached
    assert contain.left_open
    ops = role(report, "ops")
    assert (ops.escalations, ops.ack_breaches, ops.complete_breaches) == (4, 1, 1)


def test_acks_within_their_deadline_are_not_breaches(report: Report) -> None:
    for playbook, name in [
        ("data_breach", "legal_assessment"),
        ("tech_outage", "triage"),
        ("tech_outage", "mitigate"),
        ("tech_outage", "status_page"),
    ]:
        row = task(report, playbook, name)
        assert (row.ack_breached, row.complete_breached, row.escalations) == (False, False, 0), name


def test_a_task_still_unacked_when_the_report_is_made_breaches_its_ack_deadline(
    report: Report,
) -> None:
    """notify_regulator: assigned 12:00, ack due 13:00, not acked by 15:00."""
    regulator = task(report, "data_breach", "notify_regulator")
    assert regulator.ack_breached
    assert not regulator.complete_breached
    assert role(report, "legal").ack_breaches == 1


def test_severity_changes_and_lifecycle_times(report: Report) -> None:
    breach_incident, outage = report.incidents
    assert breach_incident.initial_severity == "high"
    assert breach_incident.severity == "critical"
    assert [(c.at, c.before, c.after) for c in breach_incident.severity_changes] == [
        (at(BREACH_AT, 5), "high", "critical")
    ]
    assert breach_incident.time_to_resolve is None
    assert outage.resolved_at == at(OUTAGE_AT, 70)
    assert outage.time_to_resolve is not None
    assert (outage.time_to_resolve.ms, outage.time_to_resolve.text) == (70 * MINUTE_MS, "1h10m")


def test_totals_count_what_was_fed_and_opened(drill: Drill, report: Report) -> None:
    totals = report.totals
    assert totals.events_read == len(drill_records())
    assert totals.events_rejected == totals.events_duplicate == 0
    assert totals.by_playbook == {"data_breach": 1, "tech_outage": 1}
    assert totals.by_severity == {"high": 1, "critical": 1}
    assert totals.by_status == {"open": 1, "resolved": 1}


def test_generated_at_is_the_engine_clock(report: Report) -> None:
    assert report.generated_at == END
    assert report.generated_for == "test drill"


def test_follow_ups_list_breaches_reviews_and_open_tasks_with_owner_and_due(
    report: Report,
) -> None:
    got = {(f.kind, f.task, f.role, f.due_at) for f in report.follow_ups}
    review_due = at(OUTAGE_AT, 70 + 5 * 24 * 60)
    assert got == {
        ("ack_missed", "contain", "ops", at(BREACH_AT, 15)),
        ("completion_missed", "contain", "ops", at(BREACH_AT, 240)),
        ("ack_missed", "holding_statement", "pr", at(BREACH_AT, 150)),
        ("ack_missed", "notify_regulator", "legal", at(BREACH_AT, 180)),
        ("review", "post_incident_review", "incident_commander", review_due),
        ("open_task", "verify_recovery", "ops", at(OUTAGE_AT, 50 + 4 * 60)),
        ("open_task", "notify_customers", "pr", None),
        ("open_task", "forensics", "ops", None),
    }
    assert [f.kind for f in report.follow_ups][:4] == ["ack_missed"] * 3 + ["completion_missed"]


def test_cancelled_task_has_no_time_to_complete_and_is_not_left_open() -> None:
    """An outage that resolves before triage is acked cancels triage: not done, not open."""
    run = Drill.of(load_directory(PLAYBOOKS)).feed(alert(0, "firing"), alert(3, "resolved"))
    triage = task(build_report(run.state, "t"), "tech_outage", "triage")
    assert triage.status == "cancelled"
    assert triage.time_to_complete is None
    assert not triage.left_open
    assert not triage.ack_breached


# -- Markdown -----------------------------------------------------------------------------------


def test_markdown_names_every_incident_and_has_the_role_table(report: Report) -> None:
    text = render_markdown(report)
    for incident in report.incidents:
        assert f"## Incident `{incident.id}`" in text
    assert "## Response by role" in text
    assert re.search(r"^\| `legal` \| 2 \| 1 \| 1 \| 1 \| 10m \| 10m \| 10m \| 2h \|", text, re.M)
    assert "## Follow-ups" in text
    assert "**ack deadline missed**" in text


def test_markdown_caps_raw_events_per_incident_and_says_how_many_more() -> None:
    noise = [alert(1 + i, "firing") for i in range(6)]
    run = Drill.of(load_directory(PLAYBOOKS)).feed(alert(0, "firing"), *noise, alert(9, "resolved"))
    outage = run.incident("tech_outage", SERVICE)
    assert outage.events_total == 8
    text = render_markdown(build_report(run.state, "t"), event_rows=2)
    section = text.split(f"## Incident `{outage.id}`")[1]
    assert section.count("| ops.alert event ") == 2
    assert f"... and {outage.events_total - 2} more events not listed here." in section


# -- HTML ---------------------------------------------------------------------------------------


VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"}
SVG_SELF_CLOSING = {"rect", "line", "path", "circle"}


class Checker(HTMLParser):
    """Parses a page, checking that every element closes in order, and records what it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.bars: list[dict[str, str | None]] = []
        self.svgs = 0
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        found = dict(attrs)
        if tag == "g" and found.get("class") == "task-bar":
            self.bars.append(found)
        self.svgs += tag == "svg"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag not in SVG_SELF_CLOSING | VOID:
            self.errors.append(f"unexpected self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


def parse(page: str) -> Checker:
    """The page parsed by the stdlib parser, with its nesting checked."""
    checker = Checker()
    checker.feed(page)
    checker.close()
    return checker


def test_html_is_well_formed_with_one_bar_per_assigned_task(drill: Drill, report: Report) -> None:
    checker = parse(render_html(report))
    assert checker.errors == []
    assert checker.stack == []
    assert checker.svgs >= len(report.incidents)
    assigned = [(t.name, t.role) for i in drill.incidents() for t in i.tasks if t.assigned_at]
    assert sorted((b["data-task"], b["data-role"]) for b in checker.bars) == sorted(assigned)


def test_html_is_self_contained(report: Report) -> None:
    page = render_html(report)
    tags = parse(page).tags
    assert not tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert "<style>" in page
    assert set(re.findall(r"https?://[^\"' ]+", page)) == {"http://www.w3.org/2000/svg"}


def test_html_chart_has_labelled_hour_ticks_for_the_breach(report: Report) -> None:
    page = render_html(report)
    section = page.split(f'id="{report.incidents[0].id}"')[1]
    breach_section = section.split('<svg class="chart"')[1].split("</svg>")[0]
    labels = re.findall(r'<text class="tick" [^>]*>([^<]+)</text>', breach_section)
    assert labels == ["10:00", "11:00", "12:00", "13:00", "14:00", "15:00"]
    assert breach_section.count('class="escalation"') == sum(
        t.escalations for t in report.incidents[0].tasks
    )


def test_html_and_markdown_escape_hostile_text() -> None:
    note = '<img src=x onerror="alert(2)">'
    run = run_drill(
        alert(120, "firing", service=HOSTILE),
        act("complete", at(OUTAGE_AT, 130), "tech_outage", HOSTILE, "triage", note=note),
    )
    report = build_report(run.state, f"Drill {HOSTILE}")
    page = render_html(report)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert parse(page).errors == []
    text = render_markdown(report)
    assert "<img" not in text
    outside_code = re.sub(r"`[^`]*`", "", text)
    assert "<script" not in outside_code


# -- determinism, files, public face ------------------------------------------------------------


def test_two_builds_of_the_same_state_are_identical(drill: Drill) -> None:
    first, second = build_report(drill.state, "x"), build_report(drill.state, "x")
    assert first == second
    assert render_markdown(first) == render_markdown(second)
    assert render_html(first) == render_html(second)


def test_two_runs_of_the_same_log_give_the_same_report() -> None:
    records = drill_records()
    a, b = (
        build_report(Drill.of(load_directory(PLAYBOOKS)).feed(*records).until(END).state, "x")
        for _ in range(2)
    )
    assert render_html(a) == render_html(b)
    assert render_markdown(a) == render_markdown(b)


def test_write_report_picks_the_format_by_suffix(drill: Drill, tmp_path: Path) -> None:
    md = write_report(drill.state, tmp_path / "review.md", "Review")
    page = write_report(drill.state, tmp_path / "review.html", "Review")
    assert md.read_text(encoding="utf-8").startswith("# Review\n")
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match=r"\*\.md"):
        write_report(drill.state, tmp_path / "review.pdf", "Review")


def test_report_package_exports_exactly_its_public_names() -> None:
    assert set(report_package.__all__) == {
        "Report",
        "build_report",
        "render_html",
        "render_markdown",
        "with_pages",
        "write_report",
    }
