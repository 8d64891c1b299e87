"""Intake through the engine: dedupe, rejection into dead letters, counting, lateness, clock
skew, playbook-declared event types, and bounded memory for dedupe keys and windows."""

from __future__ import annotations

import base64
import json
import textwrap
from typing import Any

import pytest

from orchestrator.engine import EngineConfig, RawRecord, format_time, parse_time
from orchestrator.engine.clock import HOUR_MS, MINUTE_MS
from orchestrator.engine.ids import SEP
from orchestrator.engine.playbook import Playbook
from orchestrator.engine.validate import DEFAULT_MAX_EVENT_BYTES
from orchestrator.engine.windows import EMPTY_SLOT
from orchestrator.playbook import load_playbook_text
from orchestrator.testing import Drill, encode, event
from schemas import DeadLetter, Origin

START = "2026-11-20T10:00:00Z"


def at(minutes: float) -> str:
    """The time `minutes` after START."""
    return format_time(parse_time(START) + round(minutes * MINUTE_MS))


def count_playbook(at_least: int = 3, within: str = "5m", mode: str = "active") -> Playbook:
    """Opens an incident after `at_least` ops.alert events of one service within `within`."""
    return load_playbook_text(
        textwrap.dedent(
            f"""\
            id: burst
            version: 1
            title: Alert burst
            mode: {mode}
            key: [data.service]
            triggers:
              - id: burst
                on: ops.alert
                window: {{kind: count, at_least: {at_least}, within: {within}}}
            join:
              - on: ops.alert
            tasks:
              - {{name: look, role: ops, title: Look}}
            """
        ),
        "burst.yaml",
    )


def alert(
    minutes: float, ident: str, source: str = "prometheus", service: str = "checkout"
) -> dict[str, Any]:
    """A warning ops.alert at `minutes` with an explicit (source, id)."""
    return event(
        "ops.alert",
        at(minutes),
        source=source,
        id=ident,
        alertname="Latency",
        service=service,
        status="firing",
        severity="warning",
    )


def balanced(drill: Drill) -> bool:
    """read == accepted + rejected + duplicates."""
    c = drill.state.counters
    return c.read == c.accepted + c.rejected + c.duplicates


# -- dedupe ---------------------------------------------------------------------------------------


def test_same_source_and_id_is_a_duplicate_even_with_other_content() -> None:
    """A second event with the same (source, id) is counted as a duplicate and changes nothing."""
    drill = Drill.of([count_playbook(at_least=2)])
    drill.feed(alert(0, "a-1"), alert(1, "a-1", service="search"))
    assert drill.state.counters.duplicates == 1
    assert drill.state.counters.accepted == 1
    assert drill.incidents() == []
    assert drill.outputs == []


def test_same_id_from_another_source_is_a_different_event() -> None:
    """(source, id) is the key: the same id from two sources is two events."""
    drill = Drill.of([count_playbook(at_least=2)])
    drill.feed(alert(0, "a-1", source="prometheus"), alert(1, "a-1", source="datadog"))
    assert drill.state.counters.duplicates == 0
    assert drill.state.counters.accepted == 2
    assert [i.key for i in drill.incidents()] == ["checkout"]


def test_duplicates_are_never_double_counted_in_windows() -> None:
    """Two events each delivered three times do not reach a count of three; a third one does."""
    drill = Drill.of([count_playbook(at_least=3)])
    drill.feed(alert(0, "x"), alert(0, "x"), alert(1, "y"), alert(1, "x"), alert(1, "y"))
    assert drill.incidents() == []
    assert drill.state.counters.duplicates == 3
    drill.feed(alert(2, "z"))
    [incident] = drill.incidents()
    assert incident.opened_at == at(2)
    # z, and y (held, within gather_within of z, once though delivered twice); x is 2m away
    assert incident.events_total == 2
    assert balanced(drill)


# -- rejection and accounting ---------------------------------------------------------------------

SMALL_LIMIT = 4096


def envelope(type_: str, ident: str, **data: Any) -> dict[str, Any]:
    """An envelope at START from source `feed`."""
    return event(type_, START, source="feed", id=ident, **data)


def good_alert(ident: str) -> dict[str, Any]:
    """A valid ops.alert."""
    return envelope(
        "ops.alert",
        ident,
        alertname="Down",
        service="checkout",
        status="firing",
        severity="critical",
    )


