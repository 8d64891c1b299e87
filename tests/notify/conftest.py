"""Notification tests: a real embedded runtime on a manual clock with rosters, the dispatcher
over it with real channels (receivers of their own in each test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from notifykit import BASE_URL, LINK_SECRET, START, WEBHOOK_SECRET, Build, open_runtime

from orchestrator.notify import (
    Chat,
    DeliveryStore,
    Dispatcher,
    Email,
    LinkSigner,
    Policy,
    SmtpServer,
    Webhook,
)
from orchestrator.playbook import load_rosters_text
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def build(tmp_path: Path, clock: ManualClock) -> Iterator[Build]:
    """build(rosters_text, policy=..., smtp=...) -> (runtime, dispatcher); closed at the end."""
    opened: list[Callable[[], None]] = []

    def make(
        text: str, policy: Policy | None = None, smtp: SmtpServer | None = None
    ) -> tuple[EmbeddedRuntime, Dispatcher]:
        rosters = load_rosters_text(text, "rosters.yaml")
        runtime = open_runtime(tmp_path / "db", clock, rosters)
        store = DeliveryStore(tmp_path / "db" / "notify.db")
        client = httpx.Client(timeout=5)
        channels = {"webhook": Webhook(client, WEBHOOK_SECRET), "chat": Chat(client)}
        if smtp is not None:
            channels["email"] = Email(smtp)
        dispatcher = Dispatcher(
            runtime,
            store,
            rosters.contacts,
            channels,
            LinkSigner(LINK_SECRET, 3600),
            BASE_URL,
            clock.now,
            policy or Policy(attempts=3, backoff=1000, backoff_max=4000),
        )
        opened.extend([runtime.close, store.close, client.close])
        return runtime, dispatcher

    yield make
    for close in reversed(opened):
        close()
