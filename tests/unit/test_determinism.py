"""Determinism: the same inputs give byte-identical outputs, ids are derived, a snapshot taken
mid-stream and restored continues exactly like an uninterrupted run, and severity never falls."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import playbooks
from orchestrator.engine import (
    Engine,
    EngineState,
    RawRecord,
    Tick,
    format_time,
    parse_time,
    restore,
    snapshot,
    summary,
)
from orchestrator.engine.clock import DAY_MS
from orchestrator.playbook import load_directory, load_playbook_text
from orchestrator.testing import command, encode, event
from schemas import CommandResult, DeadLetter, IncidentEvent, Origin, Severity, TaskEvent

SHIPPED = Path(playbooks.__file__).parent
START = parse_time("2026-11-20T00:00:00Z")
SEED = 20261120
STREAM_LENGTH = 3000

SERVICES = ("checkout", "search", "payments")
SUPPLIERS = ("acme", "globex")
SKUS = ("sku-1", "sku-2")
ASSETS = ("crm", "warehouse-db")
TOPICS = ("delivery", "billing")
REGIONS = ("eu", "us")
TASKS = {
    "tech_outage": ("triage", "mitigate", "status_page", "verify_recovery", "post_incident_review"),
    "supply_chain": ("assess_impact", "contact_supplier", "arrange_alternative", "restore_supply"),
    "data_breach": ("contain", "legal_assessment", "notify_regulator", "holding_statement"),
    "customer_service": ("public_response", "investigate_cause", "fix_and_follow_up"),
    "sales_drop": ("analyse_cause", "adjust_messaging", "adjust_inventory", "sales_review"),
}
KEYS = {
    "tech_outage": SERVICES,
    "supply_chain": SUPPLIERS + SKUS,
    "data_breach": ASSETS,
    "customer_service": TOPICS,
    "sales_drop": REGIONS,
}


# -- a generated stream over all five shipped playbooks -------------------------------------------


@dataclass
class StreamMaker:
    """Builds a seeded stream of log lines: events of every type, commands, junk, duplicates."""

    rng: random.Random
    clock: int = START
    made: list[bytes] = field(default_factory=list)
    kpi_day: dict[str, int] = field(default_factory=dict)
    kpi_value: dict[str, float] = field(default_factory=dict)

    def stamp(self) -> str:
        """The next event time: mostly forward, sometimes a little (or a lot) in the past."""
        self.clock += self.rng.randint(0, 75_000)
        jitter = self.rng.choice([0] * 18 + [-4 * 60_000, -40 * 60_000])
        return format_time(self.clock + jitter)

    def ident(self) -> str:
        """A fresh event id."""
        return f"g{len(self.made)}"

    def ops(self) -> dict[str, Any]:
        """An ops.alert or an error-rate sample."""
        service = self.rng.choice(SERVICES)
        if self.rng.random() < 0.5:
            return event(
                "ops.metric",
                self.stamp(),
                "metrics",
                self.ident(),
                service=service,
                metric="error_rate",
                value=round(self.rng.uniform(0, 0.3), 3),
            )
        return event(
            "ops.alert",
            self.stamp(),
            "alertmanager",
            self.ident(),
            service=service,
            alertname=self.rng.choice(["Down", "Latency", "Errors"]),
            status=self.rng.choice(["firing", "firing", "resolved"]),
            severity=self.rng.choice(["critical", "warning", "info"]),
        )

    def supply(self) -> dict[str, Any]:
        """A shipment delay or an inventory level."""
        if self.rng.random() < 0.6:
            return event(
                "supply.shipment_delayed",
                self.stamp(),
                "erp",
                self.ident(),
                supplier=self.rng.choice(SUPPLIERS),
                shipment_id=self.ident(),
                delay_hours=self.rng.choice([2, 6, 12, 30, 80]),
            )
        return event(
            "supply.inventory_level",
            self.stamp(),
            "wms",
            self.ident(),
            sku=self.rng.choice(SKUS),
            warehouse=self.rng.choice(["north", "south"]),
            on_hand=self.rng.choice([0, 5, 40, 60]),
            safety_stock=20,
        )

    def security(self) -> dict[str, Any]:
        """A security alert, sometimes exposing personal data."""
        return event(
            "security.alert",
            self.stamp(),
            "siem",
            self.ident(),
            asset=self.rng.choice(ASSETS),
            kind=self.rng.choice(["intrusion", "malware", "exfiltration"]),
            records_exposed=self.rng.choice([0, 0, 12, 20_000]),
            pii=self.rng.random() < 0.3,
        )

    def customers(self) -> dict[str, Any]:
        """A complaint (many of them) or a social mention."""
        if self.rng.random() < 0.9:
            return event(
                "cs.complaint",
                self.stamp(),
                "helpdesk",
                self.ident(),
                channel=self.rng.choice(["email", "chat", "phone"]),
                topic=self.rng.choice(TOPICS),
                sentiment=round(self.rng.uniform(-1, 0.2), 2),
            )
        return event(
            "social.mention",
            self.stamp(),
            "social",
            self.ident(),
            platform="x",
            reach=self.rng.choice([500, 150_000, 2_000_000]),
            sentiment=round(self.rng.uniform(-1, 0.5), 2),
            topic=self.rng.choice(TOPICS),
        )

    def kpi(self) -> dict[str, Any]:
        """The next day's sales of a region: usually falling, sometimes recovering."""
        region = self.rng.choice(REGIONS)
        day = self.kpi_day.get(region, 0) + 1
        value = self.kpi_value.get(region, 10_000.0) * self.rng.choice([0.9, 0.9, 0.8, 1.1])
        self.kpi_day[region], self.kpi_value[region] = day, value
        period = format_time(START + day * DAY_MS)[:10]
        return event(
            "biz.kpi",
            self.stamp(),
            "bi",
            self.ident(),
            kpi="sales",
            value=round(value, 2),
            period=period,
            region=region,
        )

    def responder(self) -> dict[str, Any]:
        """A responder command on a task (or incident) named by playbook and key."""
        playbook = self.rng.choice(sorted(TASKS))
        kind = self.rng.choice(
            [
                "ack",
                "ack",
                "start",
                "complete",
                "complete",
                "fail",
                "cancel",
                "comment",
                "resolve",
                "close",
            ]
        )
        target: dict[str, Any] = {"playbook": playbook, "key": self.rng.choice(KEYS[playbook])}
        if kind not in {"resolve", "close"}:
            target["task"] = self.rng.choice(TASKS[playbook])
        if kind in {"fail", "comment"} or self.rng.random() < 0.3:
            target["note"] = "from the drill"
        return command(
            kind, self.stamp(), actor=self.rng.choice(["alice", "bob"]), id=self.ident(), **target
        )

    def junk(self) -> bytes:
        """A line the intake must reject."""
        return self.rng.choice(
            [
                b"{not json",
                b"[1, 2]",
                encode(event("ops.alert", self.stamp(), "alertmanager", self.ident(), service="x")),
                encode(
                    event(
                        "supply.shipment_delayed",
                        self.stamp(),
                        "erp",
                        self.ident(),
                        supplier="acme",
                        shipment_id="s",
                        delay_hours="5",
                    )
                ),
                encode(event("ops.unknown", self.stamp(), "alertmanager", self.ident())),
            ]
        )

    def line(self) -> bytes:
        """One more line of the log."""
        roll = self.rng.random()
        if roll < 0.03 and self.made:
            return self.rng.choice(self.made)
        if roll < 0.06:
            return self.junk()
        makers = [self.ops] * 5 + [self.supply] * 3 + [self.security] + [self.customers] * 6
        makers += [self.kpi] + [self.responder] * 6
        return encode(self.rng.choice(makers)())


