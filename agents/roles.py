"""One agent per shipped role, built from its (configurable) table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agents.base import Agent
from agents.legal import LegalAgent
from agents.logistics import LogisticsAgent
from agents.ops import OpsAgent
from agents.pr import PrAgent
from agents.tables import LogisticsTable, PrTemplate, RunbookTable, load_table, shipped


def _ops(table: Path | None) -> Agent:
    return OpsAgent(load_table(RunbookTable, table or shipped("runbooks.yaml")))


def _pr(table: Path | None) -> Agent:
    return PrAgent(load_table(PrTemplate, table or shipped("pr.yaml")))


def _legal(_table: Path | None) -> Agent:
    return LegalAgent()


def _logistics(table: Path | None) -> Agent:
    return LogisticsAgent(load_table(LogisticsTable, table or shipped("logistics.yaml")))


BUILDERS: dict[str, Callable[[Path | None], Agent]] = {
    "ops": _ops,
    "pr": _pr,
    "legal": _legal,
    "logistics": _logistics,
}
ROLES = tuple(BUILDERS)
"""The roles that have an agent."""


def agent_for(role: str, table: Path | None = None) -> Agent:
    """The agent of `role`, with `table` instead of the shipped one if given."""
    if role not in BUILDERS:
        raise KeyError(f"no agent for role {role!r}; agents exist for: {', '.join(ROLES)}")
    return BUILDERS[role](table)
