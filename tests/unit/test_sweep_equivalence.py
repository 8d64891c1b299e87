"""The scheduled sweep (hour index for dedupe keys, per-window look-again horizons) leaves the
state exactly as the full scan it replaced: the snapshots agree after every input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import playbooks
from benchmarks.data import mixed_lines
from orchestrator.engine.clock import HOUR_MS, MINUTE_MS
from orchestrator.engine.gather import forget_held
from orchestrator.engine.state import EngineState, restore, snapshot
from orchestrator.engine.step import Engine, EngineConfig, RawRecord
from orchestrator.engine.windows import WindowSlot
from orchestrator.playbook import load_directory
from schemas.deadletter import Origin

STEP_MS = 60_000
CONFIG = EngineConfig(
    sweep_every=10 * MINUTE_MS, dedupe_horizon=2 * HOUR_MS, dedupe_max_entries=200
)


class FullScanEngine(Engine):
    """The sweep as it was: scan every dedupe key and every window."""

    def _sweep(self, state: EngineState) -> None:
        if state.watermark - state.last_sweep < self.config.sweep_every:
            return
        state.last_sweep = state.watermark
        cutoff = state.watermark - self.config.dedupe_horizon
        for key in [k for k, t in state.seen.items() if t < cutoff]:
            del state.seen[key]
        horizon = state.watermark - self.config.allowed_lateness
        forget_held(state, horizon, self.matcher.playbooks)  # held joiners: one way only
        for name in list(state.windows):
            entries = list(state.windows[name].entries)
            window = self.matcher.window_of(name)
            if window is not None:
                window.prune(entries, horizon)
                newest = window.newest(entries)
                if newest is not None and newest >= horizon - window.span:
                    state.windows[name] = WindowSlot(tuple(entries))
                    continue
            del state.windows[name]


@pytest.mark.parametrize("keys", [12, 60])
def test_scheduled_sweep_matches_the_full_scan_after_every_input(keys: int) -> None:
    """Same dedupe keys and windows (order included) after each of 3,000 mixed inputs about
    30 s apart (a sweep every 20 inputs or so), the same outputs, the same snapshot every 250
    inputs, with a restart half way."""
    shipped = load_directory(Path(playbooks.__file__).parent)
    fast, full = Engine(shipped, CONFIG), FullScanEngine(shipped, CONFIG)
    fast_state, full_state = fast.initial_state(), full.initial_state()
    lines = mixed_lines(3000, keys, seed=keys, max_step_ms=STEP_MS)
    for number, raw in enumerate(lines, start=1):
        item = RawRecord(raw, Origin(kind="file", name="mixed", offset=number))
        fast_state, fast_out = fast.step(fast_state, item, fast_state.clock)
        full_state, full_out = full.step(full_state, item, full_state.clock)
        assert fast_out == full_out, number
        assert list(fast_state.seen.items()) == list(full_state.seen.items()), number
        assert list(fast_state.windows.items()) == list(full_state.windows.items()), number
        if number % 250 == 0:
            assert json.dumps(snapshot(fast_state)) == json.dumps(snapshot(full_state)), number
        if number == 1500:
            fast_state = restore(json.loads(json.dumps(snapshot(fast_state))))
