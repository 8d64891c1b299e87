"""Admission against the live runtime's clock, as properties over generated network intake.

An embedded runtime over the shipped playbooks, on a manual clock, takes generated sequences of
records through `submit` with an HTTP origin (the path `POST /events` takes): the bundled
playbooks' event types, timed from days behind to 60 days ahead of the runtime's clock, right at
the edge of the allowed skew, or chasing the newest accepted event by up to a week (the ratchet
an attacker would try), with resends, clock advances and timer ticks in between.

Whatever the sequence:

- the engine's clock and its newest accepted event time never pass the runtime's clock plus
  `max_clock_skew`, and a record timed beyond that is dead-lettered, naming the runtime's clock;
- a record with a fresh id timed within the skew of the runtime's clock and not older than the
  dedupe horizon before it is accepted (earlier events cannot lock it out), and so is a final
  alert timed at the runtime's clock, which opens its incident.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hypothesis import given, settings
from hypothesis import strategies as st

import playbooks
from orchestrator.engine.clock import DAY_MS, HOUR_MS, MINUTE_MS, Millis, format_time, parse_time
from orchestrator.engine.step import Engine, EngineConfig
from orchestrator.playbook import load_directory
from orchestrator.runtime.base import IntakeResult
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock, encode, event
from schemas.deadletter import Origin

SHIPPED = Path(playbooks.__file__).parent
PLAYBOOKS = load_directory(SHIPPED)
HTTP = Origin(kind="http", name="/events", sender="ingest")
START = parse_time("2026-11-20T10:00:00Z")
HORIZON = EngineConfig().dedupe_horizon
SKEWS = (0, MINUTE_MS, EngineConfig().max_clock_skew)
KEYS = ("checkout", "search", "payments")
AHEAD_REASON = "ahead of this runtime's clock"

Base = Literal["clock", "edge", "newest"]


def data_of(type_: str, key: str) -> dict[str, Any]:
    """The `data` of an event the shipped playbooks act on (opening, joining or raising)."""
    if type_ == "ops.alert":
        return {"alertname": "Down", "service": key, "status": "firing", "severity": "critical"}
    if type_ == "ops.alert.resolved":
        return {"alertname": "Down", "service": key, "status": "resolved", "severity": "critical"}
    if type_ == "ops.metric":
        return {"service": key, "metric": "error_rate", "value": 0.3}
    if type_ == "security.alert":
        return {"kind": "intrusion", "asset": key, "records_exposed": 10, "pii": True}
    if type_ == "supply.shipment_delayed":
        return {"supplier": key, "shipment_id": f"S-{key}", "delay_hours": 80}
    assert type_ == "social.mention", type_
    return {"platform": "x", "reach": 2_000_000, "sentiment": -0.9, "topic": key}


TYPES = (
    "ops.alert",
    "ops.alert.resolved",
    "ops.metric",
    "security.alert",
    "supply.shipment_delayed",
    "social.mention",
)


@dataclass(frozen=True)
class Send:
    """Send one fresh record, timed `offset` from a base: the runtime's clock ("clock"), the
    clock plus the allowed skew ("edge"), or the newest time the engine has seen ("newest")."""

    type_: str
    key: str
    base: Base
    offset: Millis


@dataclass(frozen=True)
class Resend:
    """Send again, byte for byte, the `index`-th record sent so far (modulo their number)."""

    index: int


@dataclass(frozen=True)
class Advance:
    """Move the runtime's clock forward, then let it fire due timers."""

    millis: Millis


Step = Send | Resend | Advance

far = st.integers(-10 * DAY_MS, 60 * DAY_MS)
future = st.sampled_from([6 * DAY_MS, 7 * DAY_MS - 1, 7 * DAY_MS, 8 * DAY_MS, 30 * DAY_MS])
honest = st.integers(-(HORIZON - SKEWS[-1]), 0)
sends = st.one_of(
    st.builds(Send, st.sampled_from(TYPES), st.sampled_from(KEYS), st.just("clock"), far),
    st.builds(Send, st.sampled_from(TYPES), st.sampled_from(KEYS), st.just("clock"), future),
    st.builds(Send, st.sampled_from(TYPES), st.sampled_from(KEYS), st.just("clock"), honest),
    st.builds(
        Send, st.sampled_from(TYPES), st.sampled_from(KEYS), st.just("edge"), st.integers(-2, 2)
    ),
    st.builds(
        Send,
        st.sampled_from(TYPES),
        st.sampled_from(KEYS),
        st.just("newest"),
        st.integers(1, 7 * DAY_MS),
    ),
)
advances = st.builds(
    Advance,
    st.one_of(st.integers(0, 10 * MINUTE_MS), st.integers(0, 3 * DAY_MS), st.just(HOUR_MS)),
)
resends = st.builds(Resend, st.integers(0, 50))
steps = st.lists(st.one_of(sends, sends, sends, advances, resends), max_size=25)


