"""Over a real socket: X-Forwarded-For is believed only from ORCH_TRUSTED_PROXIES, so a client
cannot buy itself fresh intake budgets by making up addresses."""

from __future__ import annotations

import httpx
import pytest
from apikit import START, responders

from orchestrator.api import create_app
from orchestrator.api.ratelimit import Budget, IntakeBudget
from orchestrator.auth import AuthConfig
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.settings import Settings
from orchestrator.testing import event
from orchestrator.testing.servers import serve_app

LIMIT = "2/minute"
SENDS = 3


def _statuses(url: str) -> list[int]:
    """Three open-intake events, each claiming another client address."""
    statuses = []
    for n in range(SENDS):
        body = event(
            "ops.alert", START, alertname="A", service=f"p{n}", status="firing", severity="critical"
        )
        headers = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
        statuses.append(
            httpx.post(f"{url}/events", json=body, headers=headers, timeout=10).status_code
        )
    return statuses


@pytest.mark.parametrize(
    ("proxies", "expected"),
    [("", [202, 202, 429]), ("127.0.0.1", [202, 202, 202]), ("10.0.0.0/8", [202, 202, 429])],
)
def test_forwarded_for_counts_only_from_trusted_proxies(
    runtime: EmbeddedRuntime, proxies: str, expected: list[int]
) -> None:
    """By default (and from a proxy not listed) all three share the socket peer's bucket; from
    a listed proxy each forwarded address is a client of its own."""
    budget = IntakeBudget(Budget.of(LIMIT, "records"))
    app = create_app(runtime, AuthConfig(responders()), intake_budget=budget)
    with serve_app(app, Settings(trusted_proxies=proxies)) as url:
        assert _statuses(url) == expected


def test_trusted_proxies_must_be_addresses() -> None:
    """A malformed entry fails at start, naming the variable."""
    with pytest.raises(ValueError, match="ORCH_TRUSTED_PROXIES"):
        Settings(trusted_proxies="10.0.0.1,proxy.example")


def test_trusted_proxies_parse_commas() -> None:
    """Comma-separated addresses and networks, blanks ignored; none by default."""
    assert Settings(trusted_proxies=" 10.0.0.7, 10.1.0.0/16 ,").proxies() == [
        "10.0.0.7",
        "10.1.0.0/16",
    ]
    assert Settings().proxies() == []