def good_delay(ident: str, delay: Any = 5) -> dict[str, Any]:
    """A valid supply.shipment_delayed."""
    return envelope(
        "supply.shipment_delayed", ident, supplier="acme", shipment_id="s-1", delay_hours=delay
    )


def good_breach(ident: str) -> dict[str, Any]:
    """A valid security.alert."""
    return envelope(
        "security.alert", ident, kind="intrusion", asset="db", records_exposed=3, pii=True
    )


def without(record: dict[str, Any], field: str) -> dict[str, Any]:
    """The record without one envelope field."""
    return {k: v for k, v in record.items() if k != field}


def nested(depth: int) -> dict[str, Any]:
    """An object nested `depth` levels deep."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"inner": value}
    return value


def mixed_stream() -> list[tuple[bytes, str | None]]:
    """(raw line, expected reason fragment) pairs; None marks a line that must not be rejected."""
    no_service = good_alert("bad-4")
    no_service["data"] = {k: v for k, v in no_service["data"].items() if k != "service"}
    naive = dict(good_alert("bad-9"), time="2026-11-20T10:00:00")
    epoch = dict(good_alert("bad-10"), time=1795000000)
    padded = good_alert("bad-12")
    padded["data"]["summary"] = "x" * SMALL_LIMIT
    deep = good_alert("bad-14")
    deep["data"]["labels"] = nested(300)
    nan = encode(good_delay("bad-11")).replace(b'"delay_hours":5', b'"delay_hours":NaN')
    assert b"NaN" in nan
    return [
        (encode(good_alert("ok-1")), None),
        (b'{"id": "bad-1", "source": "feed", ', "not valid JSON"),
        (b"[1, 2, 3]", "JSON object, not list"),
        (b'"an event"', "JSON object, not str"),
        (encode(without(good_alert("bad-3"), "time")), "time: required field is missing"),
        (encode(no_service), "data.service: required field is missing"),
        (encode(good_delay("bad-5", delay="5")), "data.delay_hours"),
        (
            encode(dict(good_breach("bad-6"), data=dict(good_breach("x")["data"], pii="yes"))),
            "data.pii",
        ),
        (encode(good_delay("bad-7", delay=-1)), "data.delay_hours"),
        (encode(envelope("ops.mystery", "bad-8", anything=1)), "unknown event type 'ops.mystery'"),
        (encode(good_delay("ok-2")), None),
        (encode(naive), "timezone"),
        (encode(epoch), "RFC 3339"),
        (nan, "NaN"),
        (encode(padded), f"limit is {SMALL_LIMIT}"),
        (b"[" * 1900 + b"]" * 1900, "not valid JSON"),
        (encode(deep), "levels deep"),
        (b'{"id": "bad-15", "source": "\xff\xfe"}', "UTF-8"),
        (encode(good_alert("ok-1")), None),
        (encode(dict(good_breach("ok-3"), data=dict(good_breach("x")["data"], pii=False))), None),
        (encode(good_breach("ok-3")), None),
        (encode(good_breach("ok-4")), None),
    ]


def test_mixed_stream_counts_add_up_and_every_rejection_is_a_dead_letter() -> None:
    """Over good, bad and duplicate lines: read == accepted + rejected + duplicates, and every
    rejected line is dead-lettered with its exact raw bytes, its line and a reason."""
    stream = mixed_stream()
    drill = Drill.of([count_playbook()], EngineConfig(max_event_bytes=SMALL_LIMIT))
    drill.feed(*(raw for raw, _ in stream))

    counters = drill.state.counters
    expected_rejections = {line: why for line, (_, why) in enumerate(stream, 1) if why}
    assert counters.read == len(stream)
    assert (counters.accepted, counters.duplicates) == (4, 2)
    assert counters.rejected == len(expected_rejections)
    assert balanced(drill)

    letters = {dl.origin.offset: dl for dl in drill.dead_letters()}
    assert sorted(letters) == sorted(expected_rejections)
    for line, why in expected_rejections.items():
        letter = letters[line]
        raw = stream[line - 1][0]
        assert base64.b64decode(letter.raw_b64) == raw
        assert why in letter.reason, (line, letter.reason)
        assert letter.origin == Origin(kind="file", name="drill", offset=line)


def test_the_stream_goes_on_after_rejections() -> None:
    """Bad lines before a good one do not stop it from opening an incident."""
    drill = Drill.of([count_playbook(at_least=1)], EngineConfig(max_event_bytes=SMALL_LIMIT))
    drill.feed(*(raw for raw, why in mixed_stream() if why), alert(0, "after"))
    assert [i.opened_by for i in drill.incidents()] == ["prometheus/after"]


def test_deeply_nested_input_is_rejected_not_fatal() -> None:
    """A 100k-deep array and an event nesting 100 levels inside data are dead-lettered."""
    deep = good_alert("deep")
    deep["data"]["labels"] = nested(100)
    drill = Drill.of([count_playbook(at_least=1)])
    drill.feed(b"[" * 100_000 + b"]" * 100_000, encode(deep), good_alert("fine"))
    reasons = [d.reason for d in drill.dead_letters()]
    assert len(reasons) == 2
    assert reasons[0].startswith("not valid JSON")
    assert "levels deep" in reasons[1]
    assert drill.state.counters.accepted == 1


def test_dead_letter_ids_are_derived_from_bytes_and_origin() -> None:
    """The same bad line on the same line number gets the same dead-letter id in two runs."""
    lines = [b"not json", b"[]", b"not json"]
    first = Drill.of([]).feed(*lines).dead_letters()
    second = Drill.of([]).feed(*lines).dead_letters()
    assert [d.id for d in first] == [d.id for d in second]
    assert len({d.id for d in first}) == 3


def test_an_event_over_the_default_size_limit_is_rejected_one_under_is_not() -> None:
    """The default limit is 1 MiB: a record of exactly the limit passes, one byte more does not."""
    record = good_alert("big")
    record["data"]["summary"] = ""
    filler = DEFAULT_MAX_EVENT_BYTES - len(encode(record))
    record["data"]["summary"] = "x" * filler
    exact = encode(record)
    assert len(exact) == DEFAULT_MAX_EVENT_BYTES
    drill = Drill.of([]).feed(exact, exact.replace(b'"big"', b'"BIG"').replace(b"xx", b"xxx", 1))
    assert drill.state.counters.accepted == 1
    [letter] = drill.dead_letters()
    assert f"{DEFAULT_MAX_EVENT_BYTES + 1} bytes" in letter.reason
    assert len(base64.b64decode(letter.raw_b64)) == DEFAULT_MAX_EVENT_BYTES + 1


# -- event time: lateness and skew ----------------------------------------------------------------


def window_times(drill: Drill, key: str = "checkout") -> list[int]:
    """The event times held by the burst trigger's window for `key`."""
    return list(drill.state.windows.get("burst" + SEP + "burst" + SEP + key, EMPTY_SLOT).entries)


