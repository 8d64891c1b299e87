"""A correlation key computed by its generated function (exprgen.generate_key) is the key
`KeyFn.general` computes part by part, for any parts, defaults and event data."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine.playbook import KeyFn
from orchestrator.engine.severity import Ranked

names = st.sampled_from(["data", "x", "y", "type"])
parts = st.lists(
    st.tuples(st.lists(names, min_size=1, max_size=3).map(tuple), st.none() | st.text(max_size=3)),
    max_size=3,
).map(tuple)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.just(Ranked("high")),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(names, inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=1500, deadline=None)
@given(parts, st.dictionaries(names, values, max_size=4))
def test_generated_key_is_the_general_key(key_parts: Any, ctx: dict[str, Any]) -> None:
    """For any key definition and context the two give the same key (or both none)."""
    key = KeyFn(key_parts)
    assert key(ctx) == key.general(ctx)
    assert type(key(ctx)) is type(key.general(ctx))


def test_keys_compare_by_their_parts() -> None:
    """The generated function takes no part in equality: one key function per definition."""
    parts = ((("data", "asset"), None),)
    assert KeyFn(parts) == KeyFn(parts)
    assert len({KeyFn(parts), KeyFn(parts)}) == 1
