"""Hostile Alertmanager webhooks: every alert is one record, accepted, rejected (dead-lettered
with a reason that names the offending field, the alert kept whole) or a duplicate; never a 500,
never dropped, always counted (read = accepted + rejected + duplicates)."""

from __future__ import annotations

import json
from typing import Any

from apikit import INGEST_TOKEN, START, Api

from schemas.deadletter import DeadLetter

HOOK = "/webhooks/alertmanager"
INGEST = {"Authorization": f"Bearer {INGEST_TOKEN}"}


def alert(**fields: Any) -> dict[str, Any]:
    """A well-formed firing alert without a fingerprint; `fields` replace or add fields."""
    base: dict[str, Any] = {
        "status": "firing",
        "labels": {"alertname": "CheckoutDown", "service": "checkout", "severity": "critical"},
        "annotations": {"summary": "checkout is down"},
        "startsAt": START,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph?g0.expr=up",
    }
    return base | fields


def webhook(*alerts: Any) -> dict[str, Any]:
    """An Alertmanager v4 webhook body holding `alerts`."""
    return {"version": "4", "receiver": "orchestrator", "status": "firing", "alerts": list(alerts)}


def post(api: Api, *alerts: Any) -> dict[str, Any]:
    """POST the alerts as one webhook; it must answer 200 with one result per alert."""
    response = api.client.post(HOOK, json=webhook(*alerts), headers=INGEST)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert len(body["results"]) == len(alerts)
    return body


def statuses(body: dict[str, Any]) -> list[str]:
    return [r["status"] for r in body["results"]]


def assert_counted(api: Api, read: int) -> None:
    """The summary counted every alert: read = accepted + rejected + duplicates."""
    events = api.runtime.summary()["events"]
    assert events["read"] == read
    assert events["read"] == events["accepted"] + events["rejected"] + events["duplicates"]


def dead_letter_of(api: Api, result: dict[str, Any]) -> DeadLetter:
    """The dead letter a rejected result points to, with the reason the result gave."""
    (found,) = [d for d in api.runtime.dead_letters() if d.id == result["dead_letter_id"]]
    assert found.reason == result["reason"]
    return found


def assert_rejected_keeping(api: Api, result: dict[str, Any], reason: str, sent: Any) -> None:
    """Rejected with `reason`; the dead letter holds the alert exactly as sent."""
    assert result["status"] == "rejected"
    assert result["reason"] == reason
    kept = json.loads(dead_letter_of(api, result).raw)
    assert (kept["alertmanager"] if isinstance(kept, dict) else kept) == sent


def test_null_labels_are_no_labels(api: Api) -> None:
    """`labels: null` (Go's empty map) is an alert without labels: accepted, no 500."""
    body = post(api, alert(labels=None))
    assert statuses(body) == ["accepted"]
    assert api.runtime.dead_letters() == []
    assert_counted(api, read=1)


def test_labels_as_a_list_are_rejected_and_kept(api: Api) -> None:
    """Labels that are a list: the alert is dead-lettered naming data.labels, its neighbour
    accepted."""
    bad = alert(labels=["alertname", "CheckoutDown"])
    body = post(api, bad, alert())
    assert statuses(body) == ["rejected", "accepted"]
    reason = "data.labels: Input should be a valid dictionary (got ['alertname', 'CheckoutDown'])"
    assert_rejected_keeping(api, body["results"][0], reason, bad)
    assert_counted(api, read=2)


def test_labels_as_a_string_are_rejected_and_kept(api: Api) -> None:
    """Labels that are a string are dead-lettered naming data.labels."""
    bad = alert(labels="alertname=CheckoutDown")
    body = post(api, bad)
    reason = "data.labels: Input should be a valid dictionary (got 'alertname=CheckoutDown')"
    assert_rejected_keeping(api, body["results"][0], reason, bad)
    assert_counted(api, read=1)


def test_annotations_as_a_list_are_rejected_and_kept(api: Api) -> None:
    """Annotations that are a list: dead-lettered (they stand in for the event's data)."""
    bad = alert(annotations=["checkout is down"])
    body = post(api, bad)
    reason = "data: Input should be a valid dictionary (got ['checkout is down'])"
    assert_rejected_keeping(api, body["results"][0], reason, bad)
    assert_counted(api, read=1)


