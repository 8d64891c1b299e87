"""Matching's one-key path (issue 18): when every selector of a playbook on an event type uses
the same key, the key is computed once per event. It matches as the general path does (keys
per selector, sets, sorting): the same matches, outputs and windows after every input."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import playbooks
from benchmarks.data import mixed_lines
from orchestrator.engine.config import EngineConfig
from orchestrator.engine.match import Matcher
from orchestrator.engine.playbook import Playbook
from orchestrator.engine.step import Engine, RawRecord
from orchestrator.playbook import load_directory
from schemas.deadletter import Origin


class GeneralEngine(Engine):
    """The engine with every consumer on the general path (no shared key)."""

    def __init__(self, shipped: list[Playbook], config: EngineConfig) -> None:
        super().__init__(shipped, config)
        by_type = self.matcher._by_type
        for event_type, consumers in by_type.items():
            by_type[event_type] = [dataclasses.replace(c, key=None) for c in consumers]


def _shipped() -> list[Playbook]:
    return load_directory(Path(playbooks.__file__).parent)


def test_most_shipped_consumers_take_the_one_key_path() -> None:
    """The shipped playbooks key every selector of an event type alike, so the path is used."""
    matcher = Matcher(_shipped(), 0)
    consumers = [c for cs in matcher._by_type.values() for c in cs]
    assert consumers
    assert all(c.key is not None for c in consumers)
    assert all({s.key for s in c.selectors()} == {c.key} for c in consumers)


@pytest.mark.parametrize("keys", [12, 300])
def test_one_key_path_matches_the_general_path_after_every_input(keys: int) -> None:
    """4,000 mixed inputs (alerts, metrics with windows, KPIs, shipments, duplicates, late and
    bad records): the same outputs at every step and the same windows and incidents."""
    shipped = _shipped()
    config = EngineConfig()
    fast, general = Engine(shipped, config), GeneralEngine(shipped, config)
    fast_state, general_state = fast.initial_state(), general.initial_state()
    for number, raw in enumerate(mixed_lines(4000, keys, seed=keys), start=1):
        item = RawRecord(raw, Origin(kind="file", name="mixed", offset=number))
        fast_state, fast_out = fast.step(fast_state, item, fast_state.clock)
        general_state, general_out = general.step(general_state, item, general_state.clock)
        assert fast_out == general_out, number
        assert fast_state.windows == general_state.windows, number
    assert fast_state.incidents == general_state.incidents
    assert fast_state.counters == general_state.counters
