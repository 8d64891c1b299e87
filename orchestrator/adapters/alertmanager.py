"""Prometheus Alertmanager webhook (payload version 4) -> `ops.alert` events.

Every element of `alerts` becomes exactly one record, so each is accepted, rejected (and
dead-lettered, counted) or a duplicate, never dropped:

- a well-formed alert becomes its `ops.alert` envelope;
- a malformed one (labels or annotations not an object, a label value or the summary not a
  string, status, times or fingerprint of the wrong type) becomes its envelope with each
  offending value kept as sent where the event validator refuses it and names it
  (`data.labels`, `data.summary`, `data.status`, `time`, `id`; annotations that are not an
  object stand in for `data`), plus the alert as sent under the `alertmanager` extension so
  the dead letter keeps all of it;
- an alert that is not an object is passed as sent: "an event is a JSON object, not int".

`null` labels or annotations count as none (Go's encoding of an empty map).

An event's id is `<identity>:<status>:<time>`, so a notification Alertmanager resends (retries,
repeat_interval) dedupes instead of double counting. The identity is Alertmanager's
`fingerprint`; without one, a hash of the sorted label set; for an alert without labels, a hash
of everything it holds except what changes between notifications (status, endsAt, updatedAt).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.errors import AlertmanagerPayloadError
from schemas import RFC3339_START

SEVERITIES = {
    "critical": "critical",
    "page": "critical",
    "error": "critical",
    "warning": "warning",
    "warn": "warning",
    "info": "info",
    "none": "info",
}
DEFAULT_SEVERITY = "warning"
SERVICE_LABELS = ("service", "app", "job")
ZERO_TIME = "0001-01-01T00:00:00Z"
"""Alertmanager's `endsAt` of an alert with no end yet."""
VOLATILE = frozenset({"status", "endsAt", "updatedAt"})
"""Alert fields that change between notifications of the same alert."""
EXTENSION = "alertmanager"
"""Envelope attribute that carries a malformed alert as sent (into its dead letter)."""


class Webhook(BaseModel):
    """An Alertmanager v4 webhook body: the parts this adapter reads."""

    version: Literal["4", 4] = "4"
    receiver: str | None = None
    alerts: list[Any]


class Annotations(BaseModel):
    """An alert's annotations: free text, of which `summary` becomes the event's."""

    model_config = ConfigDict(strict=True, extra="allow")

    summary: str | None = None


class Alert(BaseModel):
    """One alert as Alertmanager sends it: the fields an `ops.alert` is made of."""

    model_config = ConfigDict(strict=True, extra="allow")

    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str] | None = None
    annotations: Annotations | None = None
    starts_at: str = Field(alias="startsAt", pattern=RFC3339_START.pattern)
    ends_at: str | None = Field(default=None, alias="endsAt", pattern=RFC3339_START.pattern)
    fingerprint: str | None = None


def _service(labels: dict[str, str]) -> str:
    for name in SERVICE_LABELS:
        if labels.get(name):
            return labels[name]
    return "unknown"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _identity(alert: Alert, sent: dict[str, Any]) -> str:
    """What tells this alert apart from every other one, whichever notification carries it."""
    if alert.fingerprint:
        return alert.fingerprint
    if alert.labels:
        return _digest(repr(sorted(alert.labels.items())))
    content = {k: v for k, v in sent.items() if k not in VOLATILE}
    return _digest(json.dumps(content, sort_keys=True, separators=(",", ":")))


def _time(alert: Alert) -> str:
    """A resolved alert's end, else its start: the event time."""
    ends = alert.ends_at
    if alert.status == "resolved" and ends and ends != ZERO_TIME:
        return ends
    return alert.starts_at


def _event(alert: Alert, sent: dict[str, Any], receiver: str) -> dict[str, Any]:
    labels = alert.labels or {}
    data: dict[str, Any] = {
        "alertname": labels.get("alertname", "unnamed"),
        "service": _service(labels),
        "status": alert.status,
        "severity": SEVERITIES.get(labels.get("severity", "").lower(), DEFAULT_SEVERITY),
        "labels": labels,
    }
    if alert.annotations and alert.annotations.summary:
        data["summary"] = alert.annotations.summary
    time = _time(alert)
    return {
        "specversion": "1.0",
        "id": f"{_identity(alert, sent)}:{alert.status}:{time}",
        "source": f"alertmanager/{receiver}",
        "type": "ops.alert",
        "time": time,
        "subject": data["alertname"],
        "data": data,
    }


def _put_back(envelope: dict[str, Any], loc: tuple[str, ...], sent: dict[str, Any]) -> None:
    """Set the envelope place the validator checks for the Alertmanager field at `loc` to the
    value as sent (None when missing), so the validator refuses it and names it."""
    value = sent.get(loc[0])
    if loc[0] in ("labels", "status"):
        envelope["data"][loc[0]] = value
    elif loc[:2] == ("annotations", "summary"):
        envelope["data"]["summary"] = sent["annotations"]["summary"]
    elif loc[0] == "annotations":
        envelope["data"] = value
    elif loc[0] in ("startsAt", "endsAt"):
        envelope["time"] = value
    elif loc[0] == "fingerprint":
        envelope["id"] = value


def _refused(sent: dict[str, Any], err: ValidationError, receiver: str) -> dict[str, Any]:
    """The envelope of a malformed alert: made from its well-formed fields, then the offending
    values put back as sent, and the whole alert attached under EXTENSION."""
    locs = sorted({tuple(str(p) for p in e["loc"][:2]) for e in err.errors()})
    bad = {loc[0] for loc in locs}
    clean = {"startsAt": ZERO_TIME} | {k: v for k, v in sent.items() if k not in bad}
    envelope = _event(Alert.model_validate(clean), clean, receiver)
    for loc in sorted(locs, key=lambda loc: loc == ("annotations",)):
        _put_back(envelope, loc, sent)
    return {**envelope, EXTENSION: sent}


def _record(sent: Any, receiver: str) -> Any:
    """The record for one element of `alerts`: its envelope, refused or not, or the element
    itself when it is not an object."""
    if not isinstance(sent, dict):
        return sent
    try:
        alert = Alert.model_validate(sent)
    except ValidationError as err:
        return _refused(sent, err, receiver)
    return _event(alert, sent, receiver)


def _problem(err: ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else "not a JSON object"
        for e in err.errors()
    ]
    return "expected an Alertmanager v4 webhook body: " + "; ".join(parts[:3])


def alertmanager_events(payload: Any) -> list[Any]:
    """One record per alert of an Alertmanager v4 webhook payload (see the module docstring):
    mostly `ops.alert` envelopes; AlertmanagerPayloadError when it is no such payload."""
    try:
        webhook = Webhook.model_validate(payload)
    except ValidationError as err:
        raise AlertmanagerPayloadError(_problem(err)) from None
    receiver = webhook.receiver or "default"
    return [_record(sent, receiver) for sent in webhook.alerts]
