"""Role agents: they follow their role's feed and add role-specific help to new tasks.

orchestrator agent pr --api http://127.0.0.1:8080 --token "$PR_AGENT_TOKEN"
"""

from agents.base import Agent, Help, decide
from agents.cli import run_agent
from agents.client import ApiClient, ApiError
from agents.legal import LegalAgent
from agents.logistics import LogisticsAgent
from agents.ops import OpsAgent
from agents.pr import PrAgent
from agents.roles import ROLES, agent_for
from agents.runner import AgentLoop

__all__ = [
    "ROLES",
    "Agent",
    "AgentLoop",
    "ApiClient",
    "ApiError",
    "Help",
    "LegalAgent",
    "LogisticsAgent",
    "OpsAgent",
    "PrAgent",
    "agent_for",
    "decide",
    "run_agent",
]