def generated_stream(seed: int = SEED, length: int = STREAM_LENGTH) -> list[bytes]:
    """`length` log lines from a seeded generator."""
    maker = StreamMaker(random.Random(seed))
    for _ in range(length):
        maker.made.append(maker.line())
    return maker.made


STREAM = generated_stream()
END = format_time(START + 5 * DAY_MS)


# -- running --------------------------------------------------------------------------------------


@dataclass
class Run:
    """What a run produced: each output as JSON bytes, and the final summary as JSON bytes."""

    outputs: list[bytes]
    summary: bytes
    state: EngineState


def fresh_engine() -> Engine:
    """An engine over freshly loaded shipped playbooks."""
    return Engine(load_directory(SHIPPED))


def feed(
    engine: Engine, state: EngineState, lines: list[bytes], first_line: int, outputs: list[bytes]
) -> EngineState:
    """Feed lines as a replay does, serializing every output at once."""
    for number, raw in enumerate(lines, start=first_line):
        record = RawRecord(raw, Origin(kind="file", name="stream.jsonl", offset=number))
        state, out = engine.step(state, record, state.clock)
        outputs.extend(o.model_dump_json().encode() for o in out)
    return state


EngineFactory = Callable[[], Engine]


def finish(engine: Engine, state: EngineState, outputs: list[bytes], until: str) -> Run:
    """Advance the clock to `until` and package the run."""
    state, out = engine.step(state, Tick(), parse_time(until))
    outputs.extend(o.model_dump_json().encode() for o in out)
    return Run(outputs, json.dumps(summary(state), sort_keys=True).encode(), state)


