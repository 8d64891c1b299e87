"""`orchestrator agent ROLE`: build the role's agent and run its loop until interrupted."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from agents.client import ApiClient, ApiError
from agents.roles import ROLES, agent_for
from agents.runner import AgentLoop
from agents.tables import TableError
from orchestrator.logs import configure_logging

EXIT_OK, EXIT_USAGE = 0, 2


def run_agent(role: str, api: str, token: str, table: Path | None, err: Console) -> int:
    """Run the agent of `role` against the API at `api`; returns the process exit code."""
    if role not in ROLES:
        err.print(
            f"[bold red]error:[/] no agent for role {role!r}; choose one of {', '.join(ROLES)}"
        )
        return EXIT_USAGE
    if not token:
        err.print(
            "[bold red]error:[/] give the agent's responder token with --token or ORCH_AGENT_TOKEN"
        )
        return EXIT_USAGE
    try:
        agent = agent_for(role, table)
    except TableError as problem:
        err.print(f"[bold red]error:[/] {problem}")
        return EXIT_USAGE
    configure_logging()
    client = ApiClient.connect(api, token)
    try:
        AgentLoop(agent, client).run()
    except ApiError as problem:
        err.print(f"[bold red]error:[/] {problem}; check the token and the responder's roles")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        client.close()
    return EXIT_OK
