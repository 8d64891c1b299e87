"""The agents' tables: the shipped defaults load, your own replace them, mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents import ROLES, LogisticsAgent, OpsAgent, agent_for
from agents.tables import LogisticsTable, RunbookTable, TableError, load_table, shipped


def test_every_shipped_role_has_an_agent_with_its_default_table() -> None:
    """ops, pr, legal and logistics each build from what ships."""
    assert ROLES == ("ops", "pr", "legal", "logistics")
    for role in ROLES:
        assert agent_for(role).role == role


def test_own_table_replaces_the_shipped_one(tmp_path: Path) -> None:
    """--table points an agent at your file."""
    path = tmp_path / "suppliers.yaml"
    path.write_text("suppliers:\n  acme: [{name: Own Supply, lead_time_days: 2}]\n")
    agent = agent_for("logistics", path)
    assert isinstance(agent, LogisticsAgent)
    assert agent.table.suppliers["acme"][0].name == "Own Supply"
    assert agent.table.fallback.suppliers == []


def test_shipped_runbooks_cover_every_shipped_playbook() -> None:
    """The default runbook table has links for each shipped playbook's ops work."""
    table = load_table(RunbookTable, shipped("runbooks.yaml"))
    assert {"tech_outage", "data_breach", "customer_service", "sales_drop"} <= set(table.playbooks)
    assert isinstance(agent_for("ops"), OpsAgent)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("suppliers: {acme: [{name: X}]}", "suppliers.acme.0.lead_time_days"),
        ("suppliers: {acme: [{name: X, lead_time_days: -1}]}", "greater than or equal to 0"),
        ("vendors: {}", "vendors"),
        ("suppliers: [", "not valid YAML"),
    ],
)
def test_table_mistakes_name_the_file_and_field(tmp_path: Path, content: str, message: str) -> None:
    """A wrong table is refused with its path and the field at fault."""
    path = tmp_path / "table.yaml"
    path.write_text(content)
    with pytest.raises(TableError) as caught:
        load_table(LogisticsTable, path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_missing_table_and_unknown_role_are_refused(tmp_path: Path) -> None:
    """A table path that does not exist, or a role with no agent, is an error."""
    with pytest.raises(TableError, match="cannot read"):
        agent_for("ops", tmp_path / "nope.yaml")
    with pytest.raises(KeyError, match="agents exist for: ops, pr, legal, logistics"):
        agent_for("customer_service")