def run(lines: list[bytes], make: EngineFactory = fresh_engine, until: str = END) -> Run:
    """An uninterrupted run of `lines` on a fresh engine."""
    engine = make()
    outputs: list[bytes] = []
    state = feed(engine, engine.initial_state(), lines, 1, outputs)
    return finish(engine, state, outputs, until)


def run_with_restart(
    lines: list[bytes], cut: int, make: EngineFactory = fresh_engine, until: str = END
) -> Run:
    """Run to `cut`, snapshot to JSON text, restore into a new engine, and run the rest."""
    engine = make()
    outputs: list[bytes] = []
    state = feed(engine, engine.initial_state(), lines[:cut], 1, outputs)
    saved = json.dumps(snapshot(state))
    del engine, state
    engine = make()
    state = feed(engine, restore(json.loads(saved)), lines[cut:], cut + 1, outputs)
    return finish(engine, state, outputs, until)


@cache
def baseline() -> Run:
    """The uninterrupted run of STREAM (computed once, compared against by several tests)."""
    return run(STREAM)


def kinds(result: Run) -> dict[str, int]:
    """How many outputs of each kind a run emitted."""
    counts: dict[str, int] = {}
    for raw in result.outputs:
        data = json.loads(raw)
        kind = data.get("kind") or ("dead_letter" if "raw_b64" in data else "command_result")
        counts[kind] = counts.get(kind, 0) + 1
    return counts


# -- tests ----------------------------------------------------------------------------------------


def test_the_generated_stream_exercises_every_playbook_and_every_kind_of_input() -> None:
    """The stream is no straw man: all five playbooks open incidents, tasks escalate and finish,
    lines are rejected, duplicated and late, and commands are applied and refused."""
    state = baseline().state
    assert {i.playbook for i in state.incidents.values()} == set(TASKS)
    counts = kinds(baseline())
    for kind in (
        "task.assigned",
        "task.escalated",
        "task.done",
        "task.overdue",
        "incident.severity_changed",
        "incident.resolved",
        "dead_letter",
    ):
        assert counts.get(kind, 0) > 0, kind
    c = state.counters
    assert c.read == len(STREAM)
    assert c.read == c.accepted + c.rejected + c.duplicates
    assert min(c.rejected, c.duplicates, c.late) > 0
    assert c.commands > c.commands_rejected > 0


def test_two_fresh_engines_give_byte_identical_outputs_and_summary() -> None:
    """Every output (model_dump_json) and the summary (sorted JSON) match byte for byte."""
    again = run(STREAM)
    assert len(again.outputs) == len(baseline().outputs)
    assert again.outputs == baseline().outputs
    assert again.summary == baseline().summary


