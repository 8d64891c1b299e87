"""Over a real socket: a feed holds a bounded number of events (a reader that falls behind is
told to resync) and a responder has a bounded number of feeds open."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from apikit import START, auth_config, token_of
from httpx_sse import ServerSentEvent, connect_sse

from orchestrator.api import create_app
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import encode, event
from orchestrator.testing.servers import serve_app
from schemas.deadletter import Origin

MAX_BEHIND = 2
PER_RESPONDER = 2
WAIT = 10.0
RELEASE_WITHIN = 5.0


def _alerts(runtime: EmbeddedRuntime, count: int, tag: str) -> None:
    """`count` ops alerts in one batch: one ops task event each, committed together."""
    records = [
        encode(
            event(
                "ops.alert",
                START,
                alertname="Down",
                service=f"{tag}{n}",
                status="firing",
                severity="critical",
            )
        )
        for n in range(count)
    ]
    results = runtime.submit(records, Origin(kind="test"))
    assert {r.status for r in results} == {"accepted"}


@pytest.fixture
def url(runtime: EmbeddedRuntime) -> Iterator[str]:
    app = create_app(
        runtime, auth_config(), feed_max_behind=MAX_BEHIND, feeds_per_responder=PER_RESPONDER
    )
    with serve_app(app) as running:
        yield running


def _client(name: str) -> httpx.Client:
    return httpx.Client(
        headers={"Authorization": f"Bearer {token_of(name)}"}, timeout=httpx.Timeout(WAIT)
    )


def _events(url: str, runtime: EmbeddedRuntime, then: int) -> list[ServerSentEvent]:
    """Follow the ops feed: read the first event, then add `then` alerts, read to the end."""
    seen: list[ServerSentEvent] = []
    with _client("ops") as client, connect_sse(client, "GET", f"{url}/roles/ops/feed") as feed:
        for message in feed.iter_sse():
            if not message.data:
                continue
            seen.append(message)
            if len(seen) == 1:
                _alerts(runtime, then, "burst")
            if message.event == "resync" or len(seen) > then + 1:
                break
    return seen


def test_reader_that_falls_behind_is_told_to_resync(url: str, runtime: EmbeddedRuntime) -> None:
    """Caught up, then more than MAX_BEHIND events at once: the feed sends `event: resync`
    naming the last event it delivered, and ends."""
    _alerts(runtime, 1, "first")
    seen = _events(url, runtime, MAX_BEHIND + 1)
    assert [m.event for m in seen] == ["task.assigned", "resync"]
    hint = json.loads(seen[-1].data)
    assert hint["last_event_id"] == int(seen[0].id) == int(seen[-1].id)
    assert "Last-Event-ID" in hint["detail"]


def test_backlog_longer_than_the_bound_is_paged_not_resynced(
    url: str, runtime: EmbeddedRuntime
) -> None:
    """A reader catching up a backlog of more than MAX_BEHIND gets all of it, in order."""
    _alerts(runtime, MAX_BEHIND * 3, "backlog")
    seen: list[ServerSentEvent] = []
    with _client("ops") as client, connect_sse(client, "GET", f"{url}/roles/ops/feed") as feed:
        for message in feed.iter_sse():
            if message.event:
                seen.append(message)
            if len(seen) == MAX_BEHIND * 3:
                break
    assert {m.event for m in seen} == {"task.assigned"}
    assert [int(m.id) for m in seen] == sorted(int(m.id) for m in seen)


def _open(client: httpx.Client, url: str) -> httpx.Response:
    request = client.build_request("GET", f"{url}/roles/ops/feed")
    return client.send(request, stream=True)


def test_one_feed_too_many_is_429_until_one_closes(url: str) -> None:
    """A responder's PER_RESPONDER+1th feed is refused 429 problem+json while the others are
    open (another responder is not), and allowed again once one of them is closed."""
    with _client("ops") as client:
        feeds = [_open(client, url) for _ in range(PER_RESPONDER)]
        assert [f.status_code for f in feeds] == [200] * PER_RESPONDER
        refused = client.get(f"{url}/roles/ops/feed")
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "ORCH_FEEDS_PER_RESPONDER" in refused.json()["detail"]
        with _client("ops2") as other:
            other_feed = _open(other, url)
            assert other_feed.status_code == 200
            other_feed.close()
        feeds.pop().close()
        deadline = time.monotonic() + RELEASE_WITHIN
        while (again := _open(client, url)).status_code == 429:
            again.close()
            assert time.monotonic() < deadline, "the closed feed's slot was not given back"
            time.sleep(0.1)
        assert again.status_code == 200
        again.close()
        for feed in feeds:
            feed.close()