@dataclass(frozen=True)
class Sent:
    """One record as sent: its time, the runtime's clock when it was sent, whether its id was
    fresh, and what the runtime answered."""

    at: Millis
    received: Millis
    fresh: bool
    result: IntakeResult


@dataclass
class Run:
    """A live embedded runtime on a manual clock, and every record sent to it with its answer."""

    runtime: EmbeddedRuntime
    clock: ManualClock
    skew: Millis
    raws: list[bytes] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=itertools.count)

    def limit(self) -> Millis:
        """The furthest the engine may be ahead: the runtime's clock plus the allowed skew."""
        return self.clock.now() + self.skew

    def time_of(self, step: Send) -> Millis:
        """The event time a Send step stands for, given where the clocks are now."""
        if step.base == "clock":
            return self.clock.now() + step.offset
        if step.base == "edge":
            return self.limit() + step.offset
        state = self.runtime.state
        return max(state.watermark, state.clock) + step.offset

    def send(self, type_: str, key: str, at: Millis) -> Sent:
        """Submit one record with a fresh id over HTTP; remember it and the answer."""
        kind = "ops.alert" if type_ == "ops.alert.resolved" else type_
        record = event(kind, format_time(at), source="prop", id=f"p{next(self.ids)}")
        record["data"] = data_of(type_, key)
        return self.submit(encode(record), at, fresh=True)

    def submit(self, raw: bytes, at: Millis, fresh: bool) -> Sent:
        """Submit raw bytes as the HTTP intake does and keep what came back."""
        received = self.clock.now()
        (result,) = self.runtime.submit([raw], HTTP)
        self.raws.append(raw)
        self.sent.append(Sent(at, received, fresh, result))
        return self.sent[-1]

    def apply(self, step: Step) -> Sent | None:
        """Apply one generated step; the record it sent, if any."""
        if isinstance(step, Advance):
            self.clock.advance(step.millis)
            self.runtime.tick()
            return None
        if isinstance(step, Resend):
            if not self.raws:
                return None
            raw = self.raws[step.index % len(self.raws)]
            at = self.sent[step.index % len(self.sent)].at
            return self.submit(raw, at, fresh=False)
        return self.send(step.type_, step.key, self.time_of(step))


@contextmanager
def live(skew: Millis) -> Iterator[Run]:
    """A fresh embedded runtime (its own database) over the shipped playbooks."""
    engine = Engine(PLAYBOOKS, EngineConfig(max_clock_skew=skew))
    with tempfile.TemporaryDirectory() as directory:
        clock = ManualClock(START)
        runtime = EmbeddedRuntime.open(
            engine, Path(directory), clock=clock.now, synchronous="normal"
        )
        try:
            yield Run(runtime, clock, skew)
        finally:
            runtime.store.close()


def assert_within_limit(run: Run) -> None:
    """The engine's clock and newest accepted event time are not past clock + skew."""
    state, limit = run.runtime.state, run.limit()
    assert state.clock <= limit, (format_time(state.clock), format_time(limit))
    assert state.watermark <= limit, (format_time(state.watermark), format_time(limit))


def in_band(sent: Sent, skew: Millis) -> bool:
    """Timed correctly for its arrival: within the skew of the runtime's clock, and not older
    than the dedupe horizon before the furthest the engine may have been ahead."""
    return sent.received + skew - HORIZON <= sent.at <= sent.received + skew


@settings(max_examples=60, deadline=None)
@given(skew=st.sampled_from(SKEWS), sequence=steps)
def test_no_sequence_of_network_events_moves_the_engine_past_the_runtime_clock(
    skew: Millis, sequence: list[Step]
) -> None:
    """After every step the engine's clock and newest event time are at most the runtime's
    clock plus the skew; every record timed beyond that was dead-lettered, with the reason."""
    with live(skew) as run:
        for step in sequence:
            sent = run.apply(step)
            assert_within_limit(run)
            if sent is not None and sent.at > sent.received + skew:
                assert sent.result.status == "rejected", (step, sent)
                assert AHEAD_REASON in (sent.result.reason or ""), sent.result.reason
        counts = run.runtime.summary()["events"]
        assert counts["read"] == len(run.sent)


@settings(max_examples=60, deadline=None)
@given(skew=st.sampled_from(SKEWS), sequence=steps)
def test_a_correctly_timed_event_is_accepted_whatever_came_before(
    skew: Millis, sequence: list[Step]
) -> None:
    """Every fresh record within the band of its arrival is accepted, and so is a final alert
    timed at the runtime's clock, which opens a tech_outage incident for its service."""
    with live(skew) as run:
        for step in sequence:
            sent = run.apply(step)
            if sent is not None and sent.fresh and in_band(sent, skew):
                assert sent.result.status == "accepted", (step, sent)
        final = run.send("ops.alert", "fresh-service", run.clock.now())
        assert final.result.status == "accepted", final.result.reason
        opened = [i for i in run.runtime.incidents() if i.key == "fresh-service"]
        assert [i.playbook for i in opened] == ["tech_outage"]
