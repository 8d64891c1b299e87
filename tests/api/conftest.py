"""The agent API in-process: a real embedded runtime, real playbooks, one responder per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from apikit import START, Api, auth_config, runtime_at
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def runtime(tmp_path: Path, clock: ManualClock) -> Iterator[EmbeddedRuntime]:
    opened = runtime_at(tmp_path, clock)
    yield opened
    opened.close()


@pytest.fixture
def api(runtime: EmbeddedRuntime, clock: ManualClock) -> Iterator[Api]:
    with TestClient(create_app(runtime, auth_config())) as client:
        yield Api(client, runtime, clock)


@pytest.fixture
def open_api(runtime: EmbeddedRuntime, clock: ManualClock) -> Iterator[Api]:
    """The app with no responders configured."""
    with TestClient(create_app(runtime)) as client:
        yield Api(client, runtime, clock)
