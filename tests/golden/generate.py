"""Write the input logs of the golden cases: `events.jsonl` (and `until`) in each case directory.

    python tests/golden/generate.py

The inputs are committed; this script only documents how they were made and rewrites them
identically. Each line is one CloudEvent as compact JSON (envelope fields in the order of
orchestrator/demo/demo.jsonl), or a deliberately broken record given as raw bytes. Changing an
input means re-recording its expected files (tests/golden/record.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DAY = "2026-11-20"

Record = dict[str, Any] | bytes


def ev(id_: str, source: str, type_: str, time: str, **data: Any) -> dict[str, Any]:
    """One CloudEvents envelope."""
    return {
        "specversion": "1.0",
        "id": id_,
        "source": source,
        "type": type_,
        "time": time,
        "data": data,
    }


def at(hhmm: str, day: str = DAY) -> str:
    """An RFC 3339 time on `day` (default the drill day) from "HH:MM" or "HH:MM:SS"."""
    return f"{day}T{hhmm if hhmm.count(':') == 2 else hhmm + ':00'}Z"


def cmd(id_: str, time: str, kind: str, actor: str, **fields: Any) -> dict[str, Any]:
    """A responder's action recorded in the log (an `orchestrator.command` event)."""
    return ev(
        id_, "responders/console", "orchestrator.command", time, kind=kind, actor=actor, **fields
    )


def alert(
    id_: str, time: str, name: str, service: str, status: str, severity: str
) -> dict[str, Any]:
    return ev(
        id_,
        "monitoring/prometheus",
        "ops.alert",
        time,
        alertname=name,
        service=service,
        status=status,
        severity=severity,
    )


def metric(id_: str, time: str, service: str, value: float) -> dict[str, Any]:
    return ev(
        id_,
        "monitoring/prometheus",
        "ops.metric",
        time,
        service=service,
        metric="error_rate",
        value=value,
    )


def tech_outage() -> list[Record]:
    """Both tech_outage triggers; a join, a redelivery, a full command lifecycle to closed."""
    ack = {"playbook": "tech_outage", "key": "checkout"}
    return [
        # checkout: a critical alert opens the incident at high severity (status_page layers in)
        alert("to-01", at("10:00"), "CheckoutDown", "checkout", "firing", "critical"),
        alert("to-01", at("10:00"), "CheckoutDown", "checkout", "firing", "critical"),  # redelivery
        alert("to-02", at("10:02"), "CheckoutLatency", "checkout", "firing", "warning"),  # joins
        # the same (source, id) again with other content is still a duplicate: nothing resolves
        alert("to-02", at("10:05"), "CheckoutLatency", "checkout", "resolved", "warning"),
        cmd("to-03", at("10:03"), "ack", "dana.ops", task="triage", **ack),
        cmd("to-04", at("10:04"), "ack", "erik.ops", task="triage", **ack),  # already acked
        cmd("to-05", at("10:10"), "complete", "dana.ops", task="triage", note="bad deploy", **ack),
        cmd("to-06", at("10:12"), "ack", "dana.ops", task="mitigate", **ack),
        cmd("to-07", at("10:13"), "ack", "dana.ops", task="no_such_task", **ack),  # unknown task
        # search: the error rate above 5% on three samples within 5 minutes opens a second one
        metric("to-08", at("10:20"), "search", 0.07),
        metric("to-09", at("10:21"), "search", 0.08),
        metric("to-10", at("10:22"), "search", 0.09),
        metric("to-11", at("10:23"), "search", 0.31),  # joins: the critical rule raises severity
        # api: two samples only, and one under the threshold: no incident
        metric("to-12", at("10:24"), "api", 0.07),
        metric("to-13", at("10:25"), "api", 0.02),
        metric("to-14", at("10:26"), "api", 0.09),
        cmd(
            "to-15", at("10:40"), "complete", "dana.ops", task="mitigate", note="rolled back", **ack
        ),
        alert("to-16", at("10:50"), "CheckoutDown", "checkout", "resolved", "critical"),
        alert("to-17", at("11:00"), "CheckoutLatency", "checkout", "resolved", "warning"),
        cmd("to-18", at("11:30"), "complete", "ines.ic", task="post_incident_review", **ack),
    ]