def test_a_different_stream_gives_different_outputs() -> None:
    """The comparison above can fail: another seed gives another output sequence."""
    other = run(generated_stream(seed=SEED + 1, length=600))
    assert other.outputs != baseline().outputs[: len(other.outputs)]


def test_snapshot_restore_mid_stream_continues_like_an_uninterrupted_run() -> None:
    """Snapshots taken at several points, serialized to JSON and restored into a new engine,
    give the same outputs and summary as the run that never stopped."""
    for cut in (1, 777, STREAM_LENGTH // 2, STREAM_LENGTH - 3):
        resumed = run_with_restart(STREAM, cut)
        assert resumed.outputs == baseline().outputs, cut
        assert resumed.summary == baseline().summary, cut


QUIET_PLAYBOOK = """\
id: quiet
version: 1
title: Resolves when quiet
key: [data.service]
triggers:
  - {id: firing, on: ops.alert, when: data.status == "firing"}
join:
  - on: ops.alert
tasks:
  - {name: look, role: ops, title: Look, ack_within: 5m, complete_within: 20m}
resolution:
  quiet_for: 30m
"""


def quiet_engine() -> Engine:
    """An engine whose only playbook has an escalation ladder, a deadline and a quiet timer."""
    return Engine([load_playbook_text(QUIET_PLAYBOOK, "quiet.yaml")])


def test_restore_keeps_pending_timers_escalations_deadlines_and_quiet_periods() -> None:
    """Cut between events whose timers are still pending: the restored run fires the same
    escalations, overdue mark and quiet resolution at the same times."""
    lines = [
        encode(
            event(
                "ops.alert",
                f"2026-11-20T10:{minute:02d}:00Z",
                "mon",
                f"q{minute}",
                service="api",
                alertname="Down",
                status="firing",
                severity="critical",
            )
        )
        for minute in (0, 7, 21)
    ]
    whole = run(lines, quiet_engine, "2026-11-20T13:00:00Z")
    assert {"task.escalated", "task.overdue", "incident.resolved"} <= set(kinds(whole))
    for cut in range(len(lines) + 1):
        resumed = run_with_restart(lines, cut, quiet_engine, "2026-11-20T13:00:00Z")
        assert (resumed.outputs, resumed.summary) == (whole.outputs, whole.summary), cut


def test_snapshot_is_plain_json_and_restores_to_an_equal_snapshot() -> None:
    """snapshot() -> JSON text -> restore() -> snapshot() is the identity."""
    data = json.loads(json.dumps(snapshot(baseline().state)))
    assert json.loads(json.dumps(snapshot(restore(data)))) == data


# -- derived ids ----------------------------------------------------------------------------------


def opening(event_id: str, source: str = "alertmanager") -> bytes:
    """A critical firing alert that opens a tech_outage incident for checkout."""
    return encode(
        event(
            "ops.alert",
            "2026-11-20T10:00:00Z",
            source,
            event_id,
            service="checkout",
            alertname="Down",
            status="firing",
            severity="critical",
        )
    )


def ids_of(result: Run) -> list[str]:
    """Incident ids and task ids of a run, in order."""
    incidents = result.state.incidents.values()
    return [i.id for i in incidents] + [t.id for i in incidents for t in i.tasks]


def test_incident_and_task_ids_are_the_same_across_runs() -> None:
    """Ids come from the inputs, so two runs name everything alike."""
    assert ids_of(run(STREAM)) == ids_of(baseline())
    assert len(set(ids_of(baseline()))) == len(ids_of(baseline()))


def test_incident_ids_differ_for_different_opening_events() -> None:
    """Another opening event id, or the same id from another source, gives another incident id;
    task ids are the incident id plus the task name."""
    runs = [run([opening("a-1")]), run([opening("a-2")]), run([opening("a-1", "other")])]
    [first, second, third] = [next(iter(r.state.incidents.values())) for r in runs]
    assert len({first.id, second.id, third.id}) == 3
    assert run([opening("a-1")]).state.incidents.keys() == runs[0].state.incidents.keys()
    assert [t.id for t in first.tasks] == [f"{first.id}.{t.name}" for t in first.tasks]


def test_output_ids_are_unique_within_a_run() -> None:
    """Task and incident events carry ids unique in the run (consumers may dedupe on them)."""
    ids = [
        json.loads(raw)["id"]
        for raw in baseline().outputs
        if json.loads(raw).get("kind", "").startswith(("task.", "incident.opened"))
    ]
    assert len(ids) == len(set(ids))


# -- severity never falls -------------------------------------------------------------------------


def small_set() -> list[dict[str, Any]]:
    """Events that open, join, raise and resolve tech_outage and supply_chain incidents."""

    def ops(kind: str, **data: Any) -> dict[str, Any]:
        return event(kind, "2026-11-20T10:00:00Z", "mon", f"s{len(made)}", service="api", **data)

    def ship(hours: float) -> dict[str, Any]:
        return event(
            "supply.shipment_delayed",
            "2026-11-20T10:00:00Z",
            "erp",
            f"s{len(made)}",
            supplier="acme",
            shipment_id=f"sh{len(made)}",
            delay_hours=hours,
        )

    made: list[dict[str, Any]] = []
    builders = [
        lambda: ops("ops.metric", metric="error_rate", value=0.1),
        lambda: ops("ops.metric", metric="error_rate", value=0.12),
        lambda: ops("ops.metric", metric="error_rate", value=0.3),
        lambda: ops("ops.alert", alertname="Down", status="firing", severity="critical"),
        lambda: ops("ops.alert", alertname="Slow", status="firing", severity="warning"),
        lambda: ops("ops.alert", alertname="Down", status="resolved", severity="critical"),
        lambda: ops("ops.alert", alertname="Slow", status="resolved", severity="warning"),
        lambda: ship(10),
        lambda: ship(20),
        lambda: ship(30),
        lambda: ship(90),
        lambda: event(
            "supply.inventory_level",
            "2026-11-20T10:00:00Z",
            "wms",
            f"s{len(made)}",
            sku="sku-1",
            warehouse="north",
            on_hand=0,
            safety_stock=5,
        ),
    ]
    for build in builders:
        made.append(build())
    return made


SMALL_SET = small_set()
SEVERITY_RANK = {s.value: s.rank for s in Severity}
SEVERITY_ENGINE = fresh_engine()


@settings(max_examples=150, deadline=None)
@given(
    order=st.permutations(range(len(SMALL_SET))),
    gaps=st.lists(st.integers(0, 20 * 60), min_size=len(SMALL_SET), max_size=len(SMALL_SET)),
    keep_times=st.booleans(),
)
def test_severity_never_falls_whatever_the_interleaving(
    order: list[int], gaps: list[int], keep_times: bool
) -> None:
    """For any arrival order (times following it, or fixed per event so arrivals are out of
    order), every severity change goes up and each incident's severity in successive summaries
    never falls."""
    stamps = [START + 10 * 3_600_000 + 1000 * sum(gaps[: i + 1]) for i in range(len(SMALL_SET))]
    state = SEVERITY_ENGINE.initial_state()
    seen: dict[str, int] = {}
    for position, index in enumerate(order):
        record = dict(SMALL_SET[index])
        record["time"] = format_time(stamps[index if keep_times else position])
        item = RawRecord(encode(record), Origin(kind="file", offset=position))
        state, out = SEVERITY_ENGINE.step(state, item, state.clock)
        for output in out:
            if isinstance(output, IncidentEvent) and output.kind == "incident.severity_changed":
                before, after = output.detail["before"], output.detail["after"]
                assert SEVERITY_RANK[after] > SEVERITY_RANK[before]
            assert not isinstance(output, DeadLetter)
            assert isinstance(output, IncidentEvent | TaskEvent | CommandResult)
        for incident in summary(state)["incidents"]:
            rank = SEVERITY_RANK[incident["severity"]]
            assert rank >= seen.get(incident["id"], rank)
            seen[incident["id"]] = rank
    assert seen, "the small set always opens at least one incident"
