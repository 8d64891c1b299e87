"""Two responders race on one task: the engine decides, exactly one wins, the other gets 409."""

from __future__ import annotations

import threading

import httpx
import pytest
from apikit import Api, bearer

RACES = 10


def _race(api: Api, task_id: str, action: str, names: tuple[str, str]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(names))
    answers: dict[str, httpx.Response] = {}

    def send(name: str) -> None:
        barrier.wait()
        answers[name] = api.client.post(
            f"/tasks/{task_id}/{action}",
            headers=bearer(name),
            json={"note": f"by {name}"} if action == "complete" else None,
        )

    threads = [threading.Thread(target=send, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [answers[name] for name in names]


@pytest.mark.parametrize("action", ["complete", "ack"])
def test_exactly_one_of_two_concurrent_commands_wins(api: Api, action: str) -> None:
    """Repeated races of two responders: always one 202 and one 409, and the winner is recorded."""
    for _ in range(RACES):
        task = api.fresh_task("ops")
        answers = _race(api, task.id, action, ("ops", "ops2"))
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [202, 409], [r.json() for r in answers]
        winner = next(r for r in answers if r.status_code == 202).json()["actor"]
        loser = next(r for r in answers if r.status_code == 409).json()
        after = api.runtime.task(task.id)
        assert after is not None
        holder = after.finished_by if action == "complete" else after.acknowledged_by
        assert holder == winner
        assert loser["actor"] != winner
        assert winner in loser["detail"]