def supply_and_sales() -> list[Record]:
    """sales_drop on three consecutive daily drops; supply_chain on each of its three triggers."""
    sales = [
        ("sd-01", "2026-11-16", "EU", 100000),
        ("sd-02", "2026-11-16", "US", 100000),
        ("sd-03", "2026-11-17", "EU", 94000),
        ("sd-04", "2026-11-17", "US", 97000),  # -3%: not a drop of more than 5%
        ("sd-05", "2026-11-18", "EU", 88000),
        ("sd-06", "2026-11-18", "US", 90000),
        ("sd-07", "2026-11-19", "EU", 82000),  # third drop in a row: opens sales_drop/EU
        ("sd-08", "2026-11-19", "US", 84000),  # only two drops in a row
    ]
    records: list[Record] = []
    for id_, period, region, value in sales:
        day = period[:-2] + f"{int(period[-2:]) + 1:02d}"
        records.append(
            ev(
                id_,
                "erp/sales",
                "biz.kpi",
                at("00:30", day),
                kpi="sales",
                value=value,
                period=period,
                region=region,
            )
        )
    records.append(
        ev(
            "sd-09",
            "erp/sales",
            "biz.kpi",
            at("00:31"),
            kpi="conversion_rate",
            value=0.01,
            period="2026-11-19",
        )
    )
    sd = {"playbook": "sales_drop", "key": "EU"}
    sc = {"playbook": "supply_chain", "key": "acme-logistics"}

    def delay(id_: str, time: str, supplier: str, shipment: str, hours: int) -> dict[str, Any]:
        return ev(
            id_,
            "tms/carrier-feed",
            "supply.shipment_delayed",
            time,
            supplier=supplier,
            shipment_id=shipment,
            delay_hours=hours,
            sku="SKU-1234",
        )

    def stock(id_: str, time: str, on_hand: int) -> dict[str, Any]:
        return ev(
            id_,
            "wms/stock",
            "supply.inventory_level",
            time,
            sku="SKU-1234",
            warehouse="berlin",
            on_hand=on_hand,
            safety_stock=100,
        )

    records += [
        cmd("sd-10", at("01:00"), "ack", "olga.ops", task="analyse_cause", **sd),
        cmd(
            "sd-11",
            at("03:00"),
            "complete",
            "olga.ops",
            task="analyse_cause",
            note="competitor sale",
            **sd,
        ),
        # acme-logistics: three delays within 24 hours open supply_chain/acme-logistics
        delay("sd-12", at("06:00"), "acme-logistics", "SH-1", 12),
        delay("sd-13", at("08:00"), "acme-logistics", "SH-2", 30),
        delay("sd-14", at("09:00"), "acme-logistics", "SH-3", 8),
        cmd("sd-15", at("09:10"), "ack", "lena.logistics", task="assess_impact", **sc),
        cmd("sd-16", at("09:40"), "complete", "lena.logistics", task="assess_impact", **sc),
        # globex: one delay of 72 hours or more opens at high severity (customer_notice for pr)
        delay("sd-17", at("10:00"), "globex", "SH-7", 80),
        # SKU-1234 below its safety stock opens by sku; running out raises severity to high
        stock("sd-18", at("11:00"), 40),
        stock("sd-19", at("12:00"), 0),
        stock("sd-20", at("13:00"), 150),  # restocked: the stock-out signal closes
    ]
    return records


