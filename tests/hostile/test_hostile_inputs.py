"""The hostile corpus through the engine and the HTTP intake: no crash, every record accounted."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hostile_corpus import T, cases, classes

from orchestrator.api import create_app
from orchestrator.engine.clock import parse_time
from orchestrator.engine.step import Engine, RawRecord
from orchestrator.engine.summary import summary
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock
from schemas.deadletter import DeadLetter, Origin

CORPUS = cases()
MIN_CASES = 60
RECEIVED = parse_time(T)
"""The runtime's clock when the corpus arrives: it is fed as records from the network."""


def network(offset: int) -> Origin:
    """The origin of a record received over HTTP (not from a file an operator replays)."""
    return Origin(kind="http", name="/events", offset=offset)


def test_the_corpus_is_large_and_varied() -> None:
    """At least 60 cases with unique names, and every outcome represented."""
    names = [name for name, _raw, _expect in CORPUS]
    assert len(names) >= MIN_CASES
    assert len(set(names)) == len(names)
    assert set(Counter(expect for _n, _r, expect in CORPUS)) == {
        "accepted",
        "rejected",
        "duplicate",
    }


def _outcome(before: tuple[int, int, int], after: tuple[int, int, int]) -> str:
    deltas = [b - a for a, b in zip(before, after, strict=True)]
    assert sorted(deltas) == [0, 0, 1], "one record must change exactly one count"
    return ("accepted", "rejected", "duplicate")[deltas.index(1)]


def _counts(engine_state: object) -> tuple[int, int, int]:
    c = engine_state.counters  # type: ignore[attr-defined]
    return c.accepted, c.rejected, c.duplicates


def test_engine_gives_every_case_its_outcome_and_keeps_every_rejected_record() -> None:
    """Each record gets its expected outcome; rejects are dead letters with bytes and reason."""
    engine = Engine(load_directory("playbooks"))
    state = engine.initial_state()
    letters: list[DeadLetter] = []
    for number, (name, raw, expect) in enumerate(CORPUS, start=1):
        before = _counts(state)
        state, outputs = engine.step(state, RawRecord(raw, network(number)), RECEIVED)
        assert _outcome(before, _counts(state)) == expect, name
        found = [o for o in outputs if isinstance(o, DeadLetter)]
        if expect == "rejected":
            (letter,) = found
            assert base64.b64decode(letter.raw_b64) == raw, name
            assert letter.reason, name
            assert letter.origin.offset == number
        letters.extend(found)
    c = state.counters
    assert c.read == len(CORPUS) == c.accepted + c.rejected + c.duplicates
    assert len(letters) == c.rejected


def test_feeding_the_corpus_twice_changes_nothing() -> None:
    """Second pass: accepted ones are duplicates, rejected ones rejected again; same incidents."""
    engine = Engine(load_directory("playbooks"))
    state = engine.initial_state()
    for raw in (raw for _n, raw, _e in CORPUS):
        state, _ = engine.step(state, RawRecord(raw, network(0)), RECEIVED)
    first = json.dumps(summary(state)["incidents"], sort_keys=True)
    accepted = state.counters.accepted
    for raw in (raw for _n, raw, _e in CORPUS):
        state, _ = engine.step(state, RawRecord(raw, network(0)), RECEIVED)
    assert state.counters.accepted == accepted
    assert json.dumps(summary(state)["incidents"], sort_keys=True) == first


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    runtime = EmbeddedRuntime.open(
        Engine(load_directory("playbooks")), tmp_path, clock=ManualClock("2026-11-20T10:00:00Z").now
    )
    with TestClient(create_app(runtime)) as test_client:
        yield test_client
    runtime.close()


def _is_array(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw), list)
    except (ValueError, RecursionError):
        return False


STATUS = {202: "accepted", 200: "duplicate", 422: "rejected"}
EVENTS = ("read", "accepted", "rejected", "duplicates")


def test_http_intake_answers_every_case_and_dead_letters_the_rejects(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over HTTP each record gets its outcome (arrays are batches); nothing crashes the server.
    After every class of the corpus: no 5xx, read = accepted + rejected + duplicates, the
    counts moved by what the answers said, and one dead letter per reject."""
    rejected = 0
    before = dict.fromkeys(EVENTS, 0)
    letters_before = 0
    lines = []
    for class_name, group in classes():
        statuses: Counter[int] = Counter()
        answered = dict.fromkeys(("accepted", "rejected", "duplicate"), 0)
        for name, raw, expect in group:
            response = client.post(
                "/events", content=raw, headers={"content-type": "application/json"}
            )
            statuses[response.status_code] += 1
            assert response.status_code < 500, name
            if _is_array(raw):
                body = response.json()
                assert response.status_code == 200, name
                for outcome in answered:
                    answered[outcome] += body[outcome]
                continue
            assert STATUS.get(response.status_code) == expect, (name, response.status_code)
            answered[expect] += 1
        rejected += answered["rejected"]
        counts = client.get("/summary").json()["events"]
        delta = {k: counts[k] - before[k] for k in EVENTS}
        server_errors = sum(n for status, n in statuses.items() if status >= 500)
        assert server_errors == 0, class_name
        assert counts["read"] == counts["accepted"] + counts["rejected"] + counts["duplicates"]
        assert delta == {
            "read": sum(answered.values()),
            "accepted": answered["accepted"],
            "rejected": answered["rejected"],
            "duplicates": answered["duplicate"],
        }, class_name
        letters = client.get("/dead-letters", params={"limit": 1000}).json()
        assert len(letters) == counts["rejected"] == rejected, class_name
        before = {k: counts[k] for k in EVENTS}
        dead_lettered, letters_before = len(letters) - letters_before, len(letters)
        lines.append(
            f"hostile class (embedded http) {class_name!r}: {len(group)} cases, "
            f"statuses {dict(sorted(statuses.items()))}, read {delta['read']}, accepted "
            f"{delta['accepted']}, rejected {delta['rejected']}, dead-lettered "
            f"{dead_lettered}, duplicates {delta['duplicates']}, 5xx {server_errors}; "
            f"totals {before}"
        )
    with capsys.disabled():
        print("", *lines, sep="\n")
