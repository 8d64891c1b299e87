"""The dedupe keys' hour index changes nothing: after any mix of stores, evictions of the
first-stored key and expiries, `seen` holds exactly what a plain scan would leave, in order."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine import dedupe
from orchestrator.engine.clock import HOUR_MS
from orchestrator.engine.state import EngineState, restore, snapshot

store = st.tuples(st.just("store"), st.integers(0, 60), st.integers(-3 * HOUR_MS, 3 * HOUR_MS))
expire = st.tuples(st.just("expire"), st.just(0), st.integers(-3 * HOUR_MS, 3 * HOUR_MS))
restart = st.tuples(st.just("restart"), st.just(0), st.just(0))


@settings(max_examples=400, deadline=None)
@given(
    st.integers(1, 30),
    st.lists(st.one_of(store, store, store, expire, restart), min_size=10, max_size=200),
    st.sampled_from([1, 2, 5, dedupe.CHUNK]),
)
def test_seen_matches_a_plain_scan(cap: int, steps: list[tuple[str, int, int]], chunk: int) -> None:
    """Store (evicting the first-stored key past `cap`), expire by scan, restart from a
    snapshot, with chunks of the index's order from one key to its default: the state's `seen`
    always equals the reference dict, order included, and the index holds no chunk wholly
    before its oldest key."""
    with patch.object(dedupe, "CHUNK", chunk):
        check_against_a_scan(cap, steps)


def check_against_a_scan(cap: int, steps: list[tuple[str, int, int]]) -> None:
    state, reference = EngineState(), {}
    for action, number, at in steps:
        if action == "store" and f"k{number}" not in reference:
            state.remember(f"k{number}", at)
            reference[f"k{number}"] = at
            if len(state.seen) > cap:
                state.forget_first_seen()
                del reference[next(iter(reference))]
        elif action == "expire":
            state.forget_seen_before(at)
            for key in [k for k, t in reference.items() if t < at]:
                del reference[key]
        elif action == "restart":
            state = restore(snapshot(state))
        assert list(state.seen.items()) == list(reference.items())
        index = state.seen_index
        assert all(number >= index.head // dedupe.CHUNK for number in index.chunks)
