"""Agents against the API in-process: the test client is the agents' HTTP client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from agentkit import AGENTS, PLAYBOOKS, START, agent_token
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.auth import AuthConfig, Responder, hash_token
from orchestrator.engine.step import Engine
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock


@pytest.fixture
def playbooks_dir() -> Path:
    """The playbooks the runtime loads (override to test other playbooks)."""
    return PLAYBOOKS


@pytest.fixture
def runtime(tmp_path: Path, playbooks_dir: Path) -> Iterator[EmbeddedRuntime]:
    opened = EmbeddedRuntime.open(
        Engine(load_directory(playbooks_dir)),
        tmp_path / "db",
        clock=ManualClock(START).now,
        synchronous="normal",
    )
    yield opened
    opened.close()


@pytest.fixture
def app_client(runtime: EmbeddedRuntime) -> Iterator[TestClient]:
    """The app with one responder per agent; set the Authorization header per test."""
    auth = AuthConfig(
        tuple(
            Responder(name, frozenset(roles), hash_token(agent_token(name)))
            for name, roles in AGENTS.items()
        )
    )
    with TestClient(create_app(runtime, auth)) as client:
        yield client