def test_out_of_order_event_within_lateness_counts_at_its_event_time() -> None:
    """Events at 0, 1 and 9 minutes, then one at 5 arriving last: the window at 5 holds 0, 1 and
    5, so the incident opens, dated by event time."""
    drill = Drill.of([count_playbook(at_least=3, within="5m")])
    drill.feed(alert(0, "a"), alert(1, "b"), alert(9, "c"))
    assert drill.incidents() == []
    drill.feed(alert(5, "late-but-allowed"))
    [incident] = drill.incidents()
    assert incident.opened_at == at(5)
    assert drill.state.counters.late == 0


def test_out_of_order_event_is_not_counted_at_its_arrival_time() -> None:
    """Events at 10 and 11 minutes, then one at 7: at its event time it is alone in the
    window (no incident), although three events arrived within five minutes of each other."""
    drill = Drill.of([count_playbook(at_least=3, within="5m")])
    drill.feed(alert(10, "a"), alert(11, "b"), alert(7, "c"))
    assert drill.incidents() == []
    times = window_times(drill)
    assert times == sorted(times)
    assert parse_time(at(7)) in times


def late_setup(config: EngineConfig) -> Drill:
    """An incident open since 0m, the watermark at 30m, then an event from 10m (20m late)."""
    drill = Drill.of([count_playbook(at_least=1)], config)
    drill.feed(alert(0, "open"), alert(30, "news"))
    return drill.feed(alert(10, "straggler"))


def test_an_event_later_than_the_lateness_is_counted_late_and_processed_by_default() -> None:
    """Default policy: a too-late event is counted as late, accepted, and joins its incident."""
    drill = late_setup(EngineConfig())
    counters = drill.state.counters
    assert (counters.late, counters.accepted, counters.rejected) == (1, 3, 0)
    assert drill.dead_letters() == []
    assert drill.incident("burst", "checkout").events_total == 3
    assert balanced(drill)


