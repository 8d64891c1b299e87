"""An incident's open signals (firing alert instances, ...) kept as a tuple, looked up in O(1).

`open_signals` is a tuple in insertion order on the frozen incident record (the contract lists
it in that order). A storm can put tens of thousands of instances on one incident, and a scan
of the tuple per event made each event's cost grow with them (measured: 43 us an alert over an
incident's first 1,000 instances, 454 us at 20,000-30,000). So long tuples get their members
beside them as a dict (in the tuple's order), found by the tuple's identity: a lookup is one
probe, and `added` and `removed` update the dict and move it on to the tuple they return (a
removal makes its tuple from the dict: no scan of the old tuple). The dict is derived (never
stored or snapshotted) and a tuple it does not know (restored, replaced elsewhere) gets one
built on first use, so every answer is the tuple's own: only the time changes.
"""

from __future__ import annotations

INDEXED_FROM = 64
"""Tuples this long or longer get a member set (shorter ones are scanned: faster)."""
KEEP = 256
"""Member dicts kept at most (for the incidents with the most signals lately)."""

Signals = tuple[str, ...]
_sets: dict[int, tuple[Signals, dict[str, None]]] = {}
"""id(tuple) -> (the tuple, its members); holding the tuple keeps its id from being reused."""


def _members(signals: Signals) -> dict[str, None]:
    found = _sets.get(id(signals))
    if found is not None and found[0] is signals:
        return found[1]
    members = dict.fromkeys(signals)
    _keep(signals, members)
    return members


def _keep(signals: Signals, members: dict[str, None]) -> None:
    if len(_sets) >= KEEP:
        del _sets[next(iter(_sets))]
    _sets[id(signals)] = (signals, members)


def _take(signals: Signals) -> dict[str, None]:
    """The members of `signals`, no longer filed under it (they move to the next tuple)."""
    members = _members(signals)
    _sets.pop(id(signals), None)
    return members


def holds(signals: Signals, label: str) -> bool:
    """True when `label` is one of `signals`."""
    if len(signals) < INDEXED_FROM:
        return label in signals
    return label in _members(signals)


def added(signals: Signals, label: str) -> Signals:
    """`signals` with `label` last (the caller knows it is not there yet)."""
    grown = signals + (label,)  # noqa: RUF005 (a concatenation copies once; unpacking twice)
    if len(grown) >= INDEXED_FROM:
        members = _take(signals) if len(signals) >= INDEXED_FROM else dict.fromkeys(signals)
        members[label] = None
        _keep(grown, members)
    return grown


def removed(signals: Signals, label: str) -> Signals:
    """`signals` without `label` (the caller knows it is there), in the same order."""
    if len(signals) < INDEXED_FROM:
        index = signals.index(label)
        return signals[:index] + signals[index + 1 :]
    members = _take(signals)
    del members[label]
    shrunk = tuple(members)
    if len(shrunk) >= INDEXED_FROM:
        _keep(shrunk, members)
    return shrunk
