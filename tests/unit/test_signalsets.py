"""Open signals looked up through their member dicts answer as the plain tuple would, whatever
the order of additions, removals, and tuples the index has never seen."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine import signalsets

LABELS = st.integers(0, 150).map(lambda n: f"instance-{n}")
STEPS = st.lists(st.tuples(st.booleans(), LABELS, st.booleans()), max_size=400)


def _plain(signals: tuple[str, ...], opening: bool, label: str) -> tuple[str, ...]:
    if opening and label not in signals:
        return (*signals, label)
    if not opening and label in signals:
        kept = list(signals)
        kept.remove(label)
        return tuple(kept)
    return signals


def _indexed(signals: tuple[str, ...], opening: bool, label: str) -> tuple[str, ...]:
    if opening and not signalsets.holds(signals, label):
        return signalsets.added(signals, label)
    if not opening and signalsets.holds(signals, label):
        return signalsets.removed(signals, label)
    return signals


@settings(max_examples=150, deadline=None)
@given(STEPS)
def test_the_same_tuples_as_a_scan(steps: list[tuple[bool, str, bool]]) -> None:
    """After every step the tuple (its order too) is the plain one; a `copied` step hands the
    next step an equal tuple the index has never seen (as a restored snapshot would)."""
    plain: tuple[str, ...] = ()
    indexed: tuple[str, ...] = ()
    for opening, label, copied in steps:
        plain = _plain(plain, opening, label)
        indexed = _indexed(indexed, opening, label)
        assert indexed == plain
        if copied:
            indexed = tuple(list(indexed))  # noqa: C414 (a new tuple object, equal)
        for probe in ("instance-0", "instance-77", label):
            assert signalsets.holds(indexed, probe) == (probe in plain)


def test_an_old_tuple_still_answers_after_a_newer_one_took_its_members() -> None:
    """A record from before an addition (a snapshot view holds one) keeps its own answers."""
    old = tuple(f"i-{n}" for n in range(100))
    assert signalsets.holds(old, "i-5")
    new = signalsets.added(old, "i-100")
    assert signalsets.holds(new, "i-100")
    assert not signalsets.holds(old, "i-100")
    smaller = signalsets.removed(new, "i-5")
    assert not signalsets.holds(smaller, "i-5")
    assert signalsets.holds(old, "i-5")
    assert smaller == tuple(f"i-{n}" for n in range(101) if n != 5)
