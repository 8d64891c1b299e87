"""One service, ever new firing instances: the bench's case "storm-instances", and alone
`python -m benchmarks.instance_storm [ALERTS] [CAP]`.

The engine alone (no runtime, no HTTP) takes ALERTS ops.alert events of the shipped
tech_outage playbook, all firing for one service, each a new instance (an address of its own),
none resolving: what an alert storm of a flapping fleet does to one incident. Printed: the
incident's listed and counted open signals, the memory the engine allocated and still holds
(tracemalloc) at half and at all of the alerts, and the CPU time per alert over the second
half. CAP is the engine's open_signals_cap (default: its own); DEDUPE (environment, default
the engine's) bounds the dedupe keys, the other part that grows with alerts received.

The case runs it twice in the same process: with the engine's cap, and with none (the
baseline: every instance listed, as before issue 19's cap), the dedupe keys bounded at a thirtieth
of the alerts in both, so that what grows over the second half is what the incident holds.
"""

from __future__ import annotations

import json
import os
import sys
import time
import tracemalloc
from dataclasses import dataclass

from benchmarks.base import BenchContext, CaseResult, Figure
from orchestrator.drills.replay import file_line
from orchestrator.engine import Engine, EngineConfig
from orchestrator.engine.inputs import RawRecord
from orchestrator.playbook import load_playbook
from orchestrator.settings import shipped_playbooks

DEFAULT_ALERTS = 30_000
AT = "2026-11-20T10:00:00Z"
UNCAPPED = 10**9
FLAT_BYTES = 64 * 1024
"""What one incident may still grow by over the second half of the alerts with the cap."""


@dataclass(frozen=True)
class Storm:
    """What one run measured."""

    alerts: int
    listed: int
    counted: int
    held_half: int
    held_all: int
    cpu_us_per_alert: float


def alert_line(number: int) -> bytes:
    """A firing alert of service payments, instance `number`, as the webhook adapter makes it
    (without a fingerprint: the label set names the instance)."""
    labels = {
        "alertname": "NodeDown",
        "instance": f"10.{number // 65536}.{number // 256 % 256}.{number % 256}:9100",
        "service": "payments",
    }
    data = {
        "alertname": "NodeDown",
        "service": "payments",
        "status": "firing",
        "severity": "critical",
        "labels": labels,
    }
    event = {
        "specversion": "1.0",
        "id": f"n{number}:firing:{AT}",
        "source": "alertmanager/ops",
        "type": "ops.alert",
        "time": AT,
        "data": data,
    }
    return json.dumps(event).encode()


def run(alerts: int, config: EngineConfig) -> Storm:
    """Feed `alerts` new firing instances to one engine; measure as the module says."""
    playbook = load_playbook(shipped_playbooks() / "tech_outage.yaml")
    engine = Engine([playbook], config)
    state = engine.initial_state()
    lines = [alert_line(n) for n in range(alerts)]
    half = alerts // 2
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    held_half, cpu_half = 0, 0.0
    for number, line in enumerate(lines, start=1):
        record = RawRecord(line, file_line("storm", number))
        state, _outputs = engine.step(state, record, state.clock)
        if number == half:
            held_half, cpu_half = tracemalloc.get_traced_memory()[0] - base, time.process_time()
    cpu = time.process_time() - cpu_half
    held_all = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    (incident,) = state.incidents.values()
    return Storm(
        alerts,
        len(incident.open_signals),
        incident.open_signals_untracked,
        held_half,
        held_all,
        cpu / max(alerts - half, 1) * 1e6,
    )


class InstanceStorm:
    """Memory and CPU per alert of one incident under ever new instances, capped and not."""

    name = "storm-instances"
    title = "6b. One incident under a storm of new instances (engine alone)"

    def run(self, ctx: BenchContext) -> CaseResult:
        alerts = min(DEFAULT_ALERTS, ctx.config.events)
        step = ctx.reporter.step(f"storm-instances: {alerts:,} new instances, twice", 2)
        dedupe = max(alerts // 30, 1)
        capped = run(alerts, EngineConfig(dedupe_max_entries=dedupe))
        step(1)
        uncapped = run(alerts, EngineConfig(open_signals_cap=UNCAPPED, dedupe_max_entries=dedupe))
        step(2)
        half = alerts - alerts // 2
        growth, before = capped.held_all - capped.held_half, uncapped.held_all - uncapped.held_half
        cap = EngineConfig().open_signals_cap
        baseline = "the same without the cap (every instance listed)"
        figures = [
            Figure(
                f"growth over the last {half:,} alerts",
                growth / 1024,
                "KiB",
                before / 1024,
                baseline,
                f"<= {FLAT_BYTES // 1024} KiB (flat)",
                growth <= FLAT_BYTES if alerts > 2 * cap else None,
                higher_is_better=False,
            ),
            Figure(
                "CPU per alert over the last half",
                capped.cpu_us_per_alert,
                "us",
                uncapped.cpu_us_per_alert,
                baseline,
                higher_is_better=False,
            ),
        ]
        notes = [
            f"{alerts:,} ops.alert events, all firing for one service, each a new instance; "
            f"open_signals_cap {cap:,} ({capped.listed:,} listed, {capped.counted:,} counted), "
            f"dedupe keys bounded at {dedupe:,} in both runs; memory the engine still holds "
            "(tracemalloc), CPU time of the engine's steps"
        ]
        details = {"capped": vars(capped), "uncapped": vars(uncapped), "dedupe": dedupe}
        return CaseResult(self.name, self.title, figures, details, notes)


def main(argv: list[str]) -> None:
    """Run once with the arguments (see the module's doc) and print what it measured."""
    alerts = int(argv[0]) if argv else DEFAULT_ALERTS
    defaults = EngineConfig()
    cap = int(argv[1]) if len(argv) > 1 else defaults.open_signals_cap
    dedupe = int(os.environ.get("DEDUPE", defaults.dedupe_max_entries))
    storm = run(alerts, EngineConfig(open_signals_cap=cap, dedupe_max_entries=dedupe))
    print(
        f"{storm.alerts:,} new instances, cap {cap:,}, dedupe keys at most {dedupe:,}: "
        f"{storm.listed:,} listed, {storm.counted:,} counted; held "
        f"{storm.held_half / 1e6:.1f} MB at {storm.alerts // 2:,} alerts, "
        f"{storm.held_all / 1e6:.1f} MB at {storm.alerts:,}; "
        f"CPU per alert over the second half {storm.cpu_us_per_alert:.0f} us"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