def breach_and_complaints() -> list[Record]:
    """data_breach at critical with its dependency chain; both customer_service triggers."""
    db = {"playbook": "data_breach", "key": "crm-db"}

    def security(
        id_: str, time: str, kind: str, asset: str, exposed: int, pii: bool
    ) -> dict[str, Any]:
        return ev(
            id_,
            "siem/splunk",
            "security.alert",
            time,
            kind=kind,
            asset=asset,
            records_exposed=exposed,
            pii=pii,
        )

    records: list[Record] = [
        security("bc-01", at("12:00"), "exfiltration", "crm-db", 25000, True),  # critical
        security("bc-02", at("12:05"), "malware", "wiki", 0, False),  # matches no trigger
        security("bc-03", at("12:06"), "malware", "crm-db", 0, False),  # joins crm-db
        cmd("bc-04", at("12:10"), "ack", "dana.ops", task="contain", **db),
        cmd("bc-05", at("12:20"), "ack", "lars.legal", task="legal_assessment", **db),
        cmd(
            "bc-06",
            at("13:00"),
            "complete",
            "lars.legal",
            task="legal_assessment",
            note="GDPR art. 33",
            **db,
        ),
        cmd("bc-07", at("13:05"), "ack", "lars.legal", task="notify_regulator", **db),
        cmd("bc-08", at("14:00"), "complete", "dana.ops", task="contain", **db),
        cmd(
            "bc-09",
            at("14:01"),
            "comment",
            "priya.pr",
            task="holding_statement",
            note="draft ready",
            **db,
        ),
    ]
    # late-delivery: 20 strongly negative complaints within an hour (mild ones do not count)
    for i in range(22):
        sentiment = -0.2 if i in (3, 11) else -0.8
        records.append(
            ev(
                f"bc-c{i + 1:02d}",
                "crm/zendesk",
                "cs.complaint",
                at(f"15:{i * 2:02d}"),
                channel="email" if i % 2 else "chat",
                topic="late-delivery",
                sentiment=sentiment,
            )
        )
    records += [
        # battery-fire: one negative mention reaching 250,000 people opens on its own
        ev(
            "bc-50",
            "social/listening",
            "social.mention",
            at("16:00"),
            platform="x",
            reach=250000,
            sentiment=-0.7,
            topic="battery-fire",
        ),
        ev(
            "bc-51",
            "social/listening",
            "social.mention",
            at("16:05"),
            platform="x",
            reach=900,
            sentiment=-0.9,
        ),
    ]
    return records