def test_annotations_as_a_string_are_rejected_and_kept(api: Api) -> None:
    """Annotations that are a string are dead-lettered, not taken as the summary."""
    bad = alert(annotations="checkout is down")
    body = post(api, bad)
    reason = "data: Input should be a valid dictionary (got 'checkout is down')"
    assert_rejected_keeping(api, body["results"][0], reason, bad)
    assert_counted(api, read=1)


def test_alerts_that_are_not_objects_are_each_rejected(api: Api) -> None:
    """Numbers, strings, null and lists in `alerts` each get a result and a dead letter."""
    junk: list[Any] = [7, 2.5, "CheckoutDown", None, [alert()]]
    body = post(api, *junk, alert())
    assert statuses(body) == ["rejected"] * len(junk) + ["accepted"]
    kinds = ["int", "float", "str", "NoneType", "list"]
    for result, sent, kind in zip(body["results"], junk, kinds, strict=False):
        assert_rejected_keeping(api, result, f"an event is a JSON object, not {kind}", sent)
    assert_counted(api, read=len(junk) + 1)


def test_a_label_value_that_is_a_number_is_rejected(api: Api) -> None:
    """A label value must be a string: the reason names the label."""
    bad = alert(labels={"alertname": "CheckoutDown", "service": "checkout", "replica": 3})
    body = post(api, bad)
    reason = "data.labels.replica: Input should be a valid string (got 3)"
    assert_rejected_keeping(api, body["results"][0], reason, bad)
    assert_counted(api, read=1)


def test_wrong_status_and_times_are_rejected(api: Api) -> None:
    """Status, startsAt and fingerprint of the wrong type, or startsAt missing, are rejected
    naming the envelope field they become."""
    no_start = {k: v for k, v in alert().items() if k != "startsAt"}
    cases = [
        (alert(status=1), "data.status: Input should be 'firing' or 'resolved' (got 1)"),
        (alert(startsAt=1763632800), "time: Value error, expected an RFC 3339 timestamp"),
        (no_start, "time: Value error, expected an RFC 3339 timestamp"),
        (alert(fingerprint=42), "id: Input should be a valid string (got 42)"),
    ]
    body = post(api, *(sent for sent, _ in cases))
    assert statuses(body) == ["rejected"] * len(cases)
    for result, (sent, reason) in zip(body["results"], cases, strict=True):
        assert result["reason"].startswith(reason)
        assert_rejected_keeping(api, result, result["reason"], sent)
    assert_counted(api, read=len(cases))


def test_two_label_less_alerts_at_the_same_start_are_two_events(api: Api) -> None:
    """Without labels or fingerprint, alerts told apart by their annotations both count."""
    first = alert(labels={}, annotations={"summary": "disk full on db-1"})
    second = alert(labels={}, annotations={"summary": "disk full on db-2"})
    body = post(api, first, second)
    assert statuses(body) == ["accepted", "accepted"]
    assert_counted(api, read=2)
    assert api.runtime.summary()["events"]["accepted"] == 2


def test_a_resent_alert_is_a_duplicate(api: Api) -> None:
    """The same notification again (a retry, repeat_interval) dedupes, with a fingerprint,
    with labels only, and without labels."""
    sent = [alert(fingerprint="f00d"), alert(), alert(labels={}, annotations={"summary": "x"})]
    assert statuses(post(api, *sent)) == ["accepted"] * 3
    again = [a | {"updatedAt": "2026-11-20T10:05:00Z"} for a in sent]
    assert statuses(post(api, *again)) == ["duplicate"] * 3
    assert_counted(api, read=6)


def test_not_an_alertmanager_body_is_a_422_problem(api: Api) -> None:
    """No `alerts` list, or another version, is refused whole, nothing counted."""
    for payload in ({"version": "4"}, {"version": "3", "alerts": []}, [alert()]):
        response = api.client.post(HOOK, json=payload, headers=INGEST)
        assert response.status_code == 422
        assert response.json()["detail"].startswith("expected an Alertmanager v4 webhook body")
    assert_counted(api, read=0)
