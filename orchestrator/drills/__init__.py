"""Drills: recorded event logs replayed through the engine, and what they show.

replay    the one replay loop (replay_file, replay_lines), deterministic on event time
pacing    drill time against the wall clock (the pacer of every drill)
live      a live drill: the log fed to an embedded runtime on a drill clock, API served;
          or all of it at once, to open in the console (demo --serve)
backtest  compare two playbook versions on the same log
report    the drill report (Markdown or HTML) from the final state
"""

from orchestrator.drills.backtest import compare, render
from orchestrator.drills.live import prepare, settled
from orchestrator.drills.pacing import Pacer
from orchestrator.drills.replay import DrillResult, replay_file, replay_lines

__all__ = [
    "DrillResult",
    "Pacer",
    "compare",
    "prepare",
    "render",
    "replay_file",
    "replay_lines",
    "settled",
]