def dead_letters() -> list[Record]:
    """Bad records of every kind next to a few good ones: each is dead-lettered with its reason."""
    ok = alert("dl-01", at("10:00"), "ApiDown", "api", "firing", "critical")
    return [
        ok,
        b'{"specversion":"1.0","id":"dl-02","source":"legacy/cron","type":"ops.alert","time":',
        b'["not", "an", "object"]',
        b'"just a string"',
        json.dumps(
            {"specversion": "1.0", "id": "dl-05", "source": "s", "type": "ops.alert", "data": {}},
            separators=(",", ":"),
        ).encode(),  # no time
        json.dumps(
            ev(
                "dl-06",
                "tms/carrier-feed",
                "supply.shipment_delayed",
                "2026-11-20T10:06:00",
                supplier="a",
                shipment_id="x",
                delay_hours=1,
            ),
            separators=(",", ":"),
        ).encode(),  # time without an offset
        json.dumps(
            ev("dl-07", "s", "ops.unknown", at("10:07"), x=1), separators=(",", ":")
        ).encode(),
        json.dumps(
            ev(
                "dl-08",
                "tms/carrier-feed",
                "supply.shipment_delayed",
                at("10:08"),
                supplier="a",
                shipment_id="x",
                delay_hours=-3,
            ),
            separators=(",", ":"),
        ).encode(),  # negative delay
        b'{"specversion":"1.0","id":"dl-09","source":"prom","type":"ops.metric","time":"2026-11-20T10:09:00Z","data":{"service":"api","metric":"error_rate","value":NaN}}',
        b'{"specversion":"1.0","id":"dl-10","source":"prom","type":"ops.metric","time":"2026-11-20T10:10:00Z","data":{"service":"api","metric":"error_rate","value":1e999}}',
        json.dumps(
            ev(
                "", "prom", "ops.metric", at("10:11"), service="api", metric="error_rate", value=0.1
            ),
            separators=(",", ":"),
        ).encode(),  # empty id
        b'{"specversion":"1.0","id":"dl-12","source":"prom","type":"ops.alert","time":"2026-11-20T10:12:00Z","data":{"alertname":"\xff\xfe","service":"api","status":"firing","severity":"critical"}}',
        json.dumps(
            ev(
                "dl-13",
                "security/edr",
                "security.alert",
                at("10:13"),
                kind="ransomware",
                asset="pc-7",
                records_exposed=0,
                pii=False,
            ),
            separators=(",", ":"),
        ).encode(),  # kind outside the catalogue
        alert(
            "dl-15", at("10:15", "2026-11-12"), "Old", "legacy", "firing", "critical"
        ),  # past horizon
        cmd(
            "dl-17", at("10:17"), "ack", "", playbook="tech_outage", key="api", task="triage"
        ),  # no actor
        cmd(
            "dl-18",
            at("10:18"),
            "launch",
            "dana.ops",
            playbook="tech_outage",
            key="api",
            task="triage",
        ),
        cmd(
            "dl-19",
            at("10:19"),
            "ack",
            "dana.ops",
            playbook="tech_outage",
            key="nowhere",
            task="triage",
        ),
        b"",  # blank lines are skipped, not counted
        cmd(
            "dl-20",
            at("10:20"),
            "ack",
            "dana.ops",
            playbook="tech_outage",
            key="api",
            task="triage",
        ),
        alert("dl-21", at("10:30"), "ApiDown", "api", "resolved", "critical"),
        # 25 minutes behind the newest event: counted as late and still processed (accepted); it
        # opens nothing (a warning) and joins nothing (the incident has resolved)
        alert("dl-22", at("10:05"), "ApiSlow", "api", "firing", "warning"),
    ]


def future_time() -> list[Record]:
    """One record dated 9 days after the newest event of the log (a sender with a broken clock):
    dead-lettered, and it moves no clock, so the records after it are handled as usual."""
    ack = {"playbook": "tech_outage", "key": "api"}
    return [
        alert("ft-01", at("10:00"), "ApiDown", "api", "firing", "critical"),
        alert("ft-02", at("10:14", "2026-11-29"), "ApiDown", "api", "firing", "critical"),
        cmd("ft-03", at("10:04"), "ack", "dana.ops", task="triage", **ack),
        alert("ft-04", at("10:30"), "ApiDown", "api", "resolved", "critical"),
    ]


def refused_playbook() -> list[Record]:
    """A valid log: the case fails on its playbooks directory (hand-written), not on the log."""
    return [alert("rp-01", at("10:00"), "CheckoutDown", "checkout", "firing", "critical")]


CASES: dict[str, tuple[list[Record], str | None]] = {
    "tech-outage": (tech_outage(), "2026-11-20T12:00:00Z"),
    "supply-and-sales": (supply_and_sales(), "2026-11-20T18:00:00Z"),
    "breach-and-complaints": (breach_and_complaints(), "2026-11-20T17:00:00Z"),
    "dead-letters": (dead_letters(), None),
    "future-time": (future_time(), None),
    "refused-playbook": (refused_playbook(), None),
}


def line(record: Record) -> bytes:
    """A record as one log line."""
    if isinstance(record, bytes):
        return record
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def main() -> None:
    """Write every case's events.jsonl and until (or remove a stale until)."""
    for name, (records, until) in CASES.items():
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        (folder / "events.jsonl").write_bytes(b"".join(line(r) + b"\n" for r in records))
        until_file = folder / "until"
        if until is None:
            until_file.unlink(missing_ok=True)
        else:
            until_file.write_text(until + "\n", encoding="utf-8")
        print(f"wrote {folder.relative_to(HERE)}: {len(records)} lines")


if __name__ == "__main__":
    main()
