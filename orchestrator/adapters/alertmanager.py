"""Prometheus Alertmanager webhook (payload version 4) -> `ops.alert` events.

Each alert becomes one event. Its id is derived from the alert's fingerprint, status and start
or end time, so a webhook Alertmanager retries (it does) dedupes instead of double counting.
"""

from __future__ import annotations

import hashlib
from typing import Any

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


class AlertmanagerPayloadError(ValueError):
    """The webhook body is not an Alertmanager v4 payload."""


def _service(labels: dict[str, str]) -> str:
    for name in SERVICE_LABELS:
        if labels.get(name):
            return labels[name]
    return "unknown"


def _alert_id(alert: dict[str, Any], status: str, time: str) -> str:
    fingerprint = (
        alert.get("fingerprint")
        or hashlib.sha256(repr(sorted(alert.get("labels", {}).items())).encode()).hexdigest()[:16]
    )
    return f"{fingerprint}:{status}:{time}"


def _event(alert: dict[str, Any], receiver: str) -> dict[str, Any]:
    labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
    annotations = alert.get("annotations") or {}
    status = "resolved" if alert.get("status") == "resolved" else "firing"
    ends = alert.get("endsAt")
    time = ends if status == "resolved" and ends and ends != ZERO_TIME else alert.get("startsAt")
    data: dict[str, Any] = {
        "alertname": labels.get("alertname", "unnamed"),
        "service": _service(labels),
        "status": status,
        "severity": SEVERITIES.get(labels.get("severity", "").lower(), DEFAULT_SEVERITY),
        "labels": labels,
    }
    if annotations.get("summary"):
        data["summary"] = str(annotations["summary"])
    return {
        "specversion": "1.0",
        "id": _alert_id(alert, status, str(time)),
        "source": f"alertmanager/{receiver}",
        "type": "ops.alert",
        "time": time,
        "subject": data["alertname"],
        "data": data,
    }


def alertmanager_events(payload: Any) -> list[dict[str, Any]]:
    """The `ops.alert` envelopes for every alert in an Alertmanager v4 webhook payload."""
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise AlertmanagerPayloadError(
            "expected an Alertmanager webhook body with an `alerts` list"
        )
    if str(payload.get("version", "4")) != "4":
        raise AlertmanagerPayloadError(f"payload version {payload.get('version')!r}; expected '4'")
    receiver = str(payload.get("receiver") or "default")
    return [_event(a, receiver) for a in payload["alerts"] if isinstance(a, dict)]
