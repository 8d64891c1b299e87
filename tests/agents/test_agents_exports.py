"""The agents package's public face is pinned: changing it is a deliberate act."""

from __future__ import annotations

import agents


def test_agents_exports() -> None:
    """agents exports the four role agents, the loop, the client and the pure decision, and
    run_agent (what `orchestrator agent` starts)."""
    assert sorted(agents.__all__) == sorted(
        [
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
    )
    for name in agents.__all__:
        assert getattr(agents, name) is not None
