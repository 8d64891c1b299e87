"""Generated event logs for the benchmarks: seeded, so every run measures the same bytes.

`mixed_log` mixes every event type the five shipped playbooks read, spread over a fixed set of
correlation keys, with a share of bad lines (dead letters) and re-delivered duplicates.
`opening_log` opens one incident per line; `paced_log` is a short log for `--speed`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.engine.clock import DAY_MS, format_time, parse_time

START = parse_time("2026-01-01T00:00:00Z")
START_DAY = datetime.fromtimestamp(START / 1000, UTC).date()
SEED = 20260101
DEFAULT_KEYS = 10_000
BAD_SHARE = 0.05
DUPLICATE_SHARE = 0.01
LATE_SHARE = 0.01
STEADY_KEYS = 500
STEADY_SALES = 10_000.0
STEADY_DAILY_FALL = 0.9
STEADY_STEP_MS = 6_000
"""The steady log: 3 s apart on average, so the 7-day dedupe horizon fills within 250k events."""
MAX_STEP_MS = 2_000
"""Event time advances 0..2 s per line: 1M lines span about 11.6 days of event time."""
LATE_MS = 6 * 60_000
WRITE_CHUNK = 10_000

KEY_SHARE = {
    "service": 0.2,
    "topic": 0.2,
    "supplier": 0.15,
    "sku": 0.15,
    "asset": 0.1,
    "region": 0.2,
}
"""How the distinct correlation keys divide among the key kinds (sums to 1)."""


@dataclass(frozen=True, slots=True)
class Keys:
    """The fixed key set: distinct names per key kind, `total` names in all."""

    names: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, total: int) -> Keys:
        """`total` distinct keys divided by KEY_SHARE (at least one per kind)."""
        names = {
            kind: tuple(f"{kind}-{i:05d}" for i in range(max(1, round(total * share))))
            for kind, share in KEY_SHARE.items()
        }
        return cls(names)

    @property
    def total(self) -> int:
        """How many distinct keys there are."""
        return sum(len(v) for v in self.names.values())


Data = dict[str, object]
Maker = Callable[["_Mixer"], tuple[str, str, Data]]


class _Mixer:
    """One seeded stream of envelopes over every playbook's event types."""

    def __init__(self, keys: Keys, seed: int, steady: bool, max_step_ms: int) -> None:
        self.rng = random.Random(seed)
        self.keys = keys
        self.clock = START
        self.recent: list[bytes] = []
        self.steady = steady
        self.max_step_ms = max_step_ms

    def key(self, kind: str) -> str:
        return self.rng.choice(self.keys.names[kind])

    def stamp(self) -> str:
        self.clock += self.rng.randrange(self.max_step_ms + 1)
        late = LATE_MS if self.rng.random() < LATE_SHARE else 0
        return format_time(self.clock - late)

    def line(self, number: int) -> bytes:
        roll = self.rng.random()
        if roll < BAD_SHARE:
            return self.bad(number)
        if roll < BAD_SHARE + DUPLICATE_SHARE and self.recent:
            return self.rng.choice(self.recent)
        maker = self.rng.choices(_MAKERS, _WEIGHTS)[0]
        source, type_, data = maker(self)
        envelope = {
            "specversion": "1.0",
            "id": f"e{number}",
            "source": source,
            "type": type_,
            "time": self.stamp(),
            "data": data,
        }
        raw = json.dumps(envelope, separators=(",", ":")).encode()
        if number % 97 == 0:
            self.recent = [*self.recent[-15:], raw]
        return raw

    def bad(self, number: int) -> bytes:
        kind = self.rng.randrange(5)
        head = f'{{"specversion":"1.0","id":"b{number}","source":"gen","time":"{self.stamp()}"'
        if kind == 0:
            return (head + ',"type":"ops.alert","data":{"service":').encode()
        if kind == 1:
            return b'["not", "an", "object"]'
        if kind == 2:
            return (head + ',"type":"ops.alert","data":{"service":"x"}}').encode()
        if kind == 3:
            return (
                head + ',"type":"supply.shipment_delayed","data":{"supplier":"s",'
                '"shipment_id":"x","delay_hours":"5"}}'
            ).encode()
        return (head + ',"type":"ops.unknown","data":{}}').encode()


def _alert(m: _Mixer) -> tuple[str, str, Data]:
    severity = m.rng.choices(("critical", "warning", "info"), (1, 4, 5))[0]
    status = "firing" if m.steady or m.rng.random() < 0.7 else "resolved"
    return (
        "alertmanager",
        "ops.alert",
        {
            "alertname": m.rng.choice(("Down", "Latency", "Errors")),
            "service": m.key("service"),
            "status": status,
            "severity": severity,
            "labels": {"env": "prod"},
        },
    )


def _metric(m: _Mixer) -> tuple[str, str, Data]:
    if m.rng.random() < 0.5:
        value = round(m.rng.choice((0.01, 0.02, 0.03, 0.08, 0.3)), 3)
        return (
            "prometheus",
            "ops.metric",
            {"service": m.key("service"), "metric": "error_rate", "value": value},
        )
    return (
        "prometheus",
        "ops.metric",
        {
            "service": m.key("service"),
            "metric": "latency_p99_ms",
            "value": m.rng.randrange(50, 900),
        },
    )


def _complaint(m: _Mixer) -> tuple[str, str, Data]:
    return (
        "helpdesk",
        "cs.complaint",
        {
            "channel": m.rng.choice(("phone", "email", "chat")),
            "topic": m.key("topic"),
            "sentiment": round(m.rng.uniform(-1, 0.5), 2),
            "customer_id": f"c{m.rng.randrange(10**6)}",
        },
    )


