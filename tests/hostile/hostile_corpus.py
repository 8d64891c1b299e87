"""The hostile input corpus: records built to break intake, each with the outcome it must get.

Outcomes: accepted, rejected (dead-lettered with a reason), duplicate. The cases are built in
code (a 10 MB record does not belong in the repository) and fed in this order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

LIMIT = 1_048_576
T = "2026-11-20T10:00:00Z"
Case = tuple[str, bytes, str]


def envelope(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "specversion": "1.0",
        "id": "ok-1",
        "source": "hostile",
        "type": "ops.alert",
        "time": T,
        "data": {"alertname": "A", "service": "svc", "status": "firing", "severity": "warning"},
    }
    base.update(over)
    return base


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def with_data(case_id: str, type_: str, data: dict[str, Any]) -> bytes:
    return dumps(envelope(id=case_id, type=type_, data=data))


def _encoding() -> Iterator[Case]:
    yield "invalid utf-8 start byte", b'{"id":"\xff\xfe"}', "rejected"
    yield "invalid utf-8 inside a string", dumps(envelope(id="u1"))[:-3] + b"\xc3\x28}}", "rejected"
    yield "lone surrogate escape", dumps(envelope(id="\\ud800")).replace(b"\\\\", b"\\"), "rejected"
    yield "utf-16 encoded", json.dumps(envelope(id="u16")).encode("utf-16"), "rejected"
    yield "byte order mark", b"\xef\xbb\xbf" + dumps(envelope(id="bom")), "rejected"
    yield "nul byte in the middle", dumps(envelope(id="nul"))[:10] + b"\x00" + b"x", "rejected"


def _json_shape() -> Iterator[Case]:
    yield "empty object", b"{}", "rejected"
    yield "truncated json", dumps(envelope(id="t"))[:-5], "rejected"
    yield "trailing garbage", dumps(envelope(id="tg")) + b" junk", "rejected"
    yield "two objects on one line", dumps(envelope(id="a")) + dumps(envelope(id="b")), "rejected"
    yield "json array", b"[1,2,3]", "rejected"
    yield "array of an event", b"[" + dumps(envelope(id="arr")) + b"]", "rejected"
    yield "json string", b'"hello"', "rejected"
    yield "json number", b"42", "rejected"
    yield "json null", b"null", "rejected"
    yield "json true", b"true", "rejected"
    yield "single quotes", b"{'id': 'x'}", "rejected"
    yield "comment inside", b'{"id": "x" /* c */}', "rejected"
    yield "10000-deep arrays", b'{"data":' + b"[" * 10000 + b"]" * 10000 + b"}", "rejected"
    yield "10000-deep objects", b'{"x":' * 10000 + b"1" + b"}" * 10000, "rejected"
    deep = envelope(id="deep65")
    inner: Any = 1
    for _ in range(70):
        inner = {"n": inner}
    deep["data"]["labels"] = inner
    yield "70-deep data inside a valid event", dumps(deep), "rejected"
    yield "NaN value", dumps(envelope(id="nan"))[:-2] + b',"value":NaN}}', "rejected"
    yield "Infinity value", dumps(envelope(id="inf"))[:-2] + b',"value":Infinity}}', "rejected"
    yield "-Infinity value", dumps(envelope(id="ninf"))[:-2] + b',"value":-Infinity}}', "rejected"
    yield (
        "number overflowing a float",
        with_data("big1", "ops.metric", {})[:-2] + (b'"service":"s","metric":"m","value":1e999}}'),
        "rejected",
    )
    yield (
        "integer with 5000 digits",
        dumps(envelope(id="digits"))[:-2] + (b',"value":' + b"9" * 5000 + b"}}"),
        "rejected",
    )
    yield (
        "duplicate keys (last wins, valid)",
        dumps(envelope(id="dupkey"))[:-1] + (b',"id":"dupkey-2"}'),
        "accepted",
    )


def _size() -> Iterator[Case]:
    head = dumps(
        envelope(
            id="big",
            data={
                "alertname": "A",
                "service": "svc",
                "status": "firing",
                "severity": "warning",
                "summary": "",
            },
        )
    )
    room = LIMIT - len(head)
    fits = head.replace(b'"summary":""', b'"summary":"' + b"x" * room + b'"')
    assert len(fits) == LIMIT
    yield "exactly the size limit", fits, "accepted"
    over = head.replace(b'"id":"big"', b'"id":"big2"').replace(
        b'"summary":""', b'"summary":"' + b"x" * (room + 1) + b'"'
    )
    yield "one byte over the size limit", over, "rejected"
    yield "ten megabytes", b'{"x":"' + b"y" * 10_000_000 + b'"}', "rejected"


def _envelope_fields() -> Iterator[Case]:
    for field in ("id", "source", "type", "time", "data"):
        body = envelope(id=f"missing-{field}")
        del body[field]
        yield f"missing {field}", dumps(body), "rejected"
    for field in ("id", "source", "type"):
        yield f"empty {field}", dumps(envelope(**{"id": f"empty-{field}", field: ""})), "rejected"
    yield "id is a number", dumps(envelope(id=7)), "rejected"
    yield "source is null", dumps(envelope(id="srcnull", source=None)), "rejected"
    yield "data is a list", dumps(envelope(id="datalist", data=[1])), "rejected"
    yield "data is a string", dumps(envelope(id="datastr", data="x")), "rejected"
    yield "specversion 0.3", dumps(envelope(id="sv", specversion="0.3")), "rejected"
    yield "unknown event type", dumps(envelope(id="unk", type="ops.unknown")), "rejected"
    lookalike = "ops.\u0430lert"  # a Cyrillic a
    yield "type with unicode lookalike", dumps(envelope(id="look", type=lookalike)), "rejected"


def _times() -> Iterator[Case]:
    yield "time without offset", dumps(envelope(id="t1", time="2026-11-20T10:00:00")), "rejected"
    yield "time as epoch number", dumps(envelope(id="t2", time=1795000000)), "rejected"
    yield "time as epoch string", dumps(envelope(id="t3", time="1795000000")), "rejected"
    yield "time that is not a date", dumps(envelope(id="t4", time="yesterday")), "rejected"
    yield "february 30th", dumps(envelope(id="t5", time="2026-02-30T10:00:00Z")), "rejected"
    yield (
        "time with +14:00 offset",
        dumps(envelope(id="t6", time="2026-11-21T00:00:00+14:00")),
        "accepted",
    )
    yield (
        "far future (year 9999)",
        dumps(envelope(id="t7", time="9999-12-31T23:59:59Z")),
        "rejected",
    )
    yield "far past (year 1900)", dumps(envelope(id="t8", time="1900-01-01T00:00:00Z")), "rejected"
    yield (
        "late by an hour (processed, counted late)",
        dumps(envelope(id="t9", time="2026-11-20T09:00:00Z")),
        "accepted",
    )
    yield (
        "out of order within lateness",
        dumps(envelope(id="t10", time="2026-11-20T09:58:00Z")),
        "accepted",
    )


def _data_types() -> Iterator[Case]:
    alert = {"alertname": "A", "service": "s", "status": "firing", "severity": "critical"}
    yield (
        "alert status not in enum",
        with_data("d1", "ops.alert", {**alert, "status": "on"}),
        "rejected",
    )
    yield (
        "alert severity as number",
        with_data("d2", "ops.alert", {**alert, "severity": 1}),
        "rejected",
    )
    yield (
        "alert labels with number values",
        with_data("d3", "ops.alert", {**alert, "labels": {"a": 1}}),
        "rejected",
    )
    yield (
        "metric value as string",
        with_data("d4", "ops.metric", {"service": "s", "metric": "m", "value": "0.5"}),
        "rejected",
    )
    yield (
        "metric value as bool",
        with_data("d5", "ops.metric", {"service": "s", "metric": "m", "value": True}),
        "rejected",
    )
    yield (
        "negative delay",
        with_data(
            "d6",
            "supply.shipment_delayed",
            {"supplier": "p", "shipment_id": "x", "delay_hours": -1},
        ),
        "rejected",
    )
    yield (
        "delay as string",
        with_data(
            "d7",
            "supply.shipment_delayed",
            {"supplier": "p", "shipment_id": "x", "delay_hours": "5"},
        ),
        "rejected",
    )
    yield (
        "on_hand as float",
        with_data(
            "d8",
            "supply.inventory_level",
            {"sku": "k", "warehouse": "w", "on_hand": 1.5, "safety_stock": 2},
        ),
        "rejected",
    )
    yield (
        "pii as string",
        with_data(
            "d9",
            "security.alert",
            {"kind": "malware", "asset": "a", "records_exposed": 1, "pii": "yes"},
        ),
        "rejected",
    )
    yield (
        "records exposed negative",
        with_data(
            "d10",
            "security.alert",
            {"kind": "malware", "asset": "a", "records_exposed": -5, "pii": True},
        ),
        "rejected",
    )
    yield (
        "confidence above 1",
        with_data(
            "d11",
            "security.alert",
            {"kind": "malware", "asset": "a", "records_exposed": 0, "pii": False, "confidence": 2},
        ),
        "rejected",
    )
    yield (
        "sentiment below -1",
        with_data("d12", "cs.complaint", {"channel": "chat", "topic": "t", "sentiment": -3}),
        "rejected",
    )
    yield (
        "complaint channel unknown",
        with_data("d13", "cs.complaint", {"channel": "pigeon", "topic": "t", "sentiment": -0.5}),
        "rejected",
    )
    yield (
        "kpi period not a date",
        with_data("d14", "biz.kpi", {"kpi": "sales", "value": 1, "period": "last week"}),
        "rejected",
    )
    yield (
        "reach negative",
        with_data("d15", "social.mention", {"platform": "x", "reach": -1, "sentiment": 0}),
        "rejected",
    )
    yield (
        "missing required data field",
        with_data("d16", "ops.metric", {"service": "s"}),
        "rejected",
    )
    yield (
        "extra data fields are kept",
        with_data(
            "d17", "ops.metric", {"service": "s", "metric": "m", "value": 1, "note": "extra"}
        ),
        "accepted",
    )


def _unicode() -> Iterator[Case]:
    yield (
        "unicode everywhere",
        with_data(
            "ü-🚨-1",
            "ops.alert",
            {
                "alertname": "Ärger 💥",
                "service": "结账",
                "status": "firing",
                "severity": "critical",
                "summary": "‮ right-to-left override ‬ and \u200b zero width",
            },
        ),
        "accepted",
    )
    yield "emoji source", dumps(envelope(id="e1", source="🛰️/监控")), "accepted"
    yield (
        "html in a key",
        with_data(
            "h1",
            "ops.alert",
            {
                "alertname": "A",
                "service": "<script>alert(1)</script>",
                "status": "firing",
                "severity": "critical",
            },
        ),
        "accepted",
    )
    yield (
        "control characters in strings",
        with_data(
            "c1",
            "ops.alert",
            {
                "alertname": "A\u0001\u0007",
                "service": "s\ttab",
                "status": "firing",
                "severity": "warning",
            },
        ),
        "accepted",
    )
    yield (
        "very long service name",
        with_data(
            "long1",
            "ops.alert",
            {"alertname": "A", "service": "s" * 100_000, "status": "firing", "severity": "warning"},
        ),
        "accepted",
    )


def _duplicates() -> Iterator[Case]:
    first = dumps(envelope(id="dup-1"))
    yield "original", first, "accepted"
    yield "exact redelivery", first, "duplicate"
    yield (
        "same id, different body",
        dumps(
            envelope(
                id="dup-1",
                data={
                    "alertname": "B",
                    "service": "other",
                    "status": "resolved",
                    "severity": "info",
                },
            )
        ),
        "duplicate",
    )
    yield "same id, other source", dumps(envelope(id="dup-1", source="elsewhere")), "accepted"
    yield (
        "whitespace-different redelivery",
        json.dumps(envelope(id="dup-1"), indent=2).encode(),
        "duplicate",
    )


def command(case_id: str, **data: Any) -> bytes:
    """A recorded responder action, sent to the intake as if it were an event."""
    return dumps(envelope(id=case_id, type="orchestrator.command", data=data))


def _trust() -> Iterator[Case]:
    """Records that try to cross a trust boundary (issue: the intake acting as a responder)."""
    yield (
        "command from the intake: close an incident as ceo",
        command("c1", kind="close", actor="ceo", incident_id="inc-0000000000000000"),
        "rejected",
    )
    yield (
        "command from the intake: ack as alice by playbook and key",
        command("c2", kind="ack", actor="alice", playbook="tech_outage", key="svc", task="triage"),
        "rejected",
    )
    yield (
        "command from the intake: resolve as nobody-real",
        command("c3", kind="resolve", actor="nobody-real", incident_id="inc-1"),
        "rejected",
    )
    yield (
        "time year 0001 with +01:00 (year 0 in UTC)",
        dumps(envelope(id="r1", time="0001-01-01T00:00:00+01:00")),
        "rejected",
    )
    yield (
        "time 9999-12-31T23:59:59-01:00 (year 10000 in UTC)",
        dumps(envelope(id="r2", time="9999-12-31T23:59:59-01:00")),
        "rejected",
    )
    yield (
        "time in year 8999 (in range, ahead of any clock)",
        dumps(envelope(id="r3", time="8999-06-01T00:00:00Z")),
        "rejected",
    )
    yield "id of 600 characters", dumps(envelope(id="i" * 600)), "rejected"
    yield "source of 600 characters", dumps(envelope(id="s600", source="s" * 600)), "rejected"
    yield "subject of 600 characters", dumps(envelope(id="j600", subject="j" * 600)), "rejected"
    long_id = dumps(envelope(id="L" * 500))
    yield "id of 500 characters (its dedupe key kept as a digest)", long_id, "accepted"
    yield "the 500-character id again", long_id, "duplicate"


def classes() -> list[tuple[str, list[Case]]]:
    """The corpus by class (its groups), in feeding order."""
    return [
        ("encoding", list(_encoding())),
        ("json shape", list(_json_shape())),
        ("size", list(_size())),
        ("envelope fields", list(_envelope_fields())),
        ("times", list(_times())),
        ("data types", list(_data_types())),
        ("unicode", list(_unicode())),
        ("duplicates", list(_duplicates())),
        ("trust", list(_trust())),
    ]


def cases() -> list[Case]:
    """Every case in feeding order."""
    return [case for _class, group in classes() for case in group]