def test_an_event_later_than_the_lateness_is_dead_lettered_under_that_policy() -> None:
    """late_policy=dead_letter: the too-late event is counted late, rejected and dead-lettered."""
    drill = late_setup(EngineConfig(late_policy="dead_letter"))
    counters = drill.state.counters
    assert (counters.late, counters.accepted, counters.rejected) == (1, 2, 1)
    [letter] = drill.dead_letters()
    assert "late" in letter.reason
    assert (letter.event_id, letter.source) == ("straggler", "prometheus")
    assert json.loads(base64.b64decode(letter.raw_b64))["id"] == "straggler"
    assert drill.incident("burst", "checkout").events_total == 2
    assert balanced(drill)


def test_an_event_just_within_the_lateness_is_not_late() -> None:
    """Exactly `allowed_lateness` behind the watermark is still on time."""
    drill = Drill.of([count_playbook()], EngineConfig(allowed_lateness=5 * MINUTE_MS))
    drill.feed(alert(10, "a"), alert(5, "b"))
    assert drill.state.counters.late == 0
    drill.feed(alert(4.99, "c"))
    assert drill.state.counters.late == 1


def test_an_event_far_in_the_future_is_rejected_with_a_reason() -> None:
    """An event more than max_future_skew ahead of the newest event is dead-lettered, and it
    does not move event time forward."""
    drill = Drill.of([count_playbook()])
    drill.feed(alert(0, "now"), alert(8 * 24 * 60, "from-next-week"), alert(6 * 24 * 60, "ok"))
    [letter] = drill.dead_letters()
    assert letter.event_id == "from-next-week"
    assert "ahead" in letter.reason
    assert "clock" in letter.reason
    assert drill.state.counters.accepted == 2
    assert drill.state.watermark == parse_time(at(6 * 24 * 60))
    assert balanced(drill)


# -- playbook-declared event types ----------------------------------------------------------------

CHARGEBACKS = """\
id: chargebacks
version: 1
title: Chargeback fraud
event_types:
  pay.chargeback:
    description: A card chargeback against a merchant
    fields:
      merchant: {type: string}
      amount: {type: number, min: 0}
      reason: {type: string, enum: [fraud, not_received, duplicate]}
      cards: {type: integer, required: false}
      disputed: {type: boolean, required: false}
key: [data.merchant]
triggers:
  - id: big_fraud
    on: pay.chargeback
    when: data.reason == "fraud" and data.amount >= 1000
tasks:
  - {name: freeze, role: ops, title: Freeze the merchant's payouts}
"""


def chargeback(ident: str, **data: Any) -> dict[str, Any]:
    """A pay.chargeback event with the given data."""
    return event("pay.chargeback", START, source="payments", id=ident, **data)


def test_a_declared_event_type_is_validated_by_its_field_specs() -> None:
    """Required fields, field types and enums of a playbook-declared type are enforced."""
    drill = Drill.of([load_playbook_text(CHARGEBACKS, "chargebacks.yaml")])
    drill.feed(
        chargeback("c1", amount=10, reason="fraud"),
        chargeback("c2", merchant="m", amount="10", reason="fraud"),
        chargeback("c3", merchant="m", amount=10, reason="stolen"),
        chargeback("c4", merchant="m", amount=-1, reason="fraud"),
        chargeback("c5", merchant="m", amount=10, reason="fraud", cards=1.5),
        chargeback("c6", merchant="m", amount=10, reason="fraud", disputed="yes"),
    )
    reasons = {
        json.loads(base64.b64decode(d.raw_b64))["id"]: d.reason for d in drill.dead_letters()
    }
    assert set(reasons) == {"c1", "c2", "c3", "c4", "c5", "c6"}
    assert "data.merchant: required field is missing" in reasons["c1"]
    assert reasons["c2"].startswith("data.amount")
    assert "data.reason" in reasons["c3"]
    assert "data.amount" in reasons["c4"]
    assert "data.cards" in reasons["c5"]
    assert "data.disputed" in reasons["c6"]
    assert drill.state.counters.rejected == 6
    assert drill.incidents() == []


