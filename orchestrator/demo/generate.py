"""Writes the demo drill log: deterministic, readable, and covering every shipped playbook.

The story of 2026-11-20: sales in EU have been sliding for three days; checkout goes down at
09:00 and is fixed by 10:10; the search service's error rate climbs and nobody picks it up; a
logistics supplier falls behind and a SKU runs out; customer data is exfiltrated from the CRM;
late deliveries make customers angry. Responders acknowledge some tasks and ignore others.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator.demo import DEMO_LOG

DAY = "2026-11-20"
Record = dict[str, Any]


class _Log:
    def __init__(self) -> None:
        self.entries: list[tuple[str, int, str]] = []
        self.count = 0

    def add(self, time: str, line: str) -> None:
        self.entries.append((time, len(self.entries), line))

    @property
    def lines(self) -> list[str]:
        """Lines in event-time order (stable for equal times)."""
        return [line for _time, _seq, line in sorted(self.entries)]

    def event(self, type_: str, time: str, source: str, **data: Any) -> None:
        self.count += 1
        record = {
            "specversion": "1.0",
            "id": f"demo-{self.count:04d}",
            "source": source,
            "type": type_,
            "time": time,
            "data": data,
        }
        self.add(time, json.dumps(record, separators=(",", ":")))

    def command(
        self,
        kind: str,
        time: str,
        actor: str,
        playbook: str,
        key: str,
        task: str | None = None,
        note: str | None = None,
    ) -> None:
        fields = {"kind": kind, "actor": actor, "playbook": playbook, "key": key}
        if task is not None:
            fields["task"] = task
        if note is not None:
            fields["note"] = note
        self.event("orchestrator.command", time, "responders/console", **fields)

    def raw(self, time: str, line: str) -> None:
        self.add(time, line)


def _sales(log: _Log) -> None:
    for day, value in (("16", 100000), ("17", 94000), ("18", 88000), ("19", 82000)):
        log.event(
            "biz.kpi",
            f"2026-11-{int(day) + 1:02d}T00:30:00Z",
            "erp/sales",
            kpi="sales",
            value=value,
            period=f"2026-11-{day}",
            region="EU",
        )


def _outage(log: _Log) -> None:
    t = f"{DAY}T09:00:00Z"
    log.event(
        "ops.alert",
        t,
        "monitoring/prometheus",
        alertname="CheckoutDown",
        service="checkout",
        status="firing",
        severity="critical",
        summary="checkout returns 503 for 80% of requests",
    )
    log.command("ack", f"{DAY}T09:03:00Z", "dana.ops", "tech_outage", "checkout", "triage")
    log.command(
        "complete",
        f"{DAY}T09:15:00Z",
        "dana.ops",
        "tech_outage",
        "checkout",
        "triage",
        note="DB connection pool exhausted after deploy 4812",
    )
    log.command("ack", f"{DAY}T09:20:00Z", "priya.pr", "tech_outage", "checkout", "status_page")
    log.command(
        "complete",
        f"{DAY}T09:50:00Z",
        "priya.pr",
        "tech_outage",
        "checkout",
        "status_page",
        note="status page and holding statement published",
    )
    log.event(
        "ops.alert",
        f"{DAY}T10:10:00Z",
        "monitoring/prometheus",
        alertname="CheckoutDown",
        service="checkout",
        status="resolved",
        severity="critical",
    )


def _supply(log: _Log) -> None:
    for hour, delay, shipment in (
        ("10:00", 12, "SH-881"),
        ("10:40", 30, "SH-884"),
        ("11:30", 80, "SH-890"),
    ):
        log.event(
            "supply.shipment_delayed",
            f"{DAY}T{hour}:00Z",
            "tms/carrier-feed",
            supplier="acme-logistics",
            shipment_id=shipment,
            delay_hours=delay,
            sku="SKU-1234",
            region="EU",
        )
    log.command(
        "ack",
        f"{DAY}T11:40:00Z",
        "lee.logistics",
        "supply_chain",
        "acme-logistics",
        "assess_impact",
    )
    log.command(
        "complete",
        f"{DAY}T13:00:00Z",
        "lee.logistics",
        "supply_chain",
        "acme-logistics",
        "assess_impact",
        note="212 orders in EU wait on SKU-1234",
    )
    log.event(
        "supply.inventory_level",
        f"{DAY}T11:45:00Z",
        "wms/stock",
        sku="SKU-1234",
        warehouse="rotterdam",
        on_hand=0,
        safety_stock=50,
    )


def _breach(log: _Log) -> None:
    log.event(
        "security.alert",
        f"{DAY}T12:00:00Z",
        "siem/guardduty",
        kind="exfiltration",
        asset="crm-db",
        records_exposed=25000,
        pii=True,
        confidence=0.9,
    )
    log.command("ack", f"{DAY}T12:10:00Z", "sam.legal", "data_breach", "crm-db", "legal_assessment")
    log.command(
        "complete",
        f"{DAY}T14:00:00Z",
        "sam.legal",
        "data_breach",
        "crm-db",
        "legal_assessment",
        note="GDPR art. 33 applies: EU customers' emails and phones",
    )


def _search_errors(log: _Log) -> None:
    for minute, value in (("11:00", 0.07), ("11:01", 0.09), ("11:02", 0.12)):
        log.event(
            "ops.metric",
            f"{DAY}T{minute}:30Z",
            "monitoring/prometheus",
            service="search",
            metric="error_rate",
            value=value,
        )


def _complaints(log: _Log) -> None:
    for i in range(20):
        log.event(
            "cs.complaint",
            f"{DAY}T15:{i * 2:02d}:00Z",
            "zendesk/tickets",
            channel=("email", "chat", "phone", "social")[i % 4],
            topic="late-delivery",
            sentiment=-0.8,
            customer_id=f"C-{1000 + i}",
        )
    log.event(
        "social.mention",
        f"{DAY}T15:45:00Z",
        "social/listening",
        platform="x",
        reach=250000,
        sentiment=-0.7,
        topic="late-delivery",
    )
    log.command(
        "ack",
        f"{DAY}T15:50:00Z",
        "priya.pr",
        "customer_service",
        "late-delivery",
        "public_response",
    )


def build() -> list[str]:
    """The demo log's lines, in event-time order (with a bad line and a duplicate)."""
    log = _Log()
    _sales(log)
    _outage(log)
    _supply(log)
    _search_errors(log)
    _breach(log)
    log.raw(
        f"{DAY}T13:00:00Z",
        '{"id": "broken-1", "source": "legacy/cron", "type": "ops.alert", "time": ',
    )
    redelivered = next(e for e in log.entries if '"alertname":"CheckoutDown"' in e[2])
    log.raw(f"{DAY}T13:30:00Z", redelivered[2])
    log.event(
        "supply.shipment_delayed",
        f"{DAY}T14:30:00Z",
        "tms/carrier-feed",
        supplier="acme-logistics",
        shipment_id="SH-900",
        delay_hours=-3,
    )
    _complaints(log)
    return log.lines


def write(path: Path = DEMO_LOG) -> None:
    """Write the demo log to `path`."""
    path.write_text("\n".join(build()) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write()
