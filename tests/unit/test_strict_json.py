"""The exact path's JSON decoder, made once, decodes as `json.loads` with the same hooks made
per call: the same value, or the same error with the same message (dead-letter reasons)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.engine.validate import _finite_float, _reject_constant, _strict_json

PIECES = ['{"a":', "[1,", "1e400", "NaN", "-Infinity", "\ufeff", '"x"', "}", "]", " ", "2.5", "\\"]


def _outcome(decode: Any, text: str) -> tuple[str, object]:
    try:
        return "value", decode(text)
    except json.JSONDecodeError as err:
        return "json", str(err)
    except (ValueError, RecursionError) as err:
        return type(err).__name__, str(err)


def _reference(text: str) -> object:
    return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)


@given(
    st.one_of(
        st.text(max_size=40),
        st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
        ).map(json.dumps),
    )
)
def test_strict_json_decodes_as_json_loads_with_the_same_hooks(text: str) -> None:
    assert _outcome(_strict_json, text) == _outcome(_reference, text)


def test_a_byte_order_mark_is_refused_as_json_loads_words_it() -> None:
    assert _outcome(_strict_json, '\ufeff{"a": 1}') == _outcome(_reference, '\ufeff{"a": 1}')
    assert _outcome(_strict_json, '\ufeff{"a": 1}')[0] == "json"