def test_a_declared_event_type_is_matched_by_its_playbook() -> None:
    """A valid event of a declared type opens an incident when its trigger holds."""
    drill = Drill.of([load_playbook_text(CHARGEBACKS, "chargebacks.yaml")])
    drill.feed(
        chargeback("c1", merchant="shop-9", amount=50.5, reason="duplicate"),
        chargeback("c2", merchant="shop-9", amount=2500, reason="fraud", cards=3, disputed=True),
    )
    assert drill.state.counters.accepted == 2
    [incident] = drill.incidents()
    assert (incident.playbook, incident.key, incident.opened_by) == (
        "chargebacks",
        "shop-9",
        "payments/c2",
    )


def test_an_undeclared_event_type_is_rejected() -> None:
    """Without the playbook that declares it, the type is unknown and the event is rejected."""
    drill = Drill.of([count_playbook()])
    drill.feed(chargeback("c1", merchant="m", amount=2500, reason="fraud"))
    [letter] = drill.dead_letters()
    assert "unknown event type 'pay.chargeback'" in letter.reason


# -- bounded memory -------------------------------------------------------------------------------


def metric(second: int, service: str, value: float) -> RawRecord:
    """An ops.metric error_rate sample as a raw record (one id per second and service)."""
    record = event(
        "ops.metric",
        format_time(parse_time(START) + second * 1000),
        source="metrics",
        id=f"{service}-{second}",
        service=service,
        metric="error_rate",
        value=value,
    )
    return RawRecord(encode(record), Origin(kind="file"))


def test_dedupe_keys_are_forgotten_after_the_horizon() -> None:
    """With a 1h dedupe horizon, len(state.seen) stays bounded over two days of events, and the
    first key is forgotten once the horizon has passed; within it a resend is a duplicate."""
    config = EngineConfig(dedupe_horizon=HOUR_MS, sweep_every=10 * MINUTE_MS)
    drill = Drill.of([count_playbook()], config)
    drill.feed(alert(0, "first"), alert(30, "first"))
    assert drill.state.counters.duplicates == 1
    largest = 0
    for minute in range(1, 2 * 24 * 60):
        drill.feed(alert(minute, f"m{minute}", service=f"svc{minute % 7}"))
        largest = max(largest, len(drill.state.seen))
    assert "prometheus" + SEP + "first" not in drill.state.seen
    bound = (HOUR_MS + 10 * MINUTE_MS) // MINUTE_MS + 1
    assert 60 <= largest <= bound
    assert 60 <= len(drill.state.seen) <= bound


@pytest.mark.slow
def test_window_state_stays_bounded_over_100k_events_on_a_fixed_key_set() -> None:
    """100k error-rate samples over 5 services: no window list grows with the number of events."""
    pb = load_playbook_text(
        textwrap.dedent(
            """\
            id: errors
            version: 1
            title: Error rate
            key: [data.service]
            triggers:
              - id: hot
                on: ops.metric
                when: data.metric == "error_rate"
                window: {kind: samples, value: data.value, op: ">", threshold: 0.5, at_least: 3,
                         within: 5m}
            severity:
              rules:
                - on: ops.metric
                  window: {kind: aggregate, fn: avg, value: data.value, within: 10m, op: ">",
                           threshold: 0.9}
                  at_least: critical
            tasks:
              - {name: look, role: ops, title: Look}
            """
        )
    )
    drill = Drill.of([pb])
    services = [f"svc{i}" for i in range(5)]
    sizes: list[int] = []
    for n in range(100_000):
        record = metric(n, services[n % 5], 0.75 if n % 3 else 0.25)
        drill.state, _ = drill.engine.step(drill.state, record, drill.state.clock)
        if n % 1000 == 999:
            sizes.append(max(len(slot.entries) for slot in drill.state.windows.values()))
    assert drill.state.counters.accepted == 100_000
    assert len(drill.state.windows) <= 2 * len(services)
    # one sample per service every 5 s; a window keeps its span plus the allowed lateness
    assert max(sizes) <= (10 + 5) * 60 // 5 + 1
    assert max(sizes[10:]) == max(sizes[:10])


def test_dead_letter_model_round_trips() -> None:
    """A dead letter serializes and parses back unchanged (raw bytes included)."""
    [letter] = Drill.of([]).feed(b"\x00\xffnot json").dead_letters()
    again = DeadLetter.model_validate_json(letter.model_dump_json())
    assert again == letter
    assert base64.b64decode(again.raw_b64) == b"\x00\xffnot json"