def _mention(m: _Mixer) -> tuple[str, str, Data]:
    reach = m.rng.choices((500, 20_000, 150_000, 2_000_000), (80, 15, 4, 1))[0]
    sentiment = round(m.rng.uniform(-1, 0.5), 2)
    if m.steady:  # every mention is viral: each topic's incident opens early
        reach, sentiment = 250_000, -0.8
    return (
        "social",
        "social.mention",
        {"platform": "x", "reach": reach, "sentiment": sentiment, "topic": m.key("topic")},
    )


def _delay(m: _Mixer) -> tuple[str, str, Data]:
    hours = m.rng.choices((2, 6, 12, 30, 80), (40, 30, 15, 13, 2))[0]
    return (
        "erp",
        "supply.shipment_delayed",
        {
            "supplier": m.key("supplier"),
            "shipment_id": f"sh{m.rng.randrange(10**7)}",
            "delay_hours": hours,
        },
    )


def _inventory(m: _Mixer) -> tuple[str, str, Data]:
    on_hand = m.rng.choices((0, 5, 40, 60, 200), (1, 4, 25, 30, 40))[0]
    if m.steady:  # never below safety stock: no stock-out incident opens and resolves again
        on_hand = max(on_hand, 40)
    return (
        "wms",
        "supply.inventory_level",
        {
            "sku": m.key("sku"),
            "warehouse": m.rng.choice(("north", "south")),
            "on_hand": on_hand,
            "safety_stock": 20,
        },
    )


def _security(m: _Mixer) -> tuple[str, str, Data]:
    pii = m.rng.random() < 0.05
    return (
        "siem",
        "security.alert",
        {
            "kind": m.rng.choices(("intrusion", "malware", "exfiltration"), (60, 39, 1))[0],
            "asset": m.key("asset"),
            "records_exposed": m.rng.choice((0, 0, 12, 20_000)),
            "pii": pii,
        },
    )


def _kpi(m: _Mixer) -> tuple[str, str, Data]:
    day = datetime.fromtimestamp(m.clock / 1000, UTC).date()
    value = float(m.rng.randrange(5_000, 15_000))
    if m.steady:  # sales fall 10% a day everywhere: every region's incident opens by day 4
        value = round(STEADY_SALES * STEADY_DAILY_FALL ** (day - START_DAY).days, 2)
    return (
        "bi",
        "biz.kpi",
        {"kpi": "sales", "value": value, "period": day.isoformat(), "region": m.key("region")},
    )


_MAKERS: tuple[Maker, ...] = (
    _alert,
    _metric,
    _complaint,
    _mention,
    _delay,
    _inventory,
    _security,
    _kpi,
)
_WEIGHTS = (10, 25, 20, 5, 10, 10, 5, 15)


def mixed_lines(
    events: int,
    keys: int = DEFAULT_KEYS,
    seed: int = SEED,
    steady: bool = False,
    max_step_ms: int = MAX_STEP_MS,
) -> Iterator[bytes]:
    """`events` log lines (without newlines) over `keys` correlation keys.

    `steady`: alerts never resolve, stock never runs out, every mention is viral and sales
    fall daily, so every key's incidents open early and stay open: the set of incidents stops
    growing and later events only join them (what the flat-memory case needs).
    """
    mixer = _Mixer(Keys.of(keys), seed, steady, max_step_ms)
    for number in range(1, events + 1):
        yield mixer.line(number)


def write_lines(path: Path, lines: Iterator[bytes]) -> int:
    """Write JSON Lines to `path`; returns the number of bytes written."""
    size = 0
    with path.open("wb") as handle:
        chunk: list[bytes] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= WRITE_CHUNK:
                size += handle.write(b"\n".join(chunk) + b"\n")
                chunk.clear()
        if chunk:
            size += handle.write(b"\n".join(chunk) + b"\n")
    return size


def opening_lines(incidents: int, spacing_ms: int = 10, start: int = START) -> Iterator[bytes]:
    """One line per new incident: critical alerts, long delays, PII alerts, viral mentions;
    the first at `start` (Millis), the others `spacing_ms` apart."""
    makers = (
        lambda i: (
            "alertmanager",
            "ops.alert",
            {
                "alertname": "Down",
                "service": f"svc-{i}",
                "status": "firing",
                "severity": "critical",
            },
        ),
        lambda i: (
            "erp",
            "supply.shipment_delayed",
            {"supplier": f"sup-{i}", "shipment_id": f"sh{i}", "delay_hours": 90},
        ),
        lambda i: (
            "siem",
            "security.alert",
            {"kind": "intrusion", "asset": f"asset-{i}", "records_exposed": 50, "pii": True},
        ),
        lambda i: (
            "social",
            "social.mention",
            {"platform": "x", "reach": 250_000, "sentiment": -0.8, "topic": f"topic-{i}"},
        ),
    )
    for i in range(incidents):
        source, type_, data = makers[i % len(makers)](i)
        envelope = {
            "specversion": "1.0",
            "id": f"o{i}",
            "source": source,
            "type": type_,
            "time": format_time(start + i * spacing_ms),
            "data": data,
        }
        yield json.dumps(envelope, separators=(",", ":")).encode()


def paced_lines(events: int, spacing_ms: int) -> Iterator[bytes]:
    """`events` metric samples `spacing_ms` apart in event time (for --speed)."""
    for i in range(events):
        envelope = {
            "specversion": "1.0",
            "id": f"p{i}",
            "source": "prometheus",
            "type": "ops.metric",
            "time": format_time(START + DAY_MS + i * spacing_ms),
            "data": {"service": "svc-paced", "metric": "latency_p99_ms", "value": 120},
        }
        yield json.dumps(envelope, separators=(",", ":")).encode()
