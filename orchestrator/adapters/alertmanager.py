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

What responders need travels on the event's `data`: the alert's instance (`fingerprint`, the
identity below, which tech_outage tracks as its resolution signal), its `annotations` (such
as `runbook_url`, `description`), `generator_url`, and of the notification `external_url`,
`group_key` and `common_labels`. A `severity` label becomes the event's severity through
SEVERITIES and the operator's own mapping (ORCH_ALERT_SEVERITY_MAP, which wins); a value
neither knows becomes DEFAULT_SEVERITY and is reported to `on_unmapped` (counted in /metrics).

An event's id is `<identity>:<status>:<time>`, so a notification Alertmanager resends (retries,
repeat_interval) dedupes instead of double counting. The identity is Alertmanager's
`fingerprint`; without one, a hash of the sorted label set; for an alert without labels, a hash
of everything it holds except what changes between notifications (status, endsAt, updatedAt).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.errors import AlertmanagerPayloadError
from schemas import RFC3339_START

SEVERITIES = {
    "critical": "critical",
    "page": "critical",
    "error": "critical",
    "fatal": "critical",
    "emergency": "critical",
    "high": "critical",
    "major": "critical",
    "p1": "critical",
    "p2": "critical",
    "sev1": "critical",
    "sev2": "critical",
    "warning": "warning",
    "warn": "warning",
    "medium": "warning",
    "minor": "warning",
    "p3": "warning",
    "p4": "warning",
    "sev3": "warning",
    "info": "info",
    "none": "info",
    "low": "info",
    "p5": "info",
    "sev4": "info",
}
"""Severity label values (lower case) -> the event's severity."""
DEFAULT_SEVERITY = "warning"
"""The severity of an alert without a severity label, or with one no mapping knows."""
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
    external_url: Any = Field(default=None, alias="externalURL")
    group_key: Any = Field(default=None, alias="groupKey")
    common_labels: Any = Field(default=None, alias="commonLabels")

    def context(self) -> dict[str, Any]:
        """What of the notification goes on each of its events' data: the parts that are
        well-formed (an odd one is left out; it never costs the notification its alerts)."""
        values: dict[str, Any] = {
            "external_url": self.external_url if isinstance(self.external_url, str) else None,
            "group_key": self.group_key if isinstance(self.group_key, str) else None,
        }
        labels = self.common_labels
        if isinstance(labels, dict) and labels and all(isinstance(v, str) for v in labels.values()):
            values["common_labels"] = labels
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class Mapping:
    """How one notification's alerts are mapped: severities, and who hears of unmapped ones."""

    receiver: str
    context: dict[str, Any]
    severities: dict[str, str]
    on_unmapped: Callable[[str], None] | None = None

    def severity(self, labels: dict[str, str]) -> str:
        """The event severity of an alert's `severity` label."""
        value = labels.get("severity", "")
        mapped = self.severities.get(value.lower()) if value else DEFAULT_SEVERITY
        if mapped is None:
            if self.on_unmapped is not None:
                self.on_unmapped(value)
            return DEFAULT_SEVERITY
        return mapped


class Annotations(BaseModel):
    """An alert's annotations: free text, of which `summary` becomes the event's."""

    model_config = ConfigDict(strict=True, extra="allow")

    summary: str | None = None

    def texts(self) -> dict[str, str]:
        """Every annotation that is text (runbook_url, description, ...)."""
        extra = self.model_extra or {}
        values = {"summary": self.summary, **extra}
        return {k: v for k, v in values.items() if isinstance(v, str)}


class Alert(BaseModel):
    """One alert as Alertmanager sends it: the fields an `ops.alert` is made of."""

    model_config = ConfigDict(strict=True, extra="allow")

    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str] | None = None
    annotations: Annotations | None = None
    starts_at: str = Field(alias="startsAt", pattern=RFC3339_START.pattern)
    ends_at: str | None = Field(default=None, alias="endsAt", pattern=RFC3339_START.pattern)
    fingerprint: str | None = None
    generator_url: Any = Field(default=None, alias="generatorURL")


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


def _event(alert: Alert, sent: dict[str, Any], mapping: Mapping) -> dict[str, Any]:
    labels = alert.labels or {}
    identity = _identity(alert, sent)
    data: dict[str, Any] = {
        "alertname": labels.get("alertname", "unnamed"),
        "service": _service(labels),
        "status": alert.status,
        "severity": mapping.severity(labels),
        "labels": labels,
        "fingerprint": identity,
    }
    if alert.annotations and alert.annotations.summary:
        data["summary"] = alert.annotations.summary
    if alert.annotations and (texts := alert.annotations.texts()):
        data["annotations"] = texts
    if isinstance(alert.generator_url, str) and alert.generator_url:
        data["generator_url"] = alert.generator_url
    data.update(mapping.context)
    time = _time(alert)
    return {
        "specversion": "1.0",
        "id": f"{identity}:{alert.status}:{time}",
        "source": f"alertmanager/{mapping.receiver}",
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


def _refused(sent: dict[str, Any], err: ValidationError, mapping: Mapping) -> dict[str, Any]:
    """The envelope of a malformed alert: made from its well-formed fields, then the offending
    values put back as sent, and the whole alert attached under EXTENSION."""
    locs = sorted({tuple(str(p) for p in e["loc"][:2]) for e in err.errors()})
    bad = {loc[0] for loc in locs}
    clean = {"startsAt": ZERO_TIME} | {k: v for k, v in sent.items() if k not in bad}
    envelope = _event(Alert.model_validate(clean), clean, mapping)
    for loc in sorted(locs, key=lambda loc: loc == ("annotations",)):
        _put_back(envelope, loc, sent)
    return {**envelope, EXTENSION: sent}


def _record(sent: Any, mapping: Mapping) -> Any:
    """The record for one element of `alerts`: its envelope, refused or not, or the element
    itself when it is not an object."""
    if not isinstance(sent, dict):
        return sent
    try:
        alert = Alert.model_validate(sent)
    except ValidationError as err:
        return _refused(sent, err, mapping)
    return _event(alert, sent, mapping)


def _problem(err: ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else "not a JSON object"
        for e in err.errors()
    ]
    return "expected an Alertmanager v4 webhook body: " + "; ".join(parts[:3])


def alertmanager_events(
    payload: Any,
    severities: dict[str, str] | None = None,
    on_unmapped: Callable[[str], None] | None = None,
) -> list[Any]:
    """One record per alert of an Alertmanager v4 webhook payload (see the module docstring):
    mostly `ops.alert` envelopes; AlertmanagerPayloadError when it is no such payload.
    `severities` (label value in lower case -> event severity) adds to SEVERITIES and wins;
    `on_unmapped` hears each severity label value neither maps."""
    try:
        webhook = Webhook.model_validate(payload)
    except ValidationError as err:
        raise AlertmanagerPayloadError(_problem(err)) from None
    table = SEVERITIES | {k.lower(): v for k, v in (severities or {}).items()}
    mapping = Mapping(webhook.receiver or "default", webhook.context(), table, on_unmapped)
    return [_record(sent, mapping) for sent in webhook.alerts]
