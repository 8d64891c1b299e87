"""Property-based: schemathesis drives the app through the committed OpenAPI document.

Every generated request must get a documented status, content type and body, and never a
server error. Runs in-process through the ASGI app, on a runtime seeded with an incident per
role; generated ids are sometimes swapped for real ones so commands reach the engine.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from apikit import INGEST_TOKEN, START, Api, auth_config, runtime_at, token_of
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from orchestrator.api import create_app
from orchestrator.api.tasks import ROLE_PATTERN
from orchestrator.testing import ManualClock

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"
EXAMPLES = 40
MAX_ID_CHARS = 200
"""The shorter of the documented id limits (incident ids 200, task ids 300)."""
KNOWN: dict[str, list[str]] = {"task_id": [], "incident_id": [], "role": []}
"""Real ids of the seeded runtime, by path parameter name (filled by the fixture)."""

CONFIG = SchemathesisConfig.from_dict(
    {
        "auth": {
            "openapi": {
                "responder": {"bearer": token_of("incident_commander")},
                "ingest": {"bearer": INGEST_TOKEN},
            }
        },
        # A schema-valid request may still be refused on its meaning: an unknown event type
        # (dead-lettered) or an Idempotency-Key reused for another request answer 422.
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
            }
        },
        # Query parameters the API does not know are ignored, as HTTP APIs commonly do and
        # OpenAPI allows; do not count them as invalid input that must be refused.
        "generation": {"allow-extra-parameters": False},
    }
)
schema = schemathesis.openapi.from_path(COMMITTED, config=CONFIG)


def _valid(name: str, value: str) -> bool:
    if name == "role":
        return re.fullmatch(ROLE_PATTERN.strip("^$"), value) is not None
    return 1 <= len(value) <= MAX_ID_CHARS


@schema.hook
def map_path_parameters(
    _context: Any, path_parameters: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Swap about half the valid generated ids for real ones (deterministically, by checksum).

    Invalid values (negative cases) are left alone, so they stay invalid.
    """
    for name, known in KNOWN.items():
        value = (path_parameters or {}).get(name)
        if isinstance(value, str) and known and _valid(name, value):
            pick = zlib.crc32(value.encode("utf-8", "replace"))
            if pick % 2 == 0 and path_parameters is not None:
                path_parameters[name] = known[pick // 2 % len(known)]
    return path_parameters


@pytest.fixture(scope="module")
def seeded_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """An app over a runtime with one incident per shipped role's task."""
    runtime = runtime_at(tmp_path_factory.mktemp("schemathesis"), ManualClock(START))
    app = create_app(runtime, auth_config())
    with TestClient(app) as client:
        api = Api(client, runtime, ManualClock(START))
        for role in ("ops", "legal", "logistics", "pr", "incident_commander"):
            api.fresh_task(role)
    KNOWN["task_id"] = [t.id for t in runtime.tasks()]
    KNOWN["incident_id"] = [i.id for i in runtime.incidents()]
    KNOWN["role"] = list(runtime.roles())
    yield app
    runtime.close()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_the_committed_openapi(
    case: schemathesis.Case, seeded_app: FastAPI
) -> None:
    """No 5xx; statuses, content types, headers and bodies conform to docs/openapi.json."""
    case.operation.app = case.operation.schema.app = seeded_app  # in-process, probes included
    if case.path == "/roles/{role}/feed":
        case.query = {**(case.query or {}), "follow": "false"}  # a live feed never ends
    case.call_and_validate()
