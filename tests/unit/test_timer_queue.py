"""The timers' queue gives timers back exactly as one heap would: in (due, sequence) order,
through any mix of pushes, pops, removals and rebuilds from its entries (a restore)."""

from __future__ import annotations

import heapq

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine.timerqueue import TimerEntry, TimerQueue

RUN = 4
"""A small run size, so that runs fill, drain and compact within a short example."""
actions = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.integers(0, 40)),
        st.tuples(st.just("push"), st.integers(0, 40)),
        st.tuples(st.just("pop"), st.just(0)),
        st.tuples(st.just("remove"), st.integers(2, 5)),
        st.tuples(st.just("remove_tasks"), st.integers(0, 2)),
        st.tuples(st.just("restore"), st.just(0)),
    ),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(actions)
def test_the_queue_matches_a_plain_heap(steps: list[tuple[str, int]]) -> None:
    """After every action: the same next due time (and whether one is due around it), size
    and entries (sorted) as a heap."""
    queue, heap = TimerQueue(run_size=RUN), []
    for sequence, (action, number) in enumerate(steps):
        if action == "push":
            entry: TimerEntry = (number, sequence, "ack", f"i{number % 3}", "", 0)
            queue.push(entry)
            heapq.heappush(heap, entry)
        elif action == "pop" and heap:
            assert queue.pop() == heapq.heappop(heap)
        elif action == "remove":
            queue.remove(lambda entry: entry[0] % number == 0)  # noqa: B023
            heap = [entry for entry in heap if entry[0] % number]
            heapq.heapify(heap)
        elif action == "remove_tasks":
            queue.remove_tasks(f"i{number}", {"", "other"})
            heap = [entry for entry in heap if entry[3] != f"i{number}"]
            heapq.heapify(heap)
        elif action == "restore":
            queue = TimerQueue(queue.entries(), RUN)
        assert len(queue) == len(heap)
        assert queue.next_due() == (heap[0][0] if heap else None)
        for at in (number - 1, number, number + 1):
            assert queue.due(at) == bool(heap and heap[0][0] <= at)
        assert queue.entries() == list(queue.ordered()) == sorted(heap)


def test_a_copy_keeps_its_timers_whatever_the_queue_does_next() -> None:
    """A copy (what a snapshot view takes) shares the runs but not the changes: the original
    fires, takes and drops timers, the copy still holds what it held."""
    queue = TimerQueue(run_size=RUN)
    for sequence in range(3 * RUN + 2):
        queue.push((sequence % 5, sequence, "ack", "i", "", 0))
    copy, before = queue.copy(), queue.entries()
    for _ in range(RUN + 1):
        queue.pop()
    queue.push((0, 99, "due", "j", "", 0))
    queue.remove(lambda entry: entry[0] == 4)
    assert copy.entries() == list(copy.ordered()) == before
    assert len(copy) == len(before)
    assert queue.entries() != before
