"""The agents' pure logic: task event + incident -> help text (no HTTP)."""

from __future__ import annotations

from agentkit import START, assigned, breach, delay, drill, hours_after, outage, stock_out

from agents import LegalAgent, LogisticsAgent, OpsAgent, PrAgent, decide
from agents.tables import (
    LogisticsTable,
    PrTemplate,
    RunbookTable,
    Supplier,
    load_table,
    shipped,
)
from orchestrator.testing import command, event
from schemas.incidents import IncidentStatus
from schemas.tasks import TaskStatus

RUNBOOKS = load_table(RunbookTable, shipped("runbooks.yaml"))
LOGISTICS = load_table(LogisticsTable, shipped("logistics.yaml"))
PR = load_table(PrTemplate, shipped("pr.yaml"))


def test_decide_helps_only_new_open_tasks_of_its_role() -> None:
    """Only task.assigned for the agent's role, while the task is open, gets help."""
    run = drill(outage())
    event, incident = assigned(run, "ops", "triage")
    ops = OpsAgent(RUNBOOKS)
    helped = decide(ops, event, incident)
    assert helped is not None
    assert (helped.task_id, helped.complete) == (event.task.id, False)
    assert decide(PrAgent(PR), event, incident) is None
    escalated = event.model_copy(update={"kind": "task.escalated"})
    assert decide(ops, escalated, incident) is None


def test_decide_skips_tasks_finished_since_the_event() -> None:
    """A task done by the time the agent sees its (old) event gets no help."""
    run = drill(outage())
    event, _ = assigned(run, "ops", "triage")
    run.feed(command("complete", START, actor="alice", task_id=event.task.id))
    _, incident = assigned(run, "ops", "triage")
    assert incident.tasks[0].status == TaskStatus.DONE
    assert decide(OpsAgent(RUNBOOKS), event, incident) is None


def test_decide_skips_closed_incidents_and_completes_automatic_tasks() -> None:
    """Closed incidents get nothing; an `automatic` task is to be completed by the agent."""
    run = drill(outage())
    event, incident = assigned(run, "ops", "triage")
    automatic = incident.model_copy(deep=True)
    automatic.tasks[0].automatic = True
    helped = decide(OpsAgent(RUNBOOKS), event, automatic)
    assert helped is not None
    assert helped.complete
    closed = incident.model_copy(update={"status": IncidentStatus.CLOSED})
    assert decide(OpsAgent(RUNBOOKS), event, closed) is None


def test_ops_attaches_alert_context_and_runbooks_in_order() -> None:
    """Severity, what still fires, recent events; runbooks by key, then playbook, then default."""
    run = drill(outage(), outage(at=hours_after(START, 0.1)))
    event, incident = assigned(run, "ops", "triage")
    text = OpsAgent(RUNBOOKS).advise(event, incident)
    assert "tech_outage for checkout: severity high, open" in text
    assert "still firing: CheckoutDown" in text
    assert "events so far: 2 (ops.alert x2)" in text
    assert text.count("ops.alert prometheus/") == 2
    links = [line for line in text.splitlines() if line.startswith("- ") and "https://" in line]
    assert links[0].endswith("/services/checkout")
    assert links[1].endswith("/outage/triage")
    assert links[-1].endswith("/incident-response")


def test_ops_without_matching_runbooks_lists_none() -> None:
    """An empty table gives context only, no runbook section."""
    event, incident = assigned(drill(outage("search-api")), "ops", "triage")
    text = OpsAgent(RunbookTable()).advise(event, incident)
    assert "Runbooks:" not in text
    assert "tech_outage for search-api" in text


def test_pr_drafts_a_holding_statement_from_the_incident() -> None:
    """The statement names the situation, when it began, and the next update by severity."""
    run = drill(breach())
    assessment = f"{run.incidents()[0].id}.legal_assessment"
    run.feed(command("complete", START, actor="lee", task_id=assessment))
    event, incident = assigned(run, "pr", "holding_statement")
    text = PrAgent(PR).advise(event, incident)
    assert text.startswith("DRAFT holding statement")
    assert "a security incident involving crm-db since 2026-11-20T10:00:00Z" in text
    assert "next update by 2026-11-20T10:30:00Z" in text.replace("\n", " ")
    assert "severity critical" in text


def test_pr_template_is_configurable() -> None:
    """A custom template and situation phrase are filled; unknown placeholders stay as written."""
    run = drill(
        event("social.mention", START, platform="x", reach=200_000, sentiment=-0.8, topic="refunds")
    )
    task_event, incident = assigned(run, "pr", "public_response")
    template = PrTemplate(
        template="[$severity] $situation, since $since. $unknown",
        situations={"customer_service": "trouble with $key"},
    )
    text = PrAgent(template).advise(task_event, incident)
    assert text == "[medium] trouble with refunds, since 2026-11-20T10:00:00Z. $unknown"


def test_legal_states_the_72_hour_clock_and_contents() -> None:
    """Deadline = opening + 72h, time left as of the event, and the four required contents."""
    event, incident = assigned(drill(breach()), "legal", "legal_assessment")
    text = LegalAgent().advise(event, incident)
    assert "notify by: 2026-11-23T10:00:00Z (3d left as of 2026-11-20T10:00:00Z)" in text
    for item in (
        "nature of the breach",
        "data protection officer",
        "likely consequences",
        "measures taken or proposed",
    ):
        assert item in text
    assert "crm-db" in text


def test_legal_says_overdue_past_the_deadline() -> None:
    """Seen after the deadline, the clock says how overdue the notice is."""
    event, incident = assigned(drill(breach()), "legal", "legal_assessment")
    late = event.model_copy(update={"time": hours_after(START, 80)})
    assert "OVERDUE by 8h as of" in LegalAgent().advise(late, incident)


def test_logistics_proposes_listed_suppliers_fastest_first() -> None:
    """A late supplier with alternatives in the table: those, sorted by lead time."""
    event, incident = assigned(drill(delay("acme-parts")), "logistics", "assess_impact")
    text = LogisticsAgent(LOGISTICS).advise(event, incident)
    lines = text.splitlines()
    assert lines[0] == "Alternative suppliers for acme-parts (fastest first):"
    assert lines[1].startswith("- Globex Components: lead time 4 days, EU")
    assert lines[2].startswith("- Initech Supply: lead time 7 days")


def test_logistics_falls_back_and_handles_stock_outs() -> None:
    """Unknown supplier: the fallback list; a stock-out: warehouses for the SKU."""
    event, incident = assigned(drill(delay("nobody-inc")), "logistics", "assess_impact")
    assert "No alternatives listed for supplier nobody-inc" in LogisticsAgent(LOGISTICS).advise(
        event, incident
    )
    event, incident = assigned(drill(stock_out("SKU-1001")), "logistics", "assess_impact")
    text = LogisticsAgent(LOGISTICS).advise(event, incident)
    assert text.splitlines()[1].startswith("- Rotterdam DC: transfer in 2 days")


def test_logistics_with_an_empty_table_says_what_to_configure() -> None:
    """No alternatives at all: the comment says to add them to the table."""
    table = LogisticsTable(suppliers={"other": [Supplier(name="x", lead_time_days=1)]})
    event, incident = assigned(drill(delay("acme-parts")), "logistics", "assess_impact")
    assert "none configured; add them" in LogisticsAgent(table).advise(event, incident)
