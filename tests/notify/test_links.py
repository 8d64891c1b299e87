"""The link in a notification acknowledges that task as that responder, without a token, once:
a second use, an expired link, an altered one and one moved to another task are refused; no
token and no link reaches a log."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import structlog
from fastapi.testclient import TestClient
from notifykit import LINK_SECRET, Build, page_ops, rosters_text
from receivers import http_receiver

from orchestrator.api import create_app
from orchestrator.auth import AuthConfig, Responder, hash_token
from orchestrator.notify import AckLinks, LinkSigner
from orchestrator.runtime.embedded import EmbeddedRuntime

PEOPLE = AuthConfig(
    (
        Responder("dana", frozenset({"ops"}), hash_token("dana-token-0123456789")),
        Responder("alex", frozenset({"incident_commander"}), hash_token("alex-token-012345678")),
    )
)


def _paged(
    build: Build, services: tuple[str, ...] = ("checkout",)
) -> tuple[EmbeddedRuntime, AckLinks, dict[str, str]]:
    """Page ops for each service; the acknowledgement link each page carried, by task id."""
    with http_receiver() as receiver:
        runtime, dispatcher = build(rosters_text(webhook=receiver.url))
        for service in services:
            page_ops(runtime, service)
        dispatcher.step()
    links = {}
    for posted in receiver.posted:
        body = json.loads(posted.body)["data"]
        links[body["task"]["id"]] = body["links"]["acknowledge"]
    return runtime, AckLinks(dispatcher.signer, dispatcher.store), links


def _path(link: str) -> tuple[str, str]:
    parts = urlsplit(link)
    return parts.path, parse_qs(parts.query)["token"][0]


@pytest.fixture
def logs() -> Iterator[list[dict[str, object]]]:
    with structlog.testing.capture_logs() as captured:
        yield captured


def test_link_acknowledges_once_as_its_responder(
    build: Build, logs: list[dict[str, object]]
) -> None:
    """GET shows a button and changes nothing; POST acknowledges as dana; a second POST is 410;
    neither the token nor the link is in any log line."""
    runtime, links, sent = _paged(build)
    ((task_id, link),) = sent.items()
    path, token = _path(link)
    with TestClient(create_app(runtime, PEOPLE, links=links)) as client:
        page = client.get(path, params={"token": token})
        assert page.status_code == 200
        assert "Acknowledge as dana" in page.text
        assert runtime.task(task_id).status == "assigned"  # type: ignore[union-attr]
        first = client.post(path, params={"token": token})
        second = client.post(path, params={"token": token})
    assert first.status_code == 202, first.text
    task = runtime.task(task_id)
    assert task is not None
    assert (task.status, task.acknowledged_by) == ("acknowledged", "dana")
    assert second.status_code == 410
    assert "used already" in second.json()["detail"]
    assert logs
    assert token not in repr(logs)
    assert link not in repr(logs)


def test_an_altered_link_and_a_link_for_another_task_are_refused(build: Build) -> None:
    """One character changed: 403 (bad signature); checkout's token on search's task: 403; the
    tasks stay unacknowledged."""
    runtime, links, sent = _paged(build, ("checkout", "search"))
    (first, first_link), (second, _) = sorted(sent.items())
    path, token = _path(first_link)
    altered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    with TestClient(create_app(runtime, PEOPLE, links=links)) as client:
        bad = client.post(path, params={"token": altered})
        moved = client.post(path.replace(first, second), params={"token": token})
    assert (bad.status_code, moved.status_code) == (403, 403)
    assert "not a valid" in bad.json()["detail"]
    assert "another task" in moved.json()["detail"]
    assert {runtime.task(t).status for t in (first, second)} == {"assigned"}  # type: ignore[union-attr]


def test_an_expired_link_is_refused(build: Build, tmp_path: Path) -> None:
    """A link with a one-second lifetime, used two seconds later: 410, the task unchanged."""
    runtime, links, sent = _paged(build)
    ((task_id, _),) = sent.items()
    short = AckLinks(LinkSigner(LINK_SECRET, 1), links.store)
    token = short.signer.token(task_id, "dana", "nonce-expiry")
    time.sleep(2.1)  # itsdangerous dates tokens in whole seconds of the wall clock
    with TestClient(create_app(runtime, PEOPLE, links=short)) as client:
        answer = client.post(f"/links/tasks/{task_id}/ack", params={"token": token})
    assert answer.status_code == 410
    assert "expired" in answer.json()["detail"]
    assert runtime.task(task_id).status == "assigned"  # type: ignore[union-attr]
